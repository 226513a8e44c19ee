from .permissions import can

# (label, url name, capability) — the navigation each role sees.
NAV = [
    ("工作台", "home", None),
    ("客户查询", "customers:search", "customer.search"),
    ("工单", "workorders:queue", "workorder.view"),
    ("新建工单", "workorders:intake", "workorder.create"),
    ("超时预警", "workorders:dashboard", "report.view"),
    ("停电", "outages:board", "outage.view"),
    ("管理看板", "analytics:dashboard", "report.view"),
    ("统计分析", "analytics:complaints", "report.view"),
    ("知识库", "knowledge:search", "knowledge.view"),
    ("抄表", "metering:routes", "metering.read"),
    ("电费", "billing:arrears", "billing.view"),
    ("营业厅", "hall:counter", "hall.serve"),
    ("电网档案", "grid:tree", "grid.view"),
    ("审计日志", "core-audit", "audit.view"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav_items": []}
    from django.urls import NoReverseMatch, reverse

    items = []
    for label, name, cap in NAV:
        if cap and not can(user, cap):
            continue
        try:
            items.append({"label": label, "url": reverse(name), "active": request.path == reverse(name)})
        except NoReverseMatch:
            continue
    return {"nav_items": items}
