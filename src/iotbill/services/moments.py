"""When something happens, as a use case receives it: a date or an instant.

A :data:`Moment` is what a person types: a date (``2026-03-01``), which means
local midnight in the customer's time zone, or an aware instant, which means
itself. The use cases turn it into a UTC instant here, in the unit of work
that knows the customer, so the rule lives in one place for the command line
and the API alike.

>>> from iotbill.domain.customers import Customer
>>> tonga = Customer.create(id="t", name="T", currency_code="TOP", timezone="Pacific/Tongatapu")
>>> instant_for(date(2026, 1, 1), tonga, "start").isoformat()
'2025-12-31T11:00:00+00:00'
"""

from __future__ import annotations

from datetime import date, datetime

from iotbill.domain.customers import Customer
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.periods import local_midnight, require_in_range, require_input_instant

Moment = date | datetime
"""A date (local midnight in the customer's zone) or an aware instant."""


def instant_for(moment: Moment, customer: Customer, location: str) -> datetime:
    """``moment`` as a UTC instant: a date begins at local midnight in ``customer``'s zone.

    A naive ``datetime`` is :class:`~iotbill.domain.errors.InvalidInput` at ``location``.
    """
    if isinstance(moment, datetime):  # a datetime is a date too: test it first
        return require_input_instant(moment, location)
    return local_midnight(require_in_range(moment, location), customer.zone)


def collect_instant(
    moment: Moment, customer: Customer | None, location: str, problems: ProblemCollector
) -> datetime | None:
    """``moment`` as an instant, or ``None`` after recording why not in ``problems``.

    A date needs the customer's zone: without a ``customer`` (an unknown one,
    reported already) it gives ``None`` and records nothing more.
    """
    try:
        if isinstance(moment, datetime):
            return require_input_instant(moment, location)
        require_in_range(moment, location)
    except InvalidInput as error:
        problems.extend(error.problems)
        return None
    return None if customer is None else local_midnight(moment, customer.zone)
