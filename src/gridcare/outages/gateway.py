"""A tiny idempotent SMS gateway on 127.0.0.1 for tests, the benchmark and demos: it accepts the
HTTP channel's JSON (channels.HttpGateway), applies each idempotency key once, and acknowledges a key it
has already applied as a duplicate without applying it again — the contract the exactly-once design
relies on. `applied` holds what a customer would have received; `received` counts every copy posted."""
from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class GatewayState:
    def __init__(self):
        self.lock = threading.Lock()
        self.applied: dict[str, dict] = {}
        self.received: Counter = Counter()
        self.posts = 0
        self.fail_next = 0  # answer 503 to the next N posts (tests of transient failures)

    def accept(self, messages: list[dict]) -> list[dict]:
        out = []
        with self.lock:
            self.posts += 1
            for m in messages:
                key = m.get("idempotency_key") or ""
                self.received[key] += 1
                if key in self.applied:
                    out.append({"idempotency_key": key, "status": "duplicate", "id": self.applied[key]["id"]})
                else:
                    self.applied[key] = {**m, "id": f"gw{len(self.applied) + 1}"}
                    out.append({"idempotency_key": key, "status": "accepted", "id": self.applied[key]["id"]})
        return out

    @property
    def duplicates_received(self) -> int:
        return sum(n - 1 for n in self.received.values() if n > 1)


def make_handler(state: GatewayState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if state.fail_next > 0:
                with state.lock:
                    state.fail_next -= 1
                self._answer(503, {"error": "busy"})
                return
            try:
                payload = json.loads(raw or b"{}")
                messages = payload["messages"] if "messages" in payload else [payload]
            except (ValueError, KeyError, TypeError):
                self._answer(400, {"error": "bad json"})
                return
            self._answer(200, {"results": state.accept(messages)})

        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class Gateway:
    """`with Gateway() as gw:` → gw.url, gw.state; serves in a background thread."""

    def __init__(self, port: int = 0):
        self.state = GatewayState()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self.state))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
