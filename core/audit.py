"""The audit log: one row per mutating request, and per staff read of personal data.

Changes are captured from the ORM itself (a `before_flush` hook records before and
after of every audited row), so a service cannot forget to log a write. The unit of
work that commits the transaction writes the collected trail as exactly one row.
The table is append-only: a trigger in the migration rejects UPDATE and DELETE.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, event, func, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.database import Base
from core.identity.roles import Actor
from core.jsonable import jsonable


class AuditLog(Base):
    __tablename__ = "audit_log"
    __audited__ = False

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # [{"entity": table, "id": ..., "op": insert|update|delete, "before": {...}, "after": {...}}]
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # [{"entity": table, "id": ...}] for staff reads of personal data
    reads: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)


@dataclass
class Trail:
    changes: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


TRAIL_KEY = "audit_trail"


def trail_of(session: Session) -> Trail:
    trail = session.info.get(TRAIL_KEY)
    if trail is None:
        trail = session.info[TRAIL_KEY] = Trail()
    return trail


def note_read(session: Session, entity: str, ids: list[Any]) -> None:
    """Record that staff read personal data (contact names, phones) of these records."""
    if ids:
        trail_of(session).reads.append({"entity": entity, "ids": [jsonable(i) for i in ids]})


def _row(obj: Any, *, before: bool) -> dict[str, Any]:
    state = inspect(obj)
    exclude = type(obj).__audit_exclude__
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in exclude:
            continue
        hist = state.attrs[attr.key].history
        if before:
            value = hist.deleted[0] if hist.deleted else (hist.unchanged[0] if hist.unchanged else None)
        else:
            value = hist.added[0] if hist.added else (hist.unchanged[0] if hist.unchanged else None)
        values[attr.key] = jsonable(value)
    return values


def _identity(obj: Any) -> Any:
    return jsonable(getattr(obj, "id", None))


@event.listens_for(Session, "before_flush")
def _capture_changes(session: Session, _flush_context: Any, _instances: Any) -> None:
    trail = trail_of(session)
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            trail.changes.append(inserted(obj))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
            before, after = _row(obj, before=True), _row(obj, before=False)
            changed = {k for k in after if before.get(k) != after[k]}
            trail.changes.append(
                {
                    "entity": obj.__tablename__,
                    "id": _identity(obj),
                    "op": "update",
                    "before": {k: before.get(k) for k in changed},
                    "after": {k: after[k] for k in changed},
                }
            )
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            trail.changes.append(
                {
                    "entity": obj.__tablename__,
                    "id": _identity(obj),
                    "op": "delete",
                    "before": _row(obj, before=True),
                }
            )


def write_trail(
    session: Session,
    *,
    action: str,
    actor: Actor | None,
    request_id: str | None,
    always: bool,
) -> None:
    """Add the one audit row for this unit of work (when it wrote or read anything, or `always`);
    `actor` None (or the system's) records no one."""
    row = trail_row(session, action=action, actor=actor, request_id=request_id, always=always)
    if row is not None:
        session.add(row)


def trail_row(
    session: Session,
    *,
    action: str,
    actor: Actor | None,
    request_id: str | None,
    always: bool,
) -> AuditLog | None:
    """The audit row `write_trail` adds, for a caller that inserts many in one statement later;
    the trail starts afresh once it has one."""
    trail = trail_of(session)
    if not (always or trail.changes or trail.reads):
        return None
    session.info[TRAIL_KEY] = Trail()
    return AuditLog(
        action=action,
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor and actor.role else None,
        request_id=request_id,
        changes=trail.changes,
        reads=trail.reads,
    )


def inserted(obj: Any) -> dict[str, Any]:
    """The trail entry of a new row that is not flushed yet (the hook records it at its flush)."""
    return {
        "entity": obj.__tablename__,
        "id": _identity(obj),
        "op": "insert",
        "after": _row(obj, before=False),
    }
