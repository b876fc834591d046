"""The signed report as a PDF in the layout of the paper form: Chinese as real text in an
embedded TrueType CJK font (Debian's WenQuanYi, installed by `make setup`), the signature image,
the report hash, and a QR code of the verification URL. The font and the URL come from the
settings (completion.rendering); the font itself is loaded by completion.fonts.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF

from completion.drafting import TITLES
from completion.fonts import FAMILY, a4
from completion.models import ReportSignature
from core import zones

RESULT_TEXT = {
    "restored": "已修复，服务恢复",
    "temporary_fix": "临时修复（降级恢复），需后续处理",
    "backup_installed": "已安装备机",
    "not_fixed": "未修复，需再次上门",
}
KIND_TEXT = {"strokes": "现场手写签名", "stamped_form": "服务确认单（盖章）", "remote": "远程确认"}


def _local(value: Any, tz: str) -> str:
    if not value:
        return "—"
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return zones.local_minute(at, tz)


def _text(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def _check_line(item: dict[str, Any]) -> str:
    """One checklist answer of an inspection report: asset, item, value, verdict, finding."""
    value = item.get("value") or {}
    shown = next((str(v) for v in value.values()), "未检")
    verdict = {True: "合格", False: "不合格", None: ""}[item.get("passed")]
    line = f"{item['asset_model']} {item['asset_serial']}：{item['label']} {shown} {verdict}".rstrip()
    if item.get("finding"):
        line += f"（{item['finding']}）"
    if item.get("repair_problem_number"):
        line += f" → 报修 {item['repair_problem_number']}"
    return line


def _rows(doc: dict[str, Any], tz: str) -> list[tuple[str, str]]:
    backup = doc.get("configuration_backup") or {}
    done = {True: "是", False: "否", None: "—"}[backup.get("done")]
    parts = [
        f"{p['name']}（{p['sku']}）× {p['quantity']}" + (f" SN {p['serial']}" if p.get("serial") else "")
        for p in doc.get("parts_consumed", [])
    ]
    swaps = [
        f"{s['name']}：换上 {s['installed_serial']}，换下 {s['removed_serial']}"
        for s in doc.get("part_swaps", [])
    ]
    backups = [
        f"备机 SN {b['serial']}（借用单 {b['loan_id'][:8]}，签收 {_text(b.get('signed_by'))}，"
        f"归还期限 {_text(b.get('return_by'))}）"
        for b in doc.get("backup_units", [])
    ]
    people = [
        f"{e['name']}：到达 {_local(e.get('arrived_at'), tz)}，离开 {_local(e.get('departed_at'), tz)}"
        for e in doc.get("engineers", [])
    ]
    photos = [f"{p['sha256'] or '—'}" for p in doc.get("photos", [])]
    checks = [_check_line(c) for c in doc.get("checklist", [])]
    contact = doc.get("on_site_contact") or {}
    asset = doc.get("asset") or {}
    return [
        ("客户", doc["customer"]["name"]),
        ("现场", f"{doc['site']['name']}  {doc['site']['address']}"),
        ("现场联系人", f"{_text(contact.get('name'))}  {_text(contact.get('phone'))}"),
        ("设备型号 / 序列号", f"{_text(asset.get('model'))} / {_text(asset.get('serial'))}"),
        ("报修时间", _local(doc.get("reported_at"), tz)),
        ("故障现象", _text(doc.get("fault_reported"))),
        ("故障诊断", _text(doc.get("diagnosis"))),
        ("处理过程", _text(doc.get("actions_taken"))),
        ("配置备份", f"{done}  {_text(backup.get('where'))}"),
        ("消耗备件", "\n".join(parts) or "无"),
        ("更换备件", "\n".join(swaps) or "无"),
        ("备机", "\n".join(backups) or "无"),
        ("工程师到场", "\n".join(people) or "—"),
        ("现场照片（SHA-256）", "\n".join(photos) or "无"),
        *([("巡检项目", "\n".join(checks))] if checks else []),
        ("处理结果", RESULT_TEXT.get(doc.get("result") or "", "—")),
        ("后续处理", "需要" if doc.get("follow_up_needed") else "不需要"),
        ("费用", "收费" if doc.get("billable") else "保修期内 / 合同内免费"),
        ("客户意见", _text(doc.get("customer_remarks"))),
    ]


# A table row must fit on one page; a longer value (up to 4,000 characters of notes) is printed
# under its label across the page break instead.
ROW_FITS = 700
LINES_FIT = 30


def _printable(value: str) -> str:
    # Control characters have no glyph; a tab reads as a space.
    return "".join(c if c == "\n" or c.isprintable() else " " for c in value)


def _form(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    short: list[tuple[str, str]] = []

    def flush() -> None:
        if short:
            with pdf.table(col_widths=(40, 150), first_row_as_headings=False, line_height=5.5) as table:
                for label, value in short:
                    row = table.row()
                    row.cell(label)
                    row.cell(value)
            short.clear()

    for label, raw in rows:
        value = _printable(raw)
        if len(value) <= ROW_FITS and value.count("\n") < LINES_FIT:
            short.append((label, value))
            continue
        flush()
        pdf.cell(0, 6, label, border=1, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 5.5, value, border=1, new_x="LMARGIN", new_y="NEXT")
    flush()


def render(
    doc: dict[str, Any], signature: ReportSignature, image: bytes | None, *, verify_url: str, font: Path
) -> bytes:
    tz = doc["site"]["time_zone"]
    pdf = a4(font)
    pdf.set_creation_date(signature.signed_at)
    pdf.set_title(f"{TITLES[doc['form']]} {doc['problem_number']}")
    pdf.add_page()
    pdf.set_font(FAMILY, size=18)
    pdf.cell(0, 10, TITLES[doc["form"]], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    pdf.cell(
        0,
        6,
        f"问题编号 {doc['problem_number']}    档案号 {doc['archive_id']}    报告版本 {doc['version']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    _form(pdf, _rows(doc, tz))
    pdf.ln(4)
    pdf.set_font(FAMILY, size=11)
    pdf.cell(0, 7, f"客户确认：{KIND_TEXT[signature.kind]}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    lines = [
        f"签字人 {signature.signer_name}（{signature.signer_role}）",
        f"时间 {_local(signature.signed_at, tz)}（{tz}）",
    ]
    if signature.longitude is not None:
        lines.append(f"位置 {signature.longitude:.6f}, {signature.latitude:.6f}")
    if signature.kind == "remote":
        lines.append(f"确认方式 {signature.channel}，通话记录 {signature.call_reference}")
    for line in lines:
        pdf.multi_cell(0, 5, _printable(line), new_x="LMARGIN", new_y="NEXT")
    if image is not None:
        if pdf.get_y() > 220:
            pdf.add_page()
        placed = pdf.image(io.BytesIO(image), x=pdf.l_margin, y=pdf.get_y() + 2, w=70)
        pdf.set_y(pdf.get_y() + 2 + float(placed.rendered_height))
    if pdf.get_y() > 240:
        pdf.add_page()
    pdf.ln(3)
    top = pdf.get_y()
    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=4, border=2)
    pdf.image(qr, x=pdf.w - pdf.r_margin - 32, y=top, w=32)
    pdf.set_font(FAMILY, size=8)
    pdf.multi_cell(pdf.epw - 36, 4.5, f"报告哈希（SHA-256）\n{signature.report_hash}\n核验：{verify_url}")
    return bytes(pdf.output())
