"""Where billing plugs into the rest of GridCare without touching other apps' files: a home-page card
(core.views.HOME_CARDS: overdue arrears and cut-off customers of the user's scope) and the agent's call
context (workorders.services.CONTEXT_HOOKS: what the customer owes, since when, and where the
disconnection process stands — a caller asking "why is my power off" is often a cut for arrears).

The cards' labels and the summary are in the active language (the page's reader); the API answers with the
context in Chinese, and the context's other values (status codes, the choice label) are the same in both."""
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext, pgettext


def _day(value) -> str:
    """A due date in the reader's language: 2026年10月25日 / 2026-10-25."""
    return value.strftime(pgettext("strftime: a date", "%Y年%m月%d日"))


def _moment(value) -> str:
    """A local time near today in the reader's language: 12月05日 04:00 / 2026-12-05 04:00."""
    return timezone.localtime(value).strftime(pgettext("strftime: month, day and time", "%m月%d日 %H:%M"))


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
    return [{"label": gettext("逾期欠费客户"), "value": overdue["n"] or 0, "css": ""},
            {"label": gettext("逾期欠费金额（元）"), "value": int(overdue["owed"] or 0), "css": ""},
            {"label": gettext("欠费停电中 / 待复电"), "value": f"{cases.get(CutStatus.CUT, 0)} / {cases.get(CutStatus.PAID, 0)}",
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
        parts.append(gettext("逾期欠费 %(amount)s 元（%(bills)s 期，最早 %(due)s 到期）") % {
            "amount": info["overdue"], "bills": over["n"], "due": _day(oldest)})
    if case and (case.status != CutStatus.RECONNECTED or (now - case.reconnected_at).days < 3):
        d = {"status": case.status, "status_label": case.get_status_display(), "planned_cut_at": case.planned_cut_at,
             "cut_at": case.cut_at, "paid_at": case.paid_at, "reconnect_due_at": case.reconnect_due_at,
             "reconnected_at": case.reconnected_at, "complaint_risk": case.complaint_risk}
        if case.status == CutStatus.NOTICE:
            parts.append(gettext("已送达欠费停电通知，计划 %(at)s 停电") % {"at": _moment(case.planned_cut_at)})
        elif case.status == CutStatus.CUT:
            parts.append(gettext("已于 %(at)s 欠费停电，缴清后 24 小时内复电") % {"at": _moment(case.cut_at)})
        elif case.status == CutStatus.PAID:
            clock = reconnect_state(case.paid_at, now, None, cut_limits())
            d["late"] = clock["late"]
            parts.append(gettext("已缴清待复电，复电时限 %(at)s") % {"at": _moment(clock["due_at"])}
                         + (gettext("（已超时，投诉风险）") if clock["late"] else ""))
        elif case.status == CutStatus.RECONNECTED:
            parts.append(gettext("已于 %(at)s 复电") % {"at": _moment(case.reconnected_at)})
        info["disconnection"] = d
    info["summary"] = pgettext("between sentences", "；").join(parts)
    ctx["billing"] = info


def register():
    from gridcare.core.views import HOME_CARDS
    from gridcare.workorders import services as wo_services

    if home_cards not in HOME_CARDS:
        HOME_CARDS.append(home_cards)
    if agent_context not in wo_services.CONTEXT_HOOKS:
        wo_services.CONTEXT_HOOKS.append(agent_context)
