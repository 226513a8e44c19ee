"""What each role may do: a data table, checked together with the unit subtree (see permissions.py).

Capabilities are strings `<area>.<verb>`; later capabilities add their own rows here."""
from .choices import Role

CAPABILITIES: dict[str, set[str]] = {
    Role.AGENT: {"customer.view", "customer.search", "grid.view", "workorder.view", "workorder.create",
                 "workorder.urge", "workorder.visit", "outage.view", "knowledge.view"},
    Role.DISPATCHER: {"customer.view", "customer.search", "grid.view", "workorder.view", "workorder.create",
                      "workorder.dispatch", "workorder.urge", "workorder.reassign", "workorder.merge",
                      "workorder.audit", "workorder.visit", "workorder.escalate", "outage.view",
                      "outage.manage", "knowledge.view", "report.view", "billing.view"},
    Role.HANDLER: {"customer.view", "customer.search", "grid.view", "workorder.view", "workorder.handle",
                   "workorder.reassign", "outage.view", "outage.update", "knowledge.view"},
    Role.FIELD: {"customer.view", "customer.search", "grid.view", "workorder.view", "workorder.handle",
                 "outage.view", "outage.update"},
    Role.CLERK: {"customer.view", "customer.search", "customer.edit", "grid.view", "workorder.view",
                 "workorder.create", "billing.view", "billing.collect", "billing.run", "metering.read", "hall.serve",
                 "knowledge.view"},
    Role.READER: {"customer.view", "customer.search", "grid.view", "metering.read", "billing.view",
                  "billing.collect", "billing.disconnect"},
    Role.SUPERVISOR: {"customer.view", "customer.search", "customer.edit", "grid.view", "grid.edit",
                      "workorder.view", "workorder.audit", "workorder.escalate", "workorder.reassign",
                      "workorder.merge", "workorder.urge", "outage.view", "outage.manage",
                      "report.view", "audit.view", "knowledge.view", "knowledge.edit", "hall.manage", "hall.serve",
                      "billing.view", "billing.collect", "billing.run", "billing.disconnect", "metering.read"},
    Role.ADMIN: {"*"},
}


def role_can(role: str, capability: str) -> bool:
    caps = CAPABILITIES.get(role, set())
    return "*" in caps or capability in caps
