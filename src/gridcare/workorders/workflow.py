"""The stage lifecycle as data: per order type, the stages in order, which time limit governs the wait
in each stage (and from when it runs), who may move an order on, and where a rejection or a
dissatisfied return visit sends it back. The data is `data/workflows.yaml`, read and checked once per
process (an inconsistent file stops the process at start with the reason); here it becomes plain
objects and functions: no ORM."""
from dataclasses import dataclass

import yaml

from gridcare.core.taxonomy import DATA_DIR

WORKFLOWS_FILE = DATA_DIR / "workflows.yaml"
CLOCK_STARTS = ("enter", "accepted")


@dataclass(frozen=True)
class Workflow:
    stages: tuple[str, ...]
    # stage the order is IN -> (time-limit key of time-limits.yaml, clock start: one of CLOCK_STARTS)
    clocks: dict
    reopen_to: str            # where a dissatisfied return visit or a rejected audit sends the order
    pausable: frozenset = frozenset()   # limit keys whose clock may be suspended (客户原因暂缓)
    close_on_intake: bool = False       # may be closed on the call (answered / thanked at once)

    def next_stage(self, stage: str) -> str | None:
        i = self.stages.index(stage)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    def can_go(self, current: str, target: str) -> bool:
        """Forward by one stage, or straight to `closed` from the intake stage where allowed."""
        if current in ("closed", "merged"):
            return False
        if self.next_stage(current) == target:
            return True
        return target == "closed" and current == "accepted" and self.close_on_intake

    def can_reject(self, current: str, target: str) -> bool:
        """回退: back to any earlier stage of an order that is still open."""
        return (current in self.stages and target in self.stages and current != "closed"
                and self.stages.index(target) < self.stages.index(current))


class WorkflowDataError(ValueError):
    """workflows.yaml does not describe a usable lifecycle."""


def parse_workflows(data: dict, known_capabilities=None):
    """(stage labels, enter capabilities, reject capabilities, workflows by order type, stage of limit) from
    the YAML's mapping, or WorkflowDataError naming what is wrong."""
    labels = dict(data.get("stages") or {})
    enter = dict(data.get("enter_capability") or {})
    reject = tuple(data.get("reject_capability") or ())
    problems = [f"enter_capability: 未知阶段 {s}" for s in enter if s not in labels]
    if not reject:
        problems.append("reject_capability: 至少要有一项权限")
    if known_capabilities is not None:
        problems += [f"enter_capability.{s}: 未知权限 {c}" for s, c in enter.items() if c not in known_capabilities]
        problems += [f"reject_capability: 未知权限 {c}" for c in reject if c not in known_capabilities]
    flows = {}
    for code, spec in (data.get("workflows") or {}).items():
        stages = tuple(spec.get("stages") or ())
        where = f"workflows.{code}"
        problems += [f"{where}.stages: 未知阶段 {s}" for s in stages if s not in labels]
        if not stages or stages[0] != "accepted" or stages[-1] != "closed" or len(set(stages)) != len(stages):
            problems.append(f"{where}.stages: 须从 accepted 开始、以 closed 结束且不重复")
        problems += [f"{where}.stages: 阶段 {s} 没有 enter_capability" for s in stages[1:] if s not in enter]
        clocks = {}
        for stage, pair in (spec.get("clocks") or {}).items():
            if stage not in stages or not isinstance(pair, list) or len(pair) != 2 or pair[1] not in CLOCK_STARTS:
                problems.append(f"{where}.clocks.{stage}: 须为本类型的阶段 -> [时限键, enter|accepted]")
            else:
                clocks[stage] = (pair[0], pair[1])
        reopen_to = spec.get("reopen_to")
        if reopen_to not in stages or reopen_to == "closed":
            problems.append(f"{where}.reopen_to: {reopen_to} 不是本类型未归档的阶段")
        pausable = frozenset(spec.get("pausable") or ())
        keys = {key for key, _start in clocks.values()}
        problems += [f"{where}.pausable: {k} 不是本类型计时用的时限键" for k in sorted(pausable - keys)]
        flows[code] = Workflow(stages, clocks, reopen_to=reopen_to, pausable=pausable,
                               close_on_intake=bool(spec.get("close_on_intake", False)))
    stage_of_limit = dict(data.get("stage_of_limit") or {})
    problems += [f"stage_of_limit.{k}: 未知阶段 {v}" for k, v in stage_of_limit.items() if v not in labels]
    if problems:
        raise WorkflowDataError("workflows.yaml 有误：" + "；".join(problems))
    return labels, enter, reject, flows, stage_of_limit


def load_workflows(path=WORKFLOWS_FILE):
    from gridcare.accounts.roles import CAPABILITIES

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return parse_workflows(data, known_capabilities=set().union(*CAPABILITIES.values()))


STAGE_LABELS, ENTER_CAPABILITY, REJECT_CAPABILITIES, WORKFLOWS, STAGE_OF_LIMIT = load_workflows()


def workflow(order_type: str) -> Workflow:
    try:
        return WORKFLOWS[order_type]
    except KeyError:
        raise ValueError(f"未知的工单类型：{order_type}") from None


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


