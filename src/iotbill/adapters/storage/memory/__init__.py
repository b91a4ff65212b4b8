"""The ports in Python objects: the reference implementation and the test fake.

It keeps the same promises as the SQL store and passes the same contract tests
(``tests/contract/``): a unit of work sees its own writes, and commit publishes
them all at once (rollback drops them). Meters are computed by the pure core
over the whole history, which is what the SQL push-down must equal. One
process, one writer at a time: commits are serialised by a lock, but two units
of work that change the same row do not detect each other. Work orders are the
exception: a commit lays the work orders it wrote over those committed meanwhile,
its steps and only the SLA marks no one took first, as the SQL store's disjoint
updates do, so a step never undoes a bill run's mark nor a mark a step.
"""

from iotbill.adapters.storage.memory.base import StoredEvent, TenantData
from iotbill.adapters.storage.memory.unit_of_work import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork", "StoredEvent", "TenantData"]
