"""Shared pieces of the REST API: token/session authentication that sets the audit actor, and error
handlers that answer in Chinese with field-level messages."""
import datetime
import re

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from .audit import set_actor


class DomainError(Exception):
    """A business rule refused the request: 400 with per-field messages ({field: message})."""

    status = 400

    def __init__(self, errors: dict | str, status: int | None = None):
        self.errors = {"__all__": errors} if isinstance(errors, str) else errors
        if status:
            self.status = status
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Conflict(DomainError):
    status = 409


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; resolved by accounts.tokens (one small statement per call)."""

    def authenticate(self, request, token):
        from gridcare.accounts.tokens import resolve

        user = resolve(token)
        if user is None:
            return None
        request.user = user
        set_actor(user, "api")
        return user


class SessionAuth(APIKeyHeader):
    """Signed-in browser sessions (the pages call the API); CSRF is checked by django_auth."""

    param_name = "X-CSRFToken"

    def __call__(self, request):
        if request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("bearer "):
            return None  # a machine client whose token was refused: 401, not a browser's CSRF complaint
        user = django_auth(request)
        if user:
            set_actor(request.user, "web")
        return user

    def authenticate(self, request, key):  # pragma: no cover - __call__ handles it
        return None


api_auth = [TokenAuth(), SessionAuth()]

_PYDANTIC_MESSAGES = {
    "missing": "必填字段",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为true或false",
    "bool_parsing": "应为true或false",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "datetime_parsing": "时间格式不正确，应为ISO 8601",
    "datetime_from_date_parsing": "时间格式不正确，应为ISO 8601",
    "date_from_datetime_parsing": "日期格式不正确，应为YYYY-MM-DD",
    "date_parsing": "日期格式不正确，应为YYYY-MM-DD",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "json_invalid": "JSON格式错误",
    "model_attributes_type": "请求体格式错误",
    "extra_forbidden": "不允许的字段",
    "value_error": "取值不正确",
}


def _field_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "form")]
    return ".".join(parts) or "__all__"


def install_error_handlers(api):
    @api.exception_handler(NinjaValidationError)
    def on_validation(request, exc):
        errors = []
        for err in exc.errors:
            kind = err.get("type", "")
            msg = _PYDANTIC_MESSAGES.get(kind)
            if kind == "value_error" and err.get("ctx", {}).get("error"):
                msg = str(err["ctx"]["error"])
            errors.append({"field": _field_name(err.get("loc", ())), "message": msg or "取值不正确",
                           "type": kind})
        return api.create_response(request, {"detail": "请求数据有误", "errors": errors}, status=422)

    @api.exception_handler(DomainError)
    def on_domain(request, exc):
        errors = [{"field": k, "message": v} for k, v in exc.errors.items()]
        return api.create_response(request, {"detail": errors[0]["message"] if len(errors) == 1 else "请求数据有误",
                                             "errors": errors}, status=exc.status)

    @api.exception_handler(DjangoValidationError)
    def on_django_validation(request, exc):
        if hasattr(exc, "error_dict"):
            errors = [{"field": f, "message": " ".join(m for e in errs for m in e.messages)}
                      for f, errs in exc.error_dict.items()]
        else:
            errors = [{"field": "__all__", "message": m} for m in exc.messages]
        return api.create_response(request, {"detail": "请求数据有误", "errors": errors}, status=400)

    @api.exception_handler(PermissionDenied)
    def on_denied(request, exc):
        return api.create_response(request, {"detail": str(exc) or "无权访问"}, status=403)

    @api.exception_handler(Http404)
    def on_404(request, exc):
        return api.create_response(request, {"detail": not_found_message(str(exc))}, status=404)

    @api.exception_handler(AuthenticationError)
    def on_auth(request, exc):
        return api.create_response(request, {"detail": "未登录或令牌无效"}, status=401)

    @api.exception_handler(HttpError)
    def on_http(request, exc):
        message = str(exc)
        for english, chinese in _NINJA_MESSAGES.items():
            if message.startswith(english):
                message = chinese
        return api.create_response(request, {"detail": message}, status=exc.status_code)


# django-ninja's own refusals, in the user's language
_NINJA_MESSAGES = {
    "CSRF check Failed": "CSRF 校验失败：请刷新页面后重试（程序调用请使用 Authorization: Bearer 令牌）",
    "Cannot parse request body": "请求体无法解析：应为 UTF-8 编码的 JSON",
}
_DJANGO_404 = re.compile(r"^No (\w+) matches the given query\.$")


def not_found_message(message: str) -> str:
    """get_object_or_404's English "No WorkOrder matches the given query." as "工单不存在" (the model's
    verbose name); a message already written for the user is kept."""
    match = _DJANGO_404.match(message or "")
    if not message:
        return "未找到该记录"
    if not match:
        return message
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.object_name == match.group(1):
            return f"{model._meta.verbose_name}不存在"
    return "未找到该记录"


class LocalTimeJSONRenderer(JSONRenderer):
    """Every time in an answer in Asia/Shanghai with its offset (+08:00), whether it was just computed or
    read back from the database (which gives UTC): the same order reads the same in every answer."""

    class encoder_class(NinjaJSONEncoder):
        def default(self, o):
            if isinstance(o, datetime.datetime) and timezone.is_aware(o):
                o = timezone.localtime(o)
            return super().default(o)
