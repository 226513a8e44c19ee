"""The metering pages' fixed labels for the English catalogue (msgid = the Chinese text): the VEE rules'
names (rules.RULE_LABELS) and the resolutions of models.Resolution.

They reach the pages as data (the rule filter, get_rule_display(), Resolution.choices) and are translated
where they are shown (`{% translate label %}`). An exception's own explanation (ReadException.message,
written by the VEE run with the figures of the read) is stored text and shows as written. Nothing here
changes rules.py, a model or a migration; keep in step with them (tests/test_english.py checks it).
"""
from django.utils.translation import gettext_noop

SHOWN_AS_DATA = (
    # rules.RULE_LABELS
    gettext_noop("示数小于上次示数（非翻转、非换表）"), gettext_noop("正常用电户零电量"),
    gettext_noop("电量异常偏高（对比历史同期）"), gettext_noop("电量异常偏低（对比历史同期）"),
    gettext_noop("分时示数之和与总示数不符"), gettext_noop("连续估抄"), gettext_noop("停电户有电量"),
    gettext_noop("曲线数据尖峰"), gettext_noop("曲线数据缺点"), gettext_noop("曲线数据为负"),
    gettext_noop("曲线数据质量码异常"), gettext_noop("曲线数据重复点"), gettext_noop("漏抄（账期内无示数）"),
    # models.Resolution
    gettext_noop("核实无误，按实抄计费"), gettext_noop("现场复抄"), gettext_noop("按历史估算"), gettext_noop("作废该示数"),
)
