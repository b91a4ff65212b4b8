"""The HTTP service's own settings, from the environment (``IOTBILL_API_`` names).

The store and the clock are :mod:`iotbill.bootstrap`'s, as for every entrypoint
(``IOTBILL_DATABASE_URL``); these are the settings of the HTTP layer alone.

=================================  =========================================  ==========
variable                           what                                       default
=================================  =========================================  ==========
``IOTBILL_API_HOST``               address to listen on                       127.0.0.1
``IOTBILL_API_PORT``               port                                       8000
``IOTBILL_API_WORKERS``            worker processes (:mod:`.workers`)         1
``IOTBILL_API_MAX_BODY_BYTES``     largest request body                       4 MiB
``IOTBILL_API_RATE_PER_SECOND``    requests per second per key (sustained)    50
``IOTBILL_API_RATE_BURST``         requests per key at once                   100
``IOTBILL_API_IDEMPOTENCY_LEASE``  seconds a killed request holds its key     60
``IOTBILL_API_LOG_LEVEL``          ``debug``, ``info``, ``warning``           info
``IOTBILL_API_SESSION_SECRET``     signs dashboard sessions (set it for       random per
                                   several workers or sessions that outlive   process
                                   a restart)
``IOTBILL_API_SESSION_HOURS``      how long a dashboard session lasts         8
=================================  =========================================  ==========
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """What ``iotbill serve`` reads from the environment (or is given)."""

    model_config = SettingsConfigDict(env_prefix="IOTBILL_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    rate_per_second: float = Field(default=50.0, gt=0)
    rate_burst: int = Field(default=100, ge=1)
    idempotency_lease: float = Field(default=60.0, gt=0)
    log_level: str = "info"
    session_secret: SecretStr | None = None
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
