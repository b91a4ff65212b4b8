"""Who is calling: the API key, its scopes, and the tenant every query is filtered by.

A request names its key in ``Authorization: Bearer iotbill_<id>_<secret>``.
:func:`access` is the dependency every ``/v1`` route declares with the scope it
needs; it is the one place that

1. authenticates the key (no key, or an unknown, wrong or revoked one: 401),
2. spends one token of the key's rate limit (429 with ``Retry-After``),
3. checks the scope (403), and
4. gives the route an :class:`Access` whose units of work are opened for the
   key's tenant and no other. Routes never see the unit-of-work factory, so
   none can forget the tenant: another tenant's objects are simply not there
   (404), whether named by id, listed or filtered.

Parties: a key restricted to one party of its tenant (a data buyer, a grid
operator) would carry the party here, on :class:`Access`, and the repositories
of its units of work would filter by it as they filter by tenant. iotbill has
no parties yet, so no key is restricted; this is where the restriction goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from iotbill.domain.api_keys import ApiKey, Scope
from iotbill.domain.errors import NotFound
from iotbill.entrypoints.api.limits import RateLimiter
from iotbill.entrypoints.api.problems import Forbidden, Unauthenticated
from iotbill.entrypoints.api.settings import ApiSettings
from iotbill.services import DEFAULT_TENANT
from iotbill.services.api_keys import authenticate
from iotbill.services.ports import Clock, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the app was built with: the store, the clock, the settings, the rate limiter."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    settings: ApiSettings
    limiter: RateLimiter
    ready: Callable[[], str | None]
    """Why the service is not ready (the store does not answer, or its schema is old), or
    ``None``."""


@dataclass(frozen=True, slots=True)
class Access:
    """A request's rights: its key, and units of work on the key's tenant only."""

    key: ApiKey
    wiring: Wiring

    @property
    def tenant(self) -> str:
        return self.key.tenant

    @property
    def clock(self) -> Clock:
        return self.wiring.clock

    @property
    def party(self) -> str | None:
        """The one customer the key acts for, or ``None`` for a key of the whole tenant."""
        return self.key.party

    def own(self, customer: str, what: str, shown: str) -> None:
        """Refuse an object of ``customer`` to a key acting for another party, as if the
        object (a ``what`` named ``shown``) did not exist: :class:`NotFound`."""
        if self.key.party is not None and customer != self.key.party:
            raise NotFound(f"unknown {what} {shown!r}")

    def customer_filter(self, customer: str | None) -> str | None:
        """A list's ``?customer=`` filter: a party's key always lists its own customer's
        objects, and naming another customer is :class:`NotFound`."""
        if self.key.party is None:
            return customer
        if customer is not None:
            self.own(customer, "customer", customer)
        return self.key.party

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work on the key's tenant (not entered: the services enter it)."""
        return self.wiring.uow_factory(self.key.tenant, read_only=read_only)

    def uow_factory(self) -> UnitOfWorkFactory:
        """Units of work for services that open several, refusing any other tenant."""
        own = self.key.tenant
        factory = self.wiring.uow_factory

        def open_unit_of_work(tenant: str, *, read_only: bool = False) -> UnitOfWork:
            if tenant != own:
                raise PermissionError(f"a key of tenant {own!r} cannot open {tenant!r}")
            return factory(tenant, read_only=read_only)

        return open_unit_of_work


PARTY_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/v1/customers/{customer_id}"),
        ("GET", "/v1/customers/{customer_id}/usage"),
        ("GET", "/v1/customers/{customer_id}/balance"),
        ("GET", "/v1/subscriptions"),
        ("GET", "/v1/subscriptions/{subscription_id}"),
        ("GET", "/v1/subscriptions/{subscription_id}/usage"),
        ("GET", "/v1/subscriptions/{subscription_id}/upcoming"),
        ("GET", "/v1/invoices"),
        ("GET", "/v1/invoices/{invoice_id}"),
        ("GET", "/v1/invoices/{invoice_id}.pdf"),
        ("GET", "/v1/invoices/{invoice_id}.html"),
        ("GET", "/v1/credit-notes/{credit_note_id}.pdf"),
        ("GET", "/v1/credit-notes/{credit_note_id}.html"),
        ("GET", "/v1/entitlements/check"),
        ("POST", "/v1/data-exports"),
        ("GET", "/v1/data-exports"),
        ("GET", "/v1/data-exports/{export_id}/file"),
        ("GET", "/v1/payouts/statement"),
    }
)
"""The only routes a key restricted to one party may call (every other answers 403): each
shows that party's objects alone, through :meth:`Access.own` and
:meth:`Access.customer_filter`. A new route stays closed to parties until it is added here."""

_BEARER = HTTPBearer(auto_error=False, description="An API key: iotbill_<id>_<secret>")


def wiring_of(request: Request) -> Wiring:
    wiring: Wiring = request.app.state.wiring
    return wiring


def caller(request: Request) -> ApiKey:
    """The request's key, authenticated and rate-limited once per request."""
    known: ApiKey | None = getattr(request.state, "api_key", None)
    if known is not None:
        return known
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if not header:
        raise Unauthenticated("no API key: send Authorization: Bearer <key>")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthenticated("the Authorization header must be: Bearer <key>")
    wiring = wiring_of(request)
    key = authenticate(wiring.uow_factory, presented.strip(), DEFAULT_TENANT)
    if key is None:
        raise Unauthenticated("the API key is unknown or revoked")
    request.state.api_key = key
    request.scope["state"]["key_id"] = key.id
    request.scope["state"]["tenant"] = key.tenant
    wiring.limiter.take(key.id)
    return key


def access(scope: Scope) -> Any:
    """The dependency of a route needing ``scope``: gives its :class:`Access`."""

    async def check(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Access:
        # Known already (an idempotent route authenticates first): no trip to a thread.
        key: ApiKey | None = getattr(request.state, "api_key", None)
        if key is None:
            key = await run_in_threadpool(caller, request)
        if not key.allows(scope):
            held = ", ".join(sorted(key.scopes))
            raise Forbidden(f"this route needs the scope {scope}; key {key.id} has {held}")
        if key.party is not None:
            route = request.scope.get("route")
            path = getattr(route, "path", "")
            if (request.method, path) not in PARTY_ROUTES:
                raise Forbidden(
                    f"key {key.id} acts for {key.party} alone, and {request.method} {path}"
                    " is not open to a party's key (docs/api.md)"
                )
        return Access(key, wiring_of(request))

    return Depends(check)


EventsWrite = Annotated[Access, access("events:write")]
BillingRead = Annotated[Access, access("billing:read")]
BillingWrite = Annotated[Access, access("billing:write")]
Admin = Annotated[Access, access("admin")]
