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
    assert facts["app"] == "WSGIHandler"
    # the URL configuration (and with it the API's routers and schemas) is loaded before the first request
    assert facts["api_loaded"]
    # what Django and the URL configuration loaded is frozen: a full collection no longer walks it
    assert facts["frozen"] > 50_000
    assert facts["tracked"] < facts["frozen"] / 10
