"""One audit mechanism for every record: who, when, what changed (before/after).

Models inherit `AuditedModel`. A snapshot of the stored values is taken when a row is loaded; `save()`
and `delete()` write an `AuditLog` row in the same transaction as the change. The actor comes from a
context variable set by the web middleware, the API authentication and the CLI (`audit_context`).
Bulk writes (imports, demo data) call `record_bulk` so they are attributable too.
"""
import contextvars
import copy
import datetime as dt
import decimal
import uuid
from contextlib import contextmanager

from django.db import models

_current = contextvars.ContextVar("gridcare_audit_actor", default=(None, "system"))


@contextmanager
def audit_context(user=None, source="system"):
    token = _current.set((user, source))
    try:
        yield
    finally:
        _current.reset(token)


def set_actor(user, source):
    _current.set((user, source))


def current_actor():
    return _current.get()


_PLAIN = frozenset((type(None), bool, int, float, str))


def _jsonable(value):
    if type(value) in _PLAIN or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def snapshot(obj, values=None) -> dict:
    """The audit trail's view of `obj`: {attname: JSON value} of its concrete fields but `audit_exclude`,
    from its attributes, or from `values` (one per concrete field, as loaded)."""
    fields = obj._meta.concrete_fields
    if values is None:
        values = [f.value_from_object(obj) for f in fields]
    exclude = getattr(obj, "audit_exclude", ())
    return {f.attname: _jsonable(v) for f, v in zip(fields, values) if f.attname not in exclude}


def diff(before: dict | None, after: dict | None) -> dict:
    if not before and after:  # a creation: every value that is set
        return {k: [None, after[k]] for k in sorted(after) if after[k] is not None}
    before, after = before or {}, after or {}
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def write_log(obj, action, changes, actor=None, source=None):
    from django.contrib.contenttypes.models import ContentType

    from .fixed_sql import insert
    from .models import AuditLog

    ctx_user, ctx_source = current_actor()
    user = actor if actor is not None else ctx_user
    return insert(AuditLog(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_pk=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        actor=user if (user is not None and getattr(user, "pk", None)) else None,
        actor_username=getattr(user, "username", "") or "",
        source=source or ctx_source,
        changes=changes,
    ), defer=True)


def record_bulk(objs, action="create", source=None, note=""):
    """Audit rows written with bulk_create/bulk_update (one AuditLog per object, in bulk)."""
    from django.contrib.contenttypes.models import ContentType

    from .models import AuditLog

    user, ctx_source = current_actor()
    rows = []
    for obj in objs:
        changes = diff(None, snapshot(obj)) if action == "create" else {}
        if note:
            changes["_note"] = [None, note]
        rows.append(AuditLog(
            content_type=ContentType.objects.get_for_model(type(obj)),
            object_pk=str(obj.pk), object_repr=str(obj)[:200], action=action,
            actor=user if (user is not None and getattr(user, "pk", None)) else None,
            actor_username=getattr(user, "username", "") or "",
            source=source or ctx_source, changes=changes,
        ))
    AuditLog.objects.bulk_create(rows, batch_size=2000)


_mutables: dict = {}


def _mutable_positions(model) -> frozenset:
    """Positions among `model`'s concrete fields whose loaded values can be changed in place."""
    found = _mutables.get(model)
    if found is None:
        found = _mutables[model] = frozenset(i for i, f in enumerate(model._meta.concrete_fields)
                                             if isinstance(f, models.JSONField))
    return found


class AuditedModel(models.Model):
    """Base for every record whose changes must be attributable."""

    audit_exclude: tuple = ()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        # The stored values are kept as loaded and made into a snapshot only if the record is saved (most
        # loaded records never are: an intake loads the customer, its unit and 台区 and changes none).
        # Mutable values (a JSON field's dict or list) are copied, so a change made in place still shows.
        if len(field_names) == len(cls._meta.concrete_fields):
            mutable = _mutable_positions(cls)
            obj._audit_loaded = (tuple(copy.deepcopy(v) if i in mutable else v for i, v in enumerate(values))
                                 if mutable else values)
        return obj

    def _audit_stored(self) -> dict | None:
        """The snapshot of the values last loaded or saved (None when the record was loaded in part)."""
        loaded = self.__dict__.pop("_audit_loaded", None)
        if loaded is not None:
            self._audit_before = snapshot(self, loaded)
        return getattr(self, "_audit_before", None)

    def save(self, *args, **kwargs):
        before = self._audit_stored()
        creating = self._state.adding
        if not creating and before is None and self.pk is not None:
            stored = type(self)._base_manager.filter(pk=self.pk).first()
            before = snapshot(stored) if stored else None
        super().save(*args, **kwargs)
        after = snapshot(self)
        changes = diff(None if creating else before, after)
        if creating or changes:
            write_log(self, "create" if creating else "update", changes)
        self._audit_before = after

    def insert(self, first=None, defer=False):
        """`save()` of a new record through core.fixed_sql's fixed INSERT (the hot path of intake): the same
        row, the same signals, the same audit row. The audit row, and whatever `first(self)` writes (an
        order's create event), are written before the `post_save` receivers run, so they come first in the
        record's history. `defer=True`: the row waits for the transaction's next statement, its id taken
        from the connection's reserved block (`fixed_sql.insert(..., allocate_id=True)`)."""
        from .fixed_sql import insert

        assert self._state.adding, "insert() is for new records"

        def written(obj):
            after = snapshot(obj)
            write_log(obj, "create", diff(None, after))
            obj._audit_before = after
            if first is not None:
                first(obj)

        insert(self, before_post_save=written, defer=defer, allocate_id=defer)

    def delete(self, *args, **kwargs):
        before = snapshot(self)
        pk = self.pk
        result = super().delete(*args, **kwargs)
        self.pk = pk
        write_log(self, "delete", diff(before, None))
        self.pk = None
        return result

    def audit_entries(self):
        from django.contrib.contenttypes.models import ContentType

        from .models import AuditLog

        return AuditLog.objects.filter(
            content_type=ContentType.objects.get_for_model(type(self)), object_pk=str(self.pk)
        ).select_related("actor").order_by("-at", "-id")
