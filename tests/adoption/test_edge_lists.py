"""The vectorised edge-list reader gives what the line-by-line parser gives, on any text."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.adoption.edge_lists import UNICODE_SPACES, _fast_parse, parse_edge_bytes
from iotbill.adoption.graph import Graph, parse_edge_list
from iotbill.domain.errors import InvalidInput


def outcome(parse: object, source: object) -> tuple[str, object]:
    """``("graph", (labels, indptr, indices))`` or ``("error", [(location, message)])``."""
    assert callable(parse)
    try:
        graph: Graph = parse(source, source="net.txt")
    except InvalidInput as error:
        return "error", [(p.location, p.message) for p in error.problems]
    return "graph", (graph.labels, graph.indptr.tolist(), graph.indices.tolist())


def assert_same_as_line_parser(text: str) -> None:
    assert outcome(parse_edge_bytes, text.encode()) == outcome(parse_edge_list, text)


def test_the_unicode_spaces_are_those_python_strips() -> None:
    beyond_ascii = {chr(c).encode() for c in range(0x80, 0x110000) if chr(c).isspace()}
    assert set(UNICODE_SPACES) == beyond_ascii


@pytest.mark.parametrize(
    "text",
    [
        "a b\nb c\n",
        "# customers\na b\n\nb,c   # referral\n  c , d\na\tb\nb a\n",
        "a b\r\nb c\r\n",
        "1 2\n2 3\n3 1\n10 1\n",  # numbers, read as numbers
        "0 1\n1 2\n",
        "1000000000000000 5\n5 999999999999999999\n",  # sparse numbers: sorted, not tabled
        "007 7\n7 07\n",  # not canonical numbers: read as text, three nodes
        "-1 1\n+1 1\n",
        "Zürich Genève\nGenève Zürich\n",  # UTF-8 ids
        "a b # é and, commas # and hashes\n#\n#a b\nc,d",  # no final newline
        "a\x00 b\x01\n",  # control characters that str keeps in ids
    ],
)
def test_files_that_fit_take_the_fast_path_and_parse_the_same(text: str) -> None:
    assert _fast_parse(text.encode()) is not None
    assert_same_as_line_parser(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n\n",
        "a b\na\nb b\nc d e\nx,,y\n",  # every bad line named
        "a b\nc c\n",  # self-loop
        "a,b,\n",
        ",a b\n",
        "a b\rc d\n",  # a lone carriage return breaks the line for str.splitlines
        "a b\x0bc d\n",
        "a b\x1cc d\n",
        "a\xa0b\n",  # a no-break space separates, as str.split does
        "a b\u2028c d\n",
        "a\x1fb\n",
        "a , , b\n",
        "a b\n\n, \n",
    ],
)
def test_files_that_do_not_fit_give_the_line_parser_answer(text: str) -> None:
    assert _fast_parse(text.encode()) is None
    assert_same_as_line_parser(text)


def test_bytes_that_are_not_utf8_are_refused_naming_the_file() -> None:
    with pytest.raises(InvalidInput, match=r"net\.txt: is not UTF-8 text"):
        parse_edge_bytes(b"a b\n\xff c\n", source="net.txt")


@pytest.mark.parametrize("tail", ["", "x\u3000y z\n", "x y\u2029\n", "z\u0085w q\n"])
@pytest.mark.parametrize("lines", [3, 3_000])  # a few bytes beyond ASCII, and many
def test_bytes_beyond_ascii_are_checked_where_they_stand_or_everywhere(
    lines: int, tail: str
) -> None:
    """Few bytes beyond ASCII: only their lines are decoded and searched for the Unicode
    spaces; many: the whole text is. Either way, a space anywhere takes the line parser."""
    text = "# heading – with a dash\n" + "".join(f"é{n} ü{n}\n" for n in range(lines)) + tail
    assert (_fast_parse(text.encode()) is None) == bool(tail)
    assert_same_as_line_parser(text)


@pytest.mark.parametrize("lines", [3, 3_000])
def test_bytes_that_are_not_utf8_are_found_among_few_or_many(lines: int) -> None:
    data = "".join(f"é{n} ü{n}\n" for n in range(lines)).encode() + b"a \xe2\x80\n"
    with pytest.raises(InvalidInput, match=r"net\.txt: is not UTF-8 text"):
        parse_edge_bytes(data, source="net.txt")


@pytest.mark.parametrize("notes", [5, 2_000])  # marked one by one, or by a running sum
def test_comments_few_or_many_parse_the_same(notes: int) -> None:
    text = "".join(f"{n} {n + 1}  # note {n}, with a comma\n# {n}\n" for n in range(notes))
    assert _fast_parse(text.encode()) is not None
    assert_same_as_line_parser(text)


IDS = st.sampled_from(["a", "b", "c", "0", "1", "7", "10", "007", "-3", "é", "a#", "b,c"])
SEPARATORS = st.sampled_from([" ", "\t", ",", " , ", "  ", ",,", "\xa0", ""])
ENDINGS = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "\x0c", "\u2028"])
COMMENTS = st.sampled_from(["", "", " # note", "#", "# é, x y", "  "])


@st.composite
def edge_list_texts(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        ids = draw(st.lists(IDS, min_size=0, max_size=3))
        lines.append(draw(SEPARATORS).join(ids) + draw(COMMENTS) + draw(ENDINGS))
    return "".join(lines)


@settings(max_examples=400)
@given(text=edge_list_texts())
def test_any_text_parses_as_the_line_parser_parses_it(text: str) -> None:
    assert_same_as_line_parser(text)


@pytest.mark.parametrize("offset", [0, 10**12])
def test_a_generated_network_reads_the_same_both_ways(offset: int) -> None:
    rng = np.random.default_rng(5)
    sources = rng.integers(0, 3000, 20_000) + offset
    targets = rng.integers(0, 3000, 20_000) + offset
    keep = sources != targets
    text = "# generated\n" + "".join(
        f"{u} {v}\n" for u, v in zip(sources[keep], targets[keep], strict=True)
    )
    assert _fast_parse(text.encode()) is not None
    assert_same_as_line_parser(text)


def test_sorted_ids_sort_as_text() -> None:
    graph = parse_edge_bytes(b"10 9\n9 100\n100 b\nb B\nB \xc3\xa9\n")
    everyone = np.arange(graph.node_count)
    assert graph.sorted_ids(everyone) == sorted(graph.labels)
    assert graph.sorted_ids([3, 0]) == sorted(graph.ids_of([3, 0]))
    assert graph.sorted_ids([]) == []


def test_a_few_ids_are_found_among_many_by_bisection() -> None:
    graph = Graph.from_edges([(f"n{i}", f"n{i + 1}") for i in range(2000)])
    assert graph.index_of(["n17", "n0", "n2000", "n17"]).tolist() == [17, 0, 2000, 17]
    with pytest.raises(InvalidInput) as raised:
        graph.index_of(["n5", "zz", "n2001", "a"], location="--seeds")
    assert str(raised.value) == "--seeds: unknown node id(s): a, n2001, zz"


@pytest.mark.parametrize(
    "text",
    [
        b"1 10\n10 100\n100 2\n2 0\n0 19\n9 90\n",
        b"999999999999999999 1\n1 100000000000000000\n5 1000\n",
    ],
)
def test_numeric_ids_know_their_order_as_text(text: bytes) -> None:
    graph = parse_edge_bytes(text)
    assert graph.label_order is not None  # from the numbers, without sorting strings
    assert graph.sorted_ids(np.arange(graph.node_count)) == sorted(graph.labels)
    assert graph.sorted_ids([0, 2]) == sorted(graph.ids_of([0, 2]))
