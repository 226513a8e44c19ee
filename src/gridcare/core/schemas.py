from datetime import datetime

from ninja import Schema


class AuditOut(Schema):
    at: datetime
    action: str
    actor: str
    source: str
    object: str
    changes: dict

    @staticmethod
    def from_log(log):
        return {"at": log.at, "action": log.action, "actor": log.actor_username, "source": log.source,
                "object": log.object_repr, "changes": log.changes}
