"""`gridcare notify deliver [--worker ID] [--max-seconds N] [--lease-seconds N] [--batch N] [--loop]`: a
delivery worker for outbound customer messages (the db_worker task does the same; this one is for
dedicated processes and the benchmark)."""
import json
import time

from gridcare.core.command_support import ScriptCommand


class Command(ScriptCommand):
    help = "发送待发的客户消息（短信/微信/邮件/网关），可多进程同时运行"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["deliver"])
        parser.add_argument("--worker", help="工作进程标识")
        parser.add_argument("--max-seconds", type=float)
        parser.add_argument("--lease-seconds", type=float)
        parser.add_argument("--batch", type=int)
        parser.add_argument("--loop", action="store_true", help="发送完后继续等待新消息（直到 --max-seconds）")

    def handle(self, *args, action, worker, max_seconds, lease_seconds, batch, loop, **options):
        from gridcare.notifications.delivery import run

        started, total = time.monotonic(), {"claimed": 0, "sent": 0, "failed": 0, "retry": 0, "rounds": 0}
        while True:
            left = None if max_seconds is None else max_seconds - (time.monotonic() - started)
            if left is not None and left <= 0:
                break
            stats = run(worker=worker, batch=batch, lease_seconds=lease_seconds, max_seconds=left)
            for k, v in stats.items():
                total[k] += v
            if not loop:
                break
            if not stats["claimed"]:
                time.sleep(0.2)
        self.stdout.write(json.dumps(total))
