"""`gridcare import reads FILE`: reads.csv (formats.md) through VEE, row by row; refused rows are reported
with row number, column and reason, findings become exceptions (held from billing)."""
from django.utils import timezone

from gridcare.core.api_support import DomainError
from gridcare.core.imports import Importer, parse_datetime, register_importer
from gridcare.customers.models import Customer

from .models import ReadSource, Register

READ_COLUMNS = ("account_no", "meter_no", "read_at", "register", "value_kwh", "source")


class ReadsImporter(Importer):
    label = "抄表示数"
    columns = READ_COLUMNS
    required_columns = READ_COLUMNS
    column_labels = {"account_no": "户号", "meter_no": "电能表资产号", "read_at": "抄表时间（ISO 8601）",
                     "register": "示数类型 total|peak|flat|valley|sharp", "value_kwh": "示数（kWh）",
                     "source": "来源 ami|manual|estimate"}

    def prefetch(self, rows):
        nos = {r.text("account_no") for r in rows}
        self.customers = {c.account_no: c for c in Customer.objects.select_related("unit").filter(account_no__in=nos)}

    def validate_row(self, row):
        """Validates and stores in file order (inside the import's transaction), so a file may hold a
        meter's successive reads and each is checked against the one above it."""
        from gridcare.accounts.models import User

        from . import services

        errors = []
        c = self.customers.get(row.text("account_no"))
        if c is None:
            errors.append(row.error("account_no", "户号不存在"))
        if row.text("register") not in Register.values:
            errors.append(row.error("register", "示数类型应为 total/peak/flat/valley/sharp"))
        if row.text("source") not in ReadSource.values:
            errors.append(row.error("source", "来源应为 ami/manual/estimate"))
        at, msg = parse_datetime(row.get("read_at"))
        if msg or at is None:
            errors.append(row.error("read_at", msg or "必填"))
        if not row.text("value_kwh"):
            errors.append(row.error("value_kwh", "必填"))
        if errors:
            return None, errors
        user = User.objects.filter(role="admin").order_by("id").first()
        try:
            read = services.do_record_read(user, c, row.text("meter_no"), at, row.text("value_kwh"),
                                           row.text("register"), row.text("source"), now=timezone.now(),
                                           check_permission=False)
        except DomainError as exc:
            return None, [row.error(field if field != "__all__" else None, m) for field, m in exc.errors.items()]
        return read, []

    def write(self, valid):
        self.created += len(valid)


register_importer("reads", ReadsImporter)
