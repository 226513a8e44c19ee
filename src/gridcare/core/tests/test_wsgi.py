"""The WSGI module a server worker loads: the application, the URL configuration loaded with it, and the
objects loaded by then kept out of the cyclic garbage collector's full collections (gridcare/wsgi.py)."""
import json
import os
import subprocess
import sys

PROBE = """
import gc, json, sys
before = len(gc.get_objects())
import gridcare.wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects()), "before": before,
                  "api_loaded": "gridcare.workorders.api" in sys.modules,
                  "app": type(gridcare.wsgi.application).__name__}))
"""


def test_wsgi_loads_urls_and_freezes_what_it_loaded(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="gridcare.settings", GRIDCARE_VAR_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["app"] == "Application"
    # the URL configuration (and with it the API's routers and schemas) is loaded before the first request
    assert facts["api_loaded"]
    # what Django and the URL configuration loaded is frozen: a full collection no longer walks it
    assert facts["frozen"] > 50_000
    assert facts["tracked"] < facts["frozen"] / 10


def _call(handler, path, body=b"", headers=None, method="POST"):
    from io import BytesIO

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
               "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.input": BytesIO(body), "wsgi.url_scheme": "http", "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/json", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "testserver"}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()})
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(response_headers)

    chunks = handler(environ, start_response)
    body = b"".join(chunks)
    chunks.close()
    return seen["status"], seen["headers"], json.loads(body) if body else None


def test_token_clients_get_the_same_answers_from_the_lean_stack(world, monkeypatch):
    """A bearer-token call without cookies goes to the handler without the session/CSRF/auth/messages
    middleware, and gets what the full stack would have answered; everything else goes to the full stack."""
    from django.conf import settings
    from django.core import signals
    from django.db import close_old_connections

    from gridcare.accounts.models import ApiToken
    from gridcare.core.audit import current_actor
    from gridcare.core.models import AuditLog
    from gridcare.workorders.models import WorkOrder
    from gridcare.wsgi import TOKEN_CLIENT_SKIPS, Application, is_token_client

    # as Django's test client does: the test's transaction must survive the end of each request
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        app = Application()
        assert app.token_clients.middleware == [m for m in settings.MIDDLEWARE if m not in TOKEN_CLIENT_SKIPS]
        assert set(TOKEN_CLIENT_SKIPS) <= set(settings.MIDDLEWARE)  # the names still match the full stack
        _, token = ApiToken.issue(world.agent, "wsgi")
        auth = {"Authorization": f"Bearer {token}"}
        assert is_token_client({"PATH_INFO": "/api/workorders/", "HTTP_AUTHORIZATION": f"Bearer {token}"})
        assert not is_token_client({"PATH_INFO": "/api/workorders/", "HTTP_AUTHORIZATION": f"Bearer {token}",
                                    "HTTP_COOKIE": "sessionid=x"})
        assert not is_token_client({"PATH_INFO": "/api/workorders/"})
        assert not is_token_client({"PATH_INFO": "/workorders/", "HTTP_AUTHORIZATION": f"Bearer {token}"})

        answers = {}
        for name, handler in (("full", app.full), ("lean", app.token_clients)):
            body = json.dumps({"order_type": "inquiry", "account_no": world.cust_a.account_no,
                               "text": f"咨询电价（{name}）"}, ensure_ascii=False).encode()
            created = _call(handler, "/api/workorders/", body, {**auth, "Idempotency-Key": f"wsgi-{name}"})
            bad = _call(handler, "/api/workorders/", json.dumps({"order_type": "nope", "text": ""}).encode(), auth)
            refused = _call(handler, "/api/workorders/", b"{}", {"Authorization": "Bearer wrong"})
            answers[name] = (created, bad, refused)
            assert current_actor() == (None, "system")  # the actor does not outlive the request
        for (s_full, h_full, b_full), (s_lean, h_lean, b_lean) in zip(answers["full"], answers["lean"]):
            assert s_full == s_lean
            h_full.pop("Content-Length"), h_lean.pop("Content-Length")
            # the full stack looks at the session (AuditActorMiddleware reads request.user), hence its
            # "Vary: Cookie"; a request with a bearer token is not stored by shared caches either way
            vary_full, vary_lean = h_full.pop("Vary", ""), h_lean.pop("Vary", "")
            assert vary_full.replace(", Cookie", "") == vary_lean and "Cookie" not in vary_lean
            assert h_full == h_lean
            if s_full != 201:
                assert b_full == b_lean
        (status, _h, order), (bad_status, _h2, bad), (refused_status, _h3, _b) = answers["lean"]
        assert status == 201
        kept = WorkOrder.objects.get(order_no=order["order_no"])
        assert kept.text == "咨询电价（lean）"
        created = AuditLog.objects.get(content_type__model="workorder", object_pk=str(kept.pk), action="create")
        assert (created.actor_username, created.source) == (world.agent.username, "api")
        assert bad_status == 400 and {e["field"] for e in bad["errors"]} >= {"order_type", "text"}
        assert refused_status == 401
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)

