from datetime import date, datetime

from ninja import Router, Schema, Status

from gridcare.core.schemas import AuditOut

from . import services

router = Router(tags=["客户"])


class InvoiceSchema(Schema):
    title: str = ""
    tax_id: str = ""
    address_phone: str = ""
    bank_name: str = ""
    bank_account: str = ""
    invoice_email: str = ""
    invoice_phone: str = ""


class CustomerIn(Schema):
    account_no: str
    name: str
    customer_class: str
    unit_code: str
    taiqu_code: str
    address: str
    area_kind: str
    phone: str = ""
    phone2: str = ""
    critical: bool = False
    critical_kind: str = ""
    email: str = ""
    opened_on: date | None = None
    invoice: InvoiceSchema | None = None


class CustomerPatch(Schema):
    name: str | None = None
    customer_class: str | None = None
    unit_code: str | None = None
    taiqu_code: str | None = None
    address: str | None = None
    area_kind: str | None = None
    phone: str | None = None
    phone2: str | None = None
    critical: bool | None = None
    critical_kind: str | None = None
    sensitive: bool | None = None
    sensitive_reason: str | None = None
    sensitive_until: datetime | None = None
    email: str | None = None
    invoice: InvoiceSchema | None = None


class CustomerOut(Schema):
    account_no: str
    name: str
    customer_class: str
    unit_code: str
    taiqu_code: str
    feeder_code: str
    address: str
    area_kind: str
    phone: str
    phone2: str
    critical: bool
    critical_kind: str
    sensitive: bool
    sensitive_reason: str
    invoice: InvoiceSchema | None = None

    @staticmethod
    def of(c, with_invoice=False):
        out = {f: getattr(c, f) for f in ["account_no", "name", "customer_class", "address", "area_kind", "phone",
                                          "phone2", "critical", "critical_kind", "sensitive", "sensitive_reason"]}
        out.update(unit_code=c.unit.code, taiqu_code=c.transformer_area.code,
                   feeder_code=c.transformer_area.feeder.code)
        if with_invoice:
            inv = getattr(c, "invoice", None)
            out["invoice"] = {f: getattr(inv, f) for f in services.INVOICE_FIELDS} if inv else None
        return out


@router.get("/", response=list[CustomerOut])
def search_customers(request, q: str, limit: int = 20):
    """Search by 户号, phone or name within the caller's unit subtree."""
    rows = services.search(request.user, q, min(limit, 100)).select_related("transformer_area__feeder")
    return [CustomerOut.of(c) for c in rows]


@router.post("/", response={201: CustomerOut})
def create_customer(request, payload: CustomerIn):
    data = payload.dict()
    if data.get("invoice") is None:
        data.pop("invoice", None)
    c = services.create_customer(request.user, data)
    c = services.get_for_user(request.user, c.account_no)
    return Status(201, CustomerOut.of(c, with_invoice=True))


@router.get("/{account_no}", response=CustomerOut)
def get_customer(request, account_no: str):
    return CustomerOut.of(services.get_for_user(request.user, account_no), with_invoice=True)


@router.patch("/{account_no}", response=CustomerOut)
def update_customer(request, account_no: str, payload: CustomerPatch):
    services.get_for_user(request.user, account_no)  # 404/403 before anything else
    data = payload.dict(exclude_unset=True)
    services.update_customer(request.user, account_no, data)
    return CustomerOut.of(services.get_for_user(request.user, account_no), with_invoice=True)


@router.get("/{account_no}/audit", response=list[AuditOut])
def customer_audit(request, account_no: str):
    """Who changed this customer and its invoice details, when, and what."""
    c = services.get_for_user(request.user, account_no)
    logs = list(c.audit_entries()[:200])
    inv = getattr(c, "invoice", None)
    if inv:
        logs += list(inv.audit_entries()[:200])
    logs.sort(key=lambda log: (log.at, log.id), reverse=True)
    return [AuditOut.from_log(log) for log in logs]
