"""Fixed SQL for the few statements on the hot path of intake: the INSERT of a new row and the look-up of one
row (with its to-one relations) by a unique column.

The ORM builds a statement anew on every call: for one small INSERT or SELECT, building it costs several
times what sending and running it costs (bench/README.md, "Intake: where the time goes"). Here the text of
each statement is built once per model and database from the model's own metadata, and each call only
prepares the values (with the fields' own `pre_save` and `get_db_prep_save`, as `Model.save()` does) or
builds the instances (with `Model.from_db`, as a queryset does). Nothing else of the ORM is bypassed: the
rows are the ones `save()` or `select_related(...).filter(...).first()` would write or read, and
`insert()` sends `pre_save`/`post_save` like `save()` does.

Only plain models qualify (no parent model, no database default, no generated column); anything else
raises, so a model that outgrows this is noticed in its tests rather than written half right.

On PostgreSQL these statements (and the other fixed statements of the hot path, through `cursor()`) are
prepared on the server: parsed and planned once per connection, then only executed. Django leaves
psycopg's prepared statements off for every query, for connection poolers in transaction mode
(PgBouncer before 1.21); `GRIDCARE_PG_PREPARE=0` turns them off here too.

Rows nobody reads back in the same transaction (an audit row, an order's create event, the after-intake
queue entry) can be written with `insert(obj, defer=True)`: on GridCare's PostgreSQL backend
(core.pgbackend) they go to the server with the next statement of the transaction, or with its COMMIT, in
one pipeline, instead of one round trip each. Elsewhere (SQLite, outside a transaction, a model with
`post_save` receivers, `GRIDCARE_PG_PIPELINE=0`) they are written at once.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from functools import partial

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.signals import post_save, pre_save

_inserts: dict = {}
_lookups: dict = {}
_prepared_cursor_class = None


def _bare_prepared_cursor(connection):
    """A psycopg cursor that binds its parameters on the server and prepares every statement it runs."""
    global _prepared_cursor_class
    if _prepared_cursor_class is None:
        from django.db.backends.postgresql.base import ServerBindingCursor

        class PreparedCursor(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=True, binary=binary)

            def _convert_query(self, query, params=None):
                # psycopg keeps the query it sent on the cursor only when it was not run as a prepared
                # statement; Django's query log (connection.queries, CaptureQueriesContext) reads it there
                pgq = super()._convert_query(query, params)
                self._query = pgq
                return pgq

        _prepared_cursor_class = PreparedCursor
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return _prepared_cursor_class(connection.connection)


def _prepared_cursor(connection):
    """`_bare_prepared_cursor`, wrapped like Django's own cursors (error translation, query logging,
    execute wrappers)."""
    cur = _bare_prepared_cursor(connection)
    return connection._prepare_cursor(cur)


def prepares(connection) -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return connection.vendor == "postgresql" and is_psycopg3 and getattr(settings, "GRIDCARE_PG_PREPARE", True)


@contextmanager
def cursor(using: str = DEFAULT_DB_ALIAS):
    """A cursor for a fixed statement (one whose text does not change between calls): a prepared-statement
    cursor on PostgreSQL, Django's ordinary cursor elsewhere. `%s` placeholders either way.

    Only for statements whose best plan does not depend on the values: INSERTs and rows found by key. After
    a few executions PostgreSQL may run a prepared statement with a generic plan that does not know the
    values, which can be much slower for a time range (bench/README.md, "Tried and not adopted")."""
    connection = connections[using]
    if not prepares(connection):
        cur = connection.cursor()
    elif _unobserved(connection):
        cur = _LeanCursor(connection)
    else:
        cur = _prepared_cursor(connection)
    with cur:
        yield cur


def _unobserved(connection) -> bool:
    """Whether nothing watches this connection's statements: no query log (DEBUG, CaptureQueriesContext,
    `force_debug_cursor`) and no `execute_wrapper` other than core.pgbackend's own."""
    return not connection.queries_logged and len(connection.execute_wrappers) == bool(
        getattr(connection, "defers_writes", False))


class _LeanCursor:
    """What a fixed statement needs of Django's cursor wrapper, without the wrapper: the check for a broken
    transaction, Django's database errors, and core.pgbackend's held rows and BEGIN sent first. One fixed
    statement's round trip costs 77.8 µs of client CPU through Django's wrapper and 63.9 µs through this
    (`python -m bench.run percall`).
    Used only while nothing watches the statements (`_unobserved`); otherwise `cursor()` gives Django's
    own, so the query log, CaptureQueriesContext and `connection.execute_wrapper` see every statement."""

    __slots__ = ("db", "cursor")

    def __init__(self, connection):
        self.db = connection
        self.cursor = _bare_prepared_cursor(connection)  # psycopg's own, past Django's wrapper

    def _run(self, sql, params, many=False, context=None):
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            return self.cursor.execute(sql, params)

    def execute(self, sql, params=None):
        if getattr(self.db, "defers_writes", False):  # what core.pgbackend's execute wrapper does
            return send_deferred_first(self._run, sql, params, False, {"connection": self.db, "cursor": self})
        return self._run(sql, params)

    def fetchone(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()

    def fetchall(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchall()

    @property
    def rowcount(self):
        return self.cursor.rowcount

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cursor.close()


def pipelines(connection) -> bool:
    """Whether `connection` is GridCare's PostgreSQL backend with its pipeline on (GRIDCARE_PG_PIPELINE)."""
    return getattr(connection, "defers_writes", False) and getattr(settings, "GRIDCARE_PG_PIPELINE", True)


def defers(connection) -> bool:
    """Whether writes can be deferred on `connection` now: GridCare's PostgreSQL backend, inside a transaction."""
    return pipelines(connection) and connection.in_atomic_block


def execute_deferred(sql: str, params, using: str = DEFAULT_DB_ALIAS):
    """Run a fixed statement whose result nobody reads (an UPDATE whose row count does not matter): deferred
    like `insert(..., defer=True)` where that is possible, at once elsewhere."""
    connection = connections[using]
    if defers(connection):
        connection.deferred_writes.append((sql, params))
        return
    with cursor(using) as cur:
        cur.execute(sql, params)


def _owes(connection) -> bool:
    """Whether `connection` holds writes (or its transaction's BEGIN) not sent yet (core.pgbackend)."""
    return bool(getattr(connection, "deferred_writes", None) or getattr(connection, "begin_pending", False))


def send_deferred(connection):
    """Send the pending BEGIN and the deferred writes of `connection` (the caller has opened the pipeline
    they travel in)."""
    if connection.begin_pending:
        connection.begin_pending = False
        connection.connection.execute("BEGIN")
    if not connection.deferred_writes:
        return
    pending = list(connection.deferred_writes)
    connection.deferred_writes.clear()
    if not prepares(connection):
        cur = connection.cursor()
    elif _unobserved(connection):
        cur = _bare_prepared_cursor(connection)  # the callers' pipeline is inside Django's error wrapper
    else:
        cur = _prepared_cursor(connection)
    with cur:
        for sql, params in pending:
            cur.execute(sql, params)


def flush(using: str = DEFAULT_DB_ALIAS):
    """Send the deferred writes of `using` (and its transaction's BEGIN) now: before anything that talks to
    the driver past Django's cursor (COPY, a raw psycopg cursor), which would not send them first."""
    _flush(connections[using])


def _flush(connection):
    if _owes(connection):
        with connection.wrap_database_errors, connection.connection.pipeline():
            send_deferred(connection)


def send_deferred_first(execute, sql, params, many, context):
    """Execute wrapper of core.pgbackend: a statement with deferred writes (or its transaction's BEGIN)
    before it is sent after them, in one pipeline, and its result read before it returns (as if nothing had
    been deferred)."""
    connection = context["connection"]
    if not _owes(connection):
        return execute(sql, params, many, context)
    if params is None or getattr(context["cursor"].cursor, "name", None):
        # not in the pipeline: a named (server-side) cursor has no pipeline mode, and a statement without
        # parameters may be several (a migration's DDL), which the pipeline's extended protocol refuses
        _flush(connection)
        return execute(sql, params, many, context)
    # an error of the pipeline (of this statement or of a deferred row) is raised when it ends, outside
    # Django's own wrapping of the statement: wrapped here, so that it is Django's IntegrityError etc.
    with connection.wrap_database_errors, connection.connection.pipeline():
        send_deferred(connection)
        return execute(sql, params, many, context)


def fetch_together(statements, using: str = DEFAULT_DB_ALIAS) -> list[list[tuple]]:
    """The rows of each of `statements` (pairs of fixed SQL and parameters, reads whose plans do not depend
    on the values), in one round trip on GridCare's PostgreSQL backend: sent in one psycopg pipeline with
    whatever the connection holds (deferred rows, a pending BEGIN), each on its own prepared statement, and
    all read before this returns. Elsewhere, for a single statement, and while something watches the
    connection's statements (`_unobserved`), one after the other through `cursor()`, with the same results.
    For reads that do not depend on each other's results; each runs as its own statement (its own snapshot
    under READ COMMITTED), as it would one after the other."""
    connection = connections[using]
    if len(statements) < 2 or not (pipelines(connection) and prepares(connection) and _unobserved(connection)):
        # one statement needs no pipeline of its own: cursor() sends what the connection holds before it
        out = []
        for sql, params in statements:
            with cursor(using) as cur:
                cur.execute(sql, params)
                out.append(cur.fetchall())
        return out
    connection.validate_no_broken_transaction()
    curs = [_bare_prepared_cursor(connection) for _sql, _params in statements]
    try:
        with connection.wrap_database_errors:
            with connection.connection.pipeline():
                send_deferred(connection)
                for cur, (sql, params) in zip(curs, statements):
                    cur.execute(sql, params)
            return [cur.fetchall() for cur in curs]
    finally:
        for cur in curs:
            cur.close()


class _Insert:
    def __init__(self, model, connection):
        meta = model._meta
        if meta.parents or any(getattr(f, "db_default", models.NOT_PROVIDED) is not models.NOT_PROVIDED
                               or getattr(f, "generated", False) for f in meta.local_concrete_fields):
            raise TypeError(f"{meta.label}: fixed INSERT only for plain models")
        qn = connection.ops.quote_name
        pk = meta.pk
        self.auto_pk = isinstance(pk, models.AutoField)
        self.fields = [f for f in meta.local_concrete_fields if not (self.auto_pk and f is pk)]
        self.pk = pk
        self.returning = self.auto_pk and connection.features.can_return_columns_from_insert
        self.table = meta.db_table
        self.plain_sql = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in self.fields)}) "
                          f"VALUES ({', '.join(['%s'] * len(self.fields))})")
        self.sql = self.plain_sql + (f" RETURNING {qn(pk.column)}" if self.returning else "")
        self.with_id_sql = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in [pk, *self.fields])}) "
                            f"VALUES ({', '.join(['%s'] * (len(self.fields) + 1))})")
        self.prep = [(f, f.attname, *_passes_through(f, connection)) for f in self.fields]


_STR_FIELDS = (models.CharField, models.TextField)
_INT_FIELDS = (models.IntegerField, models.SmallIntegerField, models.BigIntegerField, models.PositiveIntegerField,
               models.PositiveSmallIntegerField, models.PositiveBigIntegerField)
_AUTO_FIELDS = (models.AutoField, models.BigAutoField, models.SmallAutoField)
_AWARE = "aware datetime"


def _passes_through(field, connection):
    """What `field.get_db_prep_save(field.pre_save(obj, True), connection)` does to a value, when it is simple
    enough for `_params` to do it without the field's calls, as (kind, adapt):
    `str` (a str, a choices member included, is passed on as it is), `int` (an int, a bool or a choices
    member included, becomes `adapt(int(value))`: the backend's integer adapter, e.g. psycopg's Int4 for
    Django's server-side binding), `bool` (a bool is passed on), `_AWARE` (an aware datetime is passed on, on
    PostgreSQL); (None, None) otherwise. None is passed on by all of them. Only the exact field classes
    below, whose methods are Django's own; anything else (a subclass, JSON, decimals, auto_now) and any
    other value goes through the field."""
    ops, kind = connection.ops, type(field)
    if kind in _STR_FIELDS:
        return str, None
    if kind in _INT_FIELDS:
        return int, partial(ops.adapt_integerfield_value, internal_type=field.get_internal_type())
    if kind in _AUTO_FIELDS and type(ops).validate_autopk_value is BaseDatabaseOperations.validate_autopk_value:
        return int, None
    if kind is models.BooleanField:
        return bool, None
    if kind is models.ForeignKey and type(field.target_field) in _INT_FIELDS + _AUTO_FIELDS:
        return _passes_through(field.target_field, connection)
    if (kind is models.DateTimeField and not (field.auto_now or field.auto_now_add) and settings.USE_TZ
            and connection.vendor == "postgresql"):
        return _AWARE, None  # psycopg adapts it; Django's PostgreSQL backend passes it on as it is
    return None, None


def _params(stmt, obj, connection) -> list:
    """The INSERT's values: `f.get_db_prep_save(f.pre_save(obj, True), connection)` for each field, as
    `Model.save()` computes them, the simple cases done here (`_passes_through`)."""
    params = []
    append = params.append
    for f, attname, kind, adapt in stmt.prep:
        if kind is not None:
            value = getattr(obj, attname)
            if value is None:
                append(None)
                continue
            if kind is _AWARE:
                if type(value) is dt.datetime and value.utcoffset() is not None:
                    append(value)
                    continue
            elif isinstance(value, kind):
                if kind is int:
                    value = int(value) if adapt is None else adapt(int(value))
                append(value)
                continue
        append(f.get_db_prep_save(f.pre_save(obj, True), connection))
    return params


ID_BLOCK = 32  # ids a connection reserves at a time for `insert(..., allocate_id=True)`


def _allocated_id(connection, stmt):
    """The next id of the connection's reserved block of `stmt`'s table (a new block of ID_BLOCK from the
    table's sequence when it is used up: one statement per ID_BLOCK rows). Ids from a block are unique like
    any other, but not in creation order across processes: a worker uses its block while another worker's
    rows take later ids straight from the sequence."""
    blocks = connection.id_blocks  # core.pgbackend's: only a connection that defers writes gets here
    block = blocks.get(stmt.table)
    if not block:
        with cursor(connection.alias) as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                        [connection.ops.quote_name(stmt.table), stmt.pk.column, ID_BLOCK])
            block = blocks[stmt.table] = sorted((row[0] for row in cur.fetchall()), reverse=True)
    return block.pop()


def insert(obj, using: str = DEFAULT_DB_ALIAS, before_post_save=None, defer: bool = False,
           allocate_id: bool = False):
    """INSERT the new, unsaved `obj` as `obj.save()` would (its auto primary key set on it afterwards).
    `before_post_save(obj)`, when given, runs once the row is written and before `post_save` is sent: for
    rows that belong before anything a `post_save` receiver writes (an order's audit row and first event
    before the outage link's note).

    `defer=True` is for a row whose id nobody reads in the transaction: where `defers()` and the model has
    no `post_save` receiver, the INSERT waits for the next statement or the COMMIT (module docstring) and
    the object's auto primary key stays unset.

    `allocate_id=True` (with `defer=True`) is for a row whose id is read, by `before_post_save` or by
    `post_save` receivers: where `defers()`, the id is taken from a block the connection has reserved from
    the table's sequence (`_allocated_id`), set on the object, and the INSERT (with that id) waits like the
    others. Everything that runs on this connection afterwards sees the row, since held rows are sent
    before any statement; an error of the row (a unique key taken) is raised by the statement after it or
    by COMMIT, inside the same transaction. Only for tables whose ids are not read as a watermark or as a
    creation order (`_allocated_id`)."""
    model = type(obj)
    connection = connections[using]
    key = (model, using)
    stmt = _inserts.get(key)
    if stmt is None:
        stmt = _inserts[key] = _Insert(model, connection)
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    params = _params(stmt, obj, connection)
    if defer and defers(connection):
        if before_post_save is None and not post_save.has_listeners(model):
            connection.deferred_writes.append((stmt.plain_sql, params))
            obj._state.adding = False
            obj._state.db = using
            return obj
        if allocate_id and stmt.auto_pk:
            pk = _allocated_id(connection, stmt)
            connection.deferred_writes.append((stmt.with_id_sql, [pk, *params]))
            setattr(obj, stmt.pk.attname, pk)
            return _written(obj, using, before_post_save)
    with cursor(using) as cur:
        cur.execute(stmt.sql, params)
        if stmt.auto_pk:
            pk = cur.fetchone()[0] if stmt.returning else connection.ops.last_insert_id(cur, stmt.table,
                                                                                        stmt.pk.column)
            setattr(obj, stmt.pk.attname, pk)
    return _written(obj, using, before_post_save)


def _written(obj, using, before_post_save):
    obj._state.adding = False
    obj._state.db = using
    if before_post_save is not None:
        before_post_save(obj)
    post_save.send(sender=type(obj), instance=obj, created=True, update_fields=None, raw=False, using=using)
    return obj


class _Lookup:
    def __init__(self, model, column_field: str, related: tuple[str, ...], connection):
        qn = connection.ops.quote_name
        meta = model._meta
        self.parts = [(model, None, list(meta.concrete_fields))]
        joins = []
        for n, name in enumerate(related, start=1):
            fk = meta.get_field(name)
            target = fk.related_model
            self.parts.append((target, fk, list(target._meta.concrete_fields)))
            joins.append(f" LEFT JOIN {qn(target._meta.db_table)} r{n} ON r{n}.{qn(target._meta.pk.column)} "
                         f"= r0.{qn(fk.column)}")
        columns = ", ".join(f"r{n}.{qn(f.column)}" for n, (_m, _fk, fields) in enumerate(self.parts) for f in fields)
        self.sql = (f"SELECT {columns} FROM {qn(meta.db_table)} r0{''.join(joins)} "
                    f"WHERE r0.{qn(meta.get_field(column_field).column)} = %s")
        # the converters a queryset applies to each column (backend's, then the field's), with the column
        # expression they expect as their second argument
        self.converters = []
        for n, (_m, _fk, fields) in enumerate(self.parts):
            cols = [f.get_col(f"r{n}") for f in fields]
            self.converters.append([(i, conv, col) for i, col in enumerate(cols)
                                    for conv in connection.ops.get_db_converters(col) + col.get_db_converters(connection)])
        self.pk_index = [[f.primary_key for f in fields].index(True) for _m, _fk, fields in self.parts]
        self.attnames = [[f.attname for f in fields] for _m, _fk, fields in self.parts]


def get_one(model, column: str, value, related: tuple[str, ...] = (), using: str = DEFAULT_DB_ALIAS):
    """`model.objects.select_related(*related).filter(**{column: value}).first()` for a unique `column`,
    with the statement built once: the instance (its to-one relations `related` loaded on it), or None."""
    connection = connections[using]
    key = (model, column, related, using)
    stmt = _lookups.get(key)
    if stmt is None:
        stmt = _lookups[key] = _Lookup(model, column, related, connection)
    with cursor(using) as cur:
        cur.execute(stmt.sql, [value])
        row = cur.fetchone()
    if row is None:
        return None
    start, objs = 0, []
    for n, (part_model, fk, fields) in enumerate(stmt.parts):
        values = list(row[start:start + len(fields)])
        start += len(fields)
        if fk is not None and values[stmt.pk_index[n]] is None:
            fk.set_cached_value(objs[0], None)
            continue
        for i, conv, col in stmt.converters[n]:
            values[i] = conv(values[i], col, connection)
        obj = part_model.from_db(using, stmt.attnames[n], values)
        if fk is not None:
            fk.set_cached_value(objs[0], obj)
        objs.append(obj)
    return objs[0]
