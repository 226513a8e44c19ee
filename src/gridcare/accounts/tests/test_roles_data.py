"""Role capabilities are the data file data/roles.yaml: checked at start, a broken file refused with
the reason in Chinese, and a change to the file changes what the API lets a role do."""
import pytest
import yaml

from gridcare.accounts import roles
from gridcare.accounts.choices import Role
from gridcare.testing import ApiClient
from gridcare.workorders import workflow


def test_the_file_gives_every_role_its_capabilities_and_the_workflow_needs_are_held():
    table = roles.load_roles()
    assert set(table) == set(Role.values)
    assert table["admin"] == {"*"}
    assert "workorder.create" in table["agent"] and "workorder.dispatch" not in table["agent"]
    held = set().union(*table.values())
    assert set(workflow.ENTER_CAPABILITY.values()) <= held
    assert set(workflow.REJECT_CAPABILITIES) <= held


@pytest.mark.parametrize("data, message", [
    ({}, "缺少 roles 表"),
    ({"roles": {"boss": ["workorder.view"]}}, "roles.boss: 未知角色"),
    ({"roles": {"agent": "workorder.view"}}, "roles.agent: 须为能力列表"),
    ({"roles": {"agent": ["workorder view", 3]}}, "能力 workorder view 的格式应为"),
])
def test_a_broken_file_is_refused_with_the_reason(data, message):
    with pytest.raises(roles.RolesDataError) as err:
        roles.parse_roles(data)
    assert message in str(err.value)


def test_a_role_left_out_has_no_capability(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump({"roles": {"admin": ["*"], "agent": ["workorder.view"]}}), encoding="utf-8")
    table = roles.load_roles(path)
    assert table["dispatcher"] == frozenset() and table["agent"] == {"workorder.view"}


@pytest.mark.django_db
def test_the_api_follows_the_table(world, monkeypatch):
    body = {"order_type": "inquiry", "account_no": "3100000001", "text": "咨询电价"}
    without = {**roles.CAPABILITIES, "agent": roles.CAPABILITIES["agent"] - {"workorder.create"}}
    monkeypatch.setattr(roles, "CAPABILITIES", without)
    refused = ApiClient(world.agent).post("/api/workorders/", body)
    assert refused.status_code == 403
    monkeypatch.setattr(roles, "CAPABILITIES", {**without, "agent": without["agent"] | {"workorder.create"}})
    assert ApiClient(world.agent).post("/api/workorders/", body).status_code == 201
