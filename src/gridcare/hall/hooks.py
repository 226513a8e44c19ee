"""Extension points for capabilities built elsewhere (billing, outages, knowledge). The hall works
without them and shows what they provide when they are installed.

* `ARREARS_PROVIDERS`: functions(customer) -> {"total": Decimal yuan, "bills": [{"period", "amount",
  "due_date"}...], …} or None. Tried first; when none answers and the billing app is installed, the hall
  reads billing itself (`billing_arrears`): the figures the agent sees when the customer calls
  (`billing.hooks.agent_context`: owed, overdue amount, overdue bills, oldest due date, disconnection case
  and a one-line summary) and the unpaid bills (`billing.services.customer_bills`).
* `BILLS_PROVIDERS`: functions(customer, months) -> {"usage": [{"period", "kwh"}...], "bills": [...]}.
  With billing installed: `billing_bills`, the last `months` months of `billing.services.customer_bills`.
* Outages on the customer's address come from the work-order engine's `CONTEXT_HOOKS` (the outages
  capability registers there), read through `workorders.services.customer_context`.
* FAQ: the knowledge base's public FAQ page if its URL name (`knowledge:faq` or `knowledge:public`)
  exists, and its public articles (`gridcare.knowledge.services.public_faq(limit)`); hall.yaml's short
  list when the knowledge base is not installed or has no public article.

`available` is False only when nothing provides the figures (billing not installed); a provider that
fails gives {"available": False, "error": True} and is logged, so the counter still works.
"""
import logging
from decimal import Decimal

from django.apps import apps
from django.utils import timezone

log = logging.getLogger(__name__)

ARREARS_PROVIDERS: list = []
BILLS_PROVIDERS: list = []
FEN = Decimal("0.01")


def _optional(module: str, name: str):
    try:
        mod = __import__(module, fromlist=[name])
    except ImportError:
        return None
    return getattr(mod, name, None)


def _installed(app: str) -> bool:
    return apps.is_installed(f"gridcare.{app}")


def _first(providers, fallback, *args):
    for fn in [*providers, fallback]:
        if fn is None:
            continue
        try:
            result = fn(*args)
        except Exception:  # noqa: BLE001 - another capability's failure must not break the counter
            log.exception("hall hook %s failed", getattr(fn, "__name__", fn))
            return {"available": False, "error": True}
        if result is not None:
            return {"available": True, **result}
    return {"available": False}


# ---------------------------------------------------------------- billing
def billing_arrears(customer, now=None) -> dict:
    """What the customer owes (yuan, Decimal to the fen): `total` of the unpaid bills, the `overdue` part,
    `overdue_bills` and `oldest_due_date`, the disconnection case if any, billing's `summary` (in the active
    language) and the unpaid `bills`, oldest first."""
    from gridcare.billing.hooks import agent_context
    from gridcare.billing.services import customer_bills

    ctx: dict = {}
    agent_context(customer, ctx, now or timezone.now())
    b = ctx["billing"]
    unpaid = [{"period": x["period"], "amount": x["amount"], "owed": x["owed"], "due_date": x["due_date"],
               "bill_no": x["bill_no"]} for x in reversed(customer_bills(customer, months=None, unpaid=True))]
    disconnection = b["disconnection"]
    return {"total": Decimal(b["owed"]).quantize(FEN), "overdue": Decimal(b["overdue"]).quantize(FEN),
            "overdue_bills": b["overdue_bills"], "oldest_due_date": b["oldest_due_date"],
            "account_status": b["account_status"],
            "disconnection": ({"status": disconnection["status"], "status_label": disconnection["status_label"]}
                              if disconnection else None),
            "summary": b["summary"], "bills": unpaid}


def billing_bills(customer, months: int = 12) -> dict:
    """The customer's bills of the last `months` months, newest first, and the usage per month."""
    from gridcare.billing.services import customer_bills

    bills = [{k: x[k] for k in ("period", "kwh", "amount", "paid", "owed", "status", "status_label", "due_date",
                                "estimated")} for x in customer_bills(customer, months=months)]
    return {"usage": [{"period": x["period"], "kwh": x["kwh"]} for x in bills], "bills": bills}


def arrears(customer) -> dict:
    """{"available": bool, "total": …, "bills": […], …}; available False when billing is not installed."""
    return _first(ARREARS_PROVIDERS, billing_arrears if _installed("billing") else None, customer)


def bills(customer, months: int = 12) -> dict:
    return _first(BILLS_PROVIDERS, billing_bills if _installed("billing") else None, customer, months)


# ---------------------------------------------------------------- knowledge
def faq(limit: int = 10) -> dict:
    """{"url": public FAQ page or "", "items": [{"q", "a"}...], "source": "knowledge" | "hall"}."""
    from django.urls import NoReverseMatch, reverse

    url = ""
    for name in ("knowledge:faq", "knowledge:public", "knowledge:public_faq"):
        try:
            url = reverse(name)
            break
        except NoReverseMatch:
            continue
    fn = _optional("gridcare.knowledge.services", "public_faq") if _installed("knowledge") else None
    if fn is not None:
        try:
            items = [{"q": (i.get("q") or i.get("question") or "").strip(),
                      "a": (i.get("a") or i.get("answer") or "").strip()} for i in fn(limit)]
            if items:
                return {"url": url, "items": items, "source": "knowledge"}
        except Exception:  # noqa: BLE001
            log.exception("knowledge public_faq failed")
    from .config import config

    return {"url": url, "items": config()["faq"][:limit], "source": "hall"}
