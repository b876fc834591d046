"""The monthly service report PDF of one customer (月度服务报告), over the hand-built March of
tests/api/test_kpis.py: the customer's Chinese name, the month, every work order by its problem
number, the KPI values the JSON report gives, the breaches with what was recorded about them,
and the backup loan, all read back as text with pdftotext. Another organisation's contact gets
404 as on the KPI routes."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from dispatch.sla.models import PauseReason, SlaPause
from dispatch.work_orders.models import BackupOffer, WorkOrder
from tests.api.test_kpis import CUSTOMER_NAME, at, boss, world  # noqa: F401  (fixtures)
from tests.support.api import assert_problem, auth_headers

MONTH = {"month": "2026-03"}


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "monthly.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
async def reasons(world, demo_db: str) -> None:  # noqa: F811
    """What explains two of the breaches: WO-KPI-0005 (nobody on site, restore late) had its
    backup unit declined by the customer, and its clocks paused while the site was closed."""
    engine = create_async_engine(demo_db)
    async with engine.connect() as conn:
        admin = (await conn.execute(text("SELECT id FROM app_user WHERE username = 'admin'"))).scalar_one()
    async with AsyncSession(engine) as session:
        order = await session.scalar(select(WorkOrder).where(WorkOrder.problem_number == "WO-KPI-0005"))
        assert order is not None
        session.add(
            BackupOffer(
                work_order_id=order.id,
                offered_at=at(11, 3),
                unit_description="R750 备机",
                declined=True,
                declined_by="王主任",
                evidence="通话录音 REC-77",
                by_user_id=admin,
            )
        )
        session.add(
            SlaPause(
                work_order_id=order.id,
                reason=PauseReason.SITE_NOT_ACCESSIBLE,
                customer_name="王主任",
                channel="phone",
                call_reference="REC-78",
                started_at=at(11, 4),
                ended_at=at(11, 6),
                by_user_id=admin,
            )
        )
        await session.commit()
    await engine.dispose()


async def monthly(client, headers, **params: str) -> Any:
    return await client.get("/api/kpis/monthly.pdf", headers=headers, params=params)


def line_with(text_: str, label: str) -> str:
    found = [line for line in text_.splitlines() if line.strip().startswith(label + " ")]
    assert found, f"no line starting with {label!r}"
    return found[0]


async def test_the_month_reads_back_as_text(client, boss, world, reasons, tmp_path: Path):  # noqa: F811
    response = await monthly(client, boss, **MONTH, customer_id=world["customer"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/pdf")
    assert 'filename="monthly-2026-03.pdf"' in response.headers["content-disposition"]
    body = await asyncio.to_thread(pdf_text, response.content, tmp_path)
    assert "月度服务报告" in body
    assert CUSTOMER_NAME in body
    # March in the site's zone (Asia/Shanghai).
    assert "2026-03（2026-03-01 至 2026-03-31，Asia/Shanghai）" in body
    # Every work order reported in March, those before and after the KPIs' week too.
    for n in range(1, 11):
        assert f"WO-KPI-{n:04d}" in body
    # The KPI table has the JSON report's values for the same month.
    kpis = (
        await client.get(
            "/api/kpis",
            headers=boss,
            params={"from": "2026-03-01", "to": "2026-03-31", "customer_id": world["customer"]},
        )
    ).json()
    figures = {k["key"]: k for k in kpis["kpis"]}
    rate = figures["resolution_rate"]
    assert rate["value"] is not None
    row = line_with(body, "故障解决率")
    assert f"{rate['value'] * 100:.1f} %" in row
    assert "≥ 95 %" in row
    assert ("未达标" if rate["value"] < 0.95 else "达标") in row
    assert f"{figures['mean_time_to_restore']['value']:.1f} 小时" in line_with(body, "平均恢复时间")
    # The breach with what was recorded about it; the loan of the month by its serial.
    assert "客户拒绝备机（王主任，凭证 通话录音 REC-77）" in body
    assert "（免责）" in body
    assert "现场无法进入" in body
    assert "未记录原因" in body
    assert "KPI-BK-1" in body


async def test_another_organisations_contact_gets_404_and_their_own_report(client, world, tmp_path: Path):  # noqa: F811
    contact = await auth_headers(client, "customer01")
    theirs = await monthly(client, contact, **MONTH, customer_id=world["customer"])
    assert_problem(theirs, 404, "not-found")
    own = (await client.get("/api/customers", headers=contact)).json()["items"][0]
    mine = await monthly(client, contact, **MONTH)
    assert mine.status_code == 200, mine.text
    body = await asyncio.to_thread(pdf_text, mine.content, tmp_path)
    assert own["name"] in body
    assert CUSTOMER_NAME not in body


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"month": "2026-3"}, "month"),
        ({"month": "2026-13"}, "month"),
        ({"month": "1999-12"}, "month"),
        ({"month": "2026-03"}, "customer_id"),  # staff name the customer
    ],
)
async def test_a_bad_month_or_no_customer_is_422_naming_the_field(client, boss, params, field):  # noqa: F811
    problem = assert_problem(await monthly(client, boss, **params), 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_an_unknown_customer_is_404(client, boss):  # noqa: F811
    assert_problem(await monthly(client, boss, **MONTH, customer_id=str(uuid.uuid4())), 404, "not-found")
