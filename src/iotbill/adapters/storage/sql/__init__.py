"""SQL storage: one schema for SQLite (the embedded default) and PostgreSQL.

``tables`` declares the schema, ``engine`` connects and migrates, ``unit_of_work``
and ``repositories`` implement the ports, ``events`` is the event store, with
``bulk`` (fast appends) and ``aggregation`` (meters pushed down to SQL).
"""
