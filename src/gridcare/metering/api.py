"""REST API of metering: routes, reads (manual entry through VEE), exceptions and their resolution."""
from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from gridcare.accounts.permissions import require, scoped
from gridcare.core.api_support import DomainError
from gridcare.customers.models import Customer

from . import services
from .models import ExceptionStatus, ReadException, ReadingRoute

router = Router(tags=["抄表计量"])


class ReadIn(Schema):
    account_no: str
    meter_no: str
    read_at: datetime
    # "register" would shadow pydantic's BaseModel attribute; the JSON key stays "register"
    register_name: str = Field("total", alias="register")
    value_kwh: str | int | float
    source: str = "manual"


def read_out(r) -> dict:
    return {"id": r.pk, "account_no": r.customer.account_no, "meter_no": r.meter.meter_no, "read_at": r.read_at,
            "period": r.period.isoformat()[:7], "register": r.register, "value_kwh": str(r.value_kwh),
            "consumption_kwh": None if r.consumption_kwh is None else str(r.consumption_kwh), "status": r.status,
            "rollover": r.rollover, "exceptions": [{"id": e.pk, "rule": e.rule, "message": e.message}
                                                   for e in r.exceptions.all()]}


@router.post("/reads", response={201: dict})
def post_read(request, payload: ReadIn):
    c = Customer.objects.select_related("unit").filter(account_no=payload.account_no).first()
    if c is None:
        raise DomainError({"account_no": f"户号 {payload.account_no} 不存在"})
    if payload.register_name not in ("total", "sharp", "peak", "flat", "valley"):
        raise DomainError({"register": "示数类型应为 total/sharp/peak/flat/valley"})
    if payload.source not in ("ami", "manual", "estimate"):
        raise DomainError({"source": "来源应为 ami/manual/estimate"})
    read = services.do_record_read(request.user, c, payload.meter_no, payload.read_at, payload.value_kwh,
                                   payload.register_name, payload.source)
    return Status(201, read_out(read))


@router.get("/routes")
def list_routes(request):
    require(request.user, "metering.read")
    qs = scoped(ReadingRoute.objects.select_related("reader", "unit").prefetch_related("transformer_areas"), request.user)
    return [{"code": w["route"].code, "name": w["route"].name, "reader": getattr(w["route"].reader, "username", None),
             "reading_day": w["route"].reading_day, "cycle_months": w["route"].cycle_months, "meters": w["meters"]}
            for w in services.route_workload(qs[:500])]


@router.get("/exceptions")
def list_exceptions(request, status: str = "open", rule: str | None = None):
    require(request.user, "billing.view") if request.user.role != "reader" else require(request.user, "metering.read")
    qs = scoped(ReadException.objects.select_related("customer"), request.user).filter(status=status)
    if rule:
        qs = qs.filter(rule=rule)
    return [{"id": e.pk, "account_no": e.customer.account_no, "rule": e.rule, "rule_label": e.get_rule_display(),
             "message": e.message, "period": e.period, "status": e.status} for e in qs.order_by("id")[:500]]


class ResolveIn(Schema):
    resolution: str
    reason: str
    estimate_kwh: str | None = None


@router.post("/exceptions/{exc_id}/resolve")
def resolve(request, exc_id: int, payload: ResolveIn):
    exc = get_object_or_404(ReadException.objects.select_related("unit", "read"), pk=exc_id)
    services.do_resolve(request.user, exc, payload.resolution, payload.reason, payload.estimate_kwh)
    return {"id": exc.pk, "status": exc.status, "resolution": exc.resolution, "reason": exc.reason}


@router.get("/schedule")
def reading_schedule(request, period: str | None = None):
    """The reading plan of a period (YYYY-MM, default last month): route, reader, reading date, meters."""
    import datetime as dt

    from django.utils import timezone

    require(request.user, "metering.read")
    if period:
        try:
            month = dt.date.fromisoformat(period[:7] + "-01")
        except ValueError:
            raise DomainError({"period": "账期格式应为 YYYY-MM"}) from None
    else:
        month = services.add_months(timezone.localdate().replace(day=1), -1)
    qs = scoped(ReadingRoute.objects.select_related("reader", "unit").prefetch_related("transformer_areas"), request.user)
    return [{**r, "reading_date": r["reading_date"].isoformat()} for r in services.schedule(qs[:500], month)]
