"""Run the sweep scheduler: enqueues every registered periodic task on the task queue when it is due.
Run exactly one per installation; the workers (`gridcare db_worker`, or the production backend's) do the work."""
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "运行定时调度（把SLA扫描、敏感客户扫描等定时任务投递到任务队列）"

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="列出已登记的定时任务")
        parser.add_argument("--once", action="store_true", help="把所有定时任务各投递一次后退出")

    def handle(self, *args, **opts):
        from django.utils.module_loading import import_string

        from gridcare.core.scheduler import SCHEDULE, run_forever

        if opts["list"]:
            for name, every, path in SCHEDULE:
                self.stdout.write(f"{name}\t每{every}秒\t{path}")
            return
        if opts["once"]:
            for name, _every, path in SCHEDULE:
                result = import_string(path).enqueue()
                self.stdout.write(f"已投递 {name}: {result.id}")
            return
        run_forever()
