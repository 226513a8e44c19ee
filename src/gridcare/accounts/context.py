from .permissions import can

# (label, url name, capability) — the navigation each role sees.
NAV = [
    ("工作台", "home", None),
    ("客户查询", "customers:search", "customer.search"),
    ("工单", "workorders:queue", "workorder.view"),
    ("新建工单", "workorders:intake", "workorder.create"),
    ("超时预警", "workorders:dashboard", "report.view"),
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
