"""The reference client's store keeps pulled notes as rows beside their document: what it shows is
the document the server would send whole, whatever order the notes came in, and a store written
by the earlier version (notes inside the documents) opens with nothing lost."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from offline_sync.client import DeviceClient

ORDER, VISIT, OTHER_VISIT = "order-1", "visit-1", "visit-2"


def _note(n: int, at: str) -> dict[str, Any]:
    return {"id": f"note-{n}", "at": at, "author_id": "author", "body": f"记录 {n}"}


def _document(notes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": ORDER,
        "status": "scheduled",
        "visits": [{"id": VISIT, "status": "assigned", "notes": notes, "attachments": []}],
    }


def _record(note: dict[str, Any], visit: str = VISIT) -> dict[str, Any]:
    return {
        "entity": "visit_note",
        "id": note["id"],
        "op": "upsert",
        "work_order_id": ORDER,
        "visit_id": visit,
        "data": note,
    }


def _whole(doc: dict[str, Any]) -> dict[str, Any]:
    return {"entity": "work_order", "id": ORDER, "op": "upsert", "data": doc}


def _store(path: str = ":memory:") -> DeviceClient:
    return DeviceClient(None, path, "engineer05", "unused")


def test_notes_pulled_as_records_read_back_as_the_whole_document() -> None:
    store = _store()
    first = _note(1, "2026-03-02T01:00:00+00:00")
    store._apply_page([_whole(_document([first]))])
    # Out of order, one sent twice, one with microseconds: the server's order (time, then id).
    later = [_note(3, "2026-03-02T01:00:00.5+00:00"), _note(2, "2026-03-02T01:00:00+00:00")]
    store._apply_page([_record(n) for n in [*later, later[0]]])
    assert store.replica()[ORDER] == _document([first, later[1], later[0]])
    edited = {**first, "body": "改"}
    store._apply_page([_record(edited)])
    assert store.replica()[ORDER]["visits"][0]["notes"][0] == edited


def test_a_note_of_a_visit_not_yet_on_the_device_waits_for_its_document() -> None:
    store = _store()
    store._apply_page([_whole(_document([]))])
    early = _note(1, "2026-03-02T01:00:00+00:00")
    store._apply_page([_record(early, OTHER_VISIT)])
    assert store.replica()[ORDER] == _document([])
    # The whole document that brings the visit carries the note and replaces what was kept.
    doc = _document([])
    doc["visits"].append({"id": OTHER_VISIT, "status": "assigned", "notes": [early], "attachments": []})
    store._apply_page([_whole(doc)])
    assert store.replica()[ORDER] == doc
    store._apply_page([{"entity": "work_order", "id": ORDER, "op": "remove"}])
    assert store.replica() == {}
    assert store.db.execute("SELECT count(*) FROM replica_note").fetchone() == (0,)


def test_a_store_written_before_notes_had_rows_of_their_own_opens_unchanged(tmp_path: Path) -> None:
    path = str(tmp_path / "phone.sqlite")
    doc = _document([_note(1, "2026-03-02T01:00:00+00:00"), _note(2, "2026-03-02T02:00:00+00:00")])
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE replica (id TEXT PRIMARY KEY, data TEXT NOT NULL);"
    )
    old.execute("INSERT INTO meta VALUES ('device_id', 'phone-1'), ('cursor', 'c-1')")
    old.execute("INSERT INTO replica VALUES (?, ?)", (ORDER, json.dumps(doc)))
    old.commit()
    old.close()
    store = _store(path)
    assert (store.device_id, store._meta("cursor")) == ("phone-1", "c-1")
    assert store.replica() == {ORDER: doc}
    third = _note(3, "2026-03-02T03:00:00+00:00")
    store._apply_page([_record(third)])
    store._set("cursor", "c-2")  # as a pull does: the page is kept with its cursor
    store.db.close()
    again = _store(path)
    assert again._meta("cursor") == "c-2"
    assert again.replica()[ORDER]["visits"][0]["notes"] == [*doc["visits"][0]["notes"], third]
