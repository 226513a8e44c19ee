from django.db import models


class Kind(models.TextChoices):
    PLANNED = "planned", "计划停电"
    TEMPORARY = "temporary", "临时检修"
    FAULT = "fault", "故障停电"


class ScopeKind(models.TextChoices):
    FEEDER = "feeder", "整条线路"
    TAIQU = "taiqu", "指定台区"
    CUSTOMERS = "customers", "指定客户"


class State(models.TextChoices):
    OPEN = "open", "未结束"          # upcoming or under way (derived from start_at and now)
    RESTORED = "restored", "已恢复送电"
    CANCELLED = "cancelled", "已取消"


class UpdateKind(models.TextChoices):
    CREATED = "created", "发布停电信息"
    CHANGED = "changed", "变更"
    CANCELLED = "cancelled", "取消"
    ARRIVED = "arrived", "抢修人员到达现场"
    CAUSE_FOUND = "cause_found", "查明故障原因"
    EXPECTED = "expected", "预计恢复时间"
    PARTIAL = "partial", "部分恢复送电"
    RESTORED = "restored", "全部恢复送电"
    NOTE = "note", "进展说明"
    CALL = "call", "来电关联"


PROGRESS_KINDS = ("arrived", "cause_found", "expected", "partial", "restored", "note")


class WatchKind(models.TextChoices):
    TAIQU = "taiqu", "台区"
    CUSTOMER = "customer", "客户"
