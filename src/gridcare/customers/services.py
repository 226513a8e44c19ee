"""Customer operations: search, create and update, permission-checked and audited."""
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404

from gridcare.accounts.models import OrgUnit
from gridcare.accounts.permissions import require, scoped
from gridcare.core.api_support import DomainError
from gridcare.grid.models import TransformerArea

from .models import Customer, InvoiceDetail

CUSTOMER_FIELDS = ["account_no", "name", "customer_class", "address", "area_kind", "phone", "phone2", "critical",
                   "critical_kind", "sensitive", "sensitive_reason", "sensitive_until", "opened_on", "email",
                   "notify_sms", "notify_wechat"]
INVOICE_FIELDS = ["title", "tax_id", "address_phone", "bank_name", "bank_account", "invoice_email", "invoice_phone"]


def search(user, q: str, limit: int = 20):
    """Find customers by 户号 (exact or prefix), phone (exact) or name (contains), within scope."""
    require(user, "customer.search")
    q = (q or "").strip()
    if not q:
        return Customer.objects.none()
    qs = scoped(Customer.objects.select_related("unit", "transformer_area"), user)
    if q.isdigit() and len(q) >= 6:
        cond = Q(account_no__startswith=q) | Q(phone=q) | Q(phone2=q)
    else:
        cond = Q(name__contains=q) | Q(phone=q) | Q(phone2=q) | Q(account_no=q)
    return qs.filter(cond).order_by("account_no")[:limit]


def get_for_user(user, account_no: str) -> Customer:
    require(user, "customer.view")
    customer = get_object_or_404(
        Customer.objects.select_related("unit", "transformer_area__feeder__substation", "transformer_area__manager"),
        account_no=account_no)
    require(user, "customer.view", customer.unit)
    return customer


def _resolve_refs(data: dict, errors: dict):
    unit = taiqu = None
    if "unit_code" in data:
        unit = OrgUnit.objects.filter(code=data.pop("unit_code")).first()
        if unit is None:
            errors["unit_code"] = "单位编码不存在"
    if "taiqu_code" in data:
        taiqu = TransformerArea.objects.filter(code=data.pop("taiqu_code")).first()
        if taiqu is None:
            errors["taiqu_code"] = "台区编码不存在"
    return unit, taiqu


def _full_clean(obj, errors: dict, exclude=None):
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        for field, msgs in exc.message_dict.items():
            errors.setdefault(field, " ".join(msgs))


@transaction.atomic
def create_customer(user, data: dict) -> Customer:
    data = dict(data)
    invoice = data.pop("invoice", None) or {}
    errors: dict = {}
    unit, taiqu = _resolve_refs(data, errors)
    if unit is not None:
        try:
            require(user, "customer.edit", unit)
        except PermissionDenied as exc:
            raise DomainError({"unit_code": str(exc)}, status=403)
    if Customer.objects.filter(account_no=data.get("account_no")).exists():
        errors["account_no"] = "户号已存在"
    customer = Customer(unit=unit, transformer_area=taiqu, **{k: v for k, v in data.items() if k in CUSTOMER_FIELDS})
    _full_clean(customer, errors, exclude=["unit", "transformer_area"] + (["account_no"] if "account_no" in errors else []))
    inv = InvoiceDetail(**{k: v for k, v in invoice.items() if k in INVOICE_FIELDS})
    _full_clean(inv, errors, exclude=["customer"])
    if errors:
        raise DomainError(errors)
    customer.save()
    if any(invoice.values()):
        inv.customer = customer
        inv.save()
    return customer


@transaction.atomic
def update_customer(user, account_no: str, data: dict) -> Customer:
    customer = get_object_or_404(Customer.objects.select_for_update(), account_no=account_no)
    require(user, "customer.edit", customer.unit)
    data = dict(data)
    invoice = data.pop("invoice", None)
    errors: dict = {}
    unit, taiqu = _resolve_refs(data, errors)
    if unit is not None:
        try:
            require(user, "customer.edit", unit)
        except PermissionDenied as exc:
            raise DomainError({"unit_code": str(exc)}, status=403)
        customer.unit = unit
    if taiqu is not None:
        customer.transformer_area = taiqu
    data.pop("account_no", None)
    for key, value in data.items():
        if key in CUSTOMER_FIELDS:
            setattr(customer, key, value)
    _full_clean(customer, errors, exclude=["account_no"])
    inv = None
    if invoice is not None:
        inv = getattr(customer, "invoice", None) or InvoiceDetail(customer=customer)
        for key, value in invoice.items():
            if key in INVOICE_FIELDS:
                setattr(inv, key, value)
        _full_clean(inv, errors, exclude=["customer"])
    if errors:
        raise DomainError(errors)
    customer.save()
    if inv is not None:
        inv.save()
    return customer
