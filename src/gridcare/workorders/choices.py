from django.db import models


class Channel(models.TextChoices):
    HOTLINE = "hotline", "95598热线"
    APP = "app", "网上国网App"
    WECHAT = "wechat", "微信"
    HALL = "hall", "营业厅"
    WEB = "web", "网站"
    P12398 = "12398", "12398监管热线"


class Status(models.TextChoices):
    OPEN = "open", "处理中"
    CLOSED = "closed", "已归档"
    MERGED = "merged", "已合并"


class SlaState(models.IntegerChoices):
    OK = 0, "正常"
    WARNING = 1, "即将超时"
    OVERDUE = 2, "已超时"


class Escalation(models.IntegerChoices):
    NONE = 0, "无"
    LEADERSHIP = 1, "升级至单位领导"
    HEAD = 2, "单位负责人亲自处理"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    NEUTRAL = "neutral", "一般"
    DISSATISFIED = "dissatisfied", "不满意"


class EventKind(models.TextChoices):
    CREATE = "create", "受理"
    ADVANCE = "advance", "流转"
    REJECT = "reject", "回退"
    URGE = "urge", "催办"
    REASSIGN = "reassign", "改派"
    MERGE = "merge", "合并"
    LINK = "link", "关联重复来电"
    ESCALATE = "escalate", "升级"
    VISIT = "visit", "回访"
    REOPEN = "reopen", "重新处理"
    SUSPEND = "suspend", "暂停计时"
    RESUME = "resume", "恢复计时"
    QUALITY = "quality", "质检"
    SLA = "sla", "时限预警"
    COMMENT = "comment", "备注"
