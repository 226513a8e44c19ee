from django.core.exceptions import ValidationError
from django.db import models

from gridcare.accounts.models import OrgUnit
from gridcare.core.audit import AuditedModel
from gridcare.core.taxonomy import area_kind_choices, customer_class_choices
from gridcare.grid.models import TransformerArea

from . import validators


def validate_phone(value):
    if value and not validators.valid_phone(value):
        raise ValidationError("电话号码格式不正确（手机11位或固话如0571-88888888）")


def validate_tax_id(value):
    if value and not validators.valid_tax_id(value):
        raise ValidationError("纳税人识别号格式或校验位不正确")


def validate_account_no(value):
    if value and not validators.valid_account_no(value):
        raise ValidationError("户号应为10位数字")


class CriticalKind(models.TextChoices):
    HOSPITAL = "hospital", "医院"
    WATER = "water", "供水"
    GOVERNMENT = "government", "党政机关"
    STATION = "station", "交通枢纽/车站"
    SCHOOL = "school", "学校"
    COMMUNICATION = "communication", "通信"
    OTHER = "other", "其他重要用户"


class Customer(AuditedModel):
    account_no = models.CharField("户号", max_length=20, unique=True, validators=[validate_account_no])
    name = models.CharField("户名", max_length=100, db_index=True)
    customer_class = models.CharField("用电类别", max_length=20, choices=customer_class_choices())
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="customers", verbose_name="供电单位")
    transformer_area = models.ForeignKey(TransformerArea, on_delete=models.PROTECT, related_name="customers",
                                         verbose_name="台区")
    address = models.CharField("用电地址", max_length=200)
    area_kind = models.CharField("区域类型", max_length=10, choices=area_kind_choices())
    phone = models.CharField("联系电话", max_length=20, blank=True, db_index=True, validators=[validate_phone])
    phone2 = models.CharField("备用电话", max_length=20, blank=True, db_index=True, validators=[validate_phone])
    critical = models.BooleanField("重要客户", default=False)
    critical_kind = models.CharField("重要客户类型", max_length=20, blank=True, choices=CriticalKind.choices)
    sensitive = models.BooleanField("敏感客户", default=False)
    sensitive_reason = models.CharField("敏感原因", max_length=200, blank=True)
    sensitive_until = models.DateTimeField("敏感标记有效期", null=True, blank=True)
    opened_on = models.DateField("立户日期", null=True, blank=True)
    notify_sms = models.BooleanField("接收短信通知", default=True)
    notify_wechat = models.BooleanField("接收微信通知", default=False)
    email = models.EmailField("电子邮箱", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "客户"
        ordering = ["account_no"]
        indexes = [models.Index(fields=["unit", "transformer_area"])]

    def __str__(self):
        return f"{self.name}({self.account_no})"


class InvoiceDetail(AuditedModel):
    """开票信息 as the business hall keeps them."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="invoice", verbose_name="客户")
    title = models.CharField("发票抬头", max_length=100, blank=True)
    tax_id = models.CharField("纳税人识别号", max_length=20, blank=True, validators=[validate_tax_id])
    address_phone = models.CharField("地址电话", max_length=200, blank=True)
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    invoice_email = models.EmailField("收票邮箱", blank=True)
    invoice_phone = models.CharField("收票手机", max_length=20, blank=True, validators=[validate_phone])

    class Meta:
        verbose_name = verbose_name_plural = "开票信息"

    def __str__(self):
        return f"{self.customer.account_no} 开票信息"
