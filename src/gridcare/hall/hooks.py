"""Extension points for capabilities built elsewhere (billing, outages, knowledge). The hall works
without them and shows what they provide when they are installed.

* `ARREARS_PROVIDERS`: functions(customer) -> {"total": Decimal yuan, "bills": [{"period", "amount",
  "due_date"}...]} or None. Billing registers one (`hooks.ARREARS_PROVIDERS.append(fn)`); until it does,
  the hall tries `gridcare.billing.services.customer_arrears(customer)` if that exists.
* `BILLS_PROVIDERS`: functions(customer, months) -> {"usage": [{"period", "kwh"}...], "bills": [...]}.
  Fallback `gridcare.billing.services.customer_bills(customer, months)`.
* Outages on the customer's address come from the work-order engine's `CONTEXT_HOOKS` (the outages
  capability registers there), read through `workorders.services.customer_context`.
* FAQ: the knowledge base's public FAQ page if its URL name (`knowledge:faq` or `knowledge:public`)
  exists, and `gridcare.knowledge.services.public_faq(limit)` if present; else hall.yaml's short list.
"""
import logging

log = logging.getLogger(__name__)

ARREARS_PROVIDERS: list = []
BILLS_PROVIDERS: list = []


def _optional(module: str, name: str):
    try:
        mod = __import__(module, fromlist=[name])
    except ImportError:
        return None
    return getattr(mod, name, None)


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


def arrears(customer) -> dict:
    """{"available": bool, "total": …, "bills": […]}; available False when billing is not installed."""
    return _first(ARREARS_PROVIDERS, _optional("gridcare.billing.services", "customer_arrears"), customer)


def bills(customer, months: int = 12) -> dict:
    return _first(BILLS_PROVIDERS, _optional("gridcare.billing.services", "customer_bills"), customer, months)


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
    fn = _optional("gridcare.knowledge.services", "public_faq")
    if fn is not None:
        try:
            items = [{"q": i.get("q") or i.get("question"), "a": i.get("a") or i.get("answer")} for i in fn(limit)]
            return {"url": url, "items": items, "source": "knowledge"}
        except Exception:  # noqa: BLE001
            log.exception("knowledge public_faq failed")
    from .config import config

    return {"url": url, "items": config()["faq"][:limit], "source": "hall"}
