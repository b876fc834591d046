"""A vector step's expectations, checked the same way whichever client played it: the runner
hands over a view of its client (answers received, outbox, replica, requests seen)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from tests.protocol.server_steps import World


class Phone(Protocol):
    """What the expectations read of a client under test after a step."""

    device_id: str

    def answer(self, alias: str) -> dict[str, Any]:
        """The newest answer received in a push response for the mutation named `alias`."""
        ...

    def pending(self) -> int: ...

    def seqs(self) -> list[int]: ...

    def seen(self) -> list[tuple[str, int]]:
        """(path, status) of every answer received during the step."""
        ...

    def replica(self) -> dict[str, dict[str, Any]]: ...

    def wiped(self) -> bool: ...


def orders(phone: Phone) -> list[dict[str, Any]]:
    """The work-order documents of the replica (not the van stock and catalogue)."""
    return [d for d in phone.replica().values() if "visits" in d]


def _visit(phone: Phone, visit_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for order in orders(phone):
        for visit in order["visits"]:
            if visit["id"] == visit_id:
                return order, visit
    return None


def _check_outcomes(phone: Phone, expect: dict[str, Any], where: str) -> None:
    for alias, wanted in expect.get("outcomes", {}).items():
        got = phone.answer(alias)
        assert got["status"] == wanted["status"], (where, alias, got)
        if "problem" in wanted:
            assert got["problem"]["type"] == wanted["problem"], (where, alias, got)
        if "conflict" in wanted:
            assert got["conflict"] == wanted["conflict"], (where, alias, got)
        if "replayed" in wanted:
            assert bool(got.get("replayed")) is wanted["replayed"], (where, alias, got)
    for first, second, key in expect.get("same_result", []):
        assert phone.answer(first)["result"][key] == phone.answer(second)["result"][key], where


def _check_replica(world: World, phone: Phone, replica: dict[str, Any], where: str) -> None:
    for alias in replica.get("has", []):
        assert _visit(phone, world.visits[alias]["id"]) is not None, (where, alias)
    for alias in replica.get("lacks", []):
        assert _visit(phone, world.visits[alias]["id"]) is None, (where, alias)
    if "never_contains" in replica:
        assert replica["never_contains"] not in json.dumps(phone.replica(), ensure_ascii=False), where
    for alias, wanted in replica.get("visits", {}).items():
        found = _visit(phone, world.visits[alias]["id"])
        assert found is not None, (where, alias)
        order, visit = found
        seen = {
            "status": visit["status"],
            "notes": len(visit["notes"]),
            "attachments": len(visit["attachments"]),
            "reports": sum(r["visit_id"] == visit["id"] for r in order.get("reports", [])),
            "site_access_notes": order["site"]["access_notes"],
        }
        assert {k: seen[k] for k in wanted} == wanted, (where, alias)


async def check(world: World, phone: Phone, expect: dict[str, Any], where: str) -> None:
    """Every expectation of the step (README.md, "Expectations"); absent keys are not checked."""
    _check_outcomes(phone, expect, where)
    if "pending" in expect:
        assert phone.pending() == expect["pending"], where
    if expect.get("seqs") == "contiguous":
        seqs = phone.seqs()
        assert seqs == list(range(1, len(seqs) + 1)), (where, seqs)
    if "server_next_seq" in expect:
        assert await world.next_seq(phone.device_id) == expect["server_next_seq"], where
    if "rebootstrapped" in expect:
        expired = any(path.startswith("/api/sync/pull") and status == 410 for path, status in phone.seen())
        assert expired is expect["rebootstrapped"], (where, phone.seen())
    if expect.get("wiped"):
        assert phone.wiped(), where
    _check_replica(world, phone, expect.get("replica", {}), where)
