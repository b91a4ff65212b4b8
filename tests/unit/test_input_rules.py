"""The rules at the door (issue: hostile input), one test per hostile value that got in.

Each test names the numbered finding it covers; each failed before the rule existed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.adapters.event_files import decode_events
from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.customers import Customer, Device
from iotbill.domain.errors import InvalidInput
from iotbill.domain.input_rules import (
    PLAN_LIMITS,
    fraction_problem,
    parse_decimal_text,
    skew_problem,
)
from iotbill.domain.quantities import QuantityError, to_scaled

PLAIN = "is not a plain decimal number (like -12.50)"


def event_line(**fields: object) -> str:
    event: dict[str, object] = {
        "id": "e1",
        "type": "pump.flow",
        "device": "pump-1",
        "timestamp": "2026-01-09T12:00:00Z",
        "properties": {"m3": 2},
    }
    event.update(fields)
    return json.dumps(event)


def refusal(*lines: str) -> list[str]:
    """The problems of a JSON Lines document, as the user reads them."""
    with pytest.raises(InvalidInput) as caught:
        decode_events("\n".join(lines).encode(), "events.jsonl")
    return [str(problem) for problem in caught.value.problems]


def plan_text(amount: str) -> str:
    return (
        f"code: p\ncurrency: USD\ninterval: month\nfixed_fees: [{{code: base, amount: {amount}}}]\n"
    )


def plan_problems(text: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_plan_text(text, "plan.yaml")
    return [str(problem) for problem in caught.value.problems]


# 1. A plan with an absurd number --------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit_price", '"1E+30"', f"'1E+30' {PLAIN}"),
        ("unit_price", "1E+30", "1E+30 must be below 1000000000000 in magnitude"),
        ("unit_price", "1E+999999", "1E+999999 must be below 1000000000000 in magnitude"),
        ("unit_price", "0.0000000001", "1E-10 has more than 9 digits after the point"),
        ("package_size", "1E-30", "1E-30 has more than 9 digits after the point"),
    ],
)
def test_a_plan_number_beyond_what_pricing_can_hold_is_refused(
    field: str, value: str, message: str
) -> None:
    model = "per_unit" if field == "unit_price" else "package"
    extra = "" if field == "unit_price" else ", price: 1"
    text = (
        "code: p\ncurrency: USD\ninterval: month\n"
        "meters: [{code: m, event_type: t, aggregation: sum, property: v}]\n"
        f"charges: [{{code: c, meter: m, model: {model}, {field}: {value}{extra}}}]\n"
    )
    assert plan_problems(text) == [f"plan.yaml: charges[0].{field}: {message}"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (plan_text('"1E+30"'), f"plan.yaml: fixed_fees[0].amount: '1E+30' {PLAIN}"),
        (
            '{"code": "p", "currency": "USD", "interval": "month", '
            '"fixed_fees": [{"code": "f", "amount": 1e400}]}',
            "plan.yaml: fixed_fees[0].amount: 1E+400 must be below 1000000000000 in magnitude",
        ),
    ],
)
def test_an_absurd_fee_is_refused_at_its_field(document: str, message: str) -> None:
    assert plan_problems(document) == [message]


# 2. NUL characters and identifiers longer than the stores hold ---------------------------


def test_a_nul_anywhere_in_an_event_is_refused_with_its_field() -> None:
    lines = [
        event_line(id="e\u00001"),
        event_line(device="pump\u0000"),
        event_line(type="flow\u0000"),
        event_line(properties={"m\u00003": 1}),
        event_line(properties={"site": "a\u0000b"}),
        event_line(id="e6"),
    ]
    nul = "contains a NUL character (\\u0000), which is not allowed"
    assert refusal(*lines) == [
        f"events.jsonl:1: id: {nul}",
        f"events.jsonl:2: device: {nul}",
        f"events.jsonl:3: type: {nul}",
        f"events.jsonl:4: properties: the key 'm\\x003' {nul}",
        f"events.jsonl:5: properties: 'site': {nul}",
    ]


def test_identifiers_longer_than_the_stores_hold_are_refused() -> None:
    with pytest.raises(InvalidInput) as customer:
        Customer.create(id="c" * 129, name="C", currency_code="USD", timezone="UTC")
    assert str(customer.value) == "id: is 129 characters long; at most 128 are allowed"
    with pytest.raises(InvalidInput) as device:
        Device.create("d" * 257, "acme", datetime(2026, 1, 1, tzinfo=UTC))
    assert str(device.value) == "id: is 257 characters long; at most 256 are allowed"
    assert plan_problems(f"code: {'p' * 129}\ncurrency: USD\ninterval: month\n") == [
        "plan.yaml: code: is 129 characters long; at most 128 are allowed"
    ]
    assert refusal(event_line(device="d" * 257)) == [
        "events.jsonl:1: device: is 257 characters long; at most 256 are allowed"
    ]
    long_name, longest = {"a" * 257: 1}, {"a" * 256: 1}  # the roll-ups keep 256
    assert refusal(event_line(properties=long_name), event_line(id="e2", properties=longest)) == [
        "events.jsonl:1: properties: a property name is 257 characters long; at most 256 are"
        " allowed ('aaaaaaaaaaaaaaaaaaaa'...)"
    ]


def test_a_nul_in_a_customer_or_plan_is_refused() -> None:
    with pytest.raises(InvalidInput) as customer:
        Customer.create(id="acme", name="Ac\u0000me", currency_code="USD", timezone="UTC")
    assert str(customer.value) == ("name: contains a NUL character (\\u0000), which is not allowed")
    assert plan_problems('{"code": "p\\u0000", "currency": "USD", "interval": "month"}') == [
        "plan.yaml: code: contains a NUL character (\\u0000), which is not allowed"
    ]


# 4. Deep nesting ------------------------------------------------------------------------


def test_properties_nested_deep_are_refused_and_the_next_lines_read() -> None:
    deep = '{"x": ' + "[" * 1000 + "]" * 1000 + "}"
    lines = [
        event_line(),
        event_line(id="e2").replace('{"m3": 2}', deep),
        event_line(id="e3", properties={"x": [[[[{"y": 1}]]]]}),  # 6 levels: fine
        event_line(id="e4").replace('{"m3": 2}', '{"x": ' + "[" * 40 + "]" * 40 + "}"),
    ]
    assert refusal(*lines) == [
        "events.jsonl:2: properties: nested deeper than 32 levels of lists and objects",
        "events.jsonl:4: properties: nested deeper than 32 levels of lists and objects",
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            "x: " + "[" * 5000 + "]" * 5000,
            "plan.yaml:1: not valid YAML (exceeded maximum nesting depth)",
        ),
        (
            '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "plan.yaml: not valid JSON (nested too deep)",
        ),
    ],
)
def test_a_plan_nested_deep_is_refused(document: str, message: str) -> None:
    assert plan_problems(document) == [message]


# 5. A timestamp's fraction --------------------------------------------------------------


def test_more_than_six_fractional_digits_are_refused_not_rounded() -> None:
    lines = [
        event_line(timestamp="2026-01-31T23:59:59.9999995-05:00"),  # would round to February
        event_line(id="e2", timestamp="2026-01-31T23:59:59.123456789Z"),
        event_line(id="e3", timestamp="2026-01-31T23:59:59.999999-05:00"),
    ]
    assert refusal(*lines) == [
        "events.jsonl:1: timestamp: has 7 fractional digits of a second; at most 6"
        " (microseconds) are kept",
        "events.jsonl:2: timestamp: has 9 fractional digits of a second; at most 6"
        " (microseconds) are kept",
    ]
    [kept], _ = decode_events(lines[2].encode(), "events.jsonl")
    assert kept.timestamp.isoformat() == "2026-01-31T23:59:59.999999-05:00"


def test_a_property_with_seven_decimals_is_no_timestamp() -> None:
    [event], _ = decode_events(event_line(properties={"m3": "0.1234567"}).encode(), "e.jsonl")
    assert event.properties == {"m3": "0.1234567"}
    assert fraction_problem("2026-01-01T00:00:00,1234567Z") is not None


# 6. Numeric strings ---------------------------------------------------------------------


@pytest.mark.parametrize("text", [" 2.5 ", "1_000", "\u0663", "1e3", "+7", ".5", "5.", "NaN"])
def test_a_number_written_as_text_follows_one_grammar(text: str) -> None:
    with pytest.raises(QuantityError) as caught:
        to_scaled(text)
    assert str(caught.value) == f"{text!r} {PLAIN}"
    assert plan_problems(plan_text(json.dumps(text))) == [
        f"plan.yaml: fixed_fees[0].amount: {text!r} {PLAIN}"
    ]


def test_a_plain_decimal_as_text_is_read_exactly() -> None:
    assert to_scaled("2.5") == 2_500_000_000
    assert to_scaled("-0.000000001") == -1
    assert parse_decimal_text("-12.50") == Decimal("-12.50")


# 7. Keys named twice --------------------------------------------------------------------


def test_a_key_named_twice_in_an_event_is_refused() -> None:
    twice = "named twice in one object (which one counts would be a guess)"
    lines = [
        '{"id": "e1", "type": "t", "device": "d1", "device": "d3",'
        ' "timestamp": "2026-01-09T12:00:00Z", "properties": {"m3": 1}}',
        '{"id": "e2", "type": "t", "device": "d1", "timestamp": "2026-01-09T12:00:00Z",'
        ' "properties": {"m3": 1, "m3": 1000}}',
        '{"id":"e3","type":"t","device":"d1","timestamp":"2026-01-09T12:00:00Z",'
        '"properties":{"m3":1,"m3" :1000}}',  # a space before the colon hides nothing
        '{"id":"e4","type":"t","device":"d1","timestamp":"2026-01-09T12:00:00Z",'
        '"properties":{"m3":1,"\\u006d3":1000}}',  # nor does an escape
        '{"id":"e5","type":"t","device":"d1","device":"d2","timestamp":"2026-01-09T12:00:00Z"}',
        '{"id":"e6","type":"t","device":"d1","timestamp":"2026-01-09T12:00:00Z",'
        '"properties":{"site":{"zone":"a","zone":"b"}}}',
        '{"id":"e7","type":"t","device":"d1","timestamp":"2026-01-09T12:00:00Z",'
        '"properties":{"note":"a\\":b"}}',  # a quote and a colon in a string: one key
    ]
    assert refusal(*lines) == [
        f"events.jsonl:1: device: {twice}",
        f"events.jsonl:2: properties.m3: {twice}",
        f"events.jsonl:3: properties.m3: {twice}",
        f"events.jsonl:4: properties.m3: {twice}",
        f"events.jsonl:5: device: {twice}",
        f"events.jsonl:6: properties.site.zone: {twice}",
    ]


def test_a_key_named_twice_in_a_plan_is_refused() -> None:
    json_plan = '{"code": "p", "currency": "USD", "currency": "EUR", "interval": "month"}'
    assert plan_problems(json_plan) == [
        "plan.yaml: not valid JSON (the key 'currency' appears twice in one object)"
    ]
    yaml_plan = "code: p\ncurrency: USD\ncurrency: EUR\ninterval: month\n"
    assert plan_problems(yaml_plan) == [
        "plan.yaml:3: not valid YAML (the key 'currency' appears twice in one mapping)"
    ]


# 8. Instants out of range and clocks gone wrong ------------------------------------------


def test_instants_outside_1970_to_9000_are_refused() -> None:
    lines = [
        event_line(timestamp="9999-12-31T23:59:59-23:59"),
        event_line(id="e2", timestamp="1969-12-31T23:59:59Z"),
        event_line(id="e3", timestamp="8999-12-31T23:59:59Z"),
    ]
    assert refusal(*lines) == [
        "events.jsonl:1: timestamp: 9999-12-31T23:59:59-23:59 is not before"
        " 9000-01-01T00:00:00+00:00 (UTC)",
        "events.jsonl:2: timestamp: 1969-12-31T23:59:59+00:00 is before"
        " 1970-01-01T00:00:00+00:00 (UTC)",
    ]
    with pytest.raises(InvalidInput) as device:
        Device.create("d1", "acme", datetime(9999, 1, 1, tzinfo=UTC))
    assert str(device.value) == (
        "ownership[0].start: 9999-01-01T00:00:00+00:00 is not before"
        " 9000-01-01T00:00:00+00:00 (UTC)"
    )


def test_the_clock_skew_rule() -> None:
    received = datetime(2026, 1, 10, tzinfo=UTC)
    assert skew_problem(received + timedelta(days=1), received) is None  # exactly a day: fine
    assert skew_problem(received + timedelta(days=1, microseconds=1), received) == (
        "is 1 day, 0:00:00.000001 after it was received (2026-01-10T00:00:00+00:00);"
        " at most 1 day, 0:00:00 is allowed for clock skew"
    )
    assert skew_problem(received + timedelta(hours=2), received, timedelta(hours=1)) is not None


# 9. Plan numbers read as written ---------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (
            "010",
            "plan.yaml:4: not valid YAML ('010' has a leading zero, which YAML 1.1 reads as"
            " octal and YAML 1.2 as decimal; write it without the zero (or 0o... for octal))",
        ),
        ("1:30", f"plan.yaml: fixed_fees[0].amount: '1:30' {PLAIN}"),
        ('"3_1"', f"plan.yaml: fixed_fees[0].amount: '3_1' {PLAIN}"),
        ("3_1", f"plan.yaml: fixed_fees[0].amount: '3_1' {PLAIN}"),
        ("yes", f"plan.yaml: fixed_fees[0].amount: 'yes' {PLAIN}"),
    ],
)
def test_plan_numbers_are_read_by_yaml_1_2_or_refused(amount: str, message: str) -> None:
    assert plan_problems(plan_text(amount)) == [message]


def test_yaml_1_2_numbers_and_booleans_read_as_written() -> None:
    for written, value in [("10", Decimal(10)), ("0o10", Decimal(8)), ("1.50", Decimal("1.50"))]:
        plan = parse_plan_text(plan_text(written), "plan.yaml")
        assert plan.fixed_fees[0].amount == value
    text = (
        "code: p\ncurrency: USD\ninterval: month\n"
        "meters: [{code: m, event_type: t, aggregation: count, allow_negative: yes}]\n"
    )
    assert plan_problems(text) == ["plan.yaml: meters[0].allow_negative: must be true or false"]


def test_keys_that_yaml_reads_as_numbers_or_booleans_are_refused() -> None:
    text = (
        "code: p\ncurrency: USD\ninterval: month\n"
        "meters: [{code: m, event_type: t, aggregation: count, filters: {1: 2, true: x}}]\n"
    )
    assert plan_problems(text) == [
        "plan.yaml:4: not valid YAML (the key '1' is read as int: quote it)"
    ]
    quoted = text.replace("{1: 2, true: x}", "{'1': 2, 'true': x}")
    filters = parse_plan_text(quoted, "plan.yaml").meters[0].filters
    assert filters == (("1", (2,)), ("true", ("x",)))


# 10. Very large plans --------------------------------------------------------------------


def test_plan_limits_are_refused_with_their_numbers() -> None:
    big = "# " + "x" * PLAN_LIMITS.max_bytes + "\n" + plan_text("1")
    assert plan_problems(big) == [
        f"plan.yaml: is {len(big):,} bytes; a plan may have at most 1,048,576"
    ]
    fees = ", ".join(f"{{code: f{n}, amount: 1}}" for n in range(1001))
    many = f"code: p\ncurrency: USD\ninterval: month\nfixed_fees: [{fees}]\n"
    assert plan_problems(many) == [
        "plan.yaml: fixed_fees: has 1001 items; at most 1000 are allowed"
    ]
    tiers = ", ".join(f"{{up_to: {n + 1}, unit_price: 1}}" for n in range(1000))
    text = (
        "code: p\ncurrency: USD\ninterval: month\n"
        "meters: [{code: m, event_type: t, aggregation: sum, property: v}]\n"
        f"charges: [{{code: c, meter: m, model: graduated, tiers: [{tiers},"
        " {up_to: null, unit_price: 1}]}]\n"
    )
    assert plan_problems(text) == [
        "plan.yaml: charges[0].tiers: has 1001 items; at most 1000 are allowed"
    ]
