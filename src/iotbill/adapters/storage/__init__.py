"""Storage adapters: the ports of :mod:`iotbill.services.ports`, twice.

``memory`` keeps everything in Python objects (the reference implementation and
the test fake); ``sql`` stores it in SQLite or PostgreSQL through SQLAlchemy,
with ``migrations`` (Alembic) creating the one schema both databases share.
This package owns persistence only: no billing rules, no command line.
"""
