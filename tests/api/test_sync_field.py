"""Field realities through the API: a resolved repair needs a photo unless the site bans
cameras, and an arrival proven by QR code or by the customer carries its proof."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from tests.support.api import assert_problem
from tests.support.scenario import asset, contract, customer_with_site, engineer_id, planned_visit, report


async def _site(client, admin, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    customer, site = await customer_with_site(client, admin)
    patched = await client.patch(
        f"/api/sites/{site['id']}", headers=admin, json={"version": site["version"], **changes}
    )
    assert patched.status_code == 200, patched.text
    return patched.json(), await asset(
        client, admin, site, await contract(client, admin, customer, kind="7x24")
    )


class Phone:
    def __init__(self, client, username: str, clock) -> None:
        self.client, self.username, self.clock = client, username, clock
        self.device_id, self.seq = str(uuid.uuid4()), 0
        self.headers: dict[str, str] = {}

    async def start(self) -> Phone:
        tokens = await self.client.post(
            "/api/auth/login",
            json={"username": self.username, "password": "demo-pass", "device_id": self.device_id},
        )
        self.headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        registered = await self.client.post(
            "/api/sync/devices", headers=self.headers, json={"device_id": self.device_id, "label": "现场"}
        )
        assert registered.status_code == 201, registered.text
        return self

    def at(self, minutes: float = 0) -> str:
        return str((self.clock.now() + dt.timedelta(minutes=minutes)).isoformat())

    async def push(self, name: str, **args: Any) -> dict[str, Any]:
        self.seq += 1
        body = {
            "device_id": self.device_id,
            "device_time": self.clock.now().isoformat(),
            "mutations": [{"id": str(uuid.uuid4()), "seq": self.seq, "name": name, "args": args}],
        }
        response = await self.client.post("/api/sync/push", headers=self.headers, json=body)
        assert response.status_code == 200, response.text
        outcome: dict[str, Any] = response.json()["outcomes"][0]
        return outcome


async def _visit(client, dispatcher, site, unit, username: str) -> dict[str, Any]:
    order = await report(client, dispatcher, site, unit)
    return await planned_visit(client, dispatcher, order, await engineer_id(client, dispatcher, username))


async def test_a_resolved_repair_needs_a_photo_unless_the_site_bans_cameras(client, admin, dispatcher, clock):
    phone = await Phone(client, "engineer02", clock).start()
    site, unit = await _site(client, admin)
    visit = await _visit(client, dispatcher, site, unit, "engineer02")
    vid = visit["id"]
    arrived = await phone.push("visit.arrive@1", visit_id=vid, at=phone.at(-20))
    assert arrived["status"] == "applied", arrived
    refused = await phone.push("visit.complete@1", visit_id=vid, outcome="resolved", at=phone.at(-2))
    assert (refused["status"], refused["problem"]["type"]) == ("rejected", "/problems/photo-required")
    body = assert_problem(
        await client.post(f"/api/visits/{vid}/finish", headers=phone.headers, json={"outcome": "resolved"}),
        422,
        "photo-required",
    )
    assert "no_photography" in body["detail"]
    image = b"\xff\xd8\xff fake jpeg " + uuid.uuid4().bytes
    sha = hashlib.sha256(image).hexdigest()
    assert (
        await client.put(f"/api/sync/blobs/{sha}", headers=phone.headers, content=image)
    ).status_code == 200
    photo = await phone.push(
        "visit.attach_photo@1", visit_id=vid, photo_id=str(uuid.uuid4()), sha256=sha, at=phone.at(-1)
    )
    assert photo["status"] == "applied", photo
    done = await client.post(f"/api/visits/{vid}/finish", headers=phone.headers, json={"outcome": "resolved"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"

    # A bank's secure room: no camera allowed, so no photo is asked for (offline and online).
    secure, secure_unit = await _site(client, admin, no_photography=True)
    for online in (False, True):
        other = (await _visit(client, dispatcher, secure, secure_unit, "engineer02"))["id"]
        assert (await phone.push("visit.arrive@1", visit_id=other, at=phone.at(-20)))["status"] == "applied"
        if online:
            finished = await client.post(
                f"/api/visits/{other}/finish", headers=phone.headers, json={"outcome": "resolved"}
            )
            assert finished.status_code == 200, finished.text
        else:
            outcome = await phone.push(
                "visit.complete@1", visit_id=other, outcome="resolved", at=phone.at(-1)
            )
            assert outcome["status"] == "applied", outcome


async def test_arrival_proof_is_checked_against_the_site(client, admin, dispatcher, clock):
    phone = await Phone(client, "engineer03", clock).start()
    site, unit = await _site(client, admin, reception_code="RC-7781-北门")
    assert site["reception_code"] == "RC-7781-北门"
    assert (await client.get(f"/api/sites/{site['id']}", headers=admin)).json()[
        "reception_code"
    ] == "RC-7781-北门"
    vid = (await _visit(client, dispatcher, site, unit, "engineer03"))["id"]

    def arrive(**proof: Any) -> Any:
        return phone.push("visit.arrive@1", visit_id=vid, at=phone.at(-5), **proof)

    no_code = await arrive(proof="qr_code")
    assert (no_code["status"], no_code["problem"]["type"]) == ("rejected", "/problems/invalid-input")
    wrong = await arrive(proof="qr_code", proof_reference="RC-0000")
    assert (wrong["status"], wrong["problem"]["type"]) == ("rejected", "/problems/proof-mismatch")
    nameless = await arrive(proof="customer_confirmation")
    assert (nameless["status"], nameless["problem"]["type"]) == ("rejected", "/problems/invalid-input")
    right = await arrive(proof="qr_code", proof_reference="RC-7781-北门")
    assert right["status"] == "applied", right

    # Confirmed by the customer where there is no code to scan.
    plain, plain_unit = await _site(client, admin)
    other = (await _visit(client, dispatcher, plain, plain_unit, "engineer03"))["id"]
    scanned = await phone.push(
        "visit.arrive@1", visit_id=other, at=phone.at(), proof="qr_code", proof_reference="X"
    )
    assert scanned["problem"]["type"] == "/problems/proof-mismatch"
    confirmed = await phone.push(
        "visit.arrive@1",
        visit_id=other,
        at=phone.at(),
        proof="customer_confirmation",
        proof_reference="李经理",
    )
    assert confirmed["status"] == "applied", confirmed

    # The online check-in takes the same proof.
    online = (await _visit(client, dispatcher, site, unit, "engineer03"))["id"]
    assert_problem(
        await client.post(
            f"/api/visits/{online}/arrive",
            headers=phone.headers,
            json={"proof": "qr_code", "proof_reference": "RC-1"},
        ),
        422,
        "proof-mismatch",
    )
    checked_in = await client.post(
        f"/api/visits/{online}/arrive",
        headers=phone.headers,
        json={"proof": "qr_code", "proof_reference": "RC-7781-北门"},
    )
    assert checked_in.status_code == 200, checked_in.text

    # The code is what the engineer must scan: the phone's copy of the site never carries it.
    pulled = await client.get("/api/sync/pull", headers=phone.headers, params={"device_id": phone.device_id})
    assert pulled.status_code == 200, pulled.text
    sites = [c["data"]["site"] for c in pulled.json()["changes"] if "site" in c.get("data", {})]
    assert sites
    assert all("reception_code" not in s for s in sites)
    assert "RC-7781" not in pulled.text
