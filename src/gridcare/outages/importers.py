"""outages.csv (formats.md): historic and planned outages. A feeder-scoped row covers every 台区 of
the feeder (so every customer of those 台区), a taiqu-scoped row that 台区's customers. Imported rows are
history: no message is sent (notice_sent_at records when the notice went out, if it did)."""
from __future__ import annotations

import re

from django.db.models import Count

from gridcare.core.audit import record_bulk
from gridcare.core.imports import Importer, parse_choice, parse_datetime, register_importer
from gridcare.customers.models import Customer
from gridcare.grid.models import Feeder, TransformerArea

from . import rules
from .choices import Kind, State
from .models import Outage, OutageArea

OUTAGE_COLUMNS = ("outage_no", "kind", "scope_kind", "scope_code", "start_at", "end_at", "restored_at", "reason",
                  "notice_sent_at")
LABELS = {
    "outage_no": "停电编号（唯一）", "kind": "停电类型：planned 计划停电、temporary 临时检修、fault 故障停电",
    "scope_kind": "范围：feeder 整条线路、taiqu 台区", "scope_code": "线路编码或台区编码",
    "start_at": "停电开始时间", "end_at": "计划送电时间", "restored_at": "实际恢复送电时间（空=未恢复）",
    "reason": "停电原因", "notice_sent_at": "通知发出时间",
}
_NO = re.compile(r"^[0-9A-Za-z_-]+$")
SCOPES = [("feeder", "整条线路"), ("taiqu", "台区")]


class OutageImporter(Importer):
    label = "停电"
    columns = OUTAGE_COLUMNS
    required_columns = ("outage_no", "kind", "scope_kind", "scope_code", "start_at")
    column_labels = LABELS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.feeders, self.taiqus, self.seen, self.existing = {}, {}, set(), set()

    def prefetch(self, rows):
        nos = [r.text("outage_no") for r in rows]
        self.existing |= set(Outage.objects.filter(outage_no__in=nos).values_list("outage_no", flat=True))
        fcodes = {r.text("scope_code") for r in rows if r.text("scope_kind") == "feeder"}
        tcodes = {r.text("scope_code") for r in rows if r.text("scope_kind") == "taiqu"}
        for f in Feeder.objects.filter(code__in=fcodes - set(self.feeders)).select_related("unit"):
            self.feeders[f.code] = (f, list(TransformerArea.objects.filter(feeder=f).values_list("pk", flat=True)))
        for t in TransformerArea.objects.filter(code__in=tcodes - set(self.taiqus)).select_related("unit", "feeder"):
            self.taiqus[t.code] = t

    def validate_row(self, row):
        errors = []
        no = self.text(row, "outage_no", errors, max_length=32, required=True)
        if no and not _NO.match(no):
            errors.append(row.error("outage_no", "只能包含字母、数字、下划线和连字符"))
        elif no in self.existing:
            errors.append(row.error("outage_no", f"停电编号已存在：{no}"))
        elif no in self.seen:
            errors.append(row.error("outage_no", f"本文件中重复的停电编号：{no}"))
        kind = self.parsed(row, "kind", parse_choice, errors, Kind.choices, required=True)
        scope = self.parsed(row, "scope_kind", parse_choice, errors, SCOPES, required=True)
        code = self.text(row, "scope_code", errors, required=True)
        feeder, taiqu_ids, unit = None, [], None
        if scope == "feeder" and code:
            if code not in self.feeders:
                errors.append(row.error("scope_code", f"线路不存在：{code}"))
            else:
                feeder, taiqu_ids = self.feeders[code]
                unit = feeder.unit
                if not taiqu_ids:
                    errors.append(row.error("scope_code", f"线路 {code} 下没有台区"))
        elif scope == "taiqu" and code:
            t = self.taiqus.get(code)
            if t is None:
                errors.append(row.error("scope_code", f"台区不存在：{code}"))
            else:
                feeder, taiqu_ids, unit = t.feeder, [t.pk], t.unit
        start = self.parsed(row, "start_at", parse_datetime, errors, required=True)
        end = self.parsed(row, "end_at", parse_datetime, errors)
        restored = self.parsed(row, "restored_at", parse_datetime, errors)
        notice = self.parsed(row, "notice_sent_at", parse_datetime, errors)
        if start:
            for field, message in rules.check_times(start, end, restored).items():
                errors.append(row.error(field, message))
        reason = self.text(row, "reason", errors, max_length=300)
        if errors:
            return None, errors
        self.seen.add(no)
        late = False
        if kind in ("planned", "temporary") and notice:
            from . import config

            late = rules.check_notice(kind, start, notice, config.notice_limits(), True).late
        outage = Outage(outage_no=no, kind=kind, scope_kind=scope, feeder=feeder if scope == "feeder" else feeder,
                        unit=unit, title=f"{code}{Kind(kind).label}", reason=reason, start_at=start, end_at=end,
                        restored_at=restored, state=State.RESTORED if restored else State.OPEN,
                        notice_sent_at=notice, notice_late=late, source="import",
                        expected_restoration_at=end, progress="restored" if restored else "")
        return (outage, taiqu_ids), []

    def write(self, valid):
        outages = [o for o, _ in valid]
        all_tq = {pk for _, ids in valid for pk in ids}
        per_tq = dict(Customer.objects.filter(transformer_area_id__in=all_tq).values_list("transformer_area_id")
                      .annotate(n=Count("id")))
        crit = dict(Customer.objects.filter(transformer_area_id__in=all_tq, critical=True)
                    .values_list("transformer_area_id").annotate(n=Count("id")))
        for o, ids in valid:
            o.customers_affected = sum(per_tq.get(i, 0) for i in ids)
            o.critical_affected = sum(crit.get(i, 0) for i in ids)
        self.create(outages)
        areas = [OutageArea(outage=o, transformer_area_id=pk, restored_at=o.restored_at) for o, ids in valid for pk in ids]
        OutageArea.objects.bulk_create(areas, batch_size=2000)
        record_bulk(areas, "create", source="import", note=self.audit_note)


register_importer("outages", OutageImporter)


def export_rows(qs=None):
    """The rows of outages.csv for the given outages (feeder and 台区 scopes)."""
    qs = qs or Outage.objects.filter(scope_kind__in=("feeder", "taiqu"))
    for o in qs.select_related("feeder").prefetch_related("areas__transformer_area").order_by("start_at"):
        code = o.feeder.code if o.scope_kind == "feeder" else next(
            (a.transformer_area.code for a in o.areas.all()), "")
        yield {"outage_no": o.outage_no, "kind": o.kind, "scope_kind": o.scope_kind, "scope_code": code,
               "start_at": o.start_at.isoformat(), "end_at": o.end_at.isoformat() if o.end_at else "",
               "restored_at": o.restored_at.isoformat() if o.restored_at else "", "reason": o.reason,
               "notice_sent_at": o.notice_sent_at.isoformat() if o.notice_sent_at else ""}


