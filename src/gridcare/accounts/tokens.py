"""Bearer-token resolution for the API, on every request, in one small SQL statement.

Every API call authenticates, so this is on the hot path of intake. The statement checks what must be
current on every call — the token exists and is not revoked, the user is active — and returns the
fields that decide permissions (role, unit, the unit's kind and materialised path, superuser). The
`User` object (with its unit and parent unit, which scope checks read) is kept per process and reused
only while those fields are unchanged, so a role change, a move to another unit or a revoked token
takes effect on the very next request in every worker; nothing is trusted for a time span.
Each request gets its own shallow copy of the cached user, so per-request attributes never leak
between concurrent requests.
"""
from __future__ import annotations

import copy
import threading
from datetime import timedelta

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from gridcare.core import fixed_sql

from .models import ApiToken, OrgUnit, User

# "Last used" is shown to administrators; to the minute is enough, and it spares every API call a write
# to the same row (all of a client's concurrent requests would update it).
LAST_USED_PRECISION = timedelta(minutes=1)
_CACHE_MAX = 5000

_lock = threading.Lock()
_users: dict[int, tuple[tuple, User]] = {}
_sql: str | None = None


def _statement() -> str:
    global _sql
    if _sql is None:
        t, u, o = ApiToken._meta.db_table, User._meta.db_table, OrgUnit._meta.db_table
        _sql = (f"SELECT t.id, (t.last_used_at IS NULL OR t.last_used_at < %s), u.id, u.username, u.name, u.role, "
                f"u.unit_id, u.is_superuser, u.is_staff, o.kind, o.path, o.parent_id "
                f"FROM {t} t JOIN {u} u ON u.id = t.user_id LEFT JOIN {o} o ON o.id = u.unit_id "
                f"WHERE t.key_hash = %s AND t.revoked = %s AND u.is_active = %s")
    return _sql


def resolve(key: str) -> User | None:
    """The active user a bearer token belongs to, or None (unknown, revoked, or user deactivated)."""
    now = timezone.now()
    cutoff = connection.ops.adapt_datetimefield_value(now - LAST_USED_PRECISION)
    with fixed_sql.cursor() as cur:  # prepared on PostgreSQL
        cur.execute(_statement(), [cutoff, ApiToken.hash(key), False, True])
        row = cur.fetchone()
    if row is None:
        return None
    token_id, stale, user_id, fingerprint = row[0], bool(row[1]), row[2], tuple(row[3:])
    if stale:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    cached = _users.get(user_id)
    if cached is None or cached[0] != fingerprint:
        user = User.objects.select_related("unit", "unit__parent").get(pk=user_id)
        with _lock:
            if len(_users) >= _CACHE_MAX:
                _users.clear()
            _users[user_id] = (fingerprint, user)
        cached = _users[user_id]
    return copy.copy(cached[1])


def clear_cache(**_kwargs):
    with _lock:
        _users.clear()


# Saves in this process (tests, the admin, imports) drop the cache at once; other processes notice the
# change through the fingerprint on their next request.
for _model in (User, OrgUnit):
    post_save.connect(clear_cache, sender=_model, dispatch_uid=f"token-cache-save-{_model.__name__}")
    post_delete.connect(clear_cache, sender=_model, dispatch_uid=f"token-cache-delete-{_model.__name__}")
