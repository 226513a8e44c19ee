import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models

from gridcare.core.audit import AuditedModel

from .choices import Role, UnitKind

phone_validator = RegexValidator(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$", "电话号码格式不正确（手机11位或固话如0571-88888888）")


class OrgUnit(AuditedModel):
    """An organisational unit. `path` holds the codes from the root ("/P/C/X/") so that a unit's
    subtree is one indexed prefix query."""

    code = models.CharField("单位编码", max_length=32, unique=True)
    name = models.CharField("单位名称", max_length=100)
    kind = models.CharField("单位类型", max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name="上级单位")
    path = models.CharField("层级路径", max_length=500, db_index=True, editable=False)
    head = models.ForeignKey("User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name="单位负责人")

    class Meta:
        verbose_name = verbose_name_plural = "组织单位"
        ordering = ["path"]

    def __str__(self):
        return f"{self.name}({self.code})"

    def save(self, *args, **kwargs):
        old_path = self.path
        self.path = (self.parent.path if self.parent_id else "/") + self.code + "/"
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            for child in OrgUnit.objects.filter(parent=self):
                child.save()

    @property
    def depth(self):
        return self.path.count("/") - 1

    def subtree(self):
        return OrgUnit.objects.filter(path__startswith=self.path)

    @property
    def ancestor_codes(self) -> list[str]:
        """The codes of the units above this one, from the root down (its path without itself)."""
        return self.path.strip("/").split("/")[:-1]

    def ancestors(self):
        return OrgUnit.objects.filter(code__in=self.ancestor_codes).order_by("path")

    @staticmethod
    def nearest_head_ids(units) -> dict:
        """unit pk → its head's user id, or the nearest ancestor's when it has none (None when no unit above
        has one either): one query for all the units' ancestors."""
        codes = {c for u in units if not u.head_id for c in u.ancestor_codes}
        heads = (dict(OrgUnit.objects.filter(code__in=codes, head__isnull=False).values_list("code", "head_id"))
                 if codes else {})
        return {u.pk: u.head_id or next((heads[c] for c in reversed(u.ancestor_codes) if c in heads), None)
                for u in units}


class User(AbstractUser, AuditedModel):
    audit_exclude = ("password", "last_login")

    name = models.CharField("姓名", max_length=50, blank=True)
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.AGENT)
    unit = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="staff",
                             verbose_name="所属单位")
    phone = models.CharField("手机", max_length=20, blank=True, validators=[phone_validator])

    objects = UserManager()

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self):
        return f"{self.name or self.username}"


class ApiToken(models.Model):
    """A token for machine clients. Only its SHA-256 is stored; the clear token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("用途", max_length=100, default="api")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("前缀", max_length=8)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked = models.BooleanField("已吊销", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "API令牌"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name="api") -> tuple["ApiToken", str]:
        key = "gc_" + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, key_hash=cls.hash(key), prefix=key[:8]), key


class LoginFailure(models.Model):
    """Failed sign-ins, counted per username and per address for throttling (works across workers)."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
