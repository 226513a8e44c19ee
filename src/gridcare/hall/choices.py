from django.db import models


class TicketStatus(models.TextChoices):
    WAITING = "waiting", "等候中"
    CALLED = "called", "办理中"
    DONE = "done", "已办结"
    NO_SHOW = "no_show", "过号"
    ABANDONED = "abandoned", "未办理离开"


class EventKind(models.TextChoices):
    ISSUE = "issue", "取号"
    CALL = "call", "叫号"
    RECALL = "recall", "重呼"
    TRANSFER = "transfer", "转办"
    NO_SHOW = "no_show", "过号"
    FINISH = "finish", "办结"
    IDENTIFY = "identify", "识别客户"
    RATE = "rate", "评价"
    ABANDON = "abandon", "离开"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "已预约"
    CHECKED_IN = "checked_in", "已取号"
    CANCELLED = "cancelled", "已取消"
    MISSED = "missed", "未到"


class ApplicationKind(models.TextChoices):
    NEW_CONNECTION = "new_connection", "低压新装（业扩报装）"
    CAPACITY_CHANGE = "capacity_change", "增容"
    NAME_CHANGE = "name_change", "更名过户"
    METER_TEST = "meter_test", "电能表校验"


class RecordKind(models.TextChoices):
    TRAINING = "training", "培训"
    CERTIFICATE = "certificate", "证书"
