"""Exchange format of the customers app: customers.csv (formats.md). The invoice columns, when any is
filled, create the customer's 开票信息 (InvoiceDetail, with the customer's name as 发票抬头)."""
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from gridcare.accounts.models import OrgUnit
from gridcare.core.exports import Exporter, register_exporter
from gridcare.core.imports import Importer, parse_bool, parse_choice, parse_date, register_importer
from gridcare.core.taxonomy import area_kind_choices, customer_class_choices
from gridcare.grid.models import TransformerArea

from . import validators
from .models import CriticalKind, Customer, InvoiceDetail

CUSTOMER_COLUMNS = ("account_no", "name", "customer_class", "unit_code", "taiqu_code", "address", "area_kind",
                    "phone", "phone2", "critical", "critical_kind", "tax_id", "invoice_email", "invoice_phone",
                    "bank_name", "bank_account", "opened_on")
INVOICE_COLUMNS = ("tax_id", "invoice_email", "invoice_phone", "bank_name", "bank_account")
CUSTOMER_LABELS = {
    "account_no": "户号（10位数字）",
    "name": "户名",
    "customer_class": "用电类别：" + "、".join(f"{c} {label}" for c, label in customer_class_choices()),
    "unit_code": "供电单位编码",
    "taiqu_code": "台区编码",
    "address": "用电地址",
    "area_kind": "区域类型：" + "、".join(f"{c} {label}" for c, label in area_kind_choices()),
    "phone": "联系电话",
    "phone2": "备用电话",
    "critical": "重要客户：true 或 false",
    "critical_kind": "重要客户类型：" + "、".join(f"{c} {label}" for c, label in CriticalKind.choices),
    "tax_id": "纳税人识别号",
    "invoice_email": "收票邮箱",
    "invoice_phone": "收票手机",
    "bank_name": "开户银行",
    "bank_account": "银行账号",
    "opened_on": "立户日期（YYYY-MM-DD）",
}
_email = EmailValidator()


def _max(model, name):
    return model._meta.get_field(name).max_length


class CustomerImporter(Importer):
    label = "客户"
    columns = CUSTOMER_COLUMNS
    required_columns = ("account_no", "name", "customer_class", "unit_code", "taiqu_code", "address", "area_kind")
    column_labels = CUSTOMER_LABELS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.units: dict[str, int] = {}
        self.taiqus: dict[str, int] = {}
        self.existing: set[str] = set()
        self.first_row: dict[str, int] = {}
        self.class_choices = customer_class_choices()
        self.area_choices = area_kind_choices()

    def prefetch(self, rows):
        accounts = {r.text("account_no") for r in rows} - {""}
        self.existing = set(Customer.objects.filter(account_no__in=accounts).values_list("account_no", flat=True))
        if codes := {r.text("unit_code") for r in rows} - set(self.units) - {""}:
            self.units.update(OrgUnit.objects.filter(code__in=codes).values_list("code", "id"))
        if codes := {r.text("taiqu_code") for r in rows} - set(self.taiqus) - {""}:
            self.taiqus.update(TransformerArea.objects.filter(code__in=codes).values_list("code", "id"))

    def phone(self, row, column, errors):
        value = self.text(row, column, errors)
        if value and not validators.valid_phone(value):
            errors.append(row.error(column, f"电话号码格式不正确：{value}（手机11位，或固话如0571-88888888）"))
        return value

    def validate_row(self, row):
        errors = []
        account_no = self.text(row, "account_no", errors, required=True)
        if account_no:
            if not validators.valid_account_no(account_no):
                errors.append(row.error("account_no", f"户号应为10位数字（当前为“{account_no}”）"))
            elif account_no in self.first_row:
                errors.append(row.error("account_no", f"户号与第{self.first_row[account_no]}行重复"))
            elif account_no in self.existing:
                errors.append(row.error("account_no", f"户号已存在：{account_no}（导入只新增，不修改已有客户）"))
            self.first_row.setdefault(account_no, row.number)
        name = self.text(row, "name", errors, max_length=_max(Customer, "name"), required=True)
        customer_class = self.parsed(row, "customer_class", parse_choice, errors, self.class_choices, required=True)
        unit_id = taiqu_id = None
        if unit_code := self.text(row, "unit_code", errors, required=True):
            unit_id = self.units.get(unit_code)
            if unit_id is None:
                errors.append(row.error("unit_code", f"单位编码不存在：{unit_code}"))
        if taiqu_code := self.text(row, "taiqu_code", errors, required=True):
            taiqu_id = self.taiqus.get(taiqu_code)
            if taiqu_id is None:
                errors.append(row.error("taiqu_code", f"台区编码不存在：{taiqu_code}"))
        address = self.text(row, "address", errors, max_length=_max(Customer, "address"), required=True)
        area_kind = self.parsed(row, "area_kind", parse_choice, errors, self.area_choices, required=True)
        phone = self.phone(row, "phone", errors)
        phone2 = self.phone(row, "phone2", errors)
        critical = self.parsed(row, "critical", parse_bool, errors) or False
        critical_kind = self.parsed(row, "critical_kind", parse_choice, errors, CriticalKind.choices) or ""
        opened_on = self.parsed(row, "opened_on", parse_date, errors)

        tax_id = self.text(row, "tax_id", errors)
        if tax_id and not validators.valid_tax_id(tax_id):
            errors.append(row.error("tax_id", f"纳税人识别号格式或校验位不正确：{tax_id}"))
        invoice_email = self.text(row, "invoice_email", errors, max_length=_max(InvoiceDetail, "invoice_email"))
        if invoice_email:
            try:
                _email(invoice_email)
            except ValidationError:
                errors.append(row.error("invoice_email", f"电子邮箱格式不正确：{invoice_email}"))
        invoice_phone = self.phone(row, "invoice_phone", errors)
        bank_name = self.text(row, "bank_name", errors, max_length=_max(InvoiceDetail, "bank_name"))
        bank_account = self.text(row, "bank_account", errors, max_length=_max(InvoiceDetail, "bank_account"))
        if errors:
            return None, errors

        customer = Customer(account_no=account_no, name=name, customer_class=customer_class, unit_id=unit_id,
                            transformer_area_id=taiqu_id, address=address, area_kind=area_kind, phone=phone,
                            phone2=phone2, critical=critical, critical_kind=critical_kind, opened_on=opened_on)
        invoice = None
        if tax_id or invoice_email or invoice_phone or bank_name or bank_account:
            invoice = InvoiceDetail(customer=customer, title=name[:_max(InvoiceDetail, "title")], tax_id=tax_id,
                                    invoice_email=invoice_email, invoice_phone=invoice_phone, bank_name=bank_name,
                                    bank_account=bank_account)
        return (customer, invoice), []

    def write(self, valid):
        self.create([customer for customer, _ in valid])
        self.create([invoice for _, invoice in valid if invoice is not None])


class CustomerExporter(Exporter):
    label = "客户"
    columns = CUSTOMER_COLUMNS
    column_labels = CUSTOMER_LABELS
    widths = {"account_no": 13, "name": 24, "customer_class": 16, "address": 40, "phone": 15, "phone2": 15,
              "tax_id": 22, "invoice_email": 24, "invoice_phone": 15, "bank_name": 24, "bank_account": 24,
              "opened_on": 12}

    lookups = {"unit_code": "unit__code", "taiqu_code": "transformer_area__code",
               **{column: f"invoice__{column}" for column in INVOICE_COLUMNS}}

    def queryset(self):
        return Customer.objects.order_by("account_no")


register_importer("customers", CustomerImporter)
register_exporter("customers", CustomerExporter)
