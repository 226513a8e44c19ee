"""Bulk loading helpers for demo data and benchmarks: secondary indexes dropped for the load and rebuilt
once afterwards (one sort per index instead of a B-tree insert per row), a larger page cache on SQLite.

Only for loads inside one transaction that nobody else needs the table during (demo data, benchmark
setup): DROP INDEX takes an exclusive lock until commit. Unique and primary-key indexes are kept, so
constraints are still checked row by row.
"""
from __future__ import annotations

from contextlib import contextmanager

from django.db import connection


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's non-unique indexes."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                        "AND sql IS NOT NULL", [table])
            return [(n, s) for n, s in cur.fetchall() if not s.upper().startswith("CREATE UNIQUE")]
        if connection.vendor == "postgresql":
            cur.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
                        "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = %s AND NOT x.indisunique "
                        "AND NOT x.indisprimary", [table])
            return list(cur.fetchall())
    return []


@contextmanager
def deferred_indexes(*tables: str):
    if not connection.in_atomic_block:
        raise RuntimeError("deferred_indexes needs a transaction (a failed load must roll the DROP INDEX back)")
    dropped = []
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA cache_size")
            cache = cur.fetchone()[0]
            cur.execute("PRAGMA cache_size = -262144")  # 256 MB for the load
        for table in tables:
            for name, sql in secondary_indexes(table):
                cur.execute(f'DROP INDEX "{name}"')
                dropped.append(sql)
    yield  # on an error the transaction rolls back, indexes included
    with connection.cursor() as cur:
        if connection.vendor == "postgresql" and dropped:
            # the load's deferred foreign-key checks must run before CREATE INDEX may touch the table
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
        for sql in dropped:
            cur.execute(sql)
        if connection.vendor == "sqlite":
            cur.execute(f"PRAGMA cache_size = {int(cache)}")
