"""REST API of billing: tariffs, bill-calc, bill runs, bills and corrections, payments, channel mix,
arrears/disconnection board and actions, e-invoice requests and export."""
import json
from datetime import date, datetime

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from gridcare.accounts.models import OrgUnit
from gridcare.accounts.permissions import require, scoped
from gridcare.core.api_support import DomainError
from gridcare.customers.models import Customer

from . import catalog, services
from .models import Bill, BillRun, Disconnection, InvoiceRequest, Payment, Tariff
from .rules import TariffError, bill_calc, fen, load_json, parse_tariff, tariff_to_dict

router = Router(tags=["电费账务"])


def _customer(user, account_no) -> Customer:
    c = Customer.objects.select_related("unit").filter(account_no=account_no).first()
    if c is None:
        raise DomainError({"account_no": f"户号 {account_no} 不存在"})
    require(user, "billing.view", c.unit)
    return c


def bill_out(b: Bill) -> dict:
    return {"bill_no": b.bill_no, "account_no": b.customer.account_no, "period": b.period.isoformat()[:7],
            "period_start": b.period_start, "period_end": b.period_end, "tariff_code": b.tariff_code,
            "kwh": str(b.kwh), "amount": str(b.amount), "paid": str(b.paid), "owed": str(b.owed),
            "late_paid": str(b.late_paid), "status": b.status, "status_label": b.get_status_display(),
            "due_date": b.due_date, "estimated": b.estimated, "lines": b.lines,
            "rebill_of": b.rebill_of.bill_no if b.rebill_of_id else None, "note": b.note}


def case_out(c: Disconnection) -> dict:
    return {"id": c.pk, "account_no": c.customer.account_no, "status": c.status, "status_label": c.get_status_display(),
            "owed": str(fen(c.owed)), "notice_delivered_at": c.notice_delivered_at, "planned_cut_at": c.planned_cut_at,
            "second_notice_at": c.second_notice_at, "authority_reported_at": c.authority_reported_at,
            "cut_at": c.cut_at, "paid_at": c.paid_at, "reconnect_due_at": c.reconnect_due_at,
            "reconnected_at": c.reconnected_at, "complaint_risk": c.complaint_risk, "critical": c.customer.critical}


@router.get("/tariffs")
def list_tariffs(request):
    require(request.user, "billing.view")
    rows = Tariff.objects.all()
    return [r.schedule for r in rows] if rows else [tariff_to_dict(t) for t in catalog.shipped()]


# The two endpoints below take a formats.md JSON document as the request body. They read it themselves (the
# schema is declared for OpenAPI) so that a body that is not JSON, or not an object, is refused like any other
# bad input — 400 with the CLI's Chinese message — instead of ninja's English parse error or a 422.
_DATE = {"type": "string", "format": "date"}
_NUMBER = {"oneOf": [{"type": "number"}, {"type": "string"}]}
TARIFF_SCHEMA = {
    "type": "object", "title": "电价方案（formats.md Tariff schedule）",
    "required": ["code", "name", "customer_class", "valid_from", "energy"],
    "properties": {
        "code": {"type": "string"}, "name": {"type": "string"},
        "customer_class": {"type": "string", "enum": ["residential", "non_residential", "large_industrial",
                                                      "agricultural"]},
        "valid_from": _DATE, "valid_to": {**_DATE, "nullable": True},
        "energy": {"type": "object", "additionalProperties": _NUMBER,
                   "description": "flat，或分时 sharp/peak/flat/valley，元/千瓦时"},
        "tiers": {"type": "object", "properties": {
            "basis": {"type": "string", "enum": ["monthly", "annual"]},
            "bounds_kwh": {"type": "array", "items": _NUMBER}, "increments": {"type": "array", "items": _NUMBER}}},
        "surcharges": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}, "price": _NUMBER}}},
        "province": {"type": "string"}, "source": {"type": "string"}},
}
BILL_CALC_EXAMPLE = {"tariff": "EX-RES-TIERED", "period": {"start": "2026-07-01", "end": "2026-07-31"},
                     "usage_kwh": {"total": 520}, "ytd_kwh_before": 0, "due_date": "2026-08-15",
                     "paid_on": "2026-09-04"}
BILL_CALC_SCHEMA = {
    "type": "object", "title": "bill-calc 输入（formats.md）", "required": ["tariff", "period", "usage_kwh"],
    "properties": {
        "tariff": {"oneOf": [{"type": "string", "description": "电价代码"}, TARIFF_SCHEMA,
                             {"type": "array", "items": TARIFF_SCHEMA}]},
        "period": {"type": "object", "required": ["start", "end"], "properties": {"start": _DATE, "end": _DATE}},
        "usage_kwh": {"type": "object", "additionalProperties": _NUMBER,
                      "description": "total，或分时 sharp/peak/flat/valley"},
        "ytd_kwh_before": {**_NUMBER, "description": "本年度此前用电量（年阶梯电价必填）"},
        "due_date": _DATE, "paid_on": _DATE},
    "example": BILL_CALC_EXAMPLE,
}


def _json_body(schema: dict) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def json_document(request):
    """The request body parsed as JSON; DomainError (400) with the CLI's message when it is not JSON."""
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError({"__all__": "请求体应为 UTF-8 编码的 JSON"}) from None
    if not text.strip():
        raise DomainError({"__all__": "请求体为空，应为 JSON 对象"})
    try:
        return load_json(text)
    except TariffError as exc:
        raise DomainError(exc.errors) from None


@router.post("/tariffs", response={201: dict}, openapi_extra=_json_body(TARIFF_SCHEMA))
def load_tariff(request):
    """Load one tariff schedule (formats.md), the JSON document as the request body (administrators only)."""
    if not (request.user.is_superuser or request.user.role == "admin"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("只有系统管理员可以维护电价")
    try:
        tariff = parse_tariff(json_document(request))
    except TariffError as exc:
        raise DomainError(exc.errors) from None
    services.do_load_tariffs([tariff])
    return Status(201, tariff_to_dict(tariff))


@router.post("/bill-calc", openapi_extra=_json_body(BILL_CALC_SCHEMA))
def api_bill_calc(request):
    """One bill from the formats.md bill-calc input (the request body); the answer is what `gridcare bill-calc
    --format json` prints for the same input."""
    require(request.user, "billing.view")
    try:
        return bill_calc(json_document(request), catalog.resolve, catalog.late_rules()).as_json()
    except TariffError as exc:
        raise DomainError(exc.errors) from None


class RunIn(Schema):
    unit_code: str
    period: date


@router.post("/runs", response={201: dict})
def start_run(request, payload: RunIn):
    unit = OrgUnit.objects.filter(code=payload.unit_code).first()
    if unit is None:
        raise DomainError({"unit_code": "单位不存在"})
    with transaction.atomic():
        run = services.create_run(request.user, unit, payload.period)
    return Status(201, run_out(run))


def run_out(r: BillRun) -> dict:
    return {"id": r.pk, "period": r.period.isoformat()[:7], "unit_code": r.unit.code, "status": r.status,
            "total": r.total, "done": r.done, "progress": r.progress, "bills": r.bills, "held": r.held,
            "amount": str(r.amount), "error": r.error}


@router.get("/runs/{run_id}")
def get_run(request, run_id: int):
    run = get_object_or_404(BillRun.objects.select_related("unit"), pk=run_id)
    require(request.user, "billing.view", run.unit)
    return run_out(run)


@router.get("/bills")
def list_bills(request, account_no: str):
    c = _customer(request.user, account_no)
    return [bill_out(b) for b in c.bills.select_related("customer", "rebill_of").order_by("-period", "-id")[:120]]


def _bill(request, bill_no) -> Bill:
    b = get_object_or_404(Bill.objects.select_related("customer", "unit", "rebill_of"), bill_no=bill_no)
    require(request.user, "billing.view", b.unit)
    return b


@router.get("/bills/{bill_no}")
def get_bill(request, bill_no: str):
    """One bill with the reminders sent for it and their delivery status."""
    b = _bill(request, bill_no)
    return {**bill_out(b), "reminders": services.reminders_of(b)}


class ReasonIn(Schema):
    reason: str


class RebillIn(Schema):
    reason: str
    usage_kwh: dict


@router.post("/bills/{bill_no}/cancel")
def cancel_bill(request, bill_no: str, payload: ReasonIn):
    with transaction.atomic():
        return bill_out(services.do_cancel_bill(request.user, _bill(request, bill_no), payload.reason))


@router.post("/bills/{bill_no}/rebill", response={201: dict})
def rebill(request, bill_no: str, payload: RebillIn):
    return Status(201, bill_out(services.do_rebill(request.user, _bill(request, bill_no), payload.usage_kwh,
                                                   payload.reason)))


class PaymentIn(Schema):
    account_no: str
    channel: str
    amount: str | int | float
    currency: str = "CNY"
    paid_at: datetime | None = None
    reference: str = ""


@router.post("/payments", response={201: dict})
def record_payment(request, payload: PaymentIn):
    c = _customer(request.user, payload.account_no)
    data = payload.dict()
    if isinstance(data["amount"], float):
        data["amount"] = _number_as_written(request, "amount", data["amount"])
    p = services.do_record_payment(request.user, c, data)
    return Status(201, payment_out(p))


def _number_as_written(request, key: str, parsed: float):
    """A JSON number's text as the client wrote it (`1e3` stays `1e3`, not 1000.0, so the amount rule sees the
    notation; `100.10` keeps its digits)."""
    try:
        raw = json.loads(request.body, parse_float=str)
    except ValueError:
        return parsed
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, str) else parsed


def payment_out(p: Payment) -> dict:
    return {"payment_no": p.payment_no, "account_no": p.customer.account_no, "channel": p.channel,
            "channel_label": p.get_channel_display(), "amount": str(p.amount), "paid_at": p.paid_at,
            "to_balance": str(p.to_balance), "reference": p.reference,
            "allocations": [{"bill_no": a.bill.bill_no, "amount": str(a.amount), "late_charge": str(a.late_charge)}
                            for a in p.allocations.select_related("bill").order_by("id")]}


@router.get("/payments")
def list_payments(request, account_no: str):
    c = _customer(request.user, account_no)
    return [payment_out(p) for p in c.payments.select_related("customer").prefetch_related("allocations__bill")[:100]]


@router.get("/reports/channel-mix")
def report_channel_mix(request, since: datetime | None = None):
    require(request.user, "billing.view")
    return services.channel_mix(request.user, since)


class NoticeIn(Schema):
    account_no: str
    notice_delivered_at: datetime
    planned_cut_at: datetime
    method: str = "书面送达"


class AtIn(Schema):
    at: datetime


class ReportIn(Schema):
    at: datetime
    authority_ref: str


@router.get("/disconnections")
def list_disconnections(request):
    require(request.user, "billing.view")
    data = services.board(request.user)
    out = []
    for c in data["cases"]:
        row = case_out(c)
        row["blockers"] = c.blockers
        row["reconnect_late"] = bool(c.clock and c.clock["late"])
        out.append(row)
    return out


@router.post("/disconnections", response={201: dict})
def issue_notice(request, payload: NoticeIn):
    c = _customer(request.user, payload.account_no)
    with transaction.atomic():
        case = services.do_issue_notice(request.user, c, payload.notice_delivered_at, payload.planned_cut_at,
                                        payload.method)
    return Status(201, case_out(case))


def _case(request, case_id) -> Disconnection:
    case = get_object_or_404(Disconnection.objects.select_related("customer", "unit"), pk=case_id)
    require(request.user, "billing.view", case.unit)
    return case


@router.post("/disconnections/{case_id}/second-notice")
def second_notice(request, case_id: int, payload: AtIn):
    return case_out(services.do_second_notice(request.user, _case(request, case_id), payload.at))


@router.post("/disconnections/{case_id}/report")
def report_authority(request, case_id: int, payload: ReportIn):
    return case_out(services.do_report_authority(request.user, _case(request, case_id), payload.at,
                                                 payload.authority_ref))


@router.post("/disconnections/{case_id}/cut")
def cut(request, case_id: int, payload: AtIn):
    with transaction.atomic():
        return case_out(services.do_cut(request.user, _case(request, case_id), payload.at))


@router.post("/disconnections/{case_id}/reconnect")
def reconnect(request, case_id: int, payload: AtIn):
    with transaction.atomic():
        return case_out(services.do_reconnect(request.user, _case(request, case_id), payload.at))


class InvoiceIn(Schema):
    account_no: str
    bill_no: str | None = None
    payment_no: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None


def invoice_out(r: InvoiceRequest) -> dict:
    return {"id": r.pk, "account_no": r.customer.account_no, "amount": str(r.amount), "title": r.title,
            "tax_id": r.tax_id, "email": r.email, "phone": r.phone, "status": r.status,
            "status_label": r.get_status_display(), "bill_no": r.bill.bill_no if r.bill_id else None,
            "payment_no": r.payment.payment_no if r.payment_id else None}


@router.post("/invoices", response={201: dict})
def request_invoice(request, payload: InvoiceIn):
    c = _customer(request.user, payload.account_no)
    bill = Bill.objects.filter(bill_no=payload.bill_no).first() if payload.bill_no else None
    pay = Payment.objects.filter(payment_no=payload.payment_no).first() if payload.payment_no else None
    if payload.bill_no and bill is None:
        raise DomainError({"bill_no": "账单不存在"})
    if payload.payment_no and pay is None:
        raise DomainError({"payment_no": "缴费记录不存在"})
    r = services.do_request_invoice(request.user, c, bill, pay,
                                    {"title": payload.title, "email": payload.email, "phone": payload.phone})
    return Status(201, invoice_out(r))


@router.get("/invoices")
def list_invoices(request, status: str | None = None):
    require(request.user, "billing.view")
    qs = scoped(InvoiceRequest.objects.select_related("customer", "bill", "payment"), request.user)
    if status:
        qs = qs.filter(status=status)
    return [invoice_out(r) for r in qs[:200]]


@router.post("/invoices/export")
def export_invoices(request):
    require(request.user, "billing.collect")
    text = services.export_invoices(request.user)
    resp = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="e-invoice-requests.csv"'
    return resp
