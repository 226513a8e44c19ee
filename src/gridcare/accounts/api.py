from django.contrib.auth import authenticate
from ninja import Router, Schema, Status

from gridcare.core.api_support import DomainError

from . import throttle
from .models import ApiToken, OrgUnit
from .permissions import scope_path

router = Router(tags=["组织与人员"])


class TokenIn(Schema):
    username: str
    password: str
    name: str = "api"


class TokenOut(Schema):
    token: str
    username: str
    role: str


class UnitOut(Schema):
    code: str
    name: str
    kind: str
    parent_code: str | None
    path: str


class MeOut(Schema):
    username: str
    name: str
    role: str
    role_label: str
    unit_code: str | None
    scope: str | None


@router.post("/auth/token", auth=None, response={200: TokenOut, 401: dict, 429: dict})
def issue_token(request, payload: TokenIn):
    """Exchange a username and password for an API token (throttled like the login page)."""
    address = throttle.client_address(request)
    if throttle.is_locked(payload.username, address):
        return Status(429, {"detail": throttle.LOCKED_MESSAGE})
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        throttle.record_failure(payload.username, address)
        return Status(401, {"detail": "用户名或密码错误"})
    throttle.clear(payload.username)
    _, key = ApiToken.issue(user, payload.name)
    return Status(200, {"token": key, "username": user.username, "role": user.role})


@router.get("/me", response=MeOut)
def me(request):
    u = request.user
    return {"username": u.username, "name": u.name, "role": u.role, "role_label": u.get_role_display(),
            "unit_code": u.unit.code if u.unit_id else None, "scope": scope_path(u)}


@router.get("/units", response=list[UnitOut])
def list_units(request):
    prefix = scope_path(request.user)
    if prefix is None:
        raise DomainError("您没有所属单位", status=403)
    qs = OrgUnit.objects.select_related("parent").filter(path__startswith=prefix) if prefix != "/" else \
        OrgUnit.objects.select_related("parent")
    return [{"code": u.code, "name": u.name, "kind": u.kind, "parent_code": u.parent.code if u.parent_id else None,
             "path": u.path} for u in qs]
