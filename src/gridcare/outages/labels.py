"""Outage labels in the reader's language (msgid = the Chinese label): the agent's intake lookup
(services.context_hook), the outage pages (through templatetags/outage_labels.py), the view messages and the
customer timeline (hooks.outage_entries).

The kinds carry a msgctxt: the catalogue's plain “计划停电” is billing's planned disconnection; so do the
update kinds “变更”/“取消” (the catalogue's “变更” is the audit page's changes). The choices themselves, the
notices sent to customers (SMS/WeChat texts), the API, the exports and the service's error messages keep
the Chinese labels; an outage's title, reason and cause are data. Keep in step with choices.py and
rules.check_notice (core/tests/test_english_home.py and tests/test_english.py check every label here).
"""
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from .choices import Kind, ScopeKind, State, UpdateKind

KINDS = {
    Kind.PLANNED: pgettext_lazy("outage kind", "计划停电"),
    Kind.TEMPORARY: pgettext_lazy("outage kind", "临时检修"),
    Kind.FAULT: pgettext_lazy("outage kind", "故障停电"),
}

PROGRESS = {
    UpdateKind.ARRIVED: gettext_lazy("抢修人员到达现场"),
    UpdateKind.CAUSE_FOUND: gettext_lazy("查明故障原因"),
    UpdateKind.EXPECTED: gettext_lazy("预计恢复时间"),
    UpdateKind.PARTIAL: gettext_lazy("部分恢复送电"),
    UpdateKind.RESTORED: gettext_lazy("全部恢复送电"),
    UpdateKind.NOTE: gettext_lazy("进展说明"),
}

# every entry of an outage's timeline (OutageUpdate.kind): the progress kinds and the others
UPDATES = {
    **PROGRESS,
    UpdateKind.CREATED: gettext_lazy("发布停电信息"),
    UpdateKind.CHANGED: pgettext_lazy("outage update", "变更"),
    UpdateKind.CANCELLED: pgettext_lazy("outage update", "取消"),
    UpdateKind.CALL: gettext_lazy("来电关联"),
}

STATES = {
    State.OPEN: pgettext_lazy("outage state", "未结束"),
    State.RESTORED: gettext_lazy("已恢复送电"),
    State.CANCELLED: pgettext_lazy("outage state", "已取消"),
}

SCOPES = {
    ScopeKind.FEEDER: gettext_lazy("整条线路"),
    ScopeKind.TAIQU: gettext_lazy("指定台区"),
    ScopeKind.CUSTOMERS: gettext_lazy("指定客户"),
}


def kind_label(kind: str) -> str:
    return str(KINDS[kind]) if kind in KINDS else Kind(kind).label


def progress_label(progress: str) -> str:
    """The outage's latest progress; “已登记” (recorded) before any."""
    if not progress:
        return gettext("已登记")
    return str(PROGRESS[progress]) if progress in PROGRESS else UpdateKind(progress).label


def _label(table, choices, value) -> str:
    return str(table[value]) if value in table else (choices(value).label if value in choices.values else value)


def update_label(kind: str) -> str:
    return _label(UPDATES, UpdateKind, kind)


def state_label(state: str) -> str:
    return _label(STATES, State, state)


def scope_label(scope: str) -> str:
    return _label(SCOPES, ScopeKind, scope)


def _lead(lead) -> str:
    seconds = int(lead.total_seconds())
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        n = seconds // 86400
        return gettext("%(n)s天") % {"n": n}
    if seconds % 3600 == 0:
        n = seconds // 3600
        return gettext("%(n)s小时") % {"n": n}
    n = seconds // 60
    return gettext("%(n)s分钟") % {"n": n}


def notice_message(check) -> str:
    """rules.check_notice's message in the reader's language (the outage's own record and the API keep the
    Chinese message); same wording and cases as rules.check_notice."""
    from .rules import _fmt

    if check.required_before is None:
        return gettext("故障停电：立即发布停电信息")
    values = {"lead": _lead(check.required_before), "deadline": _fmt(check.deadline)}
    if check.kind == "planned":
        return (gettext("计划停电须提前%(lead)s通知，最迟 %(deadline)s 前发出；现在发出已晚") if check.late
                else gettext("计划停电须提前%(lead)s通知（最迟 %(deadline)s），满足要求")) % values
    if not check.applies:
        return gettext("临时检修停电：停电范围内无重要客户，不受提前%(lead)s通知重要客户的限制") % values
    return (gettext("临时检修停电须提前%(lead)s通知重要客户，最迟 %(deadline)s 前发出；现在发出已晚") if check.late
            else gettext("临时检修停电须提前%(lead)s通知重要客户（最迟 %(deadline)s），满足要求")) % values
