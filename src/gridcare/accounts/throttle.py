"""Login throttling: too many failures for a username or from one address within the window
locks further attempts until the window passes."""
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import LoginFailure


def client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown")[:64]


def is_locked(username: str, address: str) -> bool:
    since = timezone.now() - timedelta(seconds=settings.GRIDCARE_LOGIN_WINDOW_SECONDS)
    limit = settings.GRIDCARE_LOGIN_MAX_FAILURES
    recent = LoginFailure.objects.filter(at__gte=since)
    return (recent.filter(username=username.lower()).count() >= limit
            or recent.filter(address=address).count() >= limit * 4)


def record_failure(username: str, address: str):
    LoginFailure.objects.create(username=username.lower()[:150], address=address)


def clear(username: str):
    LoginFailure.objects.filter(username=username.lower()).delete()


LOCKED_MESSAGE = "登录失败次数过多，请15分钟后再试。"
