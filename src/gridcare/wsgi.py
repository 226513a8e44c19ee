"""The WSGI application (`gridcare serve` runs it in Granian or gunicorn workers).

**Two middleware stacks.** A machine client of the API (`Authorization: Bearer …`, no cookie at all) has no
session, no signed-in user, no CSRF cookie and no flash messages, so the middleware that manage those
(`TOKEN_CLIENT_SKIPS`) have nothing to do for it, but still run on every request (what the intake gained,
together with core.pgbackend's deferred writes: bench/README.md, "Fewer round trips"). Such requests go to a
second handler built from the same `MIDDLEWARE` without them; everything else (pages, browsers calling the
API with their session, static files) goes through the full stack. The answers are the same
(`core/tests/test_wsgi.py`) but for one header: the full stack's `Vary: Cookie`, there because the audit
middleware looks up the session's user; a response to a request with an `Authorization` header is not
stored by a shared cache anyway.

**Garbage collector.** Once Django is set up, the URL configuration is loaded (every view, API router and
schema with it) and everything that exists at that point is moved out of the cyclic garbage collector's
reach (`gc.freeze()`). Those objects live as long as the worker, but each full collection would otherwise
walk all of them again: about 220,000 objects, a pause of about 90 ms measured in a Granian worker, which
every request in flight on that worker waits out (the hall's ticket-issue p99 at 50/s came from such
pauses, docs/hall.md).
"""
import gc
import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcare.settings")

TOKEN_CLIENT_SKIPS = (
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /api/ is never a static file
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # the API's views are CSRF-exempt; no cookie to rotate
    "django.contrib.auth.middleware.AuthenticationMiddleware",  # the token authentication sets request.user
    "django.contrib.messages.middleware.MessageMiddleware",
)


class TokenClientHandler(WSGIHandler):
    """Django's WSGI handler with `MIDDLEWARE` minus `TOKEN_CLIENT_SKIPS`."""

    def load_middleware(self, is_async=False):
        from django.conf import settings

        # BaseHandler.load_middleware reads settings.MIDDLEWARE; it is narrowed only while this handler is
        # built, once, at start
        full = settings.MIDDLEWARE
        self.middleware = settings.MIDDLEWARE = [m for m in full if m not in TOKEN_CLIENT_SKIPS]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def is_token_client(environ) -> bool:
    return (environ.get("PATH_INFO", "").startswith("/api/") and "HTTP_COOKIE" not in environ
            and environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer ")


class Application:
    def __init__(self):
        self.full = get_wsgi_application()
        self.token_clients = TokenClientHandler()

    def __call__(self, environ, start_response):
        handler = self.token_clients if is_token_client(environ) else self.full
        return handler(environ, start_response)


application = Application()


def _load_and_freeze():
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL modules, views and the API's routers
    gc.collect()
    gc.freeze()


_load_and_freeze()
