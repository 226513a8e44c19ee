"""The import framework: read an exchange file (formats.md), check its header, validate every row and
write the good ones in bulk, audited.

An app plugs in a kind by defining an `Importer` subclass in `<app>/importers.py` and calling
`register_importer("kind", ImporterClass)`; `autodiscover()` imports those modules, so
`gridcare import <kind> FILE` finds it.

Pipeline (`run_import`): the file is read as a stream of `Row`s (row 2 = first data row, as a
spreadsheet user counts). Rows are handled in chunks: `Importer.prefetch(rows)` loads what the chunk
refers to in a few queries, `validate_row(row)` checks one row and returns `(data, errors)`, and
`write(valid)` stores the chunk's good rows with bulk_create + `record_bulk`. Everything runs in one
transaction; with `atomic=True` it is rolled back when any row was rejected. Rows may refer to rows
above them in the same file: importers keep what the file defined so far (e.g. units by code) and look
there before the database.

Policy for existing keys: imports only create. A row whose key (code, username, 台区编码, 户号) is already
in the database, or appears earlier in the same file, is rejected; changes to existing records go
through the application, where each edit is checked and audited field by field.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import importlib
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from django.db import models, transaction
from django.utils.dateparse import parse_date as _parse_date
from django.utils.dateparse import parse_datetime as _parse_datetime

from .audit import record_bulk

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHUNK_SIZE = 1000          # rows validated and written together (bounds memory and query size)
BATCH_SIZE = 1000          # rows per INSERT
PROGRESS_EVERY = 5000      # rows between progress lines on long imports
SOURCE = "import"          # AuditLog.source of everything an import writes

TRUE_VALUES = {"true", "1", "yes", "y", "是", "t"}
FALSE_VALUES = {"false", "0", "no", "n", "否", "f"}


# ---------------------------------------------------------------------------------------------------
# Errors and rows


class ImportFileError(Exception):
    """The file as a whole cannot be imported (missing, unreadable, bad header): nothing is written."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str

    def __str__(self):
        return f"第{self.row}行 {self.column}: {self.message}" if self.column else f"第{self.row}行: {self.message}"


@dataclass
class Row:
    """One data row: its spreadsheet row number and its cells by column name.

    Cell values are stripped strings, or None for an empty cell; XLSX date cells stay `date`/`datetime`
    (use the `parse_*` helpers, which accept both)."""

    number: int
    values: dict[str, Any]
    extra: list = field(default_factory=list)  # non-empty cells beyond the header

    def get(self, column: str, default=None):
        value = self.values.get(column)
        return default if value is None else value

    def text(self, column: str) -> str:
        """The cell as text ("" when empty); dates as ISO strings."""
        value = self.values.get(column)
        if value is None:
            return ""
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return str(value)

    def error(self, column: str | None, message: str) -> RowError:
        return RowError(self.number, column, message)


# ---------------------------------------------------------------------------------------------------
# Reading files


def _cell(value):
    """Normalises a cell: stripped text, None when empty; XLSX numbers and booleans become text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel stores every number as a float: 13900000001.0 is the phone number 13900000001.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value).strip() or None


def _header_name(value) -> str:
    return str(value).replace("\ufeff", "").strip().lower() if value is not None else ""


class TableReader:
    """Iterates over a CSV or XLSX file: `.header` (column names) then `Row`s. Use as a context manager."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.header: list[str] = []
        self._close: Callable[[], None] = lambda: None
        self._raw: Iterator[tuple[int, list]] = iter(())

    def __enter__(self):
        try:
            self.open()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc):
        self._close()

    def open(self):
        if not os.path.exists(self.path):
            raise ImportFileError(f"文件不存在：{self.path}")
        if os.path.isdir(self.path):
            raise ImportFileError(f"不是文件：{self.path}")
        ext = os.path.splitext(self.path)[1].lower()
        if ext in (".xlsx", ".xlsm"):
            self._open_xlsx()
        elif ext == ".xls":
            raise ImportFileError("不支持旧版Excel（.xls）文件，请另存为 .xlsx 或“CSV UTF-8”格式后再导入")
        else:
            self._open_csv()
        try:
            number, header = next(self._raw)
        except StopIteration:
            raise ImportFileError("文件为空：缺少表头行") from None
        self.header = [_header_name(v) for v in header]
        while self.header and not self.header[-1]:
            self.header.pop()
        if not any(self.header):
            raise ImportFileError("文件第1行（表头）为空")

    def _open_csv(self):
        try:
            fh = open(self.path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ImportFileError(f"无法读取文件：{self.path}（{exc.strerror or exc}）") from None
        self._close = fh.close

        def rows():
            reader = csv.reader(fh)
            try:
                # A quoted cell may span lines: count records, as a spreadsheet shows them, not lines.
                for number, record in enumerate(reader, start=1):
                    yield number, record
            except UnicodeDecodeError:
                raise ImportFileError(
                    "文件不是UTF-8编码。用Excel保存时请选择“CSV UTF-8（逗号分隔）”，或直接导入 .xlsx 文件") from None
            except csv.Error as exc:
                raise ImportFileError(f"CSV格式错误（第{reader.line_num}行附近）：{exc}") from None

        self._raw = rows()

    def _open_xlsx(self):
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, OSError) as exc:
            raise ImportFileError(f"无法读取Excel文件：{self.path}（{exc}）") from None
        except Exception as exc:  # noqa: BLE001 - a damaged workbook fails in many ways inside openpyxl
            raise ImportFileError(f"无法读取Excel文件，文件可能已损坏：{self.path}（{type(exc).__name__}: {exc}）") from None
        self._close = wb.close
        if not wb.worksheets:
            raise ImportFileError("Excel文件中没有工作表")
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # some writers store wrong dimensions; read the rows that are there

        def rows():
            try:
                for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    yield number, list(values)
            except (ET.ParseError, zipfile.BadZipFile, ValueError, KeyError) as exc:
                raise ImportFileError(f"Excel文件内容已损坏，无法读取（{exc}）") from None

        self._raw = rows()

    def __iter__(self) -> Iterator[Row]:
        width = len(self.header)
        for number, raw in self._raw:
            cells = [_cell(v) for v in raw]
            if not any(c is not None for c in cells):
                continue  # blank line: neither imported nor an error
            values = {}
            for name, value in zip(self.header, cells):
                if name:
                    values[name] = value
            extra = [c for c in cells[width:] if c is not None]
            yield Row(number, values, extra)


def check_header(header: list[str], columns: Iterable[str], required: Iterable[str],
                 ignore_unknown: bool = False) -> list[str]:
    """Returns the problems with a file's header (empty list when it is acceptable)."""
    problems = []
    named = [h for h in header if h]
    duplicates = sorted({h for h in named if named.count(h) > 1 and h in columns})
    if duplicates:
        problems.append(f"表头中有重复的列：{'、'.join(duplicates)}")
    missing = [c for c in required if c not in named]
    if missing:
        problems.append(f"缺少必需的列：{'、'.join(missing)}")
    unknown = [h for h in named if h not in columns]
    if unknown and not ignore_unknown:
        problems.append(f"未知的列：{'、'.join(unknown)}（如需忽略这些列，请加 --ignore-unknown）")
    return problems


# ---------------------------------------------------------------------------------------------------
# Cell parsers: pure functions returning (value, error message or None)


def parse_bool(value) -> tuple[bool | None, str | None]:
    if value is None:
        return None, None
    text = str(value).strip().lower()
    if text in TRUE_VALUES:
        return True, None
    if text in FALSE_VALUES:
        return False, None
    return None, f"应为 true 或 false（当前为“{value}”）"


def parse_int(value, minimum: int | None = None, maximum: int | None = None) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    text = str(value).strip()
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return None, f"应为整数（当前为“{value}”）"
    if not number.is_finite() or number != number.to_integral_value():
        return None, f"应为整数（当前为“{value}”）"
    number = int(number)
    if minimum is not None and number < minimum:
        return None, f"应不小于{minimum}（当前为“{value}”）"
    if maximum is not None and number > maximum:
        return None, f"应不大于{maximum}（当前为“{value}”）"
    return number, None


def parse_decimal(value) -> tuple[decimal.Decimal | None, str | None]:
    if value is None:
        return None, None
    try:
        number = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        return None, f"应为数字（当前为“{value}”）"
    if not number.is_finite():
        return None, f"应为数字（当前为“{value}”）"
    return number, None


def parse_date(value) -> tuple[dt.date | None, str | None]:
    """ISO date (2026-01-05); an XLSX date cell is accepted as it is."""
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            return None, f"应为日期而不是时间（当前为“{value.isoformat(sep=' ')}”）"
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    try:
        parsed = _parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        return None, f"日期格式不正确，应为 YYYY-MM-DD（当前为“{value}”）"
    return parsed, None


def parse_datetime(value) -> tuple[dt.datetime | None, str | None]:
    """ISO 8601 timestamp; one without an offset (or an XLSX date-time cell) is Asia/Shanghai time."""
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(0))
    else:
        try:
            parsed = _parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            return None, f"时间格式不正确，应为ISO 8601，如 2026-01-05 08:30:00 或 2026-01-05T08:30:00+08:00（当前为“{value}”）"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed, None


def parse_choice(value, choices: Iterable[tuple[str, str]]) -> tuple[str | None, str | None]:
    """A code from a list of (code, label); the message lists the valid codes with their labels."""
    if value is None:
        return None, None
    choices = list(choices)
    text = str(value).strip()
    if text in {code for code, _ in choices}:
        return text, None
    valid = "、".join(f"{code}（{label}）" for code, label in choices)
    return None, f"无效的值“{value}”，可选：{valid}"


# ---------------------------------------------------------------------------------------------------
# Importers and their registry


class Importer:
    """One kind of import. Subclasses set `kind`, `label`, `columns` and `required_columns`, and implement
    `validate_row` and `write`; `prefetch` is there to load a chunk's references in bulk."""

    kind: str = ""
    label: str = ""                      # what the rows are, in Chinese (for messages)
    columns: tuple[str, ...] = ()        # every column the format knows, in export order
    required_columns: tuple[str, ...] = ()  # columns the header must have
    column_labels: dict[str, str] = {}   # Chinese names, for help texts and export headers

    def __init__(self, options: dict | None = None, source_name: str = ""):
        self.options = options or {}
        self.source_name = source_name
        self.created = 0

    # -- hooks --------------------------------------------------------------------------------------
    def prefetch(self, rows: list[Row]) -> None:
        """Load from the database what `rows` refer to (a handful of queries per chunk, not per row)."""

    def validate_row(self, row: Row) -> tuple[Any, list[RowError]]:
        raise NotImplementedError

    def write(self, valid: list[Any]) -> None:
        raise NotImplementedError

    # -- helpers for subclasses ---------------------------------------------------------------------
    def text(self, row: Row, column: str, errors: list[RowError], *, max_length: int | None = None,
             required: bool = False) -> str:
        value = row.text(column)
        if not value:
            if required:
                errors.append(row.error(column, "不能为空"))
            return ""
        if max_length is not None and len(value) > max_length:
            errors.append(row.error(column, f"长度不能超过{max_length}个字符（当前{len(value)}个）"))
        return value

    def parsed(self, row: Row, column: str, parser, errors: list[RowError], *args, required: bool = False):
        value = row.get(column)
        if value is None:
            if required:
                errors.append(row.error(column, "不能为空"))
            return None
        result, message = parser(value, *args)
        if message:
            errors.append(row.error(column, message))
        return result

    def create(self, objs: list[models.Model]) -> list[models.Model]:
        """bulk_create in batches plus one AuditLog per object (source "import")."""
        if not objs:
            return objs
        model = type(objs[0])
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        record_bulk(objs, "create", source=SOURCE, note=self.audit_note)
        return objs

    @property
    def audit_note(self) -> str:
        return f"批量导入 {self.source_name}" if self.source_name else "批量导入"


_REGISTRY: dict[str, type[Importer]] = {}


def register_importer(kind: str, importer_class: type[Importer]) -> type[Importer]:
    importer_class.kind = kind
    _REGISTRY[kind] = importer_class
    return importer_class


def get_importer(kind: str) -> type[Importer] | None:
    autodiscover()
    return _REGISTRY.get(kind)


def importer_kinds() -> list[str]:
    autodiscover()
    return list(_REGISTRY)


def autodiscover(module_name: str = "importers") -> None:
    """Imports `<app>.importers` for every installed gridcare app that has one (they register
    themselves, importers and exporters alike). A missing module is fine; an error inside one is not."""
    from django.apps import apps

    for config in apps.get_app_configs():
        if not config.name.startswith("gridcare."):
            continue
        name = f"{config.name}.{module_name}"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


# ---------------------------------------------------------------------------------------------------
# Running an import


@dataclass
class ImportResult:
    kind: str
    created: int = 0                 # rows accepted (and kept unless rolled back)
    rejected: int = 0                # rows with at least one error
    errors: list[RowError] = field(default_factory=list)
    rolled_back: bool = False

    @property
    def total(self) -> int:
        return self.created + self.rejected


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_import(kind: str, path, *, atomic: bool = False, ignore_unknown: bool = False,
               options: dict | None = None, progress: Callable[[int, int, int], None] | None = None,
               progress_every: int | None = None, chunk_size: int | None = None) -> ImportResult:
    """Imports `path` as `kind`. Raises ImportFileError when the file cannot be imported at all.

    Default: good rows are written, bad rows reported. `atomic`: any bad row rolls back the whole file.
    The audit actor comes from the caller's `audit_context`."""
    progress_every = progress_every or PROGRESS_EVERY
    chunk_size = chunk_size or CHUNK_SIZE
    importer_class = get_importer(kind)
    if importer_class is None:
        raise ImportFileError(f"未知的导入类型：{kind}（可选：{'、'.join(importer_kinds())}）")
    importer = importer_class(options, source_name=os.path.basename(os.fspath(path)))
    result = ImportResult(kind)
    with TableReader(path) as reader:
        problems = check_header(reader.header, importer.columns, importer.required_columns, ignore_unknown)
        if problems:
            raise ImportFileError("表头不正确：" + "；".join(problems))
        known = set(importer.columns)
        seen, next_report = 0, progress_every
        with transaction.atomic():
            for chunk in _chunks(reader, chunk_size):
                for row in chunk:
                    for unknown in [k for k in row.values if k not in known]:
                        del row.values[unknown]
                importer.prefetch(chunk)
                valid = []
                for row in chunk:
                    if row.extra:
                        data, errors = None, [row.error(None, "本行的值多于表头的列数")]
                    else:
                        data, errors = importer.validate_row(row)
                    if errors:
                        result.rejected += 1
                        result.errors.extend(errors)
                    else:
                        valid.append(data)
                if valid:
                    importer.write(valid)
                result.created += len(valid)
                seen += len(chunk)
                while progress and seen >= next_report:
                    progress(seen, result.created, result.rejected)
                    next_report += progress_every
            if atomic and result.rejected:
                transaction.set_rollback(True)
                result.rolled_back = True
    return result
