"""The reference client's command line against a real server on a loopback port, as an engineer
would use it: the day's visits with what is needed to get there and the SLA deadlines, every
kind of field entry recorded offline and synced, a refusal counted and shown in the server's
words, and an unreachable server reported in one line with the outbox kept."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from api.app import create_app
from offline_sync.client import DeviceClient
from offline_sync.phone_cli import ATTENTION, OFFLINE, OK, USAGE, main, upcoming
from tests.conftest import settings_for
from tests.support.api import auth_headers
from tests.support.live_server import LiveServer
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, report


@pytest.fixture(scope="module")
def server(demo_db: str, clock: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(settings_for(demo_db, tmp_path_factory.mktemp("live")), clock=clock)
    with LiveServer(app) as live:
        yield live.url


@pytest.fixture(scope="module")
async def h(client: Any) -> dict[str, dict[str, str]]:
    return {name: await auth_headers(client, name) for name in ("admin", "dispatcher", "warehouse")}


class Cli:
    """One phone's command line: its own SQLite file, the test's clock as the device clock."""

    def __init__(self, server: str, db: Path, user: str, clock: Any) -> None:
        self.server, self.db, self.user, self.clock = server, db, user, clock
        self.lines: list[str] = []

    def __call__(self, *argv: str, server: str | None = None) -> tuple[int, str]:
        self.lines = []
        code = main(
            ["--server", server or self.server, "--user", self.user, "--db", str(self.db), *argv],
            device_clock=self.clock.now,
            out=self.lines.append,
        )
        return code, "\n".join(self.lines)

    def outbox(self) -> list[dict[str, Any]]:
        device = DeviceClient(None, str(self.db), self.user, "demo-pass")
        return device.pending()


def _jpeg(tmp: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, format="JPEG")
    path = tmp / f"photo-{uuid.uuid4().hex[:6]}.jpg"
    path.write_bytes(out.getvalue())
    return path


def _png(tmp: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), "white").save(out, format="PNG")
    path = tmp / "signature.png"
    path.write_bytes(out.getvalue())
    return path


async def _visit_today(
    client: Any, h: dict[str, dict[str, str]], clock: Any, username: str
) -> dict[str, Any]:
    customer, site = await customer_with_site(client, h["admin"])
    device = await asset(client, h["admin"], site, await contract(client, h["admin"], customer, kind="7x24"))
    order = await report(client, h["dispatcher"], site, device, severity="critical")
    start = clock.now() + dt.timedelta(hours=2)
    created = await client.post(
        f"/api/work-orders/{order['id']}/visits",
        headers=h["dispatcher"],
        json={
            "kind": "repair",
            "duration_minutes": 90,
            "window_start": start.isoformat(),
            "window_end": (start + dt.timedelta(hours=2)).isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    visit = created.json()
    assigned = await client.put(
        f"/api/visits/{visit['id']}/assignment",
        headers=h["dispatcher"],
        json={
            "version": visit["version"],
            "engineer_id": await engineer_id(client, h["dispatcher"], username),
        },
    )
    assert assigned.status_code == 200, assigned.text
    return {"customer": customer, "site": site, "order": order, "visit": assigned.json(), "start": start}


async def test_visits_show_the_day_in_the_sites_time_zone_with_contact_and_deadlines(
    server: str, client: Any, h: dict[str, dict[str, str]], clock: Any, tmp_path: Path
) -> None:
    ctx = await _visit_today(client, h, clock, "engineer12")
    phone = Cli(server, tmp_path / "phone.sqlite", "engineer12", clock)
    code, text = phone("sync")
    assert code == OK, text
    assert text.startswith("synced: 0 applied, 0 refused, 0 in conflict; 0 mutations waiting;"), text

    code, text = phone("visits")
    assert code == OK, text
    block = next(b for b in text.split("\n\n") if ctx["visit"]["id"] in b) if "\n\n" in text else text
    local = ctx["start"].astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M CST") in block, block
    order, site = ctx["order"], ctx["site"]
    for shown in (
        order["problem_number"],
        "critical",
        ctx["customer"]["name"],
        site["name"],
        site["address"],
        "tel:13800000001",
        "服务器宕机，业务中断",
    ):
        assert shown in block, (shown, block)
    restore = next(c for c in order["clocks"] if c["measure"] == "restore")
    deadline = dt.datetime.fromisoformat(restore["deadline"]).astimezone(local.tzinfo)
    assert f"restore by {deadline.strftime('%m-%d %H:%M')} (" in block, block
    assert "left)" in block


async def test_every_field_entry_syncs_and_a_refusal_is_counted_in_the_servers_words(
    server: str, client: Any, h: dict[str, dict[str, str]], clock: Any, tmp_path: Path
) -> None:
    ctx = await _visit_today(client, h, clock, "engineer13")
    vid = ctx["visit"]["id"]
    phone = Cli(server, tmp_path / "phone.sqlite", "engineer13", clock)
    assert phone("sync")[0] == OK
    catalogue = DeviceClient(None, str(phone.db), "engineer13", "").replica()["catalogue"]["items"]
    sku = next(i["sku"] for i in catalogue if i["kind"] == "part")
    started, ended = ((clock.now() - dt.timedelta(minutes=m)).isoformat() for m in (90, 30))

    for argv in (
        ("travel", vid),
        ("arrive", vid, "--confirmed-by", "李经理"),
        ("note", vid, "风扇", "异响", "--backdated", "机房禁止手机"),
        ("consume", vid, sku, "--quantity", "2"),
        ("time", "work", started, ended, "--visit", vid, "--note", "排障", "--backdated", "补录"),
        ("complete", vid, "--outcome", "resolved"),
    ):
        code, text = phone(*argv)
        assert code == OK, (argv, text)
        assert text.startswith("recorded "), text
    assert len(phone.outbox()) == 6

    # No photo yet: the completion is refused, and the phone says so in the server's words.
    code, text = phone("sync")
    assert code == ATTENTION, text
    assert text.splitlines()[0].startswith("synced: 5 applied, 1 refused, 0 in conflict; 0 mutations waiting")
    assert "1 refused — /problems/photo-required: " in text, text
    assert "visit.complete@1" in text
    code, text = phone("outbox")
    assert code == ATTENTION
    assert "refused seq" in text
    assert "/problems/photo-required" in text

    # Corrected: a photo, the signature, the report, then done.
    fixes: list[tuple[str, ...]] = [
        ("photo", vid, str(_jpeg(tmp_path)), "--caption", "更换后"),
        ("signature", vid, str(_png(tmp_path)), "--signer", "李经理"),
        ("complete", vid),
        ("report", vid, "--diagnosis", "风扇轴承磨损", "--config-backup", "NAS //cfg/42", "--no-billable"),
    ]
    for fix in fixes:
        code, text = phone(*fix)
        assert code == OK, (fix, text)
    code, text = phone("sync")
    assert code == OK, text
    assert text.startswith("synced: 4 applied, 0 refused"), text

    detail = (await client.get(f"/api/work-orders/{ctx['order']['id']}", headers=h["dispatcher"])).json()
    assert detail["status"] == "resolved"
    reports = (
        await client.get(f"/api/work-orders/{ctx['order']['id']}/reports", headers=h["dispatcher"])
    ).json()["items"]
    assert reports[0]["content"]["diagnosis"] == "风扇轴承磨损"
    assert reports[0]["content"]["configuration_backup"] == {"done": True, "where": "NAS //cfg/42"}
    assert reports[0]["content"]["billable"] is False
    # The next edit names the report and revision the phone pulled.
    code, _ = phone("report", vid, "--remarks", "满意")
    assert code == OK
    assert phone.outbox()[0]["args"]["revision"] == reports[0]["revision"]
    assert phone("sync")[0] == OK

    # Mistakes on the command line record nothing.
    code, text = phone("photo", vid, str(tmp_path / "missing.jpg"))
    assert (code, text.startswith("error: ")) == (USAGE, True)
    code, text = phone("consume", vid, "NO-SUCH-SKU")
    assert code == USAGE
    assert phone.outbox() == []


async def test_swap_cannot_fix_and_backup_commands_reach_the_server(
    server: str, client: Any, h: dict[str, dict[str, str]], clock: Any, tmp_path: Path
) -> None:
    ctx = await _visit_today(client, h, clock, "engineer14")
    vid = ctx["visit"]["id"]
    phone = Cli(server, tmp_path / "phone.sqlite", "engineer14", clock)
    assert phone("sync")[0] == OK
    for argv in (
        ("arrive", vid),
        ("swap", vid, "--fitted", "NO-SUCH-SERIAL", "--removed", "OLD-1"),
        ("cannot-fix", vid, "主板需返厂"),
    ):
        assert phone(*argv)[0] == OK
    code, text = phone("sync")
    assert code == ATTENTION, text
    assert "1 refused — /problems/invalid-input: " in text
    assert "installed_serial" in text
    assert text.startswith("synced: 2 applied, 1 refused")
    loans = (
        await client.get(
            "/api/stock/loans", headers=h["dispatcher"], params={"work_order_id": ctx["order"]["id"]}
        )
    ).json()["items"]
    assert [loan["status"] for loan in loans] == ["proposed"]


async def test_an_unreachable_server_is_one_line_and_the_outbox_stays(
    server: str, client: Any, h: dict[str, dict[str, str]], clock: Any, tmp_path: Path
) -> None:
    ctx = await _visit_today(client, h, clock, "engineer15")
    phone = Cli(server, tmp_path / "phone.sqlite", "engineer15", clock)
    assert phone("sync")[0] == OK
    assert phone("note", ctx["visit"]["id"], "到达前致电客户")[0] == OK
    # Nothing listens on port 9 of the loopback: connection refused, as with no network.
    code, text = phone("sync", server="http://127.0.0.1:9")
    assert code == OFFLINE
    assert text == (
        "offline: http://127.0.0.1:9 cannot be reached; 1 mutations kept in the outbox — "
        "run `sync` again when the network is back"
    )
    assert [m["name"] for m in phone.outbox()] == ["visit.add_note@1"]
    code, text = phone("sync")
    assert code == OK, text
    assert text.startswith("synced: 1 applied, 0 refused")
    assert phone.outbox() == []


def test_the_listing_keeps_to_today_and_tomorrow_in_the_sites_zone() -> None:
    """Just before midnight in Shanghai it is already the next day there."""
    now = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai

    def order(start: str, status: str = "assigned") -> dict[str, Any]:
        return {
            "site": {"time_zone": "Asia/Shanghai"},
            "visits": [{"id": start, "status": status, "planned_start": start, "window_start": None}],
        }

    documents = [
        order("2026-03-02T15:00:00+00:00"),  # 23:00 today
        order("2026-03-03T15:59:00+00:00"),  # 23:59 tomorrow
        order("2026-03-03T16:00:00+00:00"),  # the day after tomorrow
        order("2026-03-01T15:00:00+00:00"),  # yesterday, not started
        order("2026-03-01T10:00:00+00:00", "on_site"),  # yesterday, still on site
        order("2026-03-02T15:10:00+00:00", "done"),
    ]
    listed = [visit["id"] for _, visit, _ in upcoming(documents, now)]
    assert listed == ["2026-03-01T10:00:00+00:00", "2026-03-02T15:00:00+00:00", "2026-03-03T15:59:00+00:00"]
    assert len(upcoming(documents, now, every=True)) == 6
