from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditLog(models.Model):
    ACTIONS = [("create", "新建"), ("update", "修改"), ("delete", "删除"), ("event", "操作")]

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name="对象类型")
    object_pk = models.CharField("对象主键", max_length=64)
    object_repr = models.CharField("对象", max_length=200)
    action = models.CharField("动作", max_length=10, choices=ACTIONS)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name="操作人")
    actor_username = models.CharField("操作人账号", max_length=150, blank=True)
    source = models.CharField("来源", max_length=20, default="system")  # web | api | cli | import | system
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    changes = models.JSONField("变更内容", default=dict)

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        indexes = [models.Index(fields=["content_type", "object_pk", "at"])]
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username or self.source} {self.get_action_display()} {self.object_repr}"
