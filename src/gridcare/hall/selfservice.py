"""Customer self-service (public): after verification by 户号 + the phone registered on the account, the
customer sees usage and bills (billing, when installed), the payment channels, FAQ answers and any
outage on their address. The verified session is a signed token valid for 30 minutes."""
from django.core import signing
from django.utils import timezone

from gridcare.core.api_support import DomainError
from gridcare.customers.models import Customer

from . import hooks
from .config import config

SALT = "gridcare.hall.selfservice"
MAX_AGE = 30 * 60


def verify(account_no: str, phone: str) -> Customer:
    account_no, phone = (account_no or "").strip(), (phone or "").strip()
    if not account_no or not phone:
        raise DomainError({"account_no": "请输入户号和登记的手机号"})
    customer = Customer.objects.select_related("unit", "transformer_area").filter(account_no=account_no).first()
    # One message for both cases, so the page does not tell which accounts exist.
    if customer is None or phone not in {p for p in (customer.phone, customer.phone2) if p}:
        raise DomainError({"phone": "户号与手机号不匹配，请核对后再试（手机号须为户号登记的联系电话）"})
    return customer


def sign(customer: Customer) -> str:
    return signing.dumps({"c": customer.pk}, salt=SALT)


def from_token(token: str) -> Customer | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return Customer.objects.select_related("unit", "transformer_area").filter(pk=data.get("c")).first()


def _mask(name: str) -> str:
    return name[0] + "*" * (len(name) - 1) if name else ""


def summary(customer: Customer) -> dict:
    from gridcare.workorders.services import customer_context

    ctx = customer_context(None, customer, timezone.now())
    return {"customer": {"account_no": customer.account_no, "name": _mask(customer.name), "address": customer.address},
            "bills": hooks.bills(customer), "arrears": hooks.arrears(customer),
            "payment_channels": config()["payment_channels"], "faq": hooks.faq(),
            "outages": ctx["outages"],
            "open_orders": [{"order_no": o.order_no, "stage_label": o.stage_label, "accepted_at": o.accepted_at}
                            for o in ctx["open_orders"]]}
