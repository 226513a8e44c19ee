"""`gridcare hall staffing --arrivals-per-hour X --service-minutes M --target-seconds T --service-level L
[--windows N] [--simulate] --format json|text`

A contract for scripts. JSON keys: `windows` (the fewest that meet the target, or the given N),
`offered_load` (erlangs), `probability_wait`, `service_level` (share served within T seconds),
`average_wait_seconds` and `stable` (false when arrivals exceed what the windows can serve; the three
waiting figures are then null), plus `meets_target`, `occupancy` and the inputs. L is a fraction
(0.8 = 80 %) or a percentage (80); see docs/hall.md. Bad input: one Chinese line on stderr, exit 2.
"""
import json
import math

from django.core.management.base import CommandError

from gridcare.core.command_support import ScriptCommand
from gridcare.hall import rules


def _number(text, flag):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise CommandError(f"{flag} 的取值“{text}”不是数字", returncode=2) from None
    if not math.isfinite(value):
        raise CommandError(f"{flag} 的取值“{text}”不是有限数字", returncode=2)
    return value


class Command(ScriptCommand):
    help = "营业厅：staffing 按 Erlang C 计算所需窗口数及等候指标"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="{staffing}")
        st = sub.add_parser("staffing", help="所需窗口数（Erlang C）")
        st.add_argument("--arrivals-per-hour", dest="arrivals", help="每小时到达客户数（>0）")
        st.add_argument("--service-minutes", dest="minutes", help="平均办理时长，分钟（>0）")
        st.add_argument("--target-seconds", dest="target", help="目标等候时间，秒（≥0）")
        st.add_argument("--service-level", dest="level", help="目标达标比例：0.8 或 80 表示 80%%")
        st.add_argument("--windows", dest="windows", help="给定窗口数时计算其指标")
        st.add_argument("--simulate", action="store_true", help="同时给出离散事件仿真的结果（固定种子）")
        st.add_argument("--seed", default="1", help="仿真随机种子")
        st.add_argument("--format", dest="output_format", default="text", help="text（默认）或 json")

    def handle(self, *args, action=None, **opts):
        if action != "staffing":
            raise CommandError("请指定操作：staffing（如 gridcare hall staffing --arrivals-per-hour 40 "
                               "--service-minutes 10 --target-seconds 600 --service-level 0.8 --format json）",
                               returncode=2)
        missing = [f for f, k in (("--arrivals-per-hour", "arrivals"), ("--service-minutes", "minutes"),
                                  ("--target-seconds", "target"), ("--service-level", "level")) if opts.get(k) is None]
        if missing:
            raise CommandError(f"缺少参数：{'、'.join(missing)}", returncode=2)
        fmt = opts["output_format"]
        if fmt not in ("text", "json"):
            raise CommandError(f"--format 只能是 text 或 json，得到“{fmt}”", returncode=2)
        arrivals = _number(opts["arrivals"], "--arrivals-per-hour")
        minutes = _number(opts["minutes"], "--service-minutes")
        target = _number(opts["target"], "--target-seconds")
        windows = None
        if opts.get("windows") is not None:
            try:
                windows = int(opts["windows"])
            except ValueError:
                raise CommandError(f"--windows 的取值“{opts['windows']}”不是整数", returncode=2) from None
            if windows < 1:
                raise CommandError("--windows 必须为正整数", returncode=2)
        try:
            level = rules.parse_service_level(opts["level"])
            if windows is None:
                fig = rules.windows_needed(arrivals, minutes, target, level)
            else:
                fig = rules.queue_figures(windows, arrivals, minutes, target)
        except rules.RuleError as exc:
            raise CommandError(str(exc), returncode=2) from None
        out = fig.as_dict()
        out.update(meets_target=bool(fig.stable and fig.service_level >= level), arrivals_per_hour=arrivals,
                   service_minutes=minutes, target_seconds=target, target_service_level=level)
        if opts.get("simulate") and fig.stable:
            sim = rules.simulate_queue(fig.windows, arrivals, minutes, target, seed=int(_number(opts["seed"], "--seed")))
            out["simulation"] = {"customers": sim.customers, "probability_wait": round(sim.probability_wait, 6),
                                 "service_level": round(sim.service_level, 6),
                                 "average_wait_seconds": round(sim.average_wait_seconds, 3)}
        if fmt == "json":
            self.stdout.write(json.dumps(out, ensure_ascii=False))
            return
        lines = [f"到达 {arrivals:g} 人/小时，平均办理 {minutes:g} 分钟，话务量 {fig.offered_load:.3f} Erl",
                 f"窗口数：{fig.windows}" + ("（满足目标的最少窗口数）" if windows is None else "（给定）")]
        if fig.stable:
            lines += [f"需要等候的概率：{fig.probability_wait:.2%}",
                      f"{target:g} 秒内办理比例：{fig.service_level:.2%}（目标 {level:.0%}，"
                      f"{'达标' if out['meets_target'] else '未达标'}）",
                      f"平均等候：{fig.average_wait_seconds:.1f} 秒", f"窗口利用率：{fig.occupancy:.1%}"]
        else:
            lines.append("排队不稳定：到达人数超过窗口的办理能力，等候时间将无限增长")
        if "simulation" in out:
            s = out["simulation"]
            lines.append(f"仿真（{s['customers']} 人）：等候概率 {s['probability_wait']:.2%}，"
                         f"达标比例 {s['service_level']:.2%}，平均等候 {s['average_wait_seconds']:.1f} 秒")
        self.stdout.write("\n".join(lines))
