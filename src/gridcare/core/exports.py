"""Exports in the exchange formats (formats.md): the same columns as the import, so an export re-imports
unchanged. XLSX by default (bold header with the Chinese column names as notes, column widths, frozen
header row, filter), CSV when the file name ends in .csv (UTF-8 with a BOM, so that Excel shows Chinese
correctly; the importer accepts the BOM). Rows are streamed (openpyxl write_only, queryset.iterator),
so a large table never sits in memory.

An app defines an `Exporter` per kind next to its importer (`<app>/importers.py`) and registers it
with `register_exporter`. Views reuse `xlsx_response(kind, queryset=...)`, passing a queryset already
narrowed to what the user may see.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
import unicodedata
from typing import Any, Iterable, Iterator
from urllib.parse import quote

from django.db.models import QuerySet

from .imports import SHANGHAI, autodiscover

XLSX_MAX_ROWS = 1_048_576
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportError(Exception):
    pass


class Exporter:
    """One kind of export: the model's queryset and, per column, the ORM lookup that gives its value.
    Values are read with values_list (no model instances: a large export stays fast). A kind whose
    columns are not plain lookups (e.g. derived from a history) overrides `rows`."""

    kind: str = ""
    label: str = ""                       # sheet title, in Chinese
    columns: tuple[str, ...] = ()
    lookups: dict[str, str] = {}          # column → ORM lookup where they differ ("unit_code": "unit__code")
    column_labels: dict[str, str] = {}    # Chinese names, shown as notes on the header cells
    widths: dict[str, int] = {}           # column widths (characters) where the default does not fit

    def queryset(self) -> QuerySet:
        """All records, in export order (an order in which the file re-imports)."""
        raise NotImplementedError

    def row(self, values: list[Any]) -> list[Any]:
        """Hook to adjust one row's values (in `columns` order) before writing."""
        return values

    def rows(self, queryset: QuerySet | None = None) -> Iterator[list[Any]]:
        """The rows of `queryset` (default: all), e.g. a view's queryset narrowed to the user's units."""
        qs = self.queryset() if queryset is None else queryset
        lookups = [self.lookups.get(column, column) for column in self.columns]
        for values in qs.values_list(*lookups).iterator(chunk_size=2000):
            yield self.row([None if v == "" else v for v in values])


_REGISTRY: dict[str, type[Exporter]] = {}


def register_exporter(kind: str, exporter_class: type[Exporter]) -> type[Exporter]:
    exporter_class.kind = kind
    _REGISTRY[kind] = exporter_class
    return exporter_class


def get_exporter(kind: str) -> Exporter:
    autodiscover()
    if kind not in _REGISTRY:
        raise ExportError(f"未知的导出类型：{kind}（可选：{'、'.join(exporter_kinds())}）")
    return _REGISTRY[kind]()


def exporter_kinds() -> list[str]:
    autodiscover()
    return list(_REGISTRY)


# ---------------------------------------------------------------------------------------------------
# Cell formatting


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def display_width(text: str) -> int:
    """Width in Excel character units: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _xlsx_cell(ws, value):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith("="):
        # openpyxl would store it as a formula: Excel would run it, and it would not re-import.
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI).replace(tzinfo=None)  # Excel has no time zones
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value  # Decimal is written exactly as its digits


# ---------------------------------------------------------------------------------------------------
# Writers


def write_csv(fh, columns: Iterable[str], rows: Iterable[list]) -> int:
    """Writes a header and `rows` to a text file opened with newline=""; returns the row count."""
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(list(columns))
    count = 0
    for values in rows:
        writer.writerow([csv_value(v) for v in values])
        count += 1
    return count


def write_xlsx(target, exporter: Exporter, rows: Iterable[list]) -> int:
    """Writes one sheet (path or binary file object); returns the row count."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(title=(exporter.label or exporter.kind)[:31])
    columns = list(exporter.columns)
    for index, column in enumerate(columns, start=1):
        width = max(exporter.widths.get(column, 12), display_width(column) + 2)
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column)
        cell.font, cell.fill, cell.alignment = bold, fill, Alignment(horizontal="center")
        label = exporter.column_labels.get(column)
        if label:
            cell.comment = Comment(label, "GridCare", width=160, height=40)
        header.append(cell)
    ws.append(header)
    count = 0
    for values in rows:
        count += 1
        if count >= XLSX_MAX_ROWS:
            raise ExportError(f"数据超过Excel的行数上限（{XLSX_MAX_ROWS - 1}行），请导出为CSV")
        ws.append([_xlsx_cell(ws, v) for v in values])
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    wb.save(target)
    return count


def export_to_file(kind: str, path, queryset: QuerySet | None = None) -> int:
    """Exports `kind` to `path` (CSV when it ends in .csv, else XLSX); returns the row count.
    The file appears complete or not at all (written beside it, then renamed)."""
    exporter = get_exporter(kind)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ExportError(f"目录不存在：{directory}")
    as_csv = path.lower().endswith(".csv")
    fd, tmp = tempfile.mkstemp(prefix=".gridcare-export-", suffix=".csv" if as_csv else ".xlsx", dir=directory)
    try:
        if as_csv:
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
                count = write_csv(fh, exporter.columns, exporter.rows(queryset))
        else:
            os.close(fd)
            count = write_xlsx(tmp, exporter, exporter.rows(queryset))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return count


def xlsx_response(kind: str, queryset: QuerySet | None = None, filename: str | None = None):
    """An HTTP download of `kind` as XLSX, for views (pass a queryset already scoped to the user)."""
    from django.http import FileResponse
    from django.utils import timezone

    exporter = get_exporter(kind)
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    write_xlsx(buffer, exporter, exporter.rows(queryset))
    buffer.seek(0)
    filename = filename or f"{exporter.label or kind}-{timezone.localdate():%Y%m%d}.xlsx"
    response = FileResponse(buffer, content_type=XLSX_CONTENT_TYPE)
    ascii_name = f"{kind}-{timezone.localdate():%Y%m%d}.xlsx"  # for clients without RFC 5987
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response
