"""The task worker plus the sweep scheduler, in one process for single-host installs.

Sweeps are enqueued on the task queue by `gridcare scheduler` logic (core/scheduler.py); the actual
work runs in `db_worker` (or the production backend's workers)."""
import os
import subprocess
import sys
import threading

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "启动后台任务进程（含定时调度）"

    def handle(self, *args, **opts):
        from gridcare.core.scheduler import run_forever

        bin_dir = os.path.dirname(sys.executable)
        worker = subprocess.Popen([os.path.join(bin_dir, "gridcare"), "db_worker", "--interval", "1"])
        t = threading.Thread(target=run_forever, daemon=True)
        t.start()
        try:
            worker.wait()
        except KeyboardInterrupt:
            worker.terminate()
