"""The lifecycle is data (data/workflows.yaml): the shipped file is complete and consistent with the
taxonomy and the time limits, a broken file is refused with the reason, and what the file says is what
the API enforces (stages entered, who may enter them, 回退, closing on the call)."""
import copy
import dataclasses

import pytest
import yaml

from gridcare.accounts.roles import CAPABILITIES
from gridcare.core.taxonomy import taxonomy
from gridcare.testing import ApiClient
from gridcare.workorders import clock, workflow
from gridcare.workorders.models import WorkOrder


def shipped():
    with open(workflow.WORKFLOWS_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_the_shipped_file_covers_every_order_type_and_its_limits():
    tx = taxonomy()
    assert set(workflow.WORKFLOWS) == set(tx["order_types"])
    for code, wf in workflow.WORKFLOWS.items():
        for key, _start in wf.clocks.values():
            for area in tx["area_kinds"]:
                assert clock.limit_for(code, key, area), (code, key, area)  # LimitNotFound otherwise
            assert key in workflow.STAGE_OF_LIMIT, key
    everything = set().union(*CAPABILITIES.values())
    assert set(workflow.ENTER_CAPABILITY.values()) <= everything
    assert set(workflow.REJECT_CAPABILITIES) <= everything


@pytest.mark.parametrize("mutate,words", [
    (lambda d: d["workflows"]["complaint"]["stages"].insert(2, "teleported"), "未知阶段 teleported"),
    (lambda d: d["workflows"]["praise"]["stages"].pop(), "须从 accepted 开始、以 closed 结束"),
    (lambda d: d["workflows"]["praise"]["clocks"].update(visited=["visit", "enter"]), "clocks.visited"),
    (lambda d: d["workflows"]["complaint"]["clocks"].update(accepted=["dispatch", "tomorrow"]), "clocks.accepted"),
    (lambda d: d["workflows"]["inquiry"].update(reopen_to="closed"), "reopen_to"),
    (lambda d: d["workflows"]["complaint"].update(pausable=["holiday"]), "pausable: holiday"),
    (lambda d: d["enter_capability"].update(audited="workorder.bless"), "未知权限 workorder.bless"),
    (lambda d: d["enter_capability"].pop("visited"), "阶段 visited 没有 enter_capability"),
    (lambda d: d.update(reject_capability=[]), "reject_capability"),
])
def test_a_broken_file_is_refused_with_the_reason(mutate, words):
    data = copy.deepcopy(shipped())
    mutate(data)
    with pytest.raises(workflow.WorkflowDataError) as err:
        workflow.parse_workflows(data, known_capabilities=set().union(*CAPABILITIES.values()))
    assert words in str(err.value) and "workflows.yaml 有误" in str(err.value)


def test_what_the_file_says_is_what_the_api_enforces(world, monkeypatch):
    agent, dispatcher, handler = ApiClient(world.agent), ApiClient(world.dispatcher), ApiClient(world.handler_a)
    data = copy.deepcopy(shipped())
    # praise may no longer be closed on the call; only auditors may send an order back; dispatching is
    # done by whoever may audit
    data["workflows"]["praise"]["close_on_intake"] = False
    data["reject_capability"] = ["workorder.audit"]
    labels, enter, reject, flows, _ = workflow.parse_workflows(data)
    monkeypatch.setitem(workflow.WORKFLOWS, "praise", flows["praise"])
    monkeypatch.setattr("gridcare.workorders.services.REJECT_CAPABILITIES", reject)
    resp = agent.post("/api/workorders/", {"order_type": "praise", "account_no": "3100000001", "text": "表扬抢修师傅",
                                           "close_now": True})
    assert resp.status_code == 400
    assert "直接办结" in {e["field"]: e["message"] for e in resp.json()["errors"]}["close_now"]
    assert not WorkOrder.objects.filter(order_type="praise").exists()
    assert agent.post("/api/workorders/", {"order_type": "inquiry", "account_no": "3100000001", "text": "咨询电价",
                                           "close_now": True, "reply": "已答复"}).json()["status"] == "closed"
    no = agent.post("/api/workorders/", {"order_type": "complaint", "category_l2": "voltage", "account_no": "3100000001",
                                         "text": "电压低"}).json()["order_no"]
    dispatcher.post(f"/api/workorders/{no}/advance", {"to": "dispatched", "assignee": "handler_a"})
    handler.post(f"/api/workorders/{no}/advance", {"to": "received"})
    assert handler.post(f"/api/workorders/{no}/reject", {"to": "dispatched", "reason": "不归我处理"}).status_code == 403
    assert dispatcher.post(f"/api/workorders/{no}/reject", {"to": "dispatched", "reason": "改派"}).status_code == 200
    # a stage's capability comes from the file too: entering 接单 needs what the file names
    monkeypatch.setitem(workflow.ENTER_CAPABILITY, "received", "workorder.audit")
    assert handler.post(f"/api/workorders/{no}/advance", {"to": "received"}).status_code == 403
    assert dispatcher.post(f"/api/workorders/{no}/advance", {"to": "received"}).status_code == 200


def test_a_workflow_is_a_plain_value():
    wf = workflow.WORKFLOWS["fault_repair"]
    assert wf.can_go("dispatched", "arrived") and not wf.can_go("dispatched", "restored")
    assert dataclasses.replace(wf, close_on_intake=True).can_go("accepted", "closed")
    assert wf.can_reject("restored", "dispatched") and not wf.can_reject("closed", "accepted")
