"""Outage labels in the reader's language where the agent's intake lookup shows them (services.context_hook):
the kinds of choices.Kind and the progress kinds of choices.UpdateKind (msgid = the Chinese label).

The kinds carry a msgctxt: the catalogue's plain “计划停电” is billing's planned disconnection. The choices
themselves, the notices sent to customers, the outage pages and the API keep the Chinese labels. Keep in
step with choices.py (core/tests/test_english_home.py checks that every label is here, unchanged in Chinese).
"""
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from .choices import Kind, UpdateKind

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


def kind_label(kind: str) -> str:
    return str(KINDS[kind]) if kind in KINDS else Kind(kind).label


def progress_label(progress: str) -> str:
    """The outage's latest progress; “已登记” (recorded) before any."""
    if not progress:
        return gettext("已登记")
    return str(PROGRESS[progress]) if progress in PROGRESS else UpdateKind(progress).label
