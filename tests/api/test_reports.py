"""The signed service report: drafted from what the visit recorded, signed against the hash of
exactly the version the customer was shown, never edited once signed (a correction is version 2),
verified by recomputing everything, archived as a PDF with the Chinese as text; and signed offline
through the sync push, where a report changed meanwhile is a conflict kept for review."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PIL import Image, ImageDraw

from api.app import create_app
from tests.api.test_sync_field import Phone
from tests.conftest import settings_for
from tests.support.api import assert_problem, sign_in
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report

ENGINEER = "engineer05"
PUBLIC_URL = "https://service.example.cn"


@pytest.fixture(scope="module")
def app(demo_db: str, clock, tmp_path_factory: pytest.TempPathFactory):
    """The address customers reach the API at comes from the settings read at startup."""
    return create_app(
        settings_for(demo_db, tmp_path_factory.mktemp("var"), public_url=PUBLIC_URL), clock=clock
    )


@pytest.fixture(scope="module")
def dsn(demo_db: str) -> str:
    return demo_db.replace("postgresql+asyncpg://", "postgresql://")


def signature_png(seed: str) -> bytes:
    """A drawn signature: black strokes on white, different for every seed."""
    picture = Image.new("RGB", (240, 90), "white")
    pen = ImageDraw.Draw(picture)
    digest = hashlib.sha256(seed.encode()).digest()
    points = [(10 + i * 14, 20 + digest[i] % 50) for i in range(16)]
    pen.line(points, fill="black", width=3)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def upload(client, phone: Phone, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    await _ok(await client.put(f"/api/sync/blobs/{sha}", headers=phone.headers, content=data))
    return sha


async def resolved_visit(
    client, admin, dispatcher, clock, phone: Phone, outcome: str = "resolved"
) -> dict[str, Any]:
    """A repair reported, the engineer on site with a photo, resolved: what a report is drafted from."""
    customer, site = await customer_with_site(client, admin)
    device = await asset(client, admin, site, await contract(client, admin, customer, kind="7x24"))
    order = await report(client, dispatcher, site, device)
    visit = await planned_visit(client, dispatcher, order, await engineer_id(client, dispatcher, ENGINEER))
    clock.advance(dt.timedelta(minutes=1))
    await _ok(await client.post(f"/api/visits/{visit['id']}/arrive", headers=phone.headers, json={}))
    clock.advance(dt.timedelta(seconds=30))
    await _ok(
        await client.post(
            f"/api/visits/{visit['id']}/notes", headers=phone.headers, json={"body": "更换电源模块，系统恢复"}
        ),
        201,
    )
    photo = await upload(client, phone, b"\xff\xd8\xff photo " + uuid.uuid4().bytes)
    attached = await phone.push(
        "visit.attach_photo@1", visit_id=visit["id"], photo_id=str(uuid.uuid4()), sha256=photo, at=phone.at()
    )
    assert attached["status"] == "applied", attached
    clock.advance(dt.timedelta(seconds=30))
    await _ok(
        await client.post(
            f"/api/visits/{visit['id']}/finish", headers=phone.headers, json={"outcome": outcome}
        )
    )
    return {"customer": customer, "site": site, "order": order, "visit": visit, "photo": photo}


async def sign_strokes(client, phone: Phone, draft: dict[str, Any], **extra: Any) -> Any:
    png = signature_png(draft["id"])
    image = await upload(client, phone, png)
    return await client.post(
        f"/api/reports/{draft['id']}/sign",
        headers=phone.headers,
        json={
            "report_hash": draft["hash"],
            "kind": "strokes",
            "signer_name": "李伟",
            "signer_role": "信息科科长",
            "signer_phone": "13800000001",
            "signed_at": phone.at(),
            "location": {"type": "Point", "coordinates": [113.66, 34.76]},
            "image_sha256": image,
            "strokes": [[[10, 20, 0], [24, 41, 35], [38, 30, 70]]],
            **extra,
        },
    )


def read_back(pdf: bytes, folder: Path) -> tuple[str, list[Image.Image]]:
    """The PDF's text as pdftotext reads it, and its images as pdfimages extracts them."""
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    subprocess.run(["pdfimages", "-png", str(path), str(folder / "img")], check=True)
    return text, [Image.open(p).convert("RGB") for p in sorted(folder.glob("img-*.png"))]


@pytest.fixture(scope="module")
async def phone(client, clock) -> Phone:
    return await Phone(client, ENGINEER, clock).start()


@pytest.fixture(scope="module")
async def signed(client, admin, dispatcher, clock, phone) -> dict[str, Any]:
    world = await resolved_visit(client, admin, dispatcher, clock, phone)
    draft = await _ok(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers), 201
    )
    draft = await _ok(
        await client.patch(
            f"/api/reports/{draft['id']}",
            headers=phone.headers,
            json={
                "revision": draft["revision"],
                "diagnosis": "电源模块故障",
                "configuration_backup": {"done": True, "where": "U 盘 / 运维服务器"},
            },
        )
    )
    world["draft"] = draft
    world["png"] = signature_png(draft["id"])
    world["report"] = await _ok(await sign_strokes(client, phone, draft))
    return world


async def test_the_draft_holds_what_the_visit_recorded(client, signed):
    content = signed["report"]["content"]
    order, visit = signed["order"], signed["visit"]
    assert (content["problem_number"], content["archive_id"]) == (
        order["problem_number"],
        order["archive_id"],
    )
    assert content["customer"]["name"] == signed["customer"]["name"]
    assert content["asset"]["serial"] == order["asset_serial"]
    assert content["fault_reported"] == "服务器宕机，业务中断"
    assert [
        (e["visit_id"], e["arrived_at"] is not None, e["departed_at"] is not None)
        for e in content["engineers"]
    ] == [(visit["id"], True, True)]
    assert [p["sha256"] for p in content["photos"]] == [signed["photo"]]
    assert content["actions_taken"] == "更换电源模块，系统恢复"
    assert (content["result"], content["follow_up_needed"]) == ("restored", False)
    assert content["diagnosis"] == "电源模块故障"
    assert signed["report"]["title"] == "故障处理单"


async def test_signing_binds_the_hash_shown_and_moves_the_order_to_signed(client, dispatcher, signed):
    done = signed["report"]
    assert (done["status"], done["version"], done["hash"]) == ("signed", 1, signed["draft"]["hash"])
    assert hashlib.sha256(done["canonical"].encode()).hexdigest() == done["hash"]
    assert done["signature"]["report_hash"] == done["hash"]
    assert (done["signature"]["signer_name"], done["signature"]["signer_role"]) == ("李伟", "信息科科长")
    assert done["signature"]["location"]["coordinates"] == [113.66, 34.76]
    assert done["archive"]["archive_number"] == f"{signed['order']['archive_id']}-R1"
    order = await _ok(await client.get(f"/api/work-orders/{signed['order']['id']}", headers=dispatcher))
    assert (order["status"], order["confirmed_by"]) == ("signed", "李伟")
    verdict = await _ok(
        await client.get(
            f"/api/reports/{done['id']}/verify", headers=dispatcher, params={"hash": done["hash"]}
        )
    )
    assert (verdict["valid"], verdict["differences"], verdict["printed_hash_matches"]) == (True, [], True)
    other = await _ok(
        await client.get(f"/api/reports/{done['id']}/verify", headers=dispatcher, params={"hash": "0" * 64})
    )
    assert other["printed_hash_matches"] is False


async def test_a_hash_the_customer_was_not_shown_is_refused(client, admin, dispatcher, clock, phone):
    world = await resolved_visit(client, admin, dispatcher, clock, phone)
    draft = await _ok(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers), 201
    )
    shown = draft["hash"]
    await _ok(
        await client.patch(
            f"/api/reports/{draft['id']}",
            headers=phone.headers,
            json={"revision": 1, "customer_remarks": "满意"},
        )
    )
    refused = await sign_strokes(client, phone, {**draft, "hash": shown})
    problem = assert_problem(refused, 409, "report-changed")
    assert problem["current_hash"] != shown
    again = await _ok(await client.get(f"/api/reports/{draft['id']}", headers=phone.headers))
    assert again["status"] == "draft"
    # Drafting the same visit again is refused with the report's id.
    exists = assert_problem(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers),
        409,
        "report-exists",
    )
    assert exists["report_id"] == draft["id"]


async def test_a_signed_report_is_never_edited_and_a_correction_is_version_2(
    client, dispatcher, signed, phone
):
    first = signed["report"]
    refused = await client.patch(
        f"/api/reports/{first['id']}",
        headers=phone.headers,
        json={"revision": first["revision"], "diagnosis": "改"},
    )
    assert_problem(refused, 409, "report-signed")
    second = await _ok(
        await client.post(f"/api/reports/{first['id']}/corrections", headers=phone.headers), 201
    )
    assert (second["version"], second["status"], second["supersedes_id"]) == (2, "draft", first["id"])
    assert second["content"]["diagnosis"] == "电源模块故障"
    assert second["hash"] != first["hash"]
    # One correction at a time: version 1 is no longer the newest.
    assert_problem(
        await client.post(f"/api/reports/{first['id']}/corrections", headers=phone.headers), 409, "conflict"
    )
    second = await _ok(
        await client.patch(
            f"/api/reports/{second['id']}",
            headers=phone.headers,
            json={"revision": second["revision"], "diagnosis": "电源模块及背板故障"},
        )
    )
    remote = {
        "report_hash": second["hash"],
        "kind": "remote",
        "signer_name": "李伟",
        "signer_role": "信息科科长",
        "channel": "phone",
        "call_reference": "CALL-20260302-0042",
    }
    retried = {**phone.headers, "Idempotency-Key": f"sign-{second['id']}"}
    signed_again = await _ok(
        await client.post(f"/api/reports/{second['id']}/sign", headers=retried, json=remote)
    )
    # The answer was lost and the phone retries: the stored answer, nothing signed twice.
    replay = await client.post(f"/api/reports/{second['id']}/sign", headers=retried, json=remote)
    assert replay.headers.get("idempotency-replayed") == "true"
    assert replay.json() == signed_again
    assert signed_again["signature"]["report_hash"] == second["hash"] != first["hash"]
    assert signed_again["archive"]["archive_number"] == f"{signed['order']['archive_id']}-R2"
    versions = (
        await _ok(await client.get(f"/api/work-orders/{signed['order']['id']}/reports", headers=dispatcher))
    )["items"]
    assert [(r["version"], r["status"], r["hash"]) for r in versions] == [
        (1, "signed", first["hash"]),
        (2, "signed", second["hash"]),
    ]
    for r in versions:
        verdict = await _ok(await client.get(f"/api/reports/{r['id']}/verify", headers=dispatcher))
        assert verdict["valid"], verdict


async def test_any_change_fails_verification_and_is_named(client, dispatcher, signed, dsn):
    rid = signed["report"]["id"]
    sig_sha = signed["report"]["signature"]["image_sha256"]

    async def differing() -> list[str]:
        verdict = await _ok(await client.get(f"/api/reports/{rid}/verify", headers=dispatcher))
        assert verdict["valid"] is (not verdict["differences"])
        return [d["field"] for d in verdict["differences"]]

    def tamper(statement: str, *args: Any) -> None:
        with psycopg.connect(dsn) as conn:
            conn.execute(statement, args)

    tamper(
        "UPDATE service_report SET content = jsonb_set(content, '{diagnosis}', %s) WHERE id = %s",
        '"无故障"',
        rid,
    )
    assert await differing() == ["diagnosis"]
    tamper(
        "UPDATE service_report SET content = jsonb_set(content, '{diagnosis}', %s) WHERE id = %s",
        '"电源模块故障"',
        rid,
    )
    assert await differing() == []

    tamper("UPDATE sync_blob SET data = data || '\\x00'::bytea WHERE sha256 = %s", signed["photo"])
    assert await differing() == ["photos[0].sha256"]
    tamper(
        "UPDATE sync_blob SET data = substring(data from 1 for length(data) - 1) WHERE sha256 = %s",
        signed["photo"],
    )
    assert await differing() == []

    tamper("UPDATE sync_blob SET data = %s WHERE sha256 = %s", signature_png("forged"), sig_sha)
    assert await differing() == ["signature.image", "signature.binding_hash"]
    tamper("UPDATE sync_blob SET data = %s WHERE sha256 = %s", signed["png"], sig_sha)

    # The archived PDF is never rewritten: the database refuses.
    with pytest.raises(psycopg.errors.RaiseException, match="never changed"):
        tamper("UPDATE service_report_archive SET pdf = '\\x00'::bytea WHERE report_id = %s", rid)
    with pytest.raises(psycopg.errors.RaiseException, match="never changed"):
        tamper("DELETE FROM service_report_archive WHERE report_id = %s", rid)

    tamper("UPDATE service_report_signature SET signer_name = '张三' WHERE report_id = %s", rid)
    assert await differing() == ["signature.binding_hash"]
    tamper("UPDATE service_report_signature SET signer_name = '李伟' WHERE report_id = %s", rid)
    assert await differing() == []


async def test_the_archived_pdf_has_the_chinese_as_text_and_the_signature_image(
    client, dispatcher, signed, tmp_path: Path
):
    rid = signed["report"]["id"]
    first = await client.get(f"/api/reports/{rid}/pdf", headers=dispatcher)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/pdf")
    again = await client.get(f"/api/reports/{rid}/pdf", headers=dispatcher)
    assert first.content == again.content
    assert hashlib.sha256(first.content).hexdigest() == signed["report"]["archive"]["sha256"]
    text, extracted = await asyncio.to_thread(read_back, first.content, tmp_path)
    assert signed["customer"]["name"] in text
    assert signed["order"]["problem_number"] in text
    assert signed["report"]["hash"] in text
    assert "故障处理单" in text
    assert "电源模块故障" in text
    assert f"{PUBLIC_URL}/api/reports/{rid}/verify?hash=" in text.replace("\n", "")
    original = Image.open(io.BytesIO(signed["png"])).convert("RGB")
    assert any(i.size == original.size and i.tobytes() == original.tobytes() for i in extracted), [
        i.size for i in extracted
    ]


async def test_the_customers_own_contacts_read_and_download_their_reports(client, admin, signed):
    username = f"contact-{uuid.uuid4().hex[:6]}"
    await _ok(
        await client.post(
            "/api/users",
            headers=admin,
            json={
                "username": username,
                "display_name": "李伟",
                "role": "customer_contact",
                "password": "contact-password",
                "customer_id": signed["customer"]["id"],
            },
        ),
        201,
    )
    contact = {
        "Authorization": f"Bearer {(await sign_in(client, username, 'contact-password'))['access_token']}"
    }
    rid = signed["report"]["id"]
    assert (await _ok(await client.get(f"/api/reports/{rid}", headers=contact)))["status"] == "signed"
    pdf = await client.get(f"/api/reports/{rid}/pdf", headers=contact)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    other = {"Authorization": f"Bearer {(await sign_in(client, 'customer01'))['access_token']}"}
    assert_problem(await client.get(f"/api/reports/{rid}/pdf", headers=other), 404, "not-found")


async def test_offline_signing_of_a_report_changed_on_the_server_is_a_conflict_kept_for_review(
    client, admin, dispatcher, clock, phone
):
    world = await resolved_visit(client, admin, dispatcher, clock, phone)
    draft = await _ok(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers), 201
    )
    shown = draft["hash"]
    image = await upload(client, phone, signature_png("offline " + draft["id"]))
    args = {
        "report_id": draft["id"],
        "report_hash": shown,
        "kind": "strokes",
        "signer_name": "李伟",
        "signer_role": "科长",
        "at": phone.at(),
        "image_sha256": image,
        "strokes": [[[1, 2, 0], [3, 4, 20]]],
        "location": [113.66, 34.76],
    }
    # The report changes on the server (another edit from the engineer's tablet) before the phone syncs.
    await _ok(
        await client.patch(
            f"/api/reports/{draft['id']}",
            headers=phone.headers,
            json={"revision": 1, "diagnosis": "背板故障"},
        )
    )
    outcome = await phone.push("report.sign@1", **args)
    assert (outcome["status"], outcome["conflict"]) == ("conflict", "report_changed"), outcome
    assert outcome["server_view"]["report"]["signed_hash"] == shown
    assert outcome["server_view"]["report"]["hash"] != shown
    report_now = await _ok(await client.get(f"/api/reports/{draft['id']}", headers=phone.headers))
    assert report_now["status"] == "draft"
    inbox = (await _ok(await client.get("/api/sync/conflicts", headers=dispatcher)))["items"]
    assert any(c["id"] == outcome["conflict_id"] and c["mutation_name"] == "report.sign@1" for c in inbox)
    order = await _ok(await client.get(f"/api/work-orders/{world['order']['id']}", headers=dispatcher))
    assert order["status"] == "resolved"

    # Shown the current version, the customer signs it offline: applied, the order is signed.
    applied = await phone.push("report.sign@1", **{**args, "report_hash": report_now["hash"]})
    assert applied["status"] == "applied", applied
    assert applied["result"]["report_hash"] == report_now["hash"]
    order = await _ok(await client.get(f"/api/work-orders/{world['order']['id']}", headers=dispatcher))
    assert order["status"] == "signed"
    verdict = await _ok(await client.get(f"/api/reports/{draft['id']}/verify", headers=dispatcher))
    assert verdict["valid"], verdict
    # A second signature of the same version (another phone's outbox, a re-sent form) is not
    # bound over the first: a conflict for review.
    twice = await phone.push("report.sign@1", **{**args, "report_hash": report_now["hash"]})
    assert (twice["status"], twice["conflict"]) == ("conflict", "report_signed"), twice


async def test_offline_signing_waits_for_its_image(client, admin, dispatcher, clock, phone):
    world = await resolved_visit(client, admin, dispatcher, clock, phone)
    draft = await _ok(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers), 201
    )
    png = signature_png("late " + draft["id"])
    outcome = await phone.push(
        "report.sign@1",
        report_id=draft["id"],
        report_hash=draft["hash"],
        kind="stamped_form",
        signer_name="王芳",
        signer_role="办公室主任",
        at=phone.at(),
        image_sha256=hashlib.sha256(png).hexdigest(),
    )
    assert outcome["status"] == "pending_blob", outcome
    await upload(client, phone, png)
    report_now = await _ok(await client.get(f"/api/reports/{draft['id']}", headers=phone.headers))
    assert (report_now["status"], report_now["signature"]["kind"]) == ("signed", "stamped_form")


async def test_an_unreadable_image_is_refused_and_long_notes_still_make_a_pdf(
    client, admin, dispatcher, clock, phone, tmp_path: Path
):
    world = await resolved_visit(client, admin, dispatcher, clock, phone)
    draft = await _ok(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers), 201
    )
    broken = signature_png("broken " + draft["id"])[:60]
    refused = await client.post(
        f"/api/reports/{draft['id']}/sign",
        headers=phone.headers,
        json={
            "report_hash": draft["hash"],
            "kind": "strokes",
            "signer_name": "李伟",
            "signer_role": "科长",
            "image_sha256": await upload(client, phone, broken),
            "strokes": [[[1, 2, 0]]],
        },
    )
    problem = assert_problem(refused, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["image_sha256"]
    # Four thousand characters of notes do not fit a table row: they run on over the page break.
    long = await _ok(
        await client.patch(
            f"/api/reports/{draft['id']}",
            headers=phone.headers,
            json={
                "revision": 1,
                "actions_taken": "检查电源、背板、风扇与硬盘。" * 280,
                "diagnosis": "电源\n" * 100,
            },
        )
    )
    done = await _ok(await sign_strokes(client, phone, long))
    pdf = await client.get(f"/api/reports/{done['id']}/pdf", headers=dispatcher)
    assert pdf.status_code == 200
    text, _ = await asyncio.to_thread(read_back, pdf.content, tmp_path)
    assert text.count("检查电源、背板、风扇与硬盘。") >= 200
    assert text.count("\f") >= 2, "one page form feed per page: the notes ran over the page break"


async def pull(client, phone: Phone, cursor: str | None) -> tuple[dict[str, dict[str, Any]], str]:
    """Every document the phone receives from `cursor` on (all of them without one)."""
    docs: dict[str, dict[str, Any]] = {}
    while True:
        params = {"device_id": phone.device_id, **({"cursor": cursor} if cursor else {})}
        page = await _ok(await client.get("/api/sync/pull", headers=phone.headers, params=params))
        for change in page["changes"]:
            if change["op"] == "upsert":
                docs[change["id"]] = change["data"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return docs, cursor


async def test_the_phone_pulls_the_report_it_shows_and_signs_offline(client, admin, dispatcher, clock, phone):
    world = await resolved_visit(client, admin, dispatcher, clock, phone)
    order_id = world["order"]["id"]
    docs, cursor = await pull(client, phone, None)
    assert docs[order_id]["reports"] == []

    draft = await _ok(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers), 201
    )
    docs, cursor = await pull(client, phone, cursor)
    [pulled] = docs[order_id]["reports"]
    assert (pulled["id"], pulled["status"], pulled["version"], pulled["revision"]) == (
        draft["id"],
        "draft",
        1,
        1,
    )
    assert (pulled["hash"], pulled["canonical"]) == (draft["hash"], draft["canonical"])
    assert hashlib.sha256(pulled["canonical"].encode()).hexdigest() == pulled["hash"]

    # Edited on the server (from the engineer's tablet): the next pull carries the new version.
    edited = await _ok(
        await client.patch(
            f"/api/reports/{draft['id']}",
            headers=phone.headers,
            json={"revision": 1, "diagnosis": "风扇故障"},
        )
    )
    docs, cursor = await pull(client, phone, cursor)
    [pulled] = docs[order_id]["reports"]
    assert pulled["hash"] == edited["hash"] != draft["hash"]
    assert (pulled["revision"], pulled["content"]["diagnosis"]) == (2, "风扇故障")

    # Offline, the customer signs what the phone pulled: the push applies and the order is signed.
    image = await upload(client, phone, signature_png("pulled " + draft["id"]))
    applied = await phone.push(
        "report.sign@1",
        report_id=draft["id"],
        report_hash=pulled["hash"],
        kind="strokes",
        signer_name="李伟",
        signer_role="科长",
        at=phone.at(),
        image_sha256=image,
        strokes=[[[1, 2, 0], [3, 4, 20]]],
        location=[113.66, 34.76],
    )
    assert applied["status"] == "applied", applied
    order = await _ok(await client.get(f"/api/work-orders/{order_id}", headers=dispatcher))
    assert order["status"] == "signed"
    docs, cursor = await pull(client, phone, cursor)
    [pulled] = docs[order_id]["reports"]
    assert (pulled["status"], pulled["hash"]) == ("signed", edited["hash"])


async def test_a_signed_backup_report_confirms_the_temporary_solution_and_the_order_stays_open(
    client, admin, dispatcher, clock, phone, demo_db
):
    world = await resolved_visit(client, admin, dispatcher, clock, phone, outcome="backup_installed")
    order_id = world["order"]["id"]
    draft = await _ok(
        await client.post(f"/api/visits/{world['visit']['id']}/report", headers=phone.headers), 201
    )
    assert draft["content"]["result"] == "backup_installed"
    signed = await _ok(await sign_strokes(client, phone, draft))
    assert signed["status"] == "signed"
    order = await _ok(await client.get(f"/api/work-orders/{order_id}", headers=dispatcher))
    # Open until the swap-back: not signed, not confirmed as done.
    assert order["status"] == "backup_installed"
    assert order["confirmed_by"] is None
    kinds = [e["kind"] for e in order["timeline"]]
    assert kinds[-2:] == ["temporary_solution_confirmed", "report_signed"], kinds
    confirmed, report_signed = order["timeline"][-2:]
    assert confirmed["data"]["confirmed_by"] == "李伟"
    assert confirmed["data"]["channel"] == "on_site_signature"
    assert confirmed["data"]["hash"] == draft["hash"]
    assert "swap-back" in confirmed["note"]
    assert (report_signed["data"]["order_signed"], report_signed["data"]["status"]) == (
        False,
        "backup_installed",
    )
    # The satisfaction survey waits for the fix: none is sent for the temporary solution.
    with psycopg.connect(demo_db.replace("postgresql+asyncpg://", "postgresql://")) as conn:
        surveys = conn.execute(
            "SELECT count(*) FROM customer_survey WHERE work_order_id = %s", (order_id,)
        ).fetchone()
    assert surveys == (0,)
