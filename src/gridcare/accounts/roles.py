"""What each role may do: the data file data/roles.yaml, checked together with the unit subtree (see
permissions.py).

Capabilities are strings `<area>.<verb>`; `*` is every capability. The file is read and checked once
when the process starts; a broken file stops it with the reason (RolesDataError), never a silent
fallback to fewer or more rights."""
import re

import yaml

from gridcare.core.taxonomy import DATA_DIR

from .choices import Role

ROLES_FILE = DATA_DIR / "roles.yaml"
_CAPABILITY = re.compile(r"^[a-z_]+\.[a-z_]+$")


class RolesDataError(ValueError):
    """data/roles.yaml is not a valid role table (the message says where, in Chinese)."""


def parse_roles(data) -> dict[str, frozenset[str]]:
    roles = (data or {}).get("roles") if isinstance(data, dict) else None
    if not isinstance(roles, dict):
        raise RolesDataError("roles.yaml 有误：缺少 roles 表（角色 -> 能力列表）")
    problems, table = [], {}
    for role, caps in roles.items():
        if role not in Role.values:
            problems.append(f"roles.{role}: 未知角色（可用：{'、'.join(Role.values)}）")
            continue
        if not isinstance(caps, list):
            problems.append(f"roles.{role}: 须为能力列表")
            continue
        bad = [str(c) for c in caps if c != "*" and not (isinstance(c, str) and _CAPABILITY.match(c))]
        problems += [f"roles.{role}: 能力 {c} 的格式应为 领域.动作（如 workorder.create）或 *" for c in bad]
        table[role] = frozenset(caps)
    if problems:
        raise RolesDataError("roles.yaml 有误：" + "；".join(problems))
    return {role: table.get(role, frozenset()) for role in Role.values}


def load_roles(path=ROLES_FILE) -> dict[str, frozenset[str]]:
    with open(path, encoding="utf-8") as fh:
        return parse_roles(yaml.safe_load(fh))


CAPABILITIES: dict[str, frozenset[str]] = load_roles()


def role_can(role: str, capability: str) -> bool:
    caps = CAPABILITIES.get(role, frozenset())
    return "*" in caps or capability in caps
