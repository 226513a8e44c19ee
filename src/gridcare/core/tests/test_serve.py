"""`gridcare serve` starts a real web server (Granian by default, gunicorn on request) that answers HTTP."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
        return json.loads(resp.read())


def start_serving(cmd, env, port, log) -> subprocess.Popen:
    """Start `cmd` (a `gridcare serve`) in a session of its own, output to `log`, and wait up to 60 s until
    it answers /healthz."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text("utf-8", "replace")
        try:
            healthz(port)
            return proc
        except OSError:
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                raise AssertionError(log.read_text("utf-8", "replace")) from None
            time.sleep(0.3)


def _serving(port):
    """Processes whose command line names this port (the web server and its workers)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(port).encode() in args or f"127.0.0.1:{port}".encode() in args or f"0.0.0.0:{port}".encode() in args:
            found.append(pid)
    return found


@pytest.mark.parametrize("server,access_log", [("granian", True), ("gunicorn", False)])
def test_serve_answers_http(tmp_path, server, access_log):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDCARE_WEB_SERVER", "GRIDCARE_ACCESS_LOG")}
    env["GRIDCARE_VAR_DIR"] = str(tmp_path)  # its own SQLite file: /healthz needs a database, not its tables
    cmd = [str(Path(sys.executable).parent / "gridcare"), "serve", "--no-worker", "--port", str(port), "--workers", "1",
           "--server", server] + ([] if access_log else ["--no-access-log"])
    log = tmp_path / "serve.log"
    proc = start_serving(cmd, env, port, log)
    try:
        assert healthz(port) == {"status": "ok", "database": "sqlite"}
        # a client's idle keep-alive connection (a browser's, a reverse proxy's pool) must not hold the
        # worker's only thread away from another client: with Granian's backpressure = threads the second
        # request waited until the first connection was closed (30 s, Granian's keep-alive timeout)
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        idle.request("GET", "/healthz")
        assert idle.getresponse().read()
        other = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        other.request("GET", "/healthz")
        answer = other.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["status"] == "ok"
        idle.close()
        other.close()
    finally:
        # the whole process group, as a terminal's Ctrl-C or a service manager stopping it would
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert _serving(port) == [], "a server process outlived `gridcare serve`"
    text = log.read_text("utf-8", "replace")
    assert ("GET /healthz" in text) == access_log, text
    if server == "granian":
        assert "granian" in text.lower()


def test_an_unknown_server_in_the_environment_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(GRIDCARE_VAR_DIR=str(tmp_path), GRIDCARE_WEB_SERVER="uwsgi")
    out = subprocess.run([str(Path(sys.executable).parent / "gridcare"), "serve", "--no-worker", "--port", str(_free_port())],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "GRIDCARE_WEB_SERVER 只能是 granian 或 gunicorn" in out.stderr, out.stderr
