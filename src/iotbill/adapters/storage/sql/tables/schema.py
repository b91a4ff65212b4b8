"""The shared pieces of the schema: its metadata, column types, and the tenants."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Dialect,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from iotbill.domain.quantities import decimal_text

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Micros = BigInteger
"""An instant: microseconds since 1970-01-01T00:00:00Z."""

Measures = JSON().with_variant(JSONB(), "postgresql")


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal stored as its plain text (``"19.5"``), on every database."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else decimal_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _tenant_key(table: str) -> list[Any]:
    """The leading tenant column of a tenant's table and its foreign key."""
    return [
        Column("tenant_id", Integer, nullable=False),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenants"),
    ]


tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("credits", String(16), nullable=False, server_default=text("'after_tax'")),
)
