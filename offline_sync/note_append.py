"""A pushed note on an open visit of the engineer's, appended in one statement.

Notes are most of what a phone pushes, and the general path (lock and load the visit and its
order with everything they eagerly load, then flush a new note) costs a handful of round trips
that grow with the visit's history. This statement does the same checks and writes in one:
it locks the visit and its order if the engineer is on the visit, the visit is not cancelled
and the order is open — exactly when `dispatch.work_orders.visits.add_note` behind the
conflict gate would accept the note — inserts the note unless its id exists, and records the
change for the phones. It either does all of that or writes nothing, so it needs no savepoint;
anything else (someone else's visit, a cancelled one, a note id seen before) is answered by the
general path, which says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

from core import audit
from core.identity.roles import Role
from dispatch.work_orders.models import VisitNote

if TYPE_CHECKING:
    from offline_sync import mutations

_APPEND = text(
    """
    WITH target AS (
        SELECT visit.id, visit.work_order_id
        FROM visit JOIN work_order ON work_order.id = visit.work_order_id
        WHERE visit.id = :visit_id
          AND (visit.engineer_id = :user_id OR visit.partner_engineer_id = :user_id)
          AND visit.status <> 'cancelled'
          AND work_order.status NOT IN ('cancelled', 'closed')
        FOR UPDATE
    ), note AS (
        INSERT INTO visit_note (id, visit_id, at, author_id, body)
        SELECT CAST(:note_id AS uuid), target.id, CAST(:at AS timestamptz), CAST(:user_id AS uuid),
               CAST(:body AS text)
        FROM target
        ON CONFLICT DO NOTHING
        RETURNING id
    ), change AS (
        INSERT INTO sync_change (xact_id, entity, entity_id, work_order_id, users, at)
        SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint), 'visit_note', note.id,
               target.work_order_id, CAST('{}' AS uuid[]), now()
        FROM note CROSS JOIN target
        RETURNING 1
    )
    SELECT count(*) FROM change
    """
)


async def append(ctx: mutations.Context, a: mutations.AddNote) -> dict[str, str] | None:
    """The note's outcome when it was appended; None when nothing was written (the caller takes
    the general path)."""
    user_id = ctx.actor.user_id
    if ctx.actor.role is not Role.ENGINEER or user_id is None:
        return None
    at = ctx.when(a.at, backdated=a.backdated_reason is not None)
    written = await ctx.session.scalar(
        _APPEND,
        {"visit_id": a.visit_id, "user_id": user_id, "note_id": a.note_id, "at": at, "body": a.body},
    )
    if not written:
        return None
    # The entry the ORM's flush hook would have recorded for the same row.
    note = VisitNote(id=a.note_id, visit_id=a.visit_id, at=at, author_id=user_id, body=a.body)
    audit.trail_of(ctx.session.sync_session).changes.append(audit.inserted(note))
    return {"note_id": str(a.note_id)}
