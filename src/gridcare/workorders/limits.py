"""The time limits in force: the national table of data/time-limits.yaml with this utility's stricter
limits (TimeLimitOverride, entered in the admin) in place of the rows they replace.

Every intake and stage change computes a deadline, so each process keeps the table for MAX_AGE seconds,
as it does the escalation rules (core.process_copy): a change made in another process (the admin) is used
everywhere within that time, one made in this process at once."""
from gridcare.core.process_copy import ProcessCopy

from . import clock

MAX_AGE = 5.0


def override_rows() -> list[clock.TimeLimit]:
    from .models import TimeLimitOverride

    return [clock.TimeLimit(o.order_type, o.stage, o.area_kind or None, o.unit, o.amount, f"本单位时限：{o.reason}")
            for o in TimeLimitOverride.objects.filter(enabled=True)]


def _load() -> clock.LimitTable:
    rows = override_rows()
    return clock.default_table().with_overrides(rows) if rows else clock.default_table()


_table = ProcessCopy(_load, max_age=MAX_AGE)


def current_table() -> clock.LimitTable:
    return _table.get()


def limit_for(order_type: str, stage: str, area_kind: str | None = None) -> clock.TimeLimit:
    """The limit in force for a stage (the utility's own where it set one)."""
    return clock.limit_for(order_type, stage, area_kind, table=current_table())


def changed(**_kwargs):
    _table.changed()


def check_override(order_type: str, stage: str, area_kind: str, unit: str, amount) -> dict:
    """Field errors, in Chinese, of a utility limit (empty when it may be saved): the stage must have a
    national limit (for that area where the limit depends on the area) and the new one must be no looser."""
    table = clock.default_table()
    try:
        base = table.get(order_type, stage, area_kind or None)
    except clock.LimitNotFound as exc:
        return {exc.field: exc.message}
    if not area_kind and table.area_kinds(order_type, stage):
        return {"area_kind": "该环节的国家时限按地区类型区分，请选择地区类型"}
    if area_kind and not table.area_kinds(order_type, stage):
        return {"area_kind": "该环节的国家时限不分地区类型，地区类型请留空"}
    if unit not in clock.UNITS:
        return {"unit": f"未知的时限单位：{unit}（应为 {'、'.join(clock.UNITS)}）"}
    if not amount or amount < 0:
        return {"amount": "时限须大于 0"}
    limit = clock.TimeLimit(order_type, stage, area_kind or None, unit, amount)
    why = clock.looser_than(limit, base)
    if why is None:
        return {}
    # a working-day limit against a natural national one is wrong in its unit, any other in its amount
    return {"unit" if base.natural and not limit.natural else "amount": why}
