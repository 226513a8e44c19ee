"""Django's PostgreSQL backend (psycopg 3), with one addition: rows written with `fixed_sql.insert(...,
defer=True)` (and statements given to `fixed_sql.execute_deferred`) inside a transaction are kept on the
connection and sent, in one pipeline, with the next statement of the transaction or with its COMMIT.

An intake writes its order, then its audit row, its create event and the after-intake queue entry; each
was a round trip of its own (the client waits, both processes wake up, PostgreSQL reads and answers one
message). Nothing in the transaction reads those rows or their ids, so they can travel with the statement
after them: the writes and their order are the same, only the waiting is shared. The statement that
follows is sent in the same pipeline and its result is read before control returns, so whatever it
returns (rows, row count) is as without deferral. An error in a deferred row surfaces at that statement
or at COMMIT, and the transaction rolls back as it would have.

Settings: ENGINE "gridcare.core.pgbackend" (settings.py uses it for every PostgreSQL URL) and
GRIDCARE_PG_PIPELINE (default on; 0 writes every row at once, as Django's own backend does)."""
from django.db.backends.postgresql import base
from django.db.backends.utils import debug_transaction


class DatabaseWrapper(base.DatabaseWrapper):
    defers_writes = True

    def __init__(self, *args, **kwargs):
        from gridcare.core.fixed_sql import send_deferred_first

        super().__init__(*args, **kwargs)
        self.deferred_writes = []
        self.execute_wrappers.append(send_deferred_first)  # outermost: before every statement

    def _commit(self):
        if self.connection is None or not self.deferred_writes:
            return super()._commit()
        from gridcare.core.fixed_sql import send_deferred

        with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
            with self.connection.pipeline():
                send_deferred(self)
                return self.connection.commit()

    def _rollback(self):
        self.deferred_writes.clear()
        return super()._rollback()

    def _close(self):
        self.deferred_writes.clear()
        return super()._close()
