"""How an invoice document words the steps of a cap, a risk factor and a commitment."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from iotbill.domain.commitments import commitment_lines
from iotbill.domain.money import currency
from iotbill.domain.periods import Period
from iotbill.domain.rating import rate_period
from iotbill.entrypoints.render.documents import step_text
from iotbill.entrypoints.render.spelling import Spelling
from tests.unit.conftest import event, plan, table
from tests.unit.test_usage_terms import INSURANCE

USD = currency("USD")
SPELL = Spelling("en_US", USD)
JANUARY = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


def test_a_capped_risk_priced_line_and_its_commitment_read_as_words() -> None:
    events = [
        event("t1", 8, "trip", miles=Decimal(400)),
        *(event(f"b{i}", 9, "harsh_brake") for i in range(5)),
    ]
    insurance = plan(INSURANCE)
    (mileage,) = rate_period(insurance, table(*events), JANUARY)
    # 250 miles billed of 400; 5 brakes per 250 miles is 2 per 100: factor 1.00, 8.00.
    assert [step_text(detail, SPELL) for detail in mileage.detail] == [
        "Not counted above the cap: 150 (150 of 400 not counted: at most 250 per day (1 day over))",
        "Units: 250 × $0.032",
        "Risk factor: × 1 (5 brakes per 100 miles over 250: ratio 2, row 2 (up to 4))",
    ]
    (true_up,) = commitment_lines(insurance.commitment, USD, [mileage], [JANUARY], JANUARY)
    assert [step_text(detail, SPELL) for detail in true_up.detail] == [
        "Minimum commitment (minimum 10.00)",
        "Charges billed (billed by the plan's charges)",
    ]
    assert str(true_up.amount) == "2.00"
