"""The columnar reader of event files against the exact one: same table, or none at all.

Generated files mix good lines with every kind of trouble the rules know (ties,
duplicates, conflicts, corrections, voids, bad numbers, bad timestamps, keys named
twice, nesting, blank lines, text that is not JSON): wherever the columnar reader
returns a table, it must be the exact reader's, row for row and price for price; where
the exact reader refuses the file, the columnar one must return ``None``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from iotbill.adapters import columnar_columns, columnar_events
from iotbill.adapters.columnar_events import PlanProperties, read_columnar_table
from iotbill.adapters.event_files import read_event_table
from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.errors import InvalidInput
from iotbill.domain.event_table import EventTable
from iotbill.domain.periods import Period
from iotbill.domain.preview import preview

PLAN = parse_plan_text(
    """\
code: p
name: Pump
currency: USD
interval: month
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
  - {code: peak, event_type: pump.flow, aggregation: max, property: m3}
  - {code: last, event_type: pump.flow, aggregation: latest, property: m3}
  - {code: zones, event_type: pump.flow, aggregation: sum, property: m3, group_by: zone}
  - {code: sensors, event_type: pump.flow, aggregation: unique_count, property: sensor}
  - {code: pings, event_type: ping, aggregation: count}
charges:
  - {code: water, meter: water, model: per_unit, unit_price: "0.5"}
  - {code: peak, meter: peak, model: per_unit, unit_price: "2"}
  - {code: last, meter: last, model: per_unit, unit_price: "1"}
  - {code: zones, meter: zones, model: per_unit, unit_price: "0.25"}
  - {code: sensors, meter: sensors, model: per_unit, unit_price: "3"}
  - {code: pings, meter: pings, model: per_unit, unit_price: "0.01"}
""",
    "plan.yaml",
)
WANTED = PlanProperties.of(PLAN)
PERIOD = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
GOOD = (
    '{"id":"a","type":"pump.flow","device":"p1","timestamp":"2026-01-05T00:00:00Z",'
    '"properties":{"m3":3,"zone":"north","sensor":"s1"}}'
)

stamps = st.sampled_from(
    [
        "2026-01-05T00:00:00Z",  # a tie, often
        "2026-01-05T00:00:00.5Z",
        "2026-01-05T01:00:00+01:00",  # the same instant as the first
        "2026-01-31T23:59:59.999999-05:00",
        "2025-12-31T23:00:00Z",  # before the period
        "2026-02-01T00:00:00Z",  # at its end: outside
        "2026-01-05T00:00:00.1234567Z",  # seven fractional digits: refused
        "2026-01-05 00:00:00Z",  # a space: the exact decoder's call
        "2026-01-05T00:00:00",  # naive: refused
        "2026-02-30T00:00:00Z",  # no such day
        "1969-12-31T23:00:00Z",  # before 1970: refused
        "1970-01-01T00:30:00+01:00",  # before 1970 in UTC: refused
        "2026-01-05t00:00:00z",
    ]
)
numbers = st.sampled_from(
    [
        "3", "2.5", "0.000000001", "-1.25", "1e3", "1.5E+2", "0", "-0",
        "9223372036.854775807", "-9223372036.854775807", "-9223372036.854775808",
        "9223372036.854775808", "0.0000000001", "1E+30", '"2.5"', '" 2.5"', '"x"',
        "true", "null", "[1]", '{"v":1}',
    ]
)  # fmt: skip
keys = st.sampled_from(['"north"', '"south"', "1", "1.0", "2", "true", "false", "null", "[]"])


@st.composite
def lines(draw: st.DrawFn) -> str:
    """One line of a file: mostly a good event, sometimes anything but."""
    kind = draw(
        st.sampled_from(["event"] * 8 + ["ping", "corrects", "voids", "blank", "junk", "twice"])
    )
    event_id = draw(st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]))
    stamp = draw(stamps)
    if kind == "ping":
        return f'{{"id":"{event_id}","type":"ping","device":"p2","timestamp":"{stamp}"}}'
    if kind == "blank":
        return draw(st.sampled_from(["", "  "]))
    if kind == "junk":
        return draw(
            st.sampled_from(
                ["{", "[1]", "not json", '{"id":"x"}', GOOD.replace('"p1"', '"p1", "extra":1')]
            )
        )
    properties = [f'"m3":{draw(numbers)}']
    if draw(st.booleans()):
        properties.append(f'"zone":{draw(keys)}')
    if draw(st.booleans()):
        properties.append(f'"sensor":{draw(keys)}')
    if kind == "twice":
        properties.append(f'"m3":{draw(numbers)}')
    naming = ""
    if kind in ("corrects", "voids"):
        named = draw(st.sampled_from(["a", "b", "c"]))
        naming = f',"{kind}":"{named}"'
        if kind == "voids":
            properties = []
    spacing = draw(st.sampled_from(["", " "]))
    return (
        f'{{"id":"{event_id}",{spacing}"type":"pump.flow","device":"p1",'
        f'"timestamp":"{stamp}"{naming},"properties":{{{",".join(properties)}}}}}'
    )


@st.composite
def clean_lines(draw: st.DrawFn) -> str:
    """A good line of one shape: the columnar path should take a file of these."""
    event_id = draw(st.text("abcdefghij", min_size=1, max_size=3))
    stamp = draw(
        st.sampled_from(
            [
                "2026-01-05T00:00:00Z",
                "2026-01-05T01:00:00+01:00",
                "2026-01-05T00:00:00.000001Z",
                "2026-01-31T23:59:59Z",
                "2025-12-31T23:00:00Z",
                "2026-02-01T00:00:00Z",
            ]
        )
    )
    m3 = draw(st.sampled_from(["3", "2.5", "-1", "0.000000001", "1e3", "7", "0"]))
    zone = draw(st.sampled_from(['"north"', '"south"']))
    sensor = draw(st.sampled_from(["1", "2", "3"]))
    if draw(st.integers(0, 5)) == 0:
        return f'{{"id":"{event_id}","type":"ping","device":"p2","timestamp":"{stamp}"}}'
    return (
        f'{{"id":"{event_id}","type":"pump.flow","device":"p1","timestamp":"{stamp}",'
        f'"properties":{{"m3":{m3},"zone":{zone},"sensor":{sensor}}}}}'
    )


def exact(path: Path) -> EventTable | None:
    try:
        return read_event_table(str(path))
    except InvalidInput:
        return None


def assert_same(columnar: EventTable, reference: EventTable) -> None:
    assert len(columnar) == len(reference)
    assert [columnar.ids[i] for i in columnar.order.tolist()] == [
        reference.ids[i] for i in reference.order.tolist()
    ]
    assert columnar.lines.tolist() == reference.lines.tolist()
    assert columnar.timestamps.tolist() == reference.timestamps.tolist()
    for name, code in reference.type_names.items():
        mine = columnar.type_names[name]
        assert ((columnar.type_codes == mine) == (reference.type_codes == code)).all()
        view, expected = columnar.view(name), reference.view(name)
        for number in WANTED.numbers:
            got, want = view.numbers(number), expected.numbers(number)
            assert got.values.tolist() == want.values.tolist()
            assert got.status.tolist() == want.status.tolist()
            assert got.errors == want.errors
        for key in WANTED.keys:
            got_keys, want_keys = view.keys(key), expected.keys(key)
            assert [got_keys.labels[c] if c >= 0 else None for c in got_keys.codes.tolist()] == [
                want_keys.labels[c] if c >= 0 else None for c in want_keys.codes.tolist()
            ]
    assert [e.id for e in columnar.events] == [e.id for e in reference.events]


def priced(table: EventTable) -> object:
    try:
        return preview(PLAN, table, PERIOD).as_json()
    except InvalidInput as error:
        return str(error)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(lines(), min_size=1, max_size=12) | st.lists(clean_lines(), min_size=1, max_size=12)
)
def test_the_columnar_table_is_the_exact_one_or_none(tmp_path_factory, written) -> None:
    path = tmp_path_factory.mktemp("events") / "events.jsonl"
    path.write_text("\n".join(written) + "\n")
    reference = exact(path)
    columnar = read_columnar_table(str(path), WANTED)
    event("columnar" if columnar is not None else "exact")
    if columnar is None:
        return
    assert reference is not None, written
    assert_same(columnar, reference)
    assert priced(columnar) == priced(reference)


def test_a_plain_file_takes_the_columnar_path_and_prices_the_same(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        GOOD + "\n"
        + GOOD.replace('"a"', '"b"').replace('"m3":3', '"m3":0.000000001') + "\n"
        + GOOD.replace('"a"', '"0"').replace('"north"', '"south"').replace('"s1"', '"s2"') + "\n"
        + '{"id":"p","type":"ping","device":"p2","timestamp":"2026-01-05T01:00:00+01:00"}\n'
        + GOOD.replace('"a"', '"c"').replace('"m3":3', '"m3":-9223372036.854775807')
    )  # fmt: skip
    columnar = read_columnar_table(str(path), WANTED)
    reference = read_event_table(str(path))
    assert columnar is not None
    assert_same(columnar, reference)
    # Ties at 2026-01-05T00:00:00Z are ordered by id: "0" < "a" < "b" < "c" < "p".
    assert [columnar.ids[i] for i in columnar.order.tolist()] == ["0", "a", "b", "c", "p"]
    assert columnar.view("pump.flow").numbers("m3").values.tolist() == [
        3_000_000_000, 3_000_000_000, 1, -9_223_372_036_854_775_807,
    ]  # fmt: skip
    assert priced(columnar) == priced(reference)


@pytest.mark.parametrize(
    "line",
    [
        GOOD.replace('"m3":3', '"m3":"3"'),  # a number written as a string
        GOOD.replace('"m3":3', '"m3":3,"m3":4'),  # a key named twice
        GOOD.replace('"m3":3', '"m3":null'),  # an explicit null
        GOOD.replace('"m3":3', '"m3":3,"more":{"m3":4}'),  # nested properties
        GOOD.replace('"p1"', '"p\\u0031"'),  # an escape
        GOOD.replace('"a"', '"a" '),  # white space after a quote
        GOOD.replace("00Z", "00.1234567Z"),  # seven fractional digits
        GOOD.replace("Z", ""),  # a naive timestamp
        GOOD.replace('"m3":3', '"m3":-9223372036.854775808'),  # below the range
        GOOD.replace('"m3":3', '"m3":NaN'),
        GOOD + "\n",  # a blank line follows
        GOOD.replace('"properties"', '"corrects":"z","properties"'),
        GOOD + GOOD.replace('"a"', '"b"'),  # two events on one line
        GOOD.replace('"north"', "1.0"),  # a key written as a decimal
        GOOD.replace('"id":"a"', '"id":""'),
        GOOD.replace('"id":"a"', f'"id":"{"x" * 257}"'),
    ],
)
def test_what_the_columnar_path_cannot_prove_it_leaves_to_the_exact_one(
    tmp_path: Path, line: str
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(GOOD.replace('"a"', '"z0"') + "\n" + line + "\n")
    assert read_columnar_table(str(path), WANTED) is None


def test_a_repeated_id_goes_the_exact_way_and_is_counted_there(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(GOOD + "\n" + GOOD + "\n")
    assert read_columnar_table(str(path), WANTED) is None
    assert read_event_table(str(path)).duplicates == 1


def test_an_error_found_while_pricing_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(GOOD + "\n" + GOOD.replace('"a"', '"b"').replace('"m3":3', '"m3":-1') + "\n")
    columnar = read_columnar_table(str(path), WANTED)
    assert columnar is not None
    with pytest.raises(InvalidInput) as raised:
        preview(PLAN, columnar, PERIOD)
    assert f"{path}:2: properties.m3" in str(raised.value)
    assert str(raised.value) == priced(read_event_table(str(path)))
    assert columnar.event(1).properties == {
        "m3": Decimal(-1),
        "zone": "north",
        "sensor": "s1",
    }
    assert np.array_equal(columnar.lines, [1, 2])


def test_a_file_read_in_many_stretches_gives_the_same_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("iotbill.adapters.columnar_events.CHUNK", 512)
    monkeypatch.setattr("iotbill.adapters.columnar_events.PIECE", 700)
    path = tmp_path / "events.jsonl"
    path.write_text(
        "".join(
            GOOD.replace('"a"', f'"e{n}"')
            .replace('"m3":3', f'"m3":{n % 7}.{n}')
            .replace("05T00", f"{n % 28 + 1:02d}T00")
            .replace('"north"', '"south"' if n % 3 else '"north"')
            + "\n"
            for n in range(40)
        )
    )
    columnar = read_columnar_table(str(path), WANTED)
    assert columnar is not None
    assert_same(columnar, read_event_table(str(path)))
    assert priced(columnar) == priced(read_event_table(str(path)))


identifiers = st.text(st.sampled_from("ab0é€\U0001f600"), min_size=1, max_size=9)


@settings(max_examples=200, deadline=None)
@given(st.lists(identifiers, min_size=0, max_size=40), st.integers(1, 5), st.booleans())
def test_ids_are_found_different_exactly_as_a_set_finds_them(
    ids: list[str], rows: int, colliding: bool
) -> None:
    """Fingerprints only shortlist: with every fingerprint equal (a mixer of zero), the
    texts are still compared, and the answer is the set's."""
    column = pa.chunked_array([ids[:3], ids[3:]], type=pa.string())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(columnar_columns, "FINGERPRINT_ROWS", rows)
        if colliding:
            patch.setattr(columnar_columns, "_MIX", np.uint64(0))
        assert columnar_columns.all_different(column) == (len(set(ids)) == len(ids))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), identifiers),
        min_size=0,
        max_size=40,
        unique_by=lambda pair: pair[1],
    )
)
def test_rows_are_ordered_by_time_then_id_as_python_orders_them(
    rows: list[tuple[int, str]],
) -> None:
    """Ties are frequent here (four instants): they are ordered by id, code point by
    code point, as Python compares texts."""
    timestamps = np.array([stamp for stamp, _ in rows], dtype=np.int64)
    ids = pa.chunked_array([[name for _, name in rows]], type=pa.string())
    order = columnar_columns.by_time_then_id(timestamps, ids)
    assert order.tolist() == sorted(range(len(rows)), key=lambda i: rows[i])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                '{"a":"b"}',
                '"x":',
                '"',
                "\n",
                "\n\n",
                "N",
                "aN",
                "In",
                "f",
                " ",
                '" ',
                "é",
                "\t",
                "\\",
            ]
        ),
        max_size=30,
    ),
    st.integers(1, 9),
    st.integers(1, 40),
)
def test_the_counts_of_a_file_do_not_depend_on_where_its_pieces_and_chunks_end(
    tmp_path_factory: pytest.TempPathFactory, written: list[str], chunk: int, piece: int
) -> None:
    """Read in pieces cut at line ends, counted a few bytes at a time, a file gives the
    counts (or the refusal) of its whole text: every pair of bytes that a boundary
    splits is still seen. A line longer than a piece is refused."""
    text = "".join(written)
    path = tmp_path_factory.mktemp("scan") / "events.jsonl"
    path.write_bytes(text.encode())
    counts: columnar_events._Counts | None = columnar_events._Counts()
    with pytest.MonkeyPatch.context() as patch, path.open("rb") as stream:
        patch.setattr(columnar_events, "CHUNK", chunk)
        patch.setattr(columnar_events, "PIECE", piece)
        try:
            for part in columnar_events._pieces(stream):
                assert part.tobytes().endswith(b"\n") or stream.read(1) == b""
                if not columnar_events._counted(part, counts):
                    counts = None
                    break
        except columnar_events._TooLong:
            assert max(map(len, text.encode().split(b"\n"))) >= piece
            return
    refused = (
        any(ord(c) < 0x20 and c != "\n" for c in text)
        or "\\" in text
        or "\n\n" in "\n" + text
        or '" ' in text
        or '"\n' in text
        or "NaN" in text
        or "Inf" in text
    )
    if refused:
        assert counts is None
        return
    assert counts is not None
    assert counts.lines == text.count("\n")  # (a last line without its end: counted later)
    assert counts.colons == text.count('":')
    assert counts.quotes == text.count('"')


def test_a_large_file_with_many_ties_read_in_small_pieces_is_the_exact_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of events over a few seconds (runs of equal timestamps), ids of several
    lengths, a ping type among them: chunks, blocks and fingerprint blocks all small."""
    monkeypatch.setattr("iotbill.adapters.columnar_events.CHUNK", 333)
    monkeypatch.setattr("iotbill.adapters.columnar_events.PIECE", 1500)
    monkeypatch.setattr("iotbill.adapters.columnar_events.BLOCK", 4096)
    monkeypatch.setattr("iotbill.adapters.columnar_columns.FINGERPRINT_ROWS", 7)
    rng = np.random.default_rng(7)
    lines = []
    for n in rng.permutation(600).tolist():
        stamp = f"2026-01-05T00:00:0{n % 7}Z"
        if n % 11 == 0:
            lines.append(f'{{"id":"p{n}","type":"ping","device":"p2","timestamp":"{stamp}"}}')
            continue
        lines.append(
            GOOD.replace('"a"', f'"{"x" * (n % 4)}{n}"')
            .replace("2026-01-05T00:00:00Z", stamp)
            .replace('"m3":3', f'"m3":{n % 13}.{n}')
            .replace('"north"', '"south"' if n % 3 else '"north"')
        )
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    columnar = read_columnar_table(str(path), WANTED)
    reference = read_event_table(str(path))
    assert columnar is not None
    assert_same(columnar, reference)
    assert priced(columnar) == priced(reference)


def test_an_id_is_limited_in_characters_not_in_bytes(tmp_path: Path) -> None:
    """256 two-byte characters (512 bytes) are within the limit; 257 are not."""
    path = tmp_path / "events.jsonl"
    path.write_text(GOOD.replace('"a"', f'"{"é" * 256}"') + "\n", encoding="utf-8")
    columnar = read_columnar_table(str(path), WANTED)
    assert columnar is not None
    assert_same(columnar, read_event_table(str(path)))
    path.write_text(GOOD.replace('"a"', f'"{"é" * 257}"') + "\n", encoding="utf-8")
    assert read_columnar_table(str(path), WANTED) is None
    assert exact(path) is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.integers(0, 3) | st.integers(0, 2**62) | st.just(2**63 - 1), min_size=0, max_size=50
    )
)
def test_packed_sorting_is_a_stable_argsort(values: list[int]) -> None:
    """Packed with their positions where they fit, else by an argsort: either way equal
    values keep the order of their positions."""
    array = np.array(values, dtype=np.int64)
    order, ordered = columnar_columns.sorted_with_positions(array)
    assert order.tolist() == np.argsort(array, kind="stable").tolist()
    assert ordered.tolist() == sorted(values)


@pytest.mark.parametrize(
    ("stamps", "usual"),
    [
        (["2026-01-05T00:00:00Z", "2026-01-31T23:59:59Z"], [True, True]),
        (["2026-01-05T00:00:00Z", "2026-01-05t00:00:00Z"], [True, False]),
        (["2026-01-05T00:00:00Z", "2026-01-05T00:00:0xZ"], [True, False]),
        (["2026-01-05T00:00:00Z", "2026-01-05T01:00:00+01:00"], [True, True]),
        (["2026-01-05T00:00:00Z", "2026-01-05T00:00:00.5Z"], [True, False]),
        ([], []),
    ],
)
def test_usual_timestamps_are_told_from_the_others_the_same_way_in_bulk(
    stamps: list[str], usual: list[bool]
) -> None:
    """A stretch of ``...SSZ`` only is tested in one pass; one odd stamp sends it to the
    test of each stamp, which finds the same."""
    assert columnar_columns.usual_forms(pa.array(stamps, type=pa.string())).tolist() == usual
    sliced = pa.array(["x", *stamps], type=pa.string())[1:]  # an array that starts late
    assert columnar_columns.usual_forms(sliced).tolist() == usual


def test_pieces_that_read_a_key_differently_or_not_at_all_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each piece is decoded on its own: a piece without ``zone`` has it missing, and a
    piece that reads ``zone`` as a number where another read text goes the exact way."""
    monkeypatch.setattr("iotbill.adapters.columnar_events.PIECE", 400)
    without_zone = GOOD.replace(',"zone":"north"', "")
    lines = [without_zone.replace('"a"', f'"w{n}"') for n in range(4)]
    lines += [GOOD.replace('"a"', f'"z{n}"') for n in range(4)]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    columnar = read_columnar_table(str(path), WANTED)
    assert columnar is not None
    reference = read_event_table(str(path))
    assert_same(columnar, reference)
    assert priced(columnar) == priced(reference)
    lines += [GOOD.replace('"a"', f'"n{n}"').replace('"north"', "7") for n in range(4)]
    path.write_text("\n".join(lines) + "\n")
    assert read_columnar_table(str(path), WANTED) is None
    assert exact(path) is not None


def test_a_line_longer_than_a_piece_goes_the_exact_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("iotbill.adapters.columnar_events.PIECE", len(GOOD) - 1)
    path = tmp_path / "events.jsonl"
    path.write_text(GOOD + "\n")
    assert read_columnar_table(str(path), WANTED) is None
    monkeypatch.setattr("iotbill.adapters.columnar_events.PIECE", len(GOOD) + 1)
    assert read_columnar_table(str(path), WANTED) is not None


@settings(max_examples=150, deadline=None)
@given(
    st.lists(lines(), min_size=1, max_size=12) | st.lists(clean_lines(), min_size=1, max_size=12),
    st.integers(120, 600),
)
def test_read_in_small_pieces_the_columnar_table_is_still_the_exact_one_or_none(
    tmp_path_factory: pytest.TempPathFactory, written: list[str], piece: int
) -> None:
    """Pieces of a few lines each, decoded while the next is counted, their buffers
    reused: the table is the exact reader's, or there is none."""
    path = tmp_path_factory.mktemp("events") / "events.jsonl"
    path.write_text("\n".join(written) + "\n")
    reference = exact(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(columnar_events, "PIECE", piece)
        columnar = read_columnar_table(str(path), WANTED)
    event("columnar" if columnar is not None else "exact")
    if columnar is None:
        return
    assert reference is not None, written
    assert_same(columnar, reference)
    assert priced(columnar) == priced(reference)


def test_a_line_of_white_space_alone_goes_the_exact_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A piece that pyarrow decodes into no event at all still has its line counted."""
    monkeypatch.setattr("iotbill.adapters.columnar_events.PIECE", len(GOOD) + 1)
    path = tmp_path / "events.jsonl"
    path.write_text(GOOD + "\n  \n")
    assert read_columnar_table(str(path), WANTED) is None
    assert exact(path) is not None  # (the exact reader skips it)


@pytest.mark.parametrize("chunk", [1, 7, 100, 255, 256, 257, 258, 1000, 256 * 1024])
def test_a_property_name_too_long_is_found_wherever_the_chunks_end(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key of 257 bytes (a property no meter reads, which pyarrow leaves out) rules the
    columnar path out, even split across chunks; one of 256 bytes, or a long value, not."""
    monkeypatch.setattr(columnar_events, "CHUNK", chunk)
    for extra, fits in [
        (f'"{"n" * 256}":1', True),
        (f'"{"n" * 257}":1', False),
        (f'"note":"{"v" * 1000}"', True),
        (f'"{"n" * 300}":"{"v" * 300}"', False),
    ]:
        line = GOOD.replace('"sensor":"s1"', f'"sensor":"s1",{extra}') + "\n"
        piece = memoryview(bytearray((GOOD + "\n" + line).encode()))
        assert columnar_events._counted(piece, columnar_events._Counts()) is fits, extra


def test_an_unread_property_with_too_long_a_name_is_refused_as_the_exact_way_does(
    tmp_path: Path,
) -> None:
    """The rules allow a property name of 256 characters: not 257, though no meter reads it."""
    path = tmp_path / "events.jsonl"
    for length in (256, 257):
        line = GOOD.replace('"sensor":"s1"', f'"sensor":"s1","{"n" * length}":1')
        path.write_text(GOOD.replace('"a"', '"z0"') + "\n" + line + "\n")
        columnar = read_columnar_table(str(path), WANTED)
        if length == 256:
            assert columnar is not None
            assert_same(columnar, read_event_table(str(path)))
        else:
            assert columnar is None
            assert exact(path) is None
