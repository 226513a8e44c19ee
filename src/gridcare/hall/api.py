"""Business-hall REST API (/api/hall/). Clerks and the ticket machine use a token or a session with
`hall.serve`; supervisors `hall.manage`; the ticket status, rating, appointment booking, online
applications and self-service verification are public (auth=None) and keyed by unguessable tokens or
by 户号 + phone."""
import json
from datetime import date, datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone, translation
from ninja import Router, Schema

from gridcare.core.api_support import DomainError

from . import rules, selfservice, services
from .config import service_label

router = Router(tags=["营业厅"])


class WindowIn(Schema):
    number: int
    service_types: list[str] | None = None
    is_open: bool | None = None
    name: str | None = None
    clerk: str | None = None


class HallSetupIn(Schema):
    unit_code: str
    opening_hours: dict | None = None
    closed_dates: list[str] | None = None
    slot_minutes: int | None = None
    slot_capacity: int | None = None
    target_seconds: int | None = None
    service_level: float | None = None
    windows: list[WindowIn] = []


class TicketIn(Schema):
    service_type: str = ""
    priority_reason: str = ""
    phone: str = ""
    account_no: str = ""
    appointment_token: str = ""


class TicketOut(Schema):
    number: str
    token: str
    status: str
    status_label: str
    service_type: str
    service_label: str
    priority: int
    priority_reason: str
    issued_at: datetime
    called_at: datetime | None
    finished_at: datetime | None
    window: int | None
    clerk: str | None
    account_no: str | None
    ahead_at_issue: int | None
    estimated_wait_seconds: int | None
    estimated_wait_minutes: int | None
    status_url: str
    rating: int | None

    @staticmethod
    def of(t):
        est = t.estimated_wait_seconds
        return {"number": t.number, "token": t.token, "status": t.status, "status_label": t.get_status_display(),
                "service_type": t.service_type, "service_label": service_label(t.service_type),
                "priority": t.priority, "priority_reason": t.priority_reason, "issued_at": _local(t.issued_at),
                "called_at": _local(t.called_at), "finished_at": _local(t.finished_at),
                "window": t.window.number if t.window_id else None,
                "clerk": t.clerk.username if t.clerk_id else None,
                "account_no": t.customer.account_no if t.customer_id else None,
                "ahead_at_issue": t.ahead_at_issue, "estimated_wait_seconds": est,
                "estimated_wait_minutes": None if est is None else -(-est // 60),
                "status_url": services.ticket_url(t), "rating": t.rating}


class TransferIn(Schema):
    service_type: str | None = None
    to_window: int | None = None


class IdentifyIn(Schema):
    q: str


class RateIn(Schema):
    score: int
    comment: str = ""
    channel: str = "sms"


class BookIn(Schema):
    service_type: str
    slot_start: datetime
    name: str
    phone: str
    account_no: str = ""


class ApplicationIn(Schema):
    kind: str
    applicant_name: str
    phone: str
    account_no: str = ""
    hall_code: str = ""
    address: str = ""
    area_kind: str = ""
    detail: str = ""
    ticket_token: str = ""


class InspectionIn(Schema):
    hall_code: str
    clerk: str
    results: dict
    note: str = ""


class TrainingIn(Schema):
    clerk: str
    kind: str
    title: str
    on: date
    valid_until: date | None = None
    hours: float | None = None
    issuer: str = ""


class VerifyIn(Schema):
    account_no: str
    phone: str


def _base(request):
    return request.build_absolute_uri("/")


def _ticket(t):
    return TicketOut.of(t)


# ---------------------------------------------------------------- setup
@router.post("/halls", response={200: dict})
def setup_hall(request, body: HallSetupIn):
    data = body.dict()
    windows = [{k: v for k, v in w.items() if v is not None} for w in data.pop("windows")]
    hall = services.do_setup_hall(request.auth, data.pop("unit_code"), windows,
                                  **{k: v for k, v in data.items() if v is not None})
    return {"hall": hall.code, "windows": [w.number for w in hall.windows.all()]}


@router.patch("/halls/{code}/windows/{number}", response={200: dict})
def set_window(request, code: str, number: int, body: WindowIn):
    spec = {k: v for k, v in body.dict().items() if v is not None and k != "number"}
    w = services.do_set_window(request.auth, code, number, **spec)
    return {"number": w.number, "service_types": w.service_types, "is_open": w.is_open,
            "clerk": w.clerk.username if w.clerk_id else None}


# ---------------------------------------------------------------- queue
@router.get("/halls/{code}/queue", response={200: dict})
def queue(request, code: str):
    hall = services.get_hall(code)
    from gridcare.accounts.permissions import require

    require(request.auth, "hall.serve", hall.unit)
    data = services.display_data(hall)
    return {"hall": hall.code, "open": rules.is_open(hall.opening_hours, hall.closed_dates,
                                                     services.local(services.timezone.now())),
            "windows": [{"number": w.number, "service_types": w.service_types, "is_open": w.is_open,
                         "current": w.current_ticket.number if w.current_ticket_id else None,
                         "clerk": w.clerk.username if w.clerk_id else None} for w in data["windows"]],
            "queue": data["queue"]}


@router.post("/halls/{code}/tickets", response={201: TicketOut})
def issue(request, code: str, body: TicketIn):
    t = services.do_issue_ticket(request.auth, code, body.service_type, body.priority_reason, body.phone,
                                 body.account_no, body.appointment_token, base_url=_base(request))
    return 201, _ticket(t)


@router.post("/halls/{code}/windows/{number}/call", response={200: TicketOut})
def call_next(request, code: str, number: int):
    return _ticket(services.do_call_next(request.auth, code, number))


@router.post("/halls/{code}/windows/{number}/recall", response={200: TicketOut})
def recall(request, code: str, number: int):
    return _ticket(services.do_recall(request.auth, code, number))


@router.post("/halls/{code}/windows/{number}/transfer", response={200: TicketOut})
def transfer(request, code: str, number: int, body: TransferIn):
    return _ticket(services.do_transfer(request.auth, code, number, body.service_type, body.to_window))


@router.post("/halls/{code}/windows/{number}/no-show", response={200: TicketOut})
def no_show(request, code: str, number: int):
    return _ticket(services.do_no_show(request.auth, code, number))


@router.post("/halls/{code}/windows/{number}/finish", response={200: TicketOut})
def finish(request, code: str, number: int):
    return _ticket(services.do_finish(request.auth, code, number, base_url=_base(request)))


@router.post("/halls/{code}/windows/{number}/identify", response={200: dict})
def identify(request, code: str, number: int, body: IdentifyIn):
    with translation.override(settings.LANGUAGE_CODE):     # outage titles in Chinese, like every API text
        ctx = services.do_identify(request.auth, code, number, body.q)
    if ctx["customer"] is None:
        return {"customer": None, "candidates": [{"account_no": c.account_no, "name": c.name, "address": c.address}
                                                 for c in ctx["candidates"]]}
    c = ctx["customer"]
    orders = [{"order_no": o.order_no, "order_type": o.order_type, "stage_label": o.stage_label, "status": o.status,
               "accepted_at": o.accepted_at, "text": o.text[:200]} for o in ctx["open_orders"]]
    return _jsonable({"customer": {"account_no": c.account_no, "name": c.name, "address": c.address, "phone": c.phone,
                                   "critical": c.critical, "sensitive": ctx["sensitive"]},
                      "open_orders": orders, "recent_orders": len(ctx["recent_orders"]), "outages": ctx["outages"],
                      "arrears": ctx["arrears"], "customer_url": f"/customers/{c.account_no}/"})


def _local(moment: datetime | None) -> datetime | None:
    """A time as the hall's customers and clerks read it: Asia/Shanghai (+08:00), not the database's UTC."""
    return timezone.localtime(moment) if moment is not None and timezone.is_aware(moment) else moment


class _HallEncoder(DjangoJSONEncoder):
    """ISO 8601 with "T" and the local offset (2026-12-07T09:00:00+08:00) like every other endpoint;
    amounts (Decimal) as exact strings ("120.50"); anything else as its text."""

    def default(self, o):
        if isinstance(o, datetime):
            o = _local(o)
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _jsonable(value):
    return json.loads(json.dumps(value, cls=_HallEncoder))


# ---------------------------------------------------------------- public: ticket status and rating
@router.get("/tickets/{token}", response={200: dict}, auth=None)
def ticket_status(request, token: str):
    return _jsonable(services.ticket_status(services.ticket_for_token(token)))


@router.post("/tickets/{token}/rate", response={200: dict}, auth=None)
def rate(request, token: str, body: RateIn):
    t = services.do_rate(token, body.score, body.comment, body.channel)
    return {"number": t.number, "rating": t.rating}


# ---------------------------------------------------------------- public: appointments
@router.get("/halls/{code}/slots", response={200: list[dict]}, auth=None)
def slots(request, code: str, day: date, service_type: str):
    hall = services.get_hall(code)
    return _jsonable(services.available_slots(hall, day, service_type))


@router.post("/halls/{code}/appointments", response={201: dict}, auth=None)
def book(request, code: str, body: BookIn):
    a = services.do_book(code, body.service_type, body.slot_start, body.name, body.phone, body.account_no,
                         base_url=_base(request))
    return 201, _jsonable({"token": a.token, "slot_start": a.slot_start, "slot_end": a.slot_end, "status": a.status})


@router.post("/appointments/{token}/cancel", response={200: dict}, auth=None)
def cancel(request, token: str):
    a = services.do_cancel_appointment(token)
    return {"token": a.token, "status": a.status}


# ---------------------------------------------------------------- applications
def _application_out(a):
    return _jsonable({"id": a.pk, "kind": a.kind, "channel": a.channel, "order_no": a.work_order.order_no,
                      "order_type": a.work_order.order_type, "stage_due_at": a.work_order.stage_due_at,
                      "documents": a.documents})


@router.post("/applications", response={201: dict})
def counter_application(request, body: ApplicationIn):
    return 201, _application_out(services.do_start_application(request.auth, body.dict(), "hall"))


@router.post("/public/applications", response={201: dict}, auth=None)
def online_application(request, body: ApplicationIn):
    return 201, _application_out(services.do_start_application(None, body.dict(), "web"))


# ---------------------------------------------------------------- quality and staffing
def _period(since: date | None, until: date | None):
    from datetime import timedelta

    from django.utils import timezone

    tz = timezone.get_current_timezone()
    until = until or services.local(timezone.now()).date() + timedelta(days=1)
    since = since or (until - timedelta(days=30))
    if since >= until:
        raise DomainError({"since": "开始日期必须早于结束日期"})
    return datetime.combine(since, datetime.min.time(), tzinfo=tz), datetime.combine(until, datetime.min.time(), tzinfo=tz)


@router.get("/halls/{code}/quality", response={200: dict})
def quality(request, code: str, since: date | None = None, until: date | None = None):
    data = services.hall_quality(request.auth, code, *_period(since, until))
    data["hall"] = data["hall"].code
    return data


@router.get("/halls/{code}/traffic", response={200: dict})
def traffic(request, code: str, since: date | None = None, until: date | None = None):
    data = services.traffic(request.auth, code, *_period(since, until))
    data["hall"] = data["hall"].code
    return _jsonable(data)


@router.get("/halls/{code}/staffing-plan", response={200: dict})
def staffing_plan(request, code: str, day: date, online_share: float = 0.0):
    data = services.staffing_for_day(request.auth, code, day, online_share)
    data["hall"] = data["hall"].code
    return _jsonable(data)


@router.get("/staffing", response={200: dict})
def staffing(request, arrivals_per_hour: float, service_minutes: float, target_seconds: float,
             service_level: float, windows: int | None = None):
    try:
        level = rules.parse_service_level(service_level)
        fig = (rules.queue_figures(windows, arrivals_per_hour, service_minutes, target_seconds) if windows
               else rules.windows_needed(arrivals_per_hour, service_minutes, target_seconds, level))
    except rules.RuleError as exc:
        raise DomainError({exc.field: str(exc)}) from None
    return fig.as_dict()


@router.post("/inspections", response={201: dict})
def inspection(request, body: InspectionIn):
    i = services.do_record_inspection(request.auth, body.hall_code, body.clerk, body.results, body.note)
    return 201, {"id": i.pk, "score": i.score}


@router.post("/clerk-records", response={201: dict})
def clerk_record(request, body: TrainingIn):
    r = services.do_record_training(request.auth, body.clerk, body.kind, body.title, body.on, body.valid_until,
                                    body.hours, body.issuer)
    return 201, {"id": r.pk, "kind": r.kind}


@router.get("/clerks/{username}", response={200: dict})
def clerk(request, username: str, since: date | None = None, until: date | None = None):
    p = services.clerk_profile(request.auth, username, *_period(since, until))
    return _jsonable({"username": p["clerk"].username, "name": p["clerk"].name, "stats": p["stats"],
                      "inspections": [{"at": i.at, "score": i.score, "results": i.results} for i in p["inspections"]],
                      "records": [{"kind": r.kind, "title": r.title, "on": r.on, "valid_until": r.valid_until}
                                  for r in p["records"]],
                      "complaints": [{"order_no": o.order_no, "text": o.text[:200], "accepted_at": o.accepted_at}
                                     for o in p["complaints"]]})


# ---------------------------------------------------------------- public self-service
@router.post("/public/self-service", response={200: dict}, auth=None)
def self_service(request, body: VerifyIn):
    customer = selfservice.verify(body.account_no, body.phone)
    with translation.override(settings.LANGUAGE_CODE):     # outage titles in Chinese, like every API text
        return _jsonable({"token": selfservice.sign(customer), **selfservice.summary(customer)})

