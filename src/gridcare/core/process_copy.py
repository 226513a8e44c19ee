"""A per-process copy of a small table that hot paths read on every request (escalation rules, the time
limits in force): read again at most every `max_age` seconds, so a change made in another process (the
admin) is in force everywhere within that time. A change written in this process (`changed`, connected to
the table's post_save/post_delete and post_migrate) drops the copy at once, and for `recent_write_seconds`
afterwards the table is read on every call, so that a change rolled back (a failed admin save, a test) is
not kept in the copy either."""
import time


class ProcessCopy:
    def __init__(self, load, max_age: float = 5.0, recent_write_seconds: float = 60.0):
        self.load, self.max_age, self.recent_write_seconds = load, max_age, recent_write_seconds
        self.value, self.loaded_at, self.written_at = None, None, float("-inf")

    def get(self):
        now = time.monotonic()
        if (self.loaded_at is not None and now - self.loaded_at < self.max_age
                and now - self.written_at > self.recent_write_seconds):
            return self.value
        value = self.load()
        self.value, self.loaded_at = value, now
        return value

    def changed(self, **_kwargs):
        self.value, self.loaded_at, self.written_at = None, None, time.monotonic()

    def settle(self):
        """As in a process that has seen no change for a while (tests of the steady state)."""
        self.value, self.loaded_at, self.written_at = None, None, float("-inf")
