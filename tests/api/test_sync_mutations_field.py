"""The field mutations a phone pushes beside travel, arrival and notes: a part swap with both
serials, "cannot fix within the deadline" (the backup-device flow), a backup unit put in and
taken out, and the report edited (drafted on the server when the phone never saw it). Each
applies through the same service as its REST twin, once, only on the engineer's own visit."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest

from tests.api.test_sync_field import Phone
from tests.support.api import assert_problem, auth_headers
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report


@pytest.fixture(scope="module")
async def h(client) -> dict[str, dict[str, str]]:
    names = ("admin", "dispatcher", "warehouse")
    return {name: await auth_headers(client, name) for name in names}


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Device(Phone):
    """A phone that can resend a mutation exactly as before (same id and seq)."""

    async def start(self) -> Device:
        await super().start()
        return self

    async def send(self, mutation: dict[str, Any]) -> dict[str, Any]:
        body = {
            "device_id": self.device_id,
            "device_time": self.clock.now().isoformat(),
            "mutations": [mutation],
        }
        response = await self.client.post("/api/sync/push", headers=self.headers, json=body)
        assert response.status_code == 200, response.text
        outcome: dict[str, Any] = response.json()["outcomes"][0]
        return outcome

    async def record(self, name: str, **args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Push once; returns (the mutation, its outcome) so that a test can resend it."""
        self.seq += 1
        mutation = {"id": str(uuid.uuid4()), "seq": self.seq, "name": name, "args": args}
        return mutation, await self.send(mutation)


async def _order(client, h, *, severity: str = "critical") -> tuple[dict[str, Any], dict[str, Any]]:
    customer, site = await customer_with_site(client, h["admin"])
    device = await asset(client, h["admin"], site, await contract(client, h["admin"], customer, kind="7x24"))
    return await report(client, h["dispatcher"], site, device, severity=severity), device


async def _on_site(client, h, phone: Device) -> dict[str, Any]:
    """A repair visit assigned to the phone's engineer, who has arrived through the push."""
    order, _ = await _order(client, h)
    me = await engineer_id(client, h["dispatcher"], phone.username)
    visit = await planned_visit(client, h["dispatcher"], order, me)
    _, arrived = await phone.record("visit.arrive@1", visit_id=visit["id"], at=phone.at())
    assert arrived["status"] == "applied", arrived
    return {"order": order, "visit": visit, "engineer": me}


def _refused(outcome: dict[str, Any], slug: str) -> dict[str, Any]:
    assert outcome["status"] == "rejected", outcome
    assert outcome["problem"]["type"] == f"/problems/{slug}", outcome
    problem: dict[str, Any] = outcome["problem"]
    assert problem["title"]
    assert problem["detail"]
    return problem


async def _unit_in_van(client, h, engineer: str, serial: str) -> dict[str, Any]:
    warehouse = h["warehouse"]
    sku = f"T-{uuid.uuid4().hex[:10]}"
    item = await _ok(
        await client.post(
            "/api/stock/items",
            headers=warehouse,
            json={"sku": sku, "name": f"board {sku}", "kind": "device", "model": f"Board {sku}"},
        ),
        201,
    )
    stores = (await _ok(await client.get("/api/locations", headers=warehouse, params={"kind": "warehouse"})))[
        "items"
    ]
    vans = await _ok(await client.get("/api/locations", headers=warehouse, params={"kind": "van"}))
    van = next(v["id"] for v in vans["items"] if v["engineer_id"] == engineer)
    unit = await _ok(
        await client.post(
            "/api/stock/units",
            headers=warehouse,
            json={"item_id": item["id"], "serial": serial, "location_id": stores[0]["id"]},
        ),
        201,
    )
    await _ok(
        await client.post(
            "/api/stock/transfers",
            headers=warehouse,
            json={
                "from_location_id": stores[0]["id"],
                "to_location_id": van,
                "lines": [{"item_id": item["id"], "unit_id": unit["id"]}],
            },
        ),
        201,
    )
    return {"item": item, "unit": unit}


async def _swaps(client, h, order_id: str) -> list[dict[str, Any]]:
    page = await _ok(
        await client.get("/api/stock/part-swaps", headers=h["warehouse"], params={"work_order_id": order_id})
    )
    found: list[dict[str, Any]] = page["items"]
    return found


async def test_a_part_swap_from_the_phone_records_both_serials_once(client, h, clock):
    phone = await Device(client, "engineer06", clock).start()
    other = await Device(client, "engineer07", clock).start()
    ctx = await _on_site(client, h, phone)
    vid, oid = ctx["visit"]["id"], ctx["order"]["id"]
    board = await _unit_in_van(client, h, ctx["engineer"], f"MB-{uuid.uuid4().hex[:8]}")
    serial = board["unit"]["serial"]
    swap = {"visit_id": vid, "installed_serial": serial, "removed_serial": "MB-OLD-77"}

    # Another engineer's visit: refused as a REST call would be, nothing written.
    _, foreign = await other.record("visit.swap_part@1", **swap, at=other.at())
    _refused(foreign, "forbidden")
    # Bad arguments: a missing serial, an item that is not the unit's, a bad MAC.
    _, nameless = await phone.record(
        "visit.swap_part@1", visit_id=vid, installed_serial=serial, at=phone.at()
    )
    assert "removed_serial" in _refused(nameless, "invalid-input")["detail"]
    _, wrong_item = await phone.record("visit.swap_part@1", **swap, item_id=str(uuid.uuid4()), at=phone.at())
    assert "item_id" in _refused(wrong_item, "invalid-input")["detail"]
    _, bad_mac = await phone.record("visit.swap_part@1", **swap, asset_mac="not a mac", at=phone.at())
    _refused(bad_mac, "invalid-input")
    assert await _swaps(client, h, oid) == []
    held = await _ok(
        await client.get(f"/api/stock/units/{board['unit']['id']}/history", headers=h["warehouse"])
    )
    assert held["unit"]["state"] == "available"

    # Written later in a room where phones are banned: the time is kept, with the reason.
    swapped_at = phone.at(-30)
    mutation, applied = await phone.record(
        "visit.swap_part@1",
        **swap,
        item_id=board["item"]["id"],
        at=swapped_at,
        backdated_reason="机房禁止携带手机",
    )
    assert applied["status"] == "applied", applied
    result = applied["result"]
    assert (result["installed_serial"], result["removed_serial"], result["disposition"]) == (
        serial,
        "MB-OLD-77",
        "return",
    )
    # A retry after a lost answer gets the stored outcome and swaps nothing twice.
    again = await phone.send(mutation)
    assert again["replayed"] is True
    assert again["result"] == result
    swaps = await _swaps(client, h, oid)
    assert [s["id"] for s in swaps] == [result["swap_id"]]
    assert dt.datetime.fromisoformat(swaps[0]["at"]) == dt.datetime.fromisoformat(swapped_at)
    fitted = await _ok(
        await client.get(f"/api/stock/units/{board['unit']['id']}/history", headers=h["warehouse"])
    )
    assert fitted["unit"]["state"] == "installed"

    # The same serial cannot be fitted twice: the service's own refusal, as over REST.
    _, twice = await phone.record("visit.swap_part@1", **{**swap, "removed_serial": "X-1"}, at=phone.at())
    _refused(twice, "illegal-stock-step")
    assert len(await _swaps(client, h, oid)) == 1


async def test_cannot_fix_starts_the_backup_flow_and_the_unit_goes_in_and_out(client, h, clock):
    phone = await Device(client, "engineer08", clock).start()
    other = await Device(client, "engineer09", clock).start()
    ctx = await _on_site(client, h, phone)
    vid, oid, me = ctx["visit"]["id"], ctx["order"]["id"], ctx["engineer"]

    async def loans() -> list[dict[str, Any]]:
        page = await _ok(
            await client.get("/api/stock/loans", headers=h["dispatcher"], params={"work_order_id": oid})
        )
        found: list[dict[str, Any]] = page["items"]
        return found

    _, foreign = await other.record("visit.cannot_fix@1", visit_id=vid, reason="主板故障", at=other.at())
    _refused(foreign, "forbidden")
    _, blank = await phone.record("visit.cannot_fix@1", visit_id=vid, reason="", at=phone.at())
    _refused(blank, "invalid-input")
    _, long = await phone.record("visit.cannot_fix@1", visit_id=vid, reason="无" * 200, at=phone.at())
    _refused(long, "invalid-input")
    assert await loans() == []

    mutation, declared = await phone.record(
        "visit.cannot_fix@1", visit_id=vid, reason="主板需原厂返修，48 小时内无法修复", at=phone.at()
    )
    assert declared["status"] == "applied", declared
    proposal = declared["result"]
    assert proposal["loan_status"] == "proposed"
    assert proposal["serial"]
    assert (await phone.send(mutation))["replayed"] is True
    # Declared again (a second tap, another seq): the same loan, nothing reserved twice.
    _, repeated = await phone.record("visit.cannot_fix@1", visit_id=vid, reason="再次确认", at=phone.at())
    assert repeated["result"]["loan_id"] == proposal["loan_id"]
    (loan,) = await loans()
    assert loan["id"] == proposal["loan_id"]
    assert "engineer: 主板需原厂返修" in loan["cause"]

    # The dispatcher approves; the delivery visit is the phone's engineer's; they arrive.
    delivery = proposal["delivery_visit_id"]
    await _ok(await client.post(f"/api/stock/loans/{loan['id']}/approve", headers=h["dispatcher"]), 201)
    await _ok(
        await client.put(
            f"/api/visits/{delivery}/assignment",
            headers=h["dispatcher"],
            json={"version": 1, "engineer_id": me},
        )
    )
    _, arrived = await phone.record("visit.arrive@1", visit_id=delivery, at=phone.at())
    assert arrived["status"] == "applied", arrived

    install = {"visit_id": delivery, "action": "install", "serial": proposal["serial"]}
    _, unsigned = await phone.record("visit.backup_unit@1", **install, at=phone.at())
    assert "signed_by" in _refused(unsigned, "invalid-input")["detail"]
    _, wrong = await phone.record(
        "visit.backup_unit@1", **{**install, "serial": "NOT-THIS-ONE"}, signed_by="李伟", at=phone.at()
    )
    assert "serial" in _refused(wrong, "invalid-input")["detail"]
    _, foreign = await other.record("visit.backup_unit@1", **install, signed_by="李伟", at=other.at())
    _refused(foreign, "forbidden")
    order = await _ok(await client.get(f"/api/work-orders/{oid}", headers=h["dispatcher"]))
    assert order["status"] == "on_site"
    assert (await loans())[0]["status"] == "approved"

    mutation, installed = await phone.record(
        "visit.backup_unit@1",
        **install,
        signed_by="李伟",
        configuration="2×Xeon, 256 GB, RAID 5",
        loan_form_reference="JY-2026-0042",
        at=phone.at(),
    )
    assert installed["status"] == "applied", installed
    assert installed["result"]["loan_status"] == "open"
    assert (await phone.send(mutation))["replayed"] is True
    order = await _ok(await client.get(f"/api/work-orders/{oid}", headers=h["dispatcher"]))
    assert order["status"] == "backup_installed"
    (loan,) = await loans()
    assert (loan["status"], loan["signed_by"], loan["configuration"]) == (
        "open",
        "李伟",
        "2×Xeon, 256 GB, RAID 5",
    )
    notes = [n["body"] for v in order["visits"] if v["id"] == delivery for n in v.get("notes", [])]
    assert any("JY-2026-0042" in body for body in notes), order["visits"]

    # The repaired unit comes back; on the swap-back visit the backup comes out by serial.
    cases = await client.get("/api/stock/repairs", headers=h["warehouse"], params={"work_order_id": oid})
    (case,) = (await _ok(cases))["items"]
    await _ok(
        await client.post(
            f"/api/stock/repairs/{case['id']}/ship", headers=h["warehouse"], json={"waybill": "SF1"}
        ),
        201,
    )
    await _ok(
        await client.post(f"/api/stock/repairs/{case['id']}/vendor-received", headers=h["warehouse"]), 201
    )
    stores = (
        await _ok(await client.get("/api/locations", headers=h["warehouse"], params={"kind": "warehouse"}))
    )["items"]
    back = await _ok(
        await client.post(
            f"/api/stock/repairs/{case['id']}/returned",
            headers=h["warehouse"],
            json={"warehouse_id": stores[0]["id"]},
        ),
        201,
    )
    swap_back = back["swap_back_visit_id"]
    await _ok(
        await client.put(
            f"/api/visits/{swap_back}/assignment",
            headers=h["dispatcher"],
            json={"version": 1, "engineer_id": me},
        )
    )
    _, arrived = await phone.record("visit.arrive@1", visit_id=swap_back, at=phone.at())
    assert arrived["status"] == "applied", arrived
    remove = {"visit_id": swap_back, "action": "remove"}
    _, wrong = await phone.record("visit.backup_unit@1", **remove, serial="NOT-THIS-ONE", at=phone.at())
    assert "serial" in _refused(wrong, "invalid-input")["detail"]
    # The signed return part of the loan form, photographed: a file like any photo.
    form = b"\xff\xd8\xff loan form " + uuid.uuid4().bytes
    form_sha = hashlib.sha256(form).hexdigest()
    _, waiting = await phone.record(
        "visit.backup_unit@1", **remove, serial=proposal["serial"], loan_form_sha256=form_sha, at=phone.at()
    )
    assert waiting["status"] == "pending_blob", waiting
    stored = await client.put(f"/api/sync/blobs/{form_sha}", headers=phone.headers, content=form)
    assert stored.status_code == 200, stored.text
    pulled = await _ok(
        await client.get("/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id})
    )
    visits = [v for c in pulled["changes"] if c["id"] == oid for v in c["data"]["visits"]]
    (attachment,) = [a for v in visits if v["id"] == swap_back for a in v["attachments"]]
    assert "借用单" in attachment["caption"]
    # Applied once its file arrived: the backup is out, the order resolved.
    assert (await loans())[0]["status"] == "returning"
    order = await _ok(await client.get(f"/api/work-orders/{oid}", headers=h["dispatcher"]))
    assert order["status"] == "resolved"


async def test_the_report_is_drafted_and_edited_from_the_phone_never_overwritten(client, h, clock):
    phone = await Device(client, "engineer10", clock).start()
    other = await Device(client, "engineer11", clock).start()
    ctx = await _on_site(client, h, phone)
    vid = ctx["visit"]["id"]
    _, done = await phone.record("visit.complete@1", visit_id=vid, outcome="follow_up", at=phone.at())
    assert done["status"] == "applied", done

    # Bad arguments: nothing named, a result the form does not know, a field the visit records.
    _, unnamed = await phone.record("report.edit@1", diagnosis="x", at=phone.at())
    _refused(unnamed, "invalid-input")
    _, odd = await phone.record("report.edit@1", visit_id=vid, result="fixed", at=phone.at())
    _refused(odd, "invalid-input")
    _, recorded = await phone.record("report.edit@1", visit_id=vid, parts=[], at=phone.at())
    _refused(recorded, "invalid-input")
    _, foreign = await other.record("report.edit@1", visit_id=vid, diagnosis="x", at=other.at())
    _refused(foreign, "forbidden")
    reports = await _ok(
        await client.get(f"/api/work-orders/{ctx['order']['id']}/reports", headers=h["dispatcher"])
    )
    assert reports["items"] == []

    # Offline all day: the phone names its own id for the report; the server drafts it from
    # what the visit recorded, then applies the edit.
    report_id = str(uuid.uuid4())
    first, drafted = await phone.record(
        "report.edit@1",
        visit_id=vid,
        report_id=report_id,
        diagnosis="RAID 卡电池失效",
        configuration_backup={"done": True, "where": "NAS //backup/cfg-0042"},
        billable=False,
        at=phone.at(),
    )
    assert drafted["status"] == "applied", drafted
    assert drafted["result"] == {"report_id": report_id, "revision": 2, "status": "draft", "drafted": True}
    assert (await phone.send(first))["replayed"] is True
    shown = await _ok(await client.get(f"/api/reports/{report_id}", headers=phone.headers))
    assert shown["revision"] == 2
    assert shown["content"]["diagnosis"] == "RAID 卡电池失效"
    assert shown["content"]["configuration_backup"] == {"done": True, "where": "NAS //backup/cfg-0042"}

    _, edited = await phone.record(
        "report.edit@1",
        report_id=report_id,
        revision=2,
        actions_taken="更换电池",
        result="restored",
        at=phone.at(),
    )
    assert edited["result"]["revision"] == 3, edited

    # Meanwhile someone edits it online; the phone's edit of revision 3 is kept for review.
    online = await client.patch(
        f"/api/reports/{report_id}", headers=phone.headers, json={"revision": 3, "customer_remarks": "满意"}
    )
    assert online.status_code == 200, online.text
    _, stale = await phone.record(
        "report.edit@1", report_id=report_id, revision=3, customer_remarks="客户未发表意见", at=phone.at()
    )
    assert (stale["status"], stale["conflict"]) == ("conflict", "report_changed"), stale
    assert stale["server_view"]["report"]["revision"] == 4
    inbox = (
        await _ok(await client.get("/api/sync/conflicts", headers=h["dispatcher"], params={"limit": 500}))
    )["items"]
    kept = next(c for c in inbox if c["id"] == stale["conflict_id"])
    assert kept["mutation_name"] == "report.edit@1"
    now = await _ok(await client.get(f"/api/reports/{report_id}", headers=phone.headers))
    assert (now["revision"], now["content"]["customer_remarks"]) == (4, "满意")

    # A visit drafted online before: the phone's edit of revision 1 by the visit id applies.
    ctx2 = await _on_site(client, h, phone)
    online_draft = await _ok(
        await client.post(f"/api/visits/{ctx2['visit']['id']}/report", headers=phone.headers), 201
    )
    _, by_visit = await phone.record(
        "report.edit@1", visit_id=ctx2["visit"]["id"], diagnosis="风扇", at=phone.at()
    )
    assert by_visit["result"]["report_id"] == online_draft["id"]
    assert by_visit["result"]["drafted"] is False
    # A report id that exists nowhere, without a visit to draft for: not found.
    _, missing = await phone.record(
        "report.edit@1", report_id=str(uuid.uuid4()), diagnosis="x", at=phone.at()
    )
    _refused(missing, "not-found")
    assert_problem(await client.get(f"/api/reports/{uuid.uuid4()}", headers=phone.headers), 404, "not-found")


async def test_a_finish_recorded_later_keeps_its_time_and_reason_a_plain_one_is_clamped(client, h, clock):
    """In a secure room the phone stays outside: the finish is entered ten minutes late. With a reason
    it keeps the time given; without one, a time before the phone's previous contact counts as
    that contact (a device clock is never trusted to reach back)."""
    phone = await Device(client, "engineer05", clock).start()
    later, plain = await _on_site(client, h, phone), await _on_site(client, h, phone)
    clock.advance(dt.timedelta(minutes=14))  # within the phone's token
    contact = clock.now()
    # The phone's contact after the work, which a plain earlier time cannot precede.
    _, note = await phone.record(
        "visit.add_note@1", visit_id=later["visit"]["id"], note_id=str(uuid.uuid4()), body="出", at=phone.at()
    )
    assert note["status"] == "applied", note
    reason = "机房内禁止携带手机"
    finished = {"outcome": "follow_up", "at": phone.at(-10)}
    _, kept = await phone.record(
        "visit.complete@1", visit_id=later["visit"]["id"], **finished, backdated_reason=reason
    )
    _, clamped = await phone.record("visit.complete@1", visit_id=plain["visit"]["id"], **finished)
    assert kept["status"] == clamped["status"] == "applied", (kept, clamped)
    _, part = await phone.record(
        "visit.consume_part@1",
        visit_id=later["visit"]["id"],
        item_id=str(uuid.uuid4()),
        quantity=1,
        at=phone.at(-12),
        backdated_reason="x" * 501,
    )
    _refused(part, "invalid-input")  # a reason is short text, like every other

    dispatcher = await auth_headers(client, "dispatcher")  # the clock moved past the module's token
    for ctx, when, why in ((later, contact - dt.timedelta(minutes=10), reason), (plain, contact, None)):
        order = await _ok(await client.get(f"/api/work-orders/{ctx['order']['id']}", headers=dispatcher))
        (visit,) = order["visits"]
        assert dt.datetime.fromisoformat(visit["finished_at"]) == when
        timeline = order["timeline"]
        (event,) = [e for e in timeline if (e["from_status"], e["to_status"]) == ("on_site", "scheduled")]
        assert event["data"].get("backdated_reason") == why
