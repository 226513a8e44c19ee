"""Where billing plugs into the rest of GridCare without touching other apps' files: a home-page card
(core.views.HOME_CARDS: overdue arrears and cut-off customers of the user's scope) and the agent's call
context (workorders.services.CONTEXT_HOOKS: what the customer owes, since when, and where the
disconnection process stands — a caller asking "why is my power off" is often a cut for arrears)."""
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.utils import timezone


def home_cards(user):
    from gridcare.accounts.permissions import can, scoped

    from .models import Bill, BillStatus, CutStatus, Disconnection

    if not can(user, "billing.view"):
        return []
    today = timezone.localdate()
    overdue = scoped(Bill.objects.filter(status=BillStatus.ISSUED, due_date__lt=today), user).aggregate(
        n=Count("customer", distinct=True), owed=Sum(F("amount") - F("paid")))
    cases = dict(scoped(Disconnection.objects.filter(status__in=[CutStatus.NOTICE, CutStatus.CUT, CutStatus.PAID]),
                        user).values_list("status").annotate(n=Count("id")))
    late = scoped(Disconnection.objects.filter(status=CutStatus.PAID, complaint_risk=True), user).count()
    return [{"label": "逾期欠费客户", "value": overdue["n"] or 0, "css": ""},
            {"label": "逾期欠费金额（元）", "value": int(overdue["owed"] or 0), "css": ""},
            {"label": "欠费停电中 / 待复电", "value": f"{cases.get(CutStatus.CUT, 0)} / {cases.get(CutStatus.PAID, 0)}",
             "css": "countdown-warn" if late else ""}]


def agent_context(customer, ctx, now):
    """ctx["billing"]: owed, overdue amount and oldest due date, the open disconnection case (state, planned
    cut, reconnection clock) and a one-line summary the agent can read out."""
    from .models import Bill, BillingAccount, BillStatus, CutStatus, Disconnection
    from .rules import reconnect_state
    from .services import cut_limits

    today = timezone.localtime(now).date()
    bills = Bill.objects.filter(customer=customer, status=BillStatus.ISSUED)
    agg = bills.aggregate(owed=Sum(F("amount") - F("paid")))
    over = bills.filter(due_date__lt=today).aggregate(owed=Sum(F("amount") - F("paid")), n=Count("id"))
    oldest = bills.filter(due_date__lt=today).order_by("due_date").values_list("due_date", flat=True).first()
    acc = BillingAccount.objects.filter(customer=customer).only("status", "prepaid", "balance").first()
    case = (Disconnection.objects.filter(customer=customer).exclude(status=CutStatus.CANCELLED)
            .order_by("-notice_delivered_at").first())
    fen = Decimal("0.01")
    info = {"owed": str(Decimal(agg["owed"] or 0).quantize(fen)), "overdue": str(Decimal(over["owed"] or 0).quantize(fen)),
            "overdue_bills": over["n"], "oldest_due_date": oldest.isoformat() if oldest else None,
            "account_status": acc.status if acc else "active", "prepaid": bool(acc and acc.prepaid),
            "balance": str(acc.balance) if acc and acc.prepaid else None, "disconnection": None}
    parts = []
    if over["n"]:
        parts.append(f"逾期欠费 {info['overdue']} 元（{over['n']} 期，最早 {oldest:%Y年%m月%d日} 到期）")
    if case and (case.status != CutStatus.RECONNECTED or (now - case.reconnected_at).days < 3):
        d = {"status": case.status, "status_label": case.get_status_display(), "planned_cut_at": case.planned_cut_at,
             "cut_at": case.cut_at, "paid_at": case.paid_at, "reconnect_due_at": case.reconnect_due_at,
             "reconnected_at": case.reconnected_at, "complaint_risk": case.complaint_risk}
        if case.status == CutStatus.NOTICE:
            parts.append(f"已送达欠费停电通知，计划 {timezone.localtime(case.planned_cut_at):%m月%d日 %H:%M} 停电")
        elif case.status == CutStatus.CUT:
            parts.append(f"已于 {timezone.localtime(case.cut_at):%m月%d日 %H:%M} 欠费停电，缴清后 24 小时内复电")
        elif case.status == CutStatus.PAID:
            clock = reconnect_state(case.paid_at, now, None, cut_limits())
            d["late"] = clock["late"]
            parts.append(f"已缴清待复电，复电时限 {timezone.localtime(clock['due_at']):%m月%d日 %H:%M}"
                         + ("（已超时，投诉风险）" if clock["late"] else ""))
        elif case.status == CutStatus.RECONNECTED:
            parts.append(f"已于 {timezone.localtime(case.reconnected_at):%m月%d日 %H:%M} 复电")
        info["disconnection"] = d
    info["summary"] = "；".join(parts)
    ctx["billing"] = info


def register():
    from gridcare.core.views import HOME_CARDS
    from gridcare.workorders import services as wo_services

    if home_cards not in HOME_CARDS:
        HOME_CARDS.append(home_cards)
    if agent_context not in wo_services.CONTEXT_HOOKS:
        wo_services.CONTEXT_HOOKS.append(agent_context)
