"""Usage events: what a device reports, and how a batch of them is deduplicated.

A usage event is ``{"id", "type", "device", "timestamp", "properties"}``. The
``id`` is the idempotency key: a repeat with the same content is a *duplicate*
(counted once, reported), a repeat with different content is a *conflict*
(reported; the first one stands). Timestamps carry a UTC offset; naive ones
are refused when decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class UsageEvent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """One report from a device.

    ``properties`` holds JSON values; numbers are exact (``int`` or
    ``Decimal``), never binary floats.
    """

    id: NonEmpty
    type: NonEmpty
    device: NonEmpty
    timestamp: AwareDatetime
    properties: dict[str, Any] = msgspec.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventConflict:
    """A repeated event id whose content differs from the first event with that id."""

    id: str
    first_line: int
    line: int


class SourcedEvent(msgspec.Struct, frozen=True, gc=False):
    """An event and where it came from (file line or batch position), for error messages.

    A struct rather than a dataclass: an import makes one per line, millions at
    a time, and a struct is made four times faster.
    """

    event: UsageEvent
    line: int
