"""The stage lifecycle as data: per order type, the stages in order, which time limit governs the wait
in each stage (and from when it runs), who may move an order on, and where a rejection or a
dissatisfied return visit sends it back. Pure data and functions: no ORM."""
from dataclasses import dataclass

STAGE_LABELS = {
    "accepted": "受理", "dispatched": "派单", "received": "接单", "contacted": "联系客户", "arrived": "到达现场",
    "restored": "恢复送电", "handled": "处理", "replied": "回单", "audited": "审核", "visited": "回访",
    "closed": "归档", "merged": "已合并",
}

# Capability needed to move an order INTO a stage (accounts/roles.py names them).
ENTER_CAPABILITY = {
    "dispatched": "workorder.dispatch", "received": "workorder.handle", "contacted": "workorder.handle",
    "arrived": "workorder.handle", "restored": "workorder.handle", "handled": "workorder.handle",
    "replied": "workorder.handle", "audited": "workorder.audit", "visited": "workorder.visit",
    "closed": "workorder.visit",
}


@dataclass(frozen=True)
class Workflow:
    stages: tuple[str, ...]
    # stage the order is IN -> (time-limit key of time-limits.yaml, clock start: "enter" | "accepted" | "arrival")
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


FULL = ("accepted", "dispatched", "received", "contacted", "handled", "replied", "audited", "visited", "closed")

WORKFLOWS = {
    "complaint": Workflow(FULL, {
        "accepted": ("dispatch", "enter"), "dispatched": ("receive", "enter"), "received": ("contact", "enter"),
        "contacted": ("handle", "accepted"), "handled": ("handle", "accepted"),
        "replied": ("audit", "enter"), "audited": ("visit", "enter")}, reopen_to="contacted"),
    "fault_repair": Workflow(
        ("accepted", "dispatched", "arrived", "restored", "replied", "audited", "visited", "closed"), {
            "accepted": ("dispatch", "enter"), "dispatched": ("arrival", "enter"),
            "arrived": ("restoration_after_arrival", "enter"), "restored": ("reply_after_restoration", "enter")},
        reopen_to="dispatched"),
    "report": Workflow(("accepted", "dispatched", "received", "handled", "replied", "audited", "visited", "closed"), {
        "accepted": ("dispatch", "enter"), "dispatched": ("handle", "accepted"), "received": ("handle", "accepted"),
        "handled": ("handle", "accepted"), "audited": ("visit", "enter")}, reopen_to="received",
        pausable=frozenset({"handle"})),
    "opinion": Workflow(("accepted", "dispatched", "received", "handled", "replied", "audited", "visited", "closed"), {
        "accepted": ("dispatch", "enter"), "dispatched": ("handle", "accepted"), "received": ("handle", "accepted"),
        "handled": ("handle", "accepted"), "audited": ("visit", "enter")}, reopen_to="received",
        pausable=frozenset({"handle"})),
    "service_request": Workflow(
        ("accepted", "dispatched", "received", "handled", "replied", "audited", "visited", "closed"), {
            "accepted": ("dispatch", "enter"), "dispatched": ("handle", "accepted"),
            "received": ("handle", "accepted"), "handled": ("handle", "accepted"), "audited": ("visit", "enter")},
        reopen_to="received", pausable=frozenset({"handle"})),
    "suggestion": Workflow(("accepted", "dispatched", "handled", "replied", "closed"), {
        "accepted": ("handle", "accepted"), "dispatched": ("handle", "accepted"), "handled": ("handle", "accepted")},
        reopen_to="dispatched"),
    "inquiry": Workflow(("accepted", "handled", "replied", "closed"), {
        "accepted": ("handle", "accepted"), "handled": ("handle", "accepted")},
        reopen_to="accepted", close_on_intake=True),
    "praise": Workflow(("accepted", "handled", "closed"), {"accepted": ("handle", "accepted")},
                       reopen_to="accepted", close_on_intake=True),
}


def workflow(order_type: str) -> Workflow:
    try:
        return WORKFLOWS[order_type]
    except KeyError:
        raise ValueError(f"未知的工单类型：{order_type}") from None


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


# The stages that count as "handling" for the per-stage duration reports (limit key -> stage reached).
STAGE_OF_LIMIT = {"dispatch": "dispatched", "receive": "received", "contact": "contacted", "handle": "replied",
                  "audit": "audited", "visit": "visited", "arrival": "arrived",
                  "restoration_after_arrival": "restored", "reply_after_restoration": "replied"}
