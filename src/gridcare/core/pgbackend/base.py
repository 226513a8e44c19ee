"""Django's PostgreSQL backend (psycopg 3), with two additions, both on while GRIDCARE_PG_PIPELINE is on
(the default; 0 gives Django's own behaviour):

**Deferred writes.** Rows written with `fixed_sql.insert(..., defer=True)` (and statements given to
`fixed_sql.execute_deferred`) inside a transaction are kept on the connection and sent, in one pipeline,
with the next statement of the transaction or with its COMMIT. An intake writes its order, then its audit
row, its create event and the after-intake queue entry; each was a round trip of its own (the client
waits, both processes wake up, PostgreSQL reads and answers one message). Nothing in the transaction reads
those rows or their ids, so they can travel with the statement after them: the writes and their order are
the same, only the waiting is shared. The statement that follows is sent in the same pipeline and its
result is read before control returns, so whatever it returns (rows, row count) is as without deferral.
An error in a deferred row surfaces at that statement or at COMMIT, and the transaction rolls back as it
would have.

**BEGIN with the first statement.** psycopg opens a transaction by sending BEGIN on its own and waiting
for the answer before the transaction's first statement: a round trip for nothing. Here psycopg's
connection stays in autocommit mode and the backend opens transactions itself: when Django turns
autocommit off (an `atomic` block starts), BEGIN is queued like a deferred write and goes out in one
pipeline with the first statement of the transaction; COMMIT and ROLLBACK are sent as statements. A
transaction that sent nothing sends nothing at all, not even its COMMIT. Server-side cursors are held
(WITH HOLD) only outside a transaction, as with Django's backend.

Anything that talks to psycopg past Django's cursor inside a transaction (COPY) calls
`fixed_sql.flush()` first, so that the BEGIN and the deferred rows are sent before it.

A new row whose id the transaction reads (an order: its receivers, its audit row) can be held too, with an
id from a block the connection reserves from the table's sequence (`fixed_sql.insert(..., allocate_id=True)`);
a rollback drops the connection's blocks.

Settings: ENGINE "gridcare.core.pgbackend" (settings.py uses it for every PostgreSQL URL) and
GRIDCARE_PG_PIPELINE."""
from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.utils import debug_transaction


def _lazy() -> bool:
    return getattr(settings, "GRIDCARE_PG_PIPELINE", True)


class DatabaseWrapper(base.DatabaseWrapper):
    defers_writes = True

    def __init__(self, *args, **kwargs):
        from gridcare.core.fixed_sql import send_deferred_first

        super().__init__(*args, **kwargs)
        self.deferred_writes = []
        self.begin_pending = False  # a transaction is open for Django and its BEGIN has not been sent yet
        self.id_blocks = {}  # table -> ids reserved from its sequence, not used yet (fixed_sql._allocated_id)
        self.execute_wrappers.append(send_deferred_first)  # outermost: before every statement

    def _set_autocommit(self, autocommit):
        if not _lazy():
            return super()._set_autocommit(autocommit)
        with self.wrap_database_errors:
            if not self.connection.autocommit:
                self.connection.autocommit = True
        self.begin_pending = not autocommit

    # Held rows and a pending BEGIN exist only while GRIDCARE_PG_PIPELINE is on (fixed_sql.defers): with it
    # off, COMMIT and ROLLBACK are Django's own.
    def _commit(self):
        if not _lazy() or self.connection is None:
            return super()._commit()
        if self.begin_pending and not self.deferred_writes:
            self.begin_pending = False  # nothing was sent: there is nothing to commit
            return
        from gridcare.core.fixed_sql import send_deferred

        with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
            if self.deferred_writes or self.begin_pending:
                with self.connection.pipeline():
                    send_deferred(self)
                    # a statement, not psycopg's commit(): psycopg would skip it while a BEGIN queued in
                    # this pipeline has not been answered yet
                    self.connection.execute("COMMIT")
            else:
                self.connection.execute("COMMIT")

    def _rollback(self):
        self.deferred_writes.clear()
        # a rolled-back transaction may have failed on a reserved id (a sequence set back by a restore):
        # the next rows take fresh blocks from the sequence rather than the rest of the old ones
        self.id_blocks.clear()
        if not _lazy() or self.connection is None:
            return super()._rollback()
        if self.begin_pending:
            self.begin_pending = False  # BEGIN never left: nothing happened on the server
            return
        with debug_transaction(self, "ROLLBACK"), self.wrap_database_errors:
            # psycopg's own rollback (it goes by the server's transaction state, not by autocommit): it also
            # drops psycopg's prepared statements, as after any rollback
            self.connection.rollback()

    def _close(self):
        self.deferred_writes.clear()
        self.begin_pending = False
        return super()._close()

    def create_cursor(self, name=None):
        if not (name and _lazy()):
            return super().create_cursor(name)
        # Django's backend as it is for a named cursor, except whether to hold it past the transaction:
        # Django reads psycopg's autocommit for that, which is always on here
        held = self.get_autocommit()
        if self.settings_dict["OPTIONS"].get("server_side_binding") is not True:
            cursor = base.ServerSideCursor(self.connection, name=name, scrollable=False, withhold=held)
        else:
            cursor = self.connection.cursor(name, scrollable=False, withhold=held)
        tzloader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
        if self.timezone != tzloader.timezone:
            base.register_tzloader(self.timezone, cursor)
        return cursor
