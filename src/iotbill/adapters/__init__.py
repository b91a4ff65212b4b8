"""I/O behind the ports: where iotbill meets files, databases and the clock.

Owns reading event and plan files exactly (:mod:`.event_files`,
:mod:`.event_import`, :mod:`.plan_files`), the stores that implement
:mod:`iotbill.services.ports` (:mod:`.storage`: in memory, SQLite and
PostgreSQL, with their migrations) and the clocks (:mod:`.clock`).

Does not own billing rules or use cases. An adapter imports the domain and the
ports it implements, nothing else of the services, and never an entrypoint
(``tests/unit/test_import_rules.py``); :mod:`iotbill.bootstrap` is where
adapters are chosen and wired.
"""
