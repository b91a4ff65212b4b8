"""A tenant's settings on every store: when its invoices use customers' credits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from iotbill.domain.errors import NotFound
from iotbill.services.ports import Tenant, UnitOfWorkFactory


def test_a_tenant_keeps_its_credit_timing(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant) as uow:
        found = uow.tenants.get(tenant)
        assert found.credits == "after_tax"
        uow.tenants.save(replace(found, name="Renamed", credits="before_tax"))
        with pytest.raises(NotFound):
            uow.tenants.save(Tenant("nobody", "Nobody", "before_tax"))
        uow.commit()
    with store(tenant) as uow:
        assert uow.tenants.get(tenant) == Tenant(tenant, "Renamed", "before_tax")
        assert uow.tenants.get("default").credits == "after_tax"
