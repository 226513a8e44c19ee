"""The billing pages' fixed labels for the English catalogue (msgid = the Chinese text).

The choices of models.py and the reminder kinds reach the pages as data (get_…_display(), kind_label) and
are translated where they are shown (`{% translate c.get_status_display %}`, or here for the texts built
around a value). The reasons why a disconnection may not go ahead yet (rules.cut_violations) are the
service's text — the API's 409 keeps them in Chinese — and only the arrears board shows them translated,
through `cut_condition`. Nothing here changes a model, a choice value or a Chinese default. Keep in step
with models.py and rules.cut_violations (tests/test_english.py checks every one of them).
"""
from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

from .rules import Reason

SHOWN_AS_DATA = (
    # models.BillStatus
    gettext_noop("未缴清"), gettext_noop("已缴清"), gettext_noop("已作废"),
    # models.CutStatus
    gettext_noop("已送达停电通知"), gettext_noop("已停电"), gettext_noop("已撤销（已缴费）"),
    gettext_noop("已缴费待复电"), gettext_noop("已复电"),
    # models.Channel
    gettext_noop("营业厅柜台"), gettext_noop("自助缴费终端"), gettext_noop("银行代扣"), gettext_noop("支付宝"),
    gettext_noop("微信支付"), gettext_noop("银联/云闪付"), gettext_noop("网上国网App"), gettext_noop("预存电费抵扣"),
    # notifications.DeliveryStatus (how a reminder's delivery went, on the bill page)
    gettext_noop("待发送"), gettext_noop("发送中"), gettext_noop("已发送"), gettext_noop("发送失败"),
    gettext_noop("无可用联系方式"),
)

# models.REMINDER_KINDS and Reminder.kind_label's "逾期{days}天催缴"
REMINDER_KINDS = frozenset([gettext_noop("到期前提醒"), gettext_noop("逾期催缴")])
_OVERDUE_DAYS = re.compile(r"^逾期(\d+)天催缴$")

# A reminder's channel as the bill page and the customer timeline name it (also timeline.CHANNEL_LABELS).
REMINDER_CHANNELS = {"sms": gettext_noop("短信"), "wechat": gettext_noop("微信"),
                     "email": gettext_noop("电子邮件"), "none": gettext_noop("无可用联系方式")}


def reminder_kind(label: str) -> str:
    """A reminder's kind_label in the active language (a label it does not know stays as it is)."""
    if m := _OVERDUE_DAYS.match(label):
        return gettext("逾期%(days)s天催缴") % {"days": m[1]}
    return gettext(label) if label in REMINDER_KINDS else label


def reminder_channel(channel: str) -> str:
    return gettext(REMINDER_CHANNELS[channel]) if channel in REMINDER_CHANNELS else channel


def cut_condition(reason: str) -> str:
    """A reason of rules.cut_violations (a rules.Reason: its msgid and values) in the active language; any
    other text unchanged."""
    if isinstance(reason, Reason):
        return gettext(reason.msgid) % reason.params if reason.params else gettext(reason.msgid)
    return reason
