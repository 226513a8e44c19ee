"""The customer page's fixed labels for the English catalogue (msgid = the Chinese text): the critical
customer kinds of models.CriticalKind (shown with `{% translate c.get_critical_kind_display %}`), and the
audit entries on the customer timeline (timeline._audit_entries: the actions, the sources without a user and
the field names of models.Customer). The customer class and area kind come from the taxonomy (data, like
order types) and show as configured. Nothing here changes a model, a choice value or a Chinese default;
keep in step with models.py and core.models.AuditLog.ACTIONS (tests/test_english.py checks them).
"""
from django.utils.translation import gettext, gettext_noop, pgettext_lazy

SHOWN_AS_DATA = (
    # models.CriticalKind
    gettext_noop("医院"), gettext_noop("供水"), gettext_noop("党政机关"), gettext_noop("交通枢纽/车站"),
    gettext_noop("学校"), gettext_noop("通信"), gettext_noop("其他重要用户"),
    # models.Customer field names (verbose_name) not shown elsewhere
    gettext_noop("区域类型"), gettext_noop("重要客户类型"), gettext_noop("敏感原因"), gettext_noop("敏感标记有效期"),
    gettext_noop("接收短信通知"), gettext_noop("接收微信通知"),
)

# core.models.AuditLog.ACTIONS on a customer's record
AUDIT_TITLES = {
    "create": pgettext_lazy("customer record", "新建客户档案"),
    "update": pgettext_lazy("customer record", "修改客户档案"),
    "delete": pgettext_lazy("customer record", "删除客户档案"),
    "event": pgettext_lazy("customer record", "操作客户档案"),
}

AUDIT_SOURCES = {"demo": gettext_noop("演示数据"), "import": gettext_noop("批量导入")}


def audit_title(action: str, display: str) -> str:
    return str(AUDIT_TITLES[action]) if action in AUDIT_TITLES else f"{display}客户档案"


def audit_source(source: str) -> str:
    return gettext(AUDIT_SOURCES[source]) if source in AUDIT_SOURCES else source
