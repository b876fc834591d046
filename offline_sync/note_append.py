"""A pushed note on an open visit of the engineer's, appended in one statement.

Notes are most of what a phone pushes, and the general path (lock and load the visit and its
order with everything they eagerly load, then flush a new note) costs a handful of round trips
that grow with the visit's history. This statement does the same checks and writes in one:
it locks the visit and its order if the engineer is on the visit and the visit takes notes
(`dispatch.work_orders.lifecycle.takes_notes`: not cancelled, its order open) — exactly when
`dispatch.work_orders.visits.add_note` behind the conflict gate would accept the note —
inserts the note unless its id exists, and records the change for the phones. It either does
all of that or writes nothing, so it needs no savepoint; anything else (someone else's visit, a
cancelled one, a note id seen before) is answered by the general path, which says why. A run of
notes in a push goes in one such statement.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.identity.roles import Actor, Role
from dispatch.work_orders.lifecycle import ORDER_NO_NOTES, VISIT_NO_NOTES
from dispatch.work_orders.models import Status, VisitNote, VisitStatus

if TYPE_CHECKING:
    from offline_sync import mutations


def _listed(statuses: frozenset[VisitStatus] | frozenset[Status]) -> str:
    """The statuses as SQL literals: the domain's own constants, written into the statement."""
    return ", ".join(f"'{s.value}'" for s in sorted(statuses))


# The visits are locked in id order, so two pushes over the same visits cannot deadlock. The
# statuses that take no notes are the domain's (`lifecycle.takes_notes`), written in as literals:
# enum constants, no input, and the statement stays one the server plans once.
_APPEND = text(
    f"""
    WITH given AS (
        SELECT * FROM unnest(
            CAST(:visit_ids AS uuid[]), CAST(:note_ids AS uuid[]),
            CAST(:ats AS timestamptz[]), CAST(:bodies AS text[])
        ) WITH ORDINALITY AS g (visit_id, note_id, at, body, n)
    ), target AS (
        SELECT visit.id, visit.work_order_id
        FROM visit JOIN work_order ON work_order.id = visit.work_order_id
        WHERE visit.id IN (SELECT visit_id FROM given)
          AND (visit.engineer_id = :user_id OR visit.partner_engineer_id = :user_id)
          AND visit.status NOT IN ({_listed(VISIT_NO_NOTES)})
          AND work_order.status NOT IN ({_listed(ORDER_NO_NOTES)})
        ORDER BY visit.id
        FOR UPDATE
    ), note AS (
        INSERT INTO visit_note (id, visit_id, at, author_id, body)
        SELECT given.note_id, given.visit_id, given.at, CAST(:user_id AS uuid), given.body
        FROM given JOIN target ON target.id = given.visit_id
        ORDER BY given.n
        ON CONFLICT DO NOTHING
        RETURNING id, visit_id
    ), change AS (
        INSERT INTO sync_change (xact_id, entity, entity_id, work_order_id, users, at)
        SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint), 'visit_note', note.id,
               target.work_order_id, CAST('{{}}' AS uuid[]), now()
        FROM note JOIN target ON target.id = note.visit_id
        RETURNING entity_id
    )
    SELECT entity_id FROM change
    """  # noqa: S608
)


async def append(ctx: mutations.Context, a: mutations.AddNote) -> dict[str, str] | None:
    """The note's outcome when it was appended; None when nothing was written (the caller takes
    the general path)."""
    at = ctx.when(a.at, backdated=a.backdated_reason is not None)
    if not (await append_many(ctx.session, ctx.actor, [(a, at)]))[0]:
        return None
    record(ctx.session, ctx.actor, a, at)
    return {"note_id": str(a.note_id)}


async def append_many(
    session: AsyncSession, actor: Actor, notes: list[tuple[mutations.AddNote, dt.datetime]]
) -> list[bool]:
    """Each note (with the time that counts for it) appended or not, in one statement. The note
    ids must differ: which of two notes with one id was written could not be told. The caller
    records each written one in the audit trail (`record`), where it belongs."""
    user_id = actor.user_id
    if actor.role is not Role.ENGINEER or user_id is None or not notes:
        return [False] * len(notes)
    written = {
        str(note_id)
        for note_id in (
            await session.scalars(
                _APPEND,
                {
                    "user_id": user_id,
                    "visit_ids": [a.visit_id for a, _ in notes],
                    "note_ids": [a.note_id for a, _ in notes],
                    "ats": [at for _, at in notes],
                    "bodies": [a.body for a, _ in notes],
                },
            )
        ).all()
    }
    return [str(a.note_id) in written for a, _ in notes]


def record(session: AsyncSession, actor: Actor, a: mutations.AddNote, at: dt.datetime) -> None:
    """The audit entry the ORM's flush hook would have recorded for the note's row."""
    note = VisitNote(id=a.note_id, visit_id=a.visit_id, at=at, author_id=actor.user_id, body=a.body)
    audit.trail_of(session.sync_session).changes.append(audit.inserted(note))
