"""Credits and one-off charges: grant or sell credit, a customer's balance and its ledger
(``/v1/credits``, ``/v1/customers/{id}/balance``), charges for the next invoice
(``/v1/charges``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from iotbill.domain.credits import LedgerEntry, credits_account
from iotbill.domain.money import Currency, format_money
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.entrypoints.api.auth import BillingRead, BillingWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, page_view
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import (
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    instant,
    moment,
    optional_reference,
    path_id,
    reference,
    with_url_ids,
)
from iotbill.entrypoints.api.schemas import (
    BalanceOut,
    ChargeIn,
    CreditIn,
    CreditOut,
    OneOffChargeOut,
    PageOf,
)
from iotbill.services import balance, customers, one_off_charges

router = APIRouter(prefix="/v1", tags=["credits"], route_class=IdempotentRoute)

CustomerFilter = Annotated[str | None, Query(max_length=400)]


def charge_view(charge: OneOffCharge, invoice_number: str | None = None) -> dict[str, Any]:
    return with_url_ids(charge.as_json(invoice_number), "id", "customer", "invoice")


@router.post(
    "/credits",
    status_code=201,
    response_model=CreditOut,
    summary="Add a credit to a customer's balance: granted, or purchased (then billed)",
    responses=responses(*WRITE_PROBLEMS),
)
def grant_credit(body: CreditIn, access: BillingWrite) -> dict[str, Any]:
    customer = reference(body.customer)
    granted, charge = balance.grant_credit(
        access.uow(),
        customer=customer,
        amount=body.amount,
        at=instant(access, body.at, "at", lambda: customer),
        purchased=body.purchased,
        expires_at=None
        if body.expires_at is None
        else instant(access, body.expires_at, "expires_at", lambda: customer),
        priority=body.priority,
        description=body.description,
    )
    view = with_url_ids(granted.as_json(granted.amount), "id", "customer")
    return view | {"charge": None if charge is None else charge_view(charge)}


@router.get(
    "/credits",
    response_model=PageOf[CreditOut],
    summary="List the credits granted (?customer=), with what is left of each",
    responses=responses(*READ_PROBLEMS),
)
def list_credits(
    access: BillingRead,
    customer: CustomerFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    owner = optional_reference(customer)
    found = balance.list_credits(access.uow(read_only=True), owner)
    return page_view(
        found,
        key=lambda pair: [pair[0].id],
        view=lambda pair: with_url_ids(pair[0].as_json(pair[1]), "id", "customer"),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/customers/{customer_id}/balance",
    response_model=BalanceOut,
    summary="A customer's credit balance and its ledger entries, oldest first (to a party's "
    "own key: the entries of its credits account alone)",
    responses=responses(*READ_PROBLEMS),
)
def customer_balance(customer_id: str, access: BillingRead) -> dict[str, Any]:
    wanted = path_id(customer_id, "customer")
    access.own(wanted, "customer", wanted)
    found = customers.get_customer(access.uow(read_only=True), wanted)
    entries = balance.credit_history(access.uow(read_only=True), wanted)
    held = balance.balance_of(entries, wanted)
    if access.party is not None:  # its credits alone, not how the operator booked its sales
        account = credits_account(wanted)
        entries = [e for e in entries if account in (e.debit, e.credit)]
    return {
        "customer": customer_id,
        "currency": found.currency.code,
        "balance": format_money(held, found.currency),
        "entries": [_entry_view(entry, found.currency) for entry in entries],
    }


def _entry_view(entry: LedgerEntry, currency: Currency) -> dict[str, Any]:
    return with_url_ids(entry.as_json(currency), "id", "customer", "grant", "document")


@router.post(
    "/charges",
    status_code=201,
    response_model=OneOffChargeOut,
    summary="Record a one-off charge, billed on the customer's next invoice",
    responses=responses(*WRITE_PROBLEMS),
)
def add_charge(body: ChargeIn, access: BillingWrite) -> dict[str, Any]:
    recorded = one_off_charges.add_one_off_charge(
        access.uow(),
        customer=reference(body.customer),
        description=body.description,
        amount=body.amount,
        quantity=body.quantity,
        at=moment(body.at, "at", access.clock.now()),
    )
    return charge_view(recorded)


@router.get(
    "/charges",
    response_model=PageOf[OneOffChargeOut],
    summary="List the one-off charges (?customer=), with the invoice that billed each",
    responses=responses(*READ_PROBLEMS),
)
def list_charges(
    access: BillingRead,
    customer: CustomerFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    owner = optional_reference(customer)
    found = one_off_charges.list_one_off_charges(access.uow(read_only=True), owner)
    return page_view(
        found,
        key=lambda pair: [pair[0].id],
        view=lambda pair: charge_view(*pair),
        cursor=cursor,
        limit=limit,
    )
