"""Display labels for the report pages in the active language (Chinese source text, English catalogue).

The report itself (its JSON contract and the Excel/printable files written by `gridcare report`) stays in
Chinese; only what a page shows passes through here. Labels that come from data (complaint categories,
stages, order types, channels, unit and customer names, frequent terms) are shown as they are.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

# Every fixed string that exports.sections() puts into a section title, a header or a row label.
# Only these exact strings are translated in the rows, so a data value (a category called "停电", say)
# is never turned into an unrelated translation.
SECTION_TEXT = frozenset([
    # section titles
    gettext_noop("概览"), gettext_noop("一级分类"), gettext_noop("二级分类"), gettext_noop("业务类型与渠道"),
    gettext_noop("时段分布"), gettext_noop("台区热点"), gettext_noop("环节时长"), gettext_noop("各单位超时"),
    gettext_noop("重复来电与满意度"), gettext_noop("高频词"),
    # headers
    gettext_noop("项目"), gettext_noop("数值"), gettext_noop("分类编码"), gettext_noop("投诉数"), gettext_noop("占比"),
    gettext_noop("维度"), gettext_noop("编码"), gettext_noop("名称"), gettext_noop("数量"), gettext_noop("时段"),
    gettext_noop("负荷高峰"), gettext_noop("类型"), gettext_noop("台区编码"), gettext_noop("台区名称"),
    gettext_noop("投诉客户数"), gettext_noop("月份"), gettext_noop("时限编码"), gettext_noop("环节"),
    gettext_noop("工单数"), gettext_noop("已完成"), gettext_noop("中位数（分钟）"), gettext_noop("90分位（分钟）"),
    gettext_noop("超时数"), gettext_noop("超时占比"), gettext_noop("单位编码"), gettext_noop("单位名称"),
    gettext_noop("户号"), gettext_noop("客户"), gettext_noop("备注"), gettext_noop("词语"),
    gettext_noop("出现的投诉数"), gettext_noop("读取的投诉文本数"),
    # row labels
    gettext_noop("报表"), gettext_noop("单位"), gettext_noop("时间段"), gettext_noop("投诉总数"),
    gettext_noop("同期工单总数（全部类型）"), gettext_noop("上期投诉数"), gettext_noop("环比变化"),
    gettext_noop("去年同期投诉数"), gettext_noop("同比变化"), gettext_noop("城区投诉"),
    gettext_noop("农村投诉（含特殊边远）"), gettext_noop("负荷高峰时段投诉占比"), gettext_noop("回访满意率"),
    gettext_noop("超时最多的环节"), gettext_noop("生成时间"), gettext_noop("投诉分析报告"),
    gettext_noop("业务类型（全部工单）"), gettext_noop("受理渠道（投诉）"), gettext_noop("区域（投诉）"),
    gettext_noop("是"), gettext_noop("周一"), gettext_noop("周二"), gettext_noop("周三"), gettext_noop("周四"),
    gettext_noop("周五"), gettext_noop("周六"), gettext_noop("周日"),
    gettext_noop("多客户投诉台区"), gettext_noop("连续月份投诉台区"), gettext_noop("连续两年同月投诉台区"),
    gettext_noop("重复来电工单"), gettext_noop("投诉2次及以上的客户"), gettext_noop("敏感客户投诉"),
    gettext_noop("重复投诉客户"), gettext_noop("敏感客户"),
])

# Row cells built by exports.sections() from a fixed text around a value.
_PERIOD = re.compile(r"^(\d{4}-\d{2}-\d{2}) 至 (\d{4}-\d{2}-\d{2})$")
_HOUSEHOLDS = re.compile(r"^(\d+) 户$")
_VISIT = "回访："


def label(text: str) -> str:
    """A fixed report label in the active language; anything else (data) unchanged."""
    return gettext(text) if text in SECTION_TEXT else text


def cell(value):
    """A cell or label of a report in the active language: fixed texts and texts around a value (a period,
    a number of households, a return-visit result) translated; data unchanged."""
    if not isinstance(value, str):
        return value
    if value in SECTION_TEXT:
        return gettext(value)
    if m := _PERIOD.match(value):
        return gettext("%(start)s 至 %(end)s") % {"start": m[1], "end": m[2]}
    if m := _HOUSEHOLDS.match(value):
        return gettext("%(n)s 户") % {"n": m[1]}
    if value.startswith(_VISIT):
        return gettext("回访：%(label)s") % {"label": value[len(_VISIT):]}
    return value


def page_sections(sections):
    """exports.sections() for a page: titles, headers and fixed row labels translated, data untouched."""
    return [(label(title), [label(h) for h in headers], [[cell(v) for v in row] for row in rows])
            for title, headers, rows in sections]


def chart_labels() -> dict:
    """Series, axis and category names that static/analytics/charts.js draws (the JS keeps the Chinese
    as its default, so a page without these labels still reads correctly in Chinese)."""
    return {
        "hour": gettext("%(h)s时"), "day": gettext("%(d)s日"),
        "weekdays": [gettext(d) for d in ("周一", "周二", "周三", "周四", "周五", "周六", "周日")],
        "complaints": gettext("投诉数"), "peak_hint": gettext("红色：负荷高峰时段"),
        "median": gettext("中位数（分钟）"), "p90": gettext("90分位（分钟）"), "overdue": gettext("超时数"),
        "minutes": gettext("分钟"), "overdue_orders": gettext("超时工单"), "this_month": gettext("本月"),
        "last_month": gettext("上月"), "today_intake": gettext("今日受理"), "open_orders": gettext("在办工单"),
        "on_time_rate": gettext("按时率（%）"), "complaints_axis": gettext("投诉"),
    }


# Labels that reach the pages as data but are fixed by this app: the period presets (rules.PRESETS), a
# background run's status (ReportRun.Status) and step names (reports.py, services.py). Translated where
# shown ({% translate run.step %}, {% translate label %}); listed here so that they are in the catalogue.
SHOWN_AS_DATA = (
    gettext_noop("本月"), gettext_noop("本季度"), gettext_noop("本年"), gettext_noop("上月"), gettext_noop("上季度"),
    gettext_noop("上年"),
    gettext_noop("排队中"), gettext_noop("计算中"), gettext_noop("已完成"), gettext_noop("失败"),
    gettext_noop("更新统计数据"), gettext_noop("分类统计"), gettext_noop("渠道与区域"), gettext_noop("时段分布"),
    gettext_noop("台区热点"), gettext_noop("环节时长"), gettext_noop("重复来电与敏感客户"), gettext_noop("满意度"),
    gettext_noop("高频词"), gettext_noop("同比环比"), gettext_noop("完成"),
)
