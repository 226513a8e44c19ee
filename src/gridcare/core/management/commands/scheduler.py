"""Run the sweep scheduler: enqueues every registered periodic task on the task queue when it is due.
The workers (`gridcare db_worker`, or the production backend's) do the work. When each task was last
enqueued is kept in the database, so a restart carries on where the last scheduler stopped, and a
second scheduler (another host) does not enqueue a due task twice.

`--set NAME` changes a registered task for this installation (another time of day, another interval,
off or on again, back to the default); running schedulers apply it from their next pass."""
import getpass

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = "运行定时调度（把SLA扫描、敏感客户扫描等定时任务投递到任务队列）；--list 查看，--set 修改某个定时任务"

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="列出已登记的定时任务、执行时间及上次投递时间")
        parser.add_argument("--once", action="store_true", help="把所有启用的定时任务各投递一次后退出（不论是否到期）")
        parser.add_argument("--set", metavar="NAME", help="修改一个定时任务（名称见 --list），配合下面的选项")
        parser.add_argument("--at", metavar="HH:MM", help="与 --set 一起：每天/每周任务的执行时间（当地时间）")
        parser.add_argument("--every", metavar="SECONDS", help="与 --set 一起：按间隔执行的任务的间隔秒数")
        parser.add_argument("--disable", action="store_true", help="与 --set 一起：停用")
        parser.add_argument("--enable", action="store_true", help="与 --set 一起：重新启用")
        parser.add_argument("--reset", action="store_true", help="与 --set 一起：恢复系统默认（启用、默认时间和间隔）")

    def handle(self, *args, **opts):
        from django.utils.module_loading import import_string

        from gridcare.core.models import ScheduledRun
        from gridcare.core.scheduler import SCHEDULE, run_forever

        changes = [k for k in ("at", "every") if opts[k] is not None] + [k for k in ("disable", "enable", "reset") if opts[k]]
        if changes and not opts["set"]:
            raise CommandError(f"--{changes[0]} 须与 --set 定时任务名称 一起使用")
        if opts["set"]:
            return self._set(opts)
        if opts["list"]:
            from gridcare.core.scheduler import describe, effective

            rows = {r.name: r for r in ScheduledRun.objects.all()}
            for e in SCHEDULE:
                row = rows.get(e.name)
                at = row.last_enqueued_at if row else None
                when = timezone.localtime(at).isoformat(timespec="seconds") if at else "从未投递"
                now_entry = effective(e, row.enabled, row.at, row.every_seconds) if row else e
                if now_entry is None:
                    period = f"已停用（原为{describe(e)}）"
                elif now_entry != e:
                    period = f"{describe(now_entry)}（已修改，默认{describe(e)}）"
                else:
                    period = describe(e)
                self.stdout.write(f"{e.name}\t{period}\t上次投递 {when}\t{e.task_path}")
            return
        if opts["once"]:
            disabled = set(ScheduledRun.objects.filter(enabled=False).values_list("name", flat=True))
            now = timezone.now()
            for e in SCHEDULE:
                if e.name in disabled:
                    self.stdout.write(f"已停用，未投递 {e.name}")
                    continue
                result = import_string(e.task_path).enqueue()
                ScheduledRun.objects.update_or_create(name=e.name, defaults={"last_enqueued_at": now,
                                                                             "last_task_id": str(result.id)[:64]})
                self.stdout.write(f"已投递 {e.name}: {result.id}")
            return
        run_forever()

    def _set(self, opts):
        from django.db import transaction

        from gridcare.core.models import ScheduledRun
        from gridcare.core.scheduler import SCHEDULE, check_override, describe, effective, find

        if opts["every"] is not None:
            try:
                opts["every"] = int(opts["every"])
            except ValueError:
                raise CommandError(f"--every 须为整数秒，收到：{opts['every']}") from None
        entry = find(opts["set"])
        if entry is None:
            raise CommandError(f"没有名为 {opts['set']} 的定时任务；已登记的有：{'、'.join(e.name for e in SCHEDULE)}")
        if opts["disable"] and opts["enable"]:
            raise CommandError("--disable 与 --enable 不能同时使用")
        if opts["reset"] and (opts["at"] is not None or opts["every"] is not None or opts["disable"]):
            raise CommandError("--reset 恢复默认，不能与 --at、--every、--disable 同时使用")
        if not any([opts["at"] is not None, opts["every"] is not None, opts["disable"], opts["enable"], opts["reset"]]):
            raise CommandError("--set 须配合 --at、--every、--disable、--enable 或 --reset 之一")
        errors = check_override(entry, opts["at"] or "", opts["every"])
        if opts["at"] == "":
            errors["at"] = "执行时间须为 HH:MM（如 09:30），收到空值"
        if errors:
            raise CommandError("；".join(errors.values()))
        with transaction.atomic():
            row, _ = ScheduledRun.objects.select_for_update().get_or_create(name=entry.name)
            if opts["reset"]:
                row.enabled, row.at, row.every_seconds = True, "", None
            if opts["at"] is not None:
                row.at = "" if opts["at"] == entry.at else opts["at"]
            if opts["every"] is not None:
                row.every_seconds = None if opts["every"] == entry.every_seconds else opts["every"]
            if opts["disable"]:
                row.enabled = False
            if opts["enable"]:
                row.enabled = True
            row.changed_by, row.changed_at = f"命令行（{getpass.getuser()}）"[:150], timezone.now()
            row.save(update_fields=["enabled", "at", "every_seconds", "changed_by", "changed_at"])
        now_entry = effective(entry, row.enabled, row.at, row.every_seconds)
        state = f"已停用（原为{describe(entry)}）" if now_entry is None else describe(now_entry)
        self.stdout.write(f"{entry.name}: {state}，下一轮调度起生效")
