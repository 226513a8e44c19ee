"""Serve GridCare: the web server and, unless --no-worker, a task worker beside it (demo/single host).
Production runs the same web server command and `gridcare db_worker` (or the configured backend's worker)
as services.

The web server is Granian (HTTP in Rust, the Django application in Python worker processes) by default;
`--server gunicorn` runs gunicorn's sync workers instead. In paired runs on the 2-core bench machine the bare
intake cost Granian 1.24 and 1.77 ms of server CPU per request against gunicorn's 2.10 and 2.04 ms
(bench/README.md, "Granian or gunicorn"). Granian keeps its own default backpressure (the listen backlog
shared out among the workers). Its backpressure caps the connections a worker holds, not the requests it
runs: with it set to the thread count (as here from 2026-12-05 to 12-06) an idle keep-alive connection —
a browser's, a reverse proxy's pool — kept every other client of that worker waiting until Granian closed
it (30 s), and in the benchmark a client whose connection landed on a worker that already had one was
never answered (core/tests/test_serve.py, bench/README.md). The access log is on unless --no-access-log (or
GRIDCARE_ACCESS_LOG=0), for a reverse proxy that keeps its own (the benchmark runs without it)."""
import os
import signal
import subprocess
import sys

from django.core.management.base import BaseCommand, CommandError

SERVERS = ("granian", "gunicorn")
KILL_AFTER = 20  # seconds a worker (Granian or gunicorn) gets to finish its requests when stopping


class Command(BaseCommand):
    help = "启动Web服务（Granian，或 gunicorn）和后台任务进程"

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("GRIDCARE_HOST", "127.0.0.1"))
        # Processes, not threads: a request is CPU-bound Python, and threads of one process queue on the
        # GIL (measured in bench/bench_workorders.py: 3 processes x 1 thread take about 1.7 times the
        # intakes per second of 2 x 4 on the 2-core machine, with a third of the p99 latency).
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("GRIDCARE_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("GRIDCARE_WEB_THREADS", "1")))
        parser.add_argument("--no-worker", action="store_true", help="不启动后台任务进程")
        parser.add_argument("--server", choices=SERVERS,
                            default=os.environ.get("GRIDCARE_WEB_SERVER", "granian"), help="Web服务程序")
        parser.add_argument("--no-access-log", dest="access_log", action="store_false",
                            default=os.environ.get("GRIDCARE_ACCESS_LOG", "1") != "0", help="不输出访问日志")

    def handle(self, *args, **opts):
        if opts["server"] not in SERVERS:  # a default from GRIDCARE_WEB_SERVER is not checked by argparse
            raise CommandError(f"GRIDCARE_WEB_SERVER 只能是 {' 或 '.join(SERVERS)}，而不是 {opts['server']!r}")
        bin_dir = os.path.dirname(sys.executable)
        procs = []
        # Each child runs in a session of its own, so a signal to this command's process group (Ctrl-C, `kill
        # -- -PGID`) reaches only this command, which stops the children in order: Granian's main process
        # then stops its own workers. When its workers got the same signal at the same moment, Granian
        # could take their exit for a crash, respawn them and never finish shutting down.
        if not opts["no_worker"]:
            procs.append(subprocess.Popen([os.path.join(bin_dir, "gridcare"), "run_worker"], start_new_session=True))
        web = subprocess.Popen(web_command(bin_dir, opts), start_new_session=True)
        procs.append(web)
        self.stdout.write(f"GridCare 已启动: http://{opts['host']}:{opts['port']}/  (API 文档 /api/docs)")

        def stop(*_):
            for p in procs:
                if p.poll() is None:
                    p.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            web.wait()
        finally:
            stop()
            for p in procs:
                try:
                    p.wait(timeout=KILL_AFTER + 10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)  # the child and whatever it started
                    p.wait()


def web_command(bin_dir: str, opts: dict) -> list[str]:
    if opts["server"] == "gunicorn":
        return [os.path.join(bin_dir, "gunicorn"), "gridcare.wsgi:application",
                "--bind", f"{opts['host']}:{opts['port']}", "--workers", str(opts["workers"]),
                "--threads", str(opts["threads"]), "--timeout", "120", "--graceful-timeout", str(KILL_AFTER)] + (["--access-logfile", "-"] if opts["access_log"] else [])
    return [os.path.join(bin_dir, "granian"), "--interface", "wsgi", "gridcare.wsgi:application",
            "--host", opts["host"], "--port", str(opts["port"]), "--workers", str(opts["workers"]),
            "--blocking-threads", str(opts["threads"]),
            "--no-ws", "--respawn-failed-workers", "--workers-kill-timeout", str(KILL_AFTER),
            "--access-log" if opts["access_log"] else "--no-access-log"]
