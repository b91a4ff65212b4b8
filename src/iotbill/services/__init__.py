"""Use cases: plain functions over the ports in :mod:`iotbill.services.ports`.

This package owns orchestration (open a unit of work, call the domain, store the
result, commit); it owns no I/O of its own and no pricing rules. Adapters
implement the ports; entrypoints call the functions here.
"""

from iotbill.services.ports import DEFAULT_TENANT

__all__ = ["DEFAULT_TENANT"]
