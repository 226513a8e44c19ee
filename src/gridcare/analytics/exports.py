"""The report as a file: JSON (the contract), XLSX (one formatted sheet per section, Chinese headers)
and a printable HTML page (print CSS, no scripts; PDF through the browser's “打印 → 另存为 PDF”)."""
from __future__ import annotations

import io
import json
import os
import tempfile

from django.template.loader import render_to_string

FORMATS = ("json", "xlsx", "html")


def sections(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """(sheet title, Chinese headers, rows) for every section of the report."""
    total = report["total"]
    cmp = report["comparison"]
    out = [("概览", ["项目", "数值"], [
        ["报表", report["title"]], ["单位", f"{report['unit']['name']}（{report['unit']['code']}）"],
        ["时间段", f"{report['from']} 至 {report['to']}"], ["投诉总数", total],
        ["同期工单总数（全部类型）", report["orders_total"]],
        ["上期投诉数", cmp["previous"]["total"]], ["环比变化", cmp["previous"]["change"]],
        ["去年同期投诉数", cmp["same_period_last_year"]["total"]],
        ["同比变化", cmp["same_period_last_year"]["change"]],
        ["城区投诉", report["urban_rural"]["urban"]], ["农村投诉（含特殊边远）", report["urban_rural"]["rural"]],
        ["负荷高峰时段投诉占比", report["load_peaks"]["share"]],
        ["回访满意率", report["satisfaction"]["satisfied_rate"]],
        ["超时最多的环节", report["stage_durations"].get(report["stage_most_overdue"] or "", {}).get("label", "—")],
        ["生成时间", report["generated_at"]]])]
    out.append(("一级分类", ["分类编码", "一级分类", "投诉数", "占比"],
                [[k, v["label"], v["count"], v["share"]] for k, v in report["by_category_l1"].items()]))
    l1 = {k: v["label"] for k, v in report["by_category_l1"].items()}
    out.append(("二级分类", ["一级分类", "分类编码", "二级分类", "投诉数", "占比"],
                [[l1.get(v["category_l1"], ""), k, v["label"], v["count"], v["share"]]
                 for k, v in sorted(report["by_category_l2"].items(), key=lambda kv: -kv[1]["count"])]))
    out.append(("业务类型与渠道", ["维度", "编码", "名称", "数量", "占比"],
                [["业务类型（全部工单）", k, v["label"], v["count"], v["share"]] for k, v in report["by_order_type"].items()]
                + [["受理渠道（投诉）", k, v["label"], v["count"], v["share"]] for k, v in report["by_channel"].items()]
                + [["区域（投诉）", k, v["label"], v["count"], v["share"]] for k, v in report["by_area_kind"].items()]))
    peaks = set(report["load_peaks"]["hours"])
    out.append(("时段分布", ["时段", "投诉数", "负荷高峰"],
                [[f"{h:02d}:00–{h:02d}:59", n, "是" if h in peaks else ""] for h, n in enumerate(report["by_hour"])]
                + [[day, n, ""] for day, n in zip(["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
                                                  report["by_weekday"])]))
    out.append(("台区热点", ["类型", "台区编码", "台区名称", "投诉客户数", "投诉数", "月份"],
                [["多客户投诉台区", r["code"], r["name"], r["customers"], r["complaints"], ""]
                 for r in report["taiqu_multi_customer"]]
                + [["连续月份投诉台区", r["code"], r["name"], None, None, "、".join(r["months"])]
                   for r in report["taiqu_consecutive_months"]]
                + [["连续两年同月投诉台区", r["code"], r["name"], None, None, "、".join(r["months"])]
                   for r in report["taiqu_same_month_consecutive_years"]]))
    out.append(("环节时长", ["时限编码", "环节", "工单数", "已完成", "中位数（分钟）", "90分位（分钟）", "超时数", "超时占比"],
                [[k, v["label"], v["count"], v["finished"], v["median_minutes"], v["p90_minutes"], v["overdue"],
                  v["overdue_share"]] for k, v in report["stage_durations"].items()]))
    labels = {k: v["label"] for k, v in report["stage_durations"].items()}
    out.append(("各单位超时", ["单位编码", "单位名称", "环节", "工单数", "超时数", "超时占比"],
                [[u["code"], u["name"], labels.get(k, k), s["count"], s["overdue"], s["overdue_share"]]
                 for u in report["stage_overdue_by_unit"] for k, s in u["stages"].items()]))
    out.append(("重复来电与满意度", ["项目", "户号", "客户", "数量", "备注"],
                [["重复来电工单", "", "", report["repeat_calls"], ""],
                 ["投诉2次及以上的客户", "", "", report["repeat_customers"], ""],
                 ["敏感客户投诉", "", "", report["sensitive_customers"]["complaints"],
                  f"{report['sensitive_customers']['customers']} 户"]]
                + [["重复投诉客户", r["account_no"], r["name"], r["complaints"], "敏感客户" if r["sensitive"] else ""]
                   for r in report["repeat_callers"]]
                + [["回访：" + v["label"], "", "", v["count"], v["share"]]
                   for k, v in report["satisfaction"].items() if isinstance(v, dict)]))
    out.append(("高频词", ["一级分类", "词语", "出现的投诉数", "读取的投诉文本数"],
                [[v["label"], t["term"], t["count"], v["texts"]] for v in report["top_terms"].values()
                 for t in v["terms"]]))
    return out


SHARE_HEADERS = {"占比", "超时占比"}


def write_xlsx(report: dict, target) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from gridcare.core.exports import display_width

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    bold, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for title, headers, rows in sections(report):
        ws = wb.create_sheet(title=title[:31])
        ws.append([f"{report['title']} · {report['unit']['name']} · {report['from']} 至 {report['to']} · {title}"])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(headers)
        for cell in ws[2]:
            cell.font, cell.fill, cell.border = bold, fill, border
            cell.alignment = Alignment(horizontal="center", vertical="center")
        widths = [display_width(str(h)) + 4 for h in headers]
        for row in rows:
            ws.append(row)
            for i, value in enumerate(row):
                widths[i] = max(widths[i], min(display_width(str(value if value is not None else "")) + 2, 60))
        for r in ws.iter_rows(min_row=3, max_row=ws.max_row):
            for cell, header in zip(r, headers):
                cell.border = border
                if header in SHARE_HEADERS and isinstance(cell.value, (int, float)):
                    cell.number_format = "0.00%"
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A3"
        if rows:
            ws.auto_filter.ref = f"A2:{get_column_letter(len(headers))}{len(rows) + 2}"
        ws.print_title_rows = "2:2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
    wb.save(target)


def xlsx_bytes(report: dict) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(report, buffer)
    return buffer.getvalue()


def html_text(report: dict, standalone: bool = True) -> str:
    return render_to_string("analytics/report_print.html", {"r": report, "sections": sections(report),
                                                              "standalone": standalone})


def json_text(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


def write_file(report: dict, fmt: str, path) -> None:
    """Writes the report; the file appears complete or not at all."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"目录不存在：{directory}")
    fd, tmp = tempfile.mkstemp(prefix=".gridcare-report-", dir=directory)
    try:
        if fmt == "xlsx":
            os.close(fd)
            write_xlsx(report, tmp)
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json_text(report) if fmt == "json" else html_text(report))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


KPI_HEADERS = ["排名", "编码", "名称", "工单数", "办理环节数", "按时率", "回退次数", "质检问题工单", "回访满意率", "投诉数"]


def kpi_xlsx(rows, by, unit, period) -> bytes:
    """Agent or unit KPIs as one formatted sheet, with the on-time rate per stage beside."""
    stages = []
    for r in rows:
        for k, v in r["stages"].items():
            if (k, v["label"]) not in stages:
                stages.append((k, v["label"]))
    headers = KPI_HEADERS + [f"{label}按时率" for _k, label in stages]
    body = [[r.get("rank", i), r["code"], r["name"], r["orders"], r["handled"], r["on_time_rate"], r["rejects"],
             r["quality_flagged"], r["satisfaction_rate"], r["complaints"],
             *[r["stages"].get(k, {}).get("on_time_rate") for k, _l in stages]]
            for i, r in enumerate(rows, start=1)]
    title = "人员绩效" if by == "agent" else "单位绩效排名"
    fake = {"title": title, "unit": {"name": unit.name}, "from": period.start.isoformat(), "to": period.end.isoformat()}
    return _sheets_bytes(fake, [(title, headers, body)], rate_headers={h for h in headers if "率" in h})


def _sheets_bytes(meta, sheets, rate_headers) -> bytes:
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    from gridcare.core.exports import display_width

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.append([f"{meta['title']} · {meta['unit']['name']} · {meta['from']} 至 {meta['to']}"])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(headers)
        for cell in ws[2]:
            cell.font, cell.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
        for row in rows:
            ws.append(row)
        for i, h in enumerate(headers, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(display_width(h) + 4, 10)
            if h in rate_headers:
                for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                    cell.number_format = "0.00%"
        ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
