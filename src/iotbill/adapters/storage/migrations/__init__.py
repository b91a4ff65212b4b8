"""Alembic migrations of the SQL schema, shipped with the package.

Applied by :func:`iotbill.adapters.storage.sql.engine.upgrade` (``iotbill db
upgrade``); each file in ``versions/`` is a frozen step, never edited once
released.
"""
