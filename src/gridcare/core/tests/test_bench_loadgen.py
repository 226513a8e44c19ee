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


def test_the_client_reads_lengths_chunks_and_closed_connections(loadgen):
    """The load generator's socket client against a server that answers with a Content-Length, in chunks,
    with `Connection: close`, and drops an idle keep-alive connection: every answer is read whole and in
    order, and the client reconnects where it must."""
    import http.server
    import json
    import threading

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, self.headers["X-Trace"], body, self.client_address[1]))
            answer = json.dumps({"got": body.decode(), "path": self.path}).encode()
            if self.path == "/chunked":
                self.send_response(201)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(answer), 7):
                    part = answer[i:i + 7]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_response(400 if self.path == "/bad" else 200)
            self.send_header("Content-Length", str(len(answer)))
            if self.path == "/close":
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = loadgen._Client("127.0.0.1", server.server_address[1], timeout=5)
        answers = [client.send("POST", path, f"正文{i}".encode(), {"X-Trace": str(i)})
                   for i, path in enumerate(["/a", "/chunked", "/bad", "/b", "/close", "/c"])]
        assert [status for status, _ in answers] == [200, 201, 400, 200, 200, 200]
        assert [json.loads(body) for _, body in answers] == [
            {"got": f"正文{i}", "path": p} for i, p in enumerate(["/a", "/chunked", "/bad", "/b", "/close", "/c"])]
        ports = [port for *_rest, port in seen]
        assert len(set(ports[:5])) == 1 and ports[5] != ports[4]  # one connection until the server closed it
        # a keep-alive connection the server dropped while idle: the client reconnects and sends once
        client.sock.shutdown(2)  # as if the server had closed it: the next send finds it dead
        status, body = client.send("POST", "/d", b"again", {"X-Trace": "7"})
        assert status == 200 and json.loads(body)["got"] == "again"
        assert [trace for _p, trace, *_ in seen].count("7") == 1
        client.close()
    finally:
        server.shutdown()
        server.server_close()
