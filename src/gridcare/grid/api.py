from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from gridcare.accounts.permissions import require, scoped

from .models import Feeder, TransformerArea

router = Router(tags=["电网档案"])


class TaiquOut(Schema):
    code: str
    name: str
    feeder_code: str
    substation_code: str
    unit_code: str
    area_kind: str
    manager: str | None
    capacity_kva: int | None
    customers: int | None = None


class FeederOut(Schema):
    code: str
    name: str
    substation_code: str
    unit_code: str


def _taiqu(t, customers=None):
    return {"code": t.code, "name": t.name, "feeder_code": t.feeder.code, "substation_code": t.feeder.substation.code,
            "unit_code": t.unit.code, "area_kind": t.area_kind, "manager": t.manager.username if t.manager else None,
            "capacity_kva": t.capacity_kva, "customers": customers}


@router.get("/feeders", response=list[FeederOut])
def list_feeders(request):
    require(request.user, "grid.view")
    qs = scoped(Feeder.objects.select_related("substation", "unit"), request.user)
    return [{"code": f.code, "name": f.name, "substation_code": f.substation.code, "unit_code": f.unit.code} for f in qs]


@router.get("/taiqu", response=list[TaiquOut])
def list_taiqu(request, feeder: str | None = None):
    require(request.user, "grid.view")
    qs = scoped(TransformerArea.objects.select_related("feeder__substation", "unit", "manager"), request.user)
    if feeder:
        qs = qs.filter(feeder__code=feeder)
    return [_taiqu(t) for t in qs[:5000]]


@router.get("/taiqu/{code}", response=TaiquOut)
def get_taiqu(request, code: str):
    t = get_object_or_404(TransformerArea.objects.select_related("feeder__substation", "unit", "manager"), code=code)
    require(request.user, "grid.view", t.unit)
    return _taiqu(t, customers=t.customers.count())
