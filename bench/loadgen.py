"""A small HTTP load generator from the standard library: threads with keep-alive HTTP/1.1 connections
on plain sockets (`_Client`), latencies measured at the client.

* `closed_loop`: N clients each send the next request as soon as the previous answer arrived — the
  server's capacity at that concurrency, with the latency the clients saw.
* `open_loop`: requests are due at a fixed rate whatever the server does; latency counts from when a
  request was due, not from when a free client got round to sending it, so a server that falls behind
  shows it (no "coordinated omission").

Both take a bounded list of prepared requests (body, headers) and stop when it runs out.

Both first call `freeze_heap()`: the benchmark process has Django set up and its data prepared (a few hundred
thousand objects), and a full collection of Python's cyclic garbage collector over them stops every client
thread for tens of milliseconds, which the clients would count as server latency.

`closed_loop(..., spread_over={server_pid})` first places the clients' keep-alive connections evenly over
the worker processes of that server (Linux: read from /proc). Granian hands each new connection to a
worker by chance, whatever that worker is doing, and a keep-alive connection stays where it landed: three
clients on three single-threaded workers sometimes all land on one, and that run then measures one worker,
at about half the rate, with the machine half idle (the bursts of ≈ 185–200/s in bench/README.md).
"""
from __future__ import annotations

import gc
import itertools
import math
import os
import socket
import threading
import time
from collections import Counter


def freeze_heap() -> None:
    """Move every object this process holds now out of the cyclic collector's reach (`gc.freeze()`), so
    that no full collection over the benchmark's own set-up pauses the clients while they measure. Objects
    made later are collected as usual."""
    gc.collect()
    gc.freeze()


def percentiles(values: list[float], points=(50, 90, 95, 99)) -> dict:
    """Nearest-rank percentiles of latencies in seconds, returned in milliseconds (plus mean, max)."""
    if not values:
        return {**{f"p{p}": None for p in points}, "mean": None, "max": None}
    data = sorted(values)
    n = len(data)
    out = {f"p{p}": round(data[max(math.ceil(p / 100 * n) - 1, 0)] * 1000, 2) for p in points}
    out["mean"] = round(sum(data) / n * 1000, 2)
    out["max"] = round(data[-1] * 1000, 2)
    return out


class _Closed(ConnectionError):
    """The server closed a keep-alive connection before answering (it had timed it out)."""


class _Client:
    """One keep-alive HTTP/1.1 connection on a plain socket: the request goes out as one block of bytes and
    the answer is read by its Content-Length (or its chunks). The load generator runs on the cores it
    measures, so what it spends per request is taken from the server; `http.client` builds header
    objects and parses every answer's headers with the email parser (what each costs per request:
    `python -m bench.run percall`, bench/README.md)."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = None
        self._buf = b""

    def send(self, method, path, body, headers) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._buf = b""
            try:
                self.sock.sendall(data)
                status, payload, close = self._response(method)
            except (_Closed, ConnectionResetError, BrokenPipeError):
                # a keep-alive connection the server had already closed: reconnect once
                self.close()
                if attempt == 2:
                    raise
                continue
            if close:
                self.close()
            return status, payload
        raise AssertionError("unreachable")

    def _more(self) -> bytes:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise _Closed("connection closed by the server")
        return chunk

    def _take(self, buf: bytes, n: int) -> tuple[bytes, bytes]:
        while len(buf) < n:
            buf += self._more()
        return buf[:n], buf[n:]

    def _line(self, buf: bytes) -> tuple[bytes, bytes]:
        while (end := buf.find(b"\r\n")) < 0:
            buf += self._more()
        return buf[:end], buf[end + 2:]

    def _response(self, method) -> tuple[int, bytes, bool]:
        buf = self._buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._more()
        head, buf = buf[:end].decode("latin-1").split("\r\n"), buf[end + 4:]
        status = int(head[0].split(" ", 2)[1])
        fields = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        close = fields.get("connection", "").lower() == "close"
        if method == "HEAD" or status in (204, 304) or status < 200:
            payload = b""
        elif "content-length" in fields:
            payload, buf = self._take(buf, int(fields["content-length"]))
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size_line, buf = self._line(buf)
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    while True:  # trailer fields up to the empty line
                        trailer, buf = self._line(buf)
                        if not trailer:
                            break
                    break
                part, buf = self._take(buf, size + 2)
                parts.append(part[:-2])
            payload = b"".join(parts)
        else:  # no length: the body runs until the server closes
            chunks = [buf]
            while chunk := self.sock.recv(262144):
                chunks.append(chunk)
            payload, buf, close = b"".join(chunks), b"", True
        self._buf = buf
        return status, payload, close

    def local_port(self) -> int | None:
        return self.sock.getsockname()[1] if self.sock is not None else None

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            self._buf = b""


def _server_sockets(server_port: int) -> dict[int, str]:
    """{client port: socket inode} of the server-side ends of loopback TCP connections to `server_port`."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table, encoding="ascii").read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == server_port:
                out[int(remote.rsplit(":", 1)[1], 16)] = inode
    return out


def _workers(roots: set[int]) -> list[int]:
    """The leaf processes of the server's process trees (the web server's workers)."""
    from .sysinfo import _proc_table, descendants

    table = _proc_table()
    tree = descendants(set(roots), table)
    parents = {table[pid][0] for pid in tree}
    return sorted(pid for pid in tree if pid not in parents)


def _owners(workers: list[int]) -> dict[str, int]:
    """{socket inode: worker pid} of the sockets the workers hold open."""
    out = {}
    for pid in workers:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                out[target[8:-1]] = pid
    return out


def spread(clients: list[_Client], port: int, roots: set[int], send_one, attempts: int = 40) -> dict:
    """Place the clients' keep-alive connections one per worker (as evenly as their numbers allow): each
    client sends one request (`send_one(client)`, so the server has accepted its connection), the worker
    holding it is read from /proc, and a client on an over-full worker reconnects, up to `attempts`
    rounds. Returns {"per_worker": [connections on each worker], "rounds": n, "spread": bool}; a placement
    that cannot be read (not Linux, workers not ours, a server that closes every connection) is reported
    with "per_worker": None."""
    workers = _workers(roots)
    if not workers or not os.path.isdir("/proc/net"):
        return {"per_worker": None, "rounds": 0, "spread": False}
    cap = -(-len(clients) // len(workers))  # ceil
    rounds = 0
    for client in clients:
        send_one(client)
    if any(c.local_port() is None for c in clients):  # the server closes connections (no keep-alive)
        return {"per_worker": None, "rounds": 0, "spread": False, "keep_alive": False}
    while True:
        sockets, owners = _server_sockets(port), _owners(workers)
        where = [owners.get(sockets.get(c.local_port())) for c in clients]
        load = {w: where.count(w) for w in workers}
        over = [c for c, w in zip(clients, where) if w is None or load[w] > cap]
        if not over or rounds >= attempts:
            return {"per_worker": sorted(load.values(), reverse=True), "rounds": rounds, "spread": not over}
        rounds += 1
        # a worker still loading the application accepts nothing yet: give it time, more with every round
        time.sleep(min(0.02 * rounds, 0.5))
        # move one client off each over-full worker (the first found), then look again
        moved = set()
        for c, w in zip(clients, where):
            if (w is None or load[w] > cap) and w not in moved:
                moved.add(w)
                c.close()
                send_one(c)


def _summary(samples, window, started_sent, expect) -> dict:
    """samples: (t_done, latency, status) for requests completed inside the window."""
    begin, end = window
    duration = end - begin
    ok = [lat for t, lat, status in samples if status in expect]
    statuses = Counter(str(status) for _t, _l, status in samples)
    per_second = Counter(int(t - begin) for t, _l, status in samples if status in expect)
    series = [per_second.get(i, 0) for i in range(int(duration))]
    return {"duration_s": round(duration, 2), "completed": len(samples), "ok": len(ok),
            "throughput_per_s": round(len(ok) / duration, 1) if duration > 0 else None,
            "statuses": dict(statuses), "sent_total": started_sent,
            "worst_second": min(series) if series else None, "best_second": max(series) if series else None,
            "per_second": series,
            "latency_ms": percentiles(ok)}


def closed_loop(host: str, port: int, path: str, requests: list[tuple[bytes, dict]], *, concurrency: int,
                warmup: float, duration: float, method: str = "POST", timeout: float = 30,
                expect=(200, 201), spread_over: set[int] | None = None) -> dict:
    """`concurrency` clients in a loop for warmup + duration seconds; figures over the last `duration`.
    `spread_over`: the server's root pids; its workers get the clients' connections evenly (`spread`),
    with the requests that takes coming first from `requests` (before the warm-up)."""
    freeze_heap()
    counter = itertools.count()
    clients = [_Client(host, port, timeout) for _ in range(concurrency)]
    placement = None
    if spread_over:
        def send_one(client):
            i = next(counter)
            if i < len(requests):
                client.send(method, path, *requests[i])

        placement = spread(clients, port, spread_over, send_one)
    start = time.perf_counter() + 0.2
    window = (start + warmup, start + warmup + duration)
    lock, samples = threading.Lock(), []

    def worker(client):
        mine = []
        while time.perf_counter() < start:
            time.sleep(0.001)
        while True:
            i = next(counter)
            if i >= len(requests) or time.perf_counter() >= window[1]:
                break
            body, headers = requests[i]
            t0 = time.perf_counter()
            try:
                status, _ = client.send(method, path, body, headers)
            except OSError as exc:
                status = type(exc).__name__
                client.close()
            t1 = time.perf_counter()
            if window[0] <= t1 < window[1]:
                mine.append((t1, t1 - t0, status))
        client.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = min(next(counter), len(requests))
    ran_out = sent >= len(requests)
    # when the prepared requests ran out early, the window ends with the last answer
    end = min(window[1], max((s[0] for s in samples), default=window[1])) if ran_out else window[1]
    result = _summary(samples, (window[0], max(end, window[0] + 1e-3)), sent, expect)
    result.update({"mode": "closed loop", "concurrency": concurrency, "warmup_s": warmup,
                   "ran_out_of_requests": ran_out})
    if placement is not None:
        result["connections_per_worker"] = placement
    return result


def open_loop(host: str, port: int, path: str, requests: list[tuple[bytes, dict]], *, rate: float,
              duration: float, warmup: float = 2.0, clients: int = 32, method: str = "POST", timeout: float = 30,
              expect=(200, 201), give_up_lag: float = 5.0) -> dict:
    """Requests due every 1/rate seconds for warmup + duration; latency from the due time. Stops early
    when the requests being sent are more than `give_up_lag` seconds late (the server cannot keep up)."""
    freeze_heap()
    counter = itertools.count()
    start = time.perf_counter() + 0.3
    window = (start + warmup, start + warmup + duration)
    total = min(len(requests), int(rate * (warmup + duration)))
    lock, samples = threading.Lock(), []
    gave_up = threading.Event()
    worst_lag = [0.0]

    def worker():
        client, mine, lag = _Client(host, port, timeout), [], 0.0
        while not gave_up.is_set():
            i = next(counter)
            if i >= total:
                break
            due = start + i / rate
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            elif now - due > give_up_lag:
                gave_up.set()
                break
            lag = max(lag, time.perf_counter() - due)
            body, headers = requests[i]
            try:
                status, _ = client.send(method, path, body, headers)
            except OSError as exc:
                status = type(exc).__name__
                client.close()
            mine.append((time.perf_counter(), due, status))
        client.close()
        with lock:
            samples.extend(mine)
            worst_lag[0] = max(worst_lag[0], lag)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = min(next(counter), total)
    # throughput: answers that arrived after the warm-up, over the time until the last one; latency:
    # of the requests that were due after the warm-up, from their due time
    last = max((t for t, _due, _s in samples), default=window[1])
    end = max(last, window[0] + 1e-3)
    done = [(t, t - due, status) for t, due, status in samples if t >= window[0]]
    result = _summary(done, (window[0], end), sent, expect)
    due_late = [t - due for t, due, status in samples if due >= window[0] and status in expect]
    basis = "requests due after the warm-up"
    if not due_late:  # gave up before any of them was answered: all answers, warm-up included
        due_late = [t - due for t, due, status in samples if status in expect]
        basis = "all answered requests (none due after the warm-up was answered)"
    result["latency_ms"] = percentiles(due_late)
    result.update({"mode": "open loop", "offered_per_s": rate, "clients": clients, "warmup_s": warmup,
                   "latency_basis": basis, "gave_up": gave_up.is_set(),
                   "worst_send_lag_ms": round(worst_lag[0] * 1000, 1)})
    return result
