"""Issuing and revoking the MQTT credentials of devices, and what the broker must know of them.

A credential is issued to a device that exists, under a tenant code and a
device id that can be topic levels (:func:`~iotbill.domain.device_credentials.topic_name_problem`).
Its secret is returned once, by :func:`issue_credential`, and only its hash is
stored. A device has at most one active credential: issuing another while one
is active is a :class:`Conflict`, unless ``replace`` (then the old one is
revoked in the same transaction, so there is never a moment with two).

The broker learns the credentials from :func:`broker_credentials`: every
tenant's active credentials, which the MQTT adapter writes into Mosquitto's
password and ACL files.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from iotbill.domain.device_credentials import (
    SALT_BYTES,
    DeviceCredential,
    hash_secret,
    topic_name_problem,
    username_for,
)
from iotbill.domain.errors import Conflict, NotFound, ProblemCollector
from iotbill.domain.periods import require_aware
from iotbill.services.ports import BrokerCredential, UnitOfWork, UnitOfWorkFactory

SecretSource = Callable[[], str]


def new_secret() -> str:
    """256 random bits, URL-safe: what a device is given as its MQTT password."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A credential just issued, with its secret: the only time the secret is known."""

    credential: DeviceCredential
    secret: str


def issue_credential(
    uow: UnitOfWork,
    device: str,
    *,
    at: datetime,
    replace: bool = False,
    secret_source: SecretSource = new_secret,
) -> IssuedCredential:
    """Give ``device`` a new credential; the secret is in the result and nowhere else."""
    at = require_aware(at, "at")
    problems = ProblemCollector()
    for field, value in (("tenant", uow.tenant), ("device", device)):
        problem = topic_name_problem(field, value)
        if problem is not None:
            problems.add(problem.location, problem.message)
    problems.raise_if_any()
    with uow:
        if device not in uow.devices.find([device]):
            raise NotFound(f"unknown device {device!r} (iotbill devices add {device} adds it)")
        current = uow.device_credentials.active(device)
        if current is not None:
            if not replace:
                raise Conflict(
                    f"device {device!r} has an active credential, issued"
                    f" {current.issued_at.isoformat()} (revoke it first, or issue with --replace)"
                )
            uow.device_credentials.save(current.revoke(at))
        secret = secret_source()
        credential = DeviceCredential(
            device_id=device,
            username=username_for(uow.tenant, device),
            secret_hash=hash_secret(secret, salt=os.urandom(SALT_BYTES)),
            issued_at=at,
        )
        uow.device_credentials.add(credential)
        uow.commit()
    return IssuedCredential(credential, secret)


def revoke_credential(uow: UnitOfWork, device: str, *, at: datetime) -> DeviceCredential:
    """Revoke the active credential of ``device``: from the broker's next reload on, it
    can no longer connect. :class:`NotFound` if the device has none active."""
    at = require_aware(at, "at")
    with uow:
        current = uow.device_credentials.active(device)
        if current is None:
            raise NotFound(f"device {device!r} has no active credential")
        revoked = current.revoke(at)
        uow.device_credentials.save(revoked)
        uow.commit()
    return revoked


def list_credentials(uow: UnitOfWork, *, active_only: bool = False) -> list[DeviceCredential]:
    """The tenant's credentials (hashes only), by device, then issue time."""
    with uow:
        return uow.device_credentials.list(active_only=active_only)


def broker_credentials(
    open_uow: UnitOfWorkFactory, directory_tenant: str
) -> list[BrokerCredential]:
    """Every tenant's active credentials, by tenant, then device: what the broker admits.

    ``directory_tenant`` is any existing tenant, whose unit of work lists the tenants.
    """
    with open_uow(directory_tenant, read_only=True) as uow:
        tenants = [tenant.code for tenant in uow.tenants.list()]
    found: list[BrokerCredential] = []
    for tenant in tenants:
        with open_uow(tenant, read_only=True) as uow:
            found.extend(
                BrokerCredential(tenant, credential)
                for credential in uow.device_credentials.list(active_only=True)
            )
    return found
