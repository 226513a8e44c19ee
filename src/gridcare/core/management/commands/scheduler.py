"""Run the sweep scheduler: enqueues every registered periodic task on the task queue when it is due.
The workers (`gridcare db_worker`, or the production backend's) do the work. When each task was last
enqueued is kept in the database, so a restart carries on where the last scheduler stopped, and a
second scheduler (another host) does not enqueue a due task twice."""
from django.core.management.base import BaseCommand
from django.utils import timezone


class Command(BaseCommand):
    help = "运行定时调度（把SLA扫描、敏感客户扫描等定时任务投递到任务队列）"

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="列出已登记的定时任务及上次投递时间")
        parser.add_argument("--once", action="store_true", help="把所有定时任务各投递一次后退出（不论是否到期）")

    def handle(self, *args, **opts):
        from django.utils.module_loading import import_string

        from gridcare.core.models import ScheduledRun
        from gridcare.core.scheduler import SCHEDULE, run_forever

        if opts["list"]:
            last = dict(ScheduledRun.objects.values_list("name", "last_enqueued_at"))
            weekdays = "一二三四五六日"
            for e in SCHEDULE:
                at = last.get(e.name)
                when = timezone.localtime(at).isoformat(timespec="seconds") if at else "从未投递"
                if e.at is None:
                    period = f"每{e.every_seconds}秒"
                else:
                    period = (f"每周{weekdays[e.weekday]} " if e.weekday is not None else "每天 ") + e.at
                self.stdout.write(f"{e.name}\t{period}\t上次投递 {when}\t{e.task_path}")
            return
        if opts["once"]:
            now = timezone.now()
            for e in SCHEDULE:
                result = import_string(e.task_path).enqueue()
                ScheduledRun.objects.update_or_create(name=e.name, defaults={"last_enqueued_at": now,
                                                                             "last_task_id": str(result.id)[:64]})
                self.stdout.write(f"已投递 {e.name}: {result.id}")
            return
        run_forever()
