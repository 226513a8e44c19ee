"""Pure work-order rules: quality checks at audit and the problem key used to find repeats.
No ORM, no I/O."""
import re

# Words a reply must touch for a complaint category (a reply that names none of them "does not
# address the category"). Data, not logic: extend per utility.
REPLY_KEYWORDS = {
    "construction_conduct": ["施工", "恢复", "赔偿", "整改", "现场"],
    "facility_upgrade": ["改造", "迁移", "工程", "计划", "完成"],
    "facility_safety": ["隐患", "消缺", "加固", "整改", "安全"],
    "attitude": ["道歉", "批评", "教育", "态度", "考核"],
    "conduct": ["规范", "首问", "整改", "考核", "道歉"],
    "hall": ["营业厅", "窗口", "排队", "整改", "道歉"],
    "channel": ["热线", "App", "系统", "修复", "渠道"],
    "frequent_outage": ["停电", "线路", "改造", "检修", "原因", "台区"],
    "voltage": ["电压", "调压", "变压器", "档位", "测量", "改造"],
    "outage_notice": ["停电", "公告", "通知", "告知"],
    "plan_execution": ["计划", "送电", "停电", "时间"],
    "repair_timeliness": ["抢修", "到达", "恢复", "修复"],
    "arrears_disconnection": ["复电", "欠费", "缴费", "停电", "通知"],
    "connection": ["报装", "接电", "装表", "时限", "办理"],
    "meter_reading": ["抄表", "示数", "电量", "核实", "更正"],
    "billing": ["电费", "电价", "退", "核算", "更正"],
    "metering": ["电能表", "校验", "计量", "更换", "检测"],
    "payment": ["缴费", "到账", "发票", "退款", "渠道"],
    "fee": ["收费", "退还", "费用", "标准"],
}

# Phrases in the call text that point to a complaint category (a chosen category that the text
# contradicts is flagged; the text classifier of a later capability replaces this table).
TEXT_HINTS = {
    "frequent_outage": ["经常停电", "频繁停电", "老是停电", "又停电", "三天两头停电", "反复停电"],
    "voltage": ["电压低", "电压不稳", "电压高", "灯光暗", "电压"],
    "attitude": ["态度", "骂人", "不耐烦", "凶"],
    "arrears_disconnection": ["欠费停电", "缴费后", "复电"],
    "billing": ["电费高", "电费异常", "多收", "电价"],
    "meter_reading": ["抄表", "估抄", "漏抄"],
    "outage_notice": ["没有通知", "未通知", "没通知"],
    "repair_timeliness": ["抢修慢", "迟迟不来", "还没来修"],
}


def reply_addresses_category(reply: str, category_l2: str) -> bool:
    words = REPLY_KEYWORDS.get(category_l2)
    if not words:
        return True
    return any(w.lower() in (reply or "").lower() for w in words)


def hinted_categories(text: str) -> set[str]:
    return {cat for cat, hints in TEXT_HINTS.items() if any(h in (text or "") for h in hints)}


def quality_flags(*, order_type: str, category_l2: str, text: str, reply: str, has_region: bool,
                  reject_count: int) -> list[dict]:
    """The audit's quality checks (each flag: code + Chinese message)."""
    flags = []
    if not has_region:
        flags.append({"code": "missing_region", "message": "工单缺少所属台区/区域信息"})
    if order_type == "complaint" and category_l2 and not reply_addresses_category(reply, category_l2):
        flags.append({"code": "reply_off_category", "message": "回单内容未回应投诉分类所述问题"})
    hinted = hinted_categories(text)
    if order_type == "complaint" and category_l2 and hinted and category_l2 not in hinted:
        flags.append({"code": "category_mismatch",
                      "message": f"投诉分类与受理内容不一致（内容指向：{'、'.join(sorted(hinted))}）"})
    if reject_count >= 2:
        flags.append({"code": "returned_repeatedly", "message": f"回单被退回{reject_count}次"})
    return flags


_PUNCT = re.compile(r"[\s，。！？、,.!?；;：:（）()“”\"']+")


def problem_key(order_type: str, category_l2: str, fault_kind: str) -> str:
    """What "the same problem" means for repeat detection: the type and its finest code."""
    return f"{order_type}:{category_l2 or fault_kind or '-'}"


def normalise_text(text: str) -> str:
    return _PUNCT.sub("", text or "")
