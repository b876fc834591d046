"""The monthly service report as a PDF (月度服务报告): Chinese as real text in the embedded CJK
font of completion.fonts, times in the customer's zone. Pure layout of a `MonthlyReport`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from completion.fonts import FAMILY, a4
from core import zones
from dispatch.contracts.models import Measure
from kpis.figures import Figure
from kpis.monthly import MonthlyReport

KPI_NAMES = {
    "first_response": "首次响应及时率",
    "first_response_contractual": "首次响应及时率（合同口径）",
    "on_site": "12 小时到场率",
    "on_site_contractual": "12 小时到场率（合同口径）",
    "restored": "48 小时恢复率",
    "restored_contractual": "48 小时恢复率（合同口径）",
    "backup_devices_provided": "提供备机数",
    "mean_loan_days": "平均借用天数",
    "first_time_fix_rate": "一次修复率",
    "mean_time_to_restore": "平均恢复时间",
    "resolution_rate": "故障解决率",
    "resolution_rate_major": "重大故障解决率",
    "repeat_fault_rate": "重复故障率",
    "stock_out_rate": "备件缺货率",
    "satisfaction": "客户满意率",
    "csat": "CSAT",
    "complaints": "投诉数",
    "engineer_utilisation": "工程师利用率",
    "travel_share": "路途时间占比",
    "inspections_within_window": "巡检按期完成率",
}
SEVERITY = {"critical": "紧急", "high": "高", "medium": "中", "low": "低"}
STATUS = {
    "new": "新建",
    "triaged": "已分诊",
    "scheduled": "已派工",
    "en_route": "在途",
    "on_site": "在现场",
    "resolved": "已解决",
    "signed": "已签字",
    "closed": "已关闭",
    "remote_fix": "远程解决",
    "waiting_customer": "等待客户",
    "backup_installed": "已装备机",
    "cancelled": "已取消",
    "reopened": "重新打开",
}
SLA = {"met": "达标", "breached": "超时", "running": "进行中", "cancelled": "—"}
MEASURE = {
    Measure.RESPONSE: "首次响应",
    Measure.ON_SITE: "到场",
    Measure.RESTORE: "恢复",
    Measure.PERMANENT_FIX: "永久修复",
}
PAUSE = {
    "site_not_accessible": "现场无法进入",
    "escort_delay": "等待陪同",
    "customer_postponed": "客户推迟",
    "change_freeze": "变更冻结期",
    "awaiting_quote_approval": "等待报价审批",
}
LOAN = {
    "proposed": "待审批",
    "approved": "已审批",
    "open": "借用中",
    "returning": "已换回",
    "closed": "已归还",
    "cancelled": "已取消",
}


def value_text(f: Figure) -> str:
    if f.status == "pending_survey":
        return "待调查"
    if f.value is None:
        return "—" if f.status == "computed" else "不适用"
    unit = f.definition.unit
    if unit == "ratio":
        return f"{f.value * 100:.1f} %"
    if unit == "hours":
        return f"{f.value:.1f} 小时"
    if unit == "days":
        return f"{f.value:.1f} 天"
    return f"{f.value:g}"


def _target(f: Figure) -> str:
    d = f.definition
    if d.target is None:
        return "合同约定" if d.key.startswith(("first_response", "on_site", "restored")) else "—"
    sign = {"min": "≥", "max": "≤", "above": ">"}.get(d.target_kind or "", "")
    shown = f"{round(d.target * 100, 2):g} %" if d.unit == "ratio" else f"{d.target:g}"
    return f"{sign} {shown}"


def _met(f: Figure) -> str:
    return {True: "达标", False: "未达标", None: "—"}[f.within_target]


def _reason(raw: str) -> str:
    kind, _, rest = raw.partition(":")
    if kind == "declined_backup":
        who, _, evidence = rest.partition(":")
        return f"客户拒绝备机（{who or '—'}，凭证 {evidence or '—'}）"
    reason, _, who = rest.partition(":")
    return f"暂停计时：{PAUSE.get(reason, reason)}（客户方 {who}）"


def summary(report: MonthlyReport) -> list[str]:
    orders = report.orders
    restored = sum(1 for o in orders if o.restored_at is not None)
    breached = sum(1 for o in orders if o.sla == "breached")
    excused = sum(1 for o in orders if o.sla == "breached" and o.excused)
    judged = [f for f in report.kpis.figures if f.within_target is not None]
    return [
        f"本月共报修 {len(orders)} 单，已恢复 {restored} 单；SLA 超时 {breached} 单"
        + (f"（其中 {excused} 单因客户原因免责）" if excused else "")
        + "。",
        f"有目标值的指标 {len(judged)} 项，达标 {sum(1 for f in judged if f.within_target)} 项。",
        f"本月在借备机 {len(report.loans)} 台。",
    ]


def _table(pdf: FPDF, widths: tuple[float, ...], head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    # The embedded font has no bold face: headings are shaded instead.
    heading = FontFace(emphasis="", fill_color=(230, 230, 230))
    with pdf.table(col_widths=widths, line_height=5, text_align="LEFT", headings_style=heading) as table:
        row = table.row()
        for cell in head:
            row.cell(cell)
        for values in rows:
            row = table.row()
            for cell in values:
                row.cell(cell)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FAMILY, size=12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=8)


class _Local:
    """Times as the customer reads them: month, day and minute in the customer's zone."""

    def __init__(self, tz: str) -> None:
        self.zone = zones.zone(tz)

    def __call__(self, at: dt.datetime | None) -> str:
        return at.astimezone(self.zone).strftime("%m-%d %H:%M") if at else "—"


def _title(pdf: FPDF, report: MonthlyReport, local: _Local) -> None:
    since = report.kpis.period.since.astimezone(local.zone)
    until = report.kpis.period.until.astimezone(local.zone) - dt.timedelta(seconds=1)
    pdf.set_font(FAMILY, size=18)
    pdf.cell(0, 10, "月度服务报告", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)
    for line in (
        f"客户：{report.customer_name}",
        f"报告期间：{report.month}（{since:%Y-%m-%d} 至 {until:%Y-%m-%d}，{report.kpis.period.time_zone}）",
        f"生成时间：{report.kpis.computed_at.astimezone(local.zone):%Y-%m-%d %H:%M}",
    ):
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")


def _orders(pdf: FPDF, report: MonthlyReport, local: _Local) -> None:
    _heading(pdf, "三、本月工单")
    _table(
        pdf,
        (28, 34, 10, 22, 22, 22, 20, 22),
        ("问题编号", "现场", "级别", "报修", "到场", "恢复", "状态", "SLA"),
        [
            (
                o.problem_number,
                o.site,
                SEVERITY.get(o.severity, o.severity),
                local(o.reported_at),
                local(o.on_site_at),
                local(o.restored_at),
                STATUS.get(o.status, o.status),
                SLA[o.sla] + ("（免责）" if o.excused else ""),
            )
            for o in report.orders
        ]
        or [("本月无报修",) + ("",) * 7],
    )


def _breaches(pdf: FPDF, report: MonthlyReport, local: _Local) -> None:
    _heading(pdf, "四、超时说明")
    if not report.breaches:
        pdf.cell(0, 6, "本月无超时。", new_x="LMARGIN", new_y="NEXT")
        return
    _table(
        pdf,
        (28, 18, 22, 22, 100),
        ("问题编号", "时限", "截止", "完成", "原因"),
        [
            (
                b.problem_number,
                MEASURE[b.measure] + ("\n（免责）" if b.customer_excused else ""),
                local(b.deadline),
                local(b.met_at) if b.met_at else "未完成",
                "\n".join(_reason(r) for r in b.reasons) or "未记录原因",
            )
            for b in report.breaches
        ],
    )


def _loans(pdf: FPDF, report: MonthlyReport, local: _Local) -> None:
    _heading(pdf, "五、备机借用")
    if not report.loans:
        pdf.cell(0, 6, "本月无备机借用。", new_x="LMARGIN", new_y="NEXT")
        return
    _table(
        pdf,
        (30, 40, 22, 22, 22, 20, 34),
        ("问题编号", "备机序列号", "安装", "归还期限", "归还", "状态", "签收人"),
        [
            (
                loan.problem_number,
                loan.serial,
                local(loan.opened_at),
                loan.return_by.isoformat() if loan.return_by else "—",
                local(loan.returned_at),
                LOAN.get(loan.status, loan.status),
                loan.signed_by or "—",
            )
            for loan in report.loans
        ],
    )


def _inspections(pdf: FPDF, report: MonthlyReport) -> None:
    _heading(pdf, "六、巡检")
    if not report.inspections:
        pdf.cell(0, 6, "本月无到期巡检。", new_x="LMARGIN", new_y="NEXT")
        return
    _table(
        pdf,
        (40, 22, 26, 22, 22, 22, 26),
        ("合同", "到期", "按期完成", "逾期完成", "未完成", "取消/跳过", "按期率"),
        [
            (
                line.contract_number,
                str(line.due),
                str(line.done_in_window),
                str(line.done_late),
                str(line.open),
                str(line.set_aside),
                "—" if line.share is None else f"{line.share:.1%}",
            )
            for line in report.inspections
        ],
    )


def render(report: MonthlyReport, *, font: Path) -> bytes:
    local = _Local(report.kpis.period.time_zone)
    pdf = a4(font)
    pdf.set_creation_date(report.kpis.computed_at)
    pdf.set_title(f"月度服务报告 {report.customer_name} {report.month}")
    pdf.add_page()
    _title(pdf, report, local)
    _heading(pdf, "一、概要")
    pdf.set_font(FAMILY, size=9)
    for line in summary(report):
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "二、服务指标")
    _table(
        pdf,
        (70, 40, 40, 30),
        ("指标", "本月", "目标", "是否达标"),
        [
            (KPI_NAMES.get(f.definition.key, f.definition.label), value_text(f), _target(f), _met(f))
            for f in report.kpis.figures
        ],
    )
    _orders(pdf, report, local)
    _breaches(pdf, report, local)
    _loans(pdf, report, local)
    _inspections(pdf, report)
    return bytes(pdf.output())
