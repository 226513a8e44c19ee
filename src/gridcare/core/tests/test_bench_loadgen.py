"""The benchmark's load generator places its clients' keep-alive connections one per worker of a real
`gridcare serve` (bench/loadgen.py, `spread_over`): without that, Granian's chance placement sometimes put
all of a run's clients on one worker, or left one unanswered (bench/README.md, "Clients and workers")."""
import os
import signal
import sys
from pathlib import Path

import pytest

from .test_serve import _free_port, start_serving

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def loadgen(monkeypatch):
    if not (ROOT / "bench" / "loadgen.py").exists():
        pytest.skip("bench/ is not part of this installation")
    if not Path("/proc/net/tcp").exists():
        pytest.skip("connection placement is read from Linux's /proc")
    monkeypatch.syspath_prepend(str(ROOT))
    from bench import loadgen

    return loadgen


def test_closed_loop_places_one_connection_per_worker(loadgen, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDCARE_WEB_SERVER")}
    env["GRIDCARE_VAR_DIR"] = str(tmp_path)
    cmd = [str(Path(sys.executable).parent / "gridcare"), "serve", "--no-worker", "--port", str(port),
           "--workers", "3", "--threads", "1", "--no-access-log"]
    proc = start_serving(cmd, env, port, tmp_path / "serve.log")
    try:
        result = loadgen.closed_loop("127.0.0.1", port, "/healthz", [(None, {})] * 400, method="GET",
                                     concurrency=3, warmup=0, duration=1, expect=(200,), spread_over={proc.pid})
        placement = result["connections_per_worker"]
        assert placement["spread"] and placement["per_worker"] == [1, 1, 1], placement
        assert result["statuses"] == {"200": result["completed"]} and result["completed"] > 0
        # and placing is all it does: a client that kept its connection was answered all along
        assert result["ok"] == result["completed"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=40)
