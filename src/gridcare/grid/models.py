"""The grid as customer service needs it: substation → feeder → transformer area (台区) → meter → customer."""
from django.conf import settings
from django.db import models

from gridcare.accounts.models import OrgUnit
from gridcare.core.audit import AuditedModel
from gridcare.core.taxonomy import area_kind_choices


class Substation(AuditedModel):
    code = models.CharField("变电站编码", max_length=32, unique=True)
    name = models.CharField("变电站名称", max_length=100)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="substations", verbose_name="运维单位")

    class Meta:
        verbose_name = verbose_name_plural = "变电站"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}({self.code})"


class Feeder(AuditedModel):
    code = models.CharField("线路编码", max_length=32, unique=True)
    name = models.CharField("线路名称", max_length=100)
    substation = models.ForeignKey(Substation, on_delete=models.PROTECT, related_name="feeders", verbose_name="变电站")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="feeders", verbose_name="运维单位")

    class Meta:
        verbose_name = verbose_name_plural = "10kV线路"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}({self.code})"


class TransformerArea(AuditedModel):
    """台区: the customers behind one distribution transformer, with its 台区经理."""

    code = models.CharField("台区编码", max_length=32, unique=True)
    name = models.CharField("台区名称", max_length=100)
    feeder = models.ForeignKey(Feeder, on_delete=models.PROTECT, related_name="transformer_areas", verbose_name="线路")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="transformer_areas", verbose_name="供电单位")
    area_kind = models.CharField("区域类型", max_length=10, choices=area_kind_choices())
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="managed_areas", verbose_name="台区经理")
    capacity_kva = models.PositiveIntegerField("容量(kVA)", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "台区"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}({self.code})"


class Meter(AuditedModel):
    """A metering point's meter, installed for one customer in one 台区."""

    meter_no = models.CharField("电能表资产号", max_length=32, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="meters", verbose_name="客户")
    transformer_area = models.ForeignKey(TransformerArea, on_delete=models.PROTECT, related_name="meters", verbose_name="台区")
    tou = models.BooleanField("分时计量", default=False)
    multiplier = models.PositiveIntegerField("倍率", default=1)
    installed_on = models.DateField("安装日期", null=True, blank=True)
    removed_on = models.DateField("拆除日期", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "电能表"
        ordering = ["meter_no"]

    def __str__(self):
        return self.meter_no
