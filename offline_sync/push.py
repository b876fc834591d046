"""Push: a device's mutations applied exactly once, the batch in one transaction.

The device's outbox row is locked for the whole push; per mutation: check the seq, apply the
mutation through the domain services inside a savepoint, store the outcome and advance
`next_seq`, write the audit row. A mutation and its stored outcome therefore commit
together, so a retry after a lost response finds the outcome and applies nothing twice.
A seq already seen returns the stored outcome; a seq beyond the next one stops the batch
(the device resends from `next_seq`); a rejected mutation still consumes its seq.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.clock import Clock
from core.database import forget_after_commit, run_after_commit
from core.errors import DomainError
from core.identity.roles import Actor
from offline_sync import conflicts, device_time, devices, mutations, note_append
from offline_sync.models import SyncDevice, SyncMutation


@dataclass(frozen=True)
class Pushed:
    id: uuid.UUID
    seq: int
    name: str
    args: dict[str, Any]


@dataclass
class PushResult:
    outcomes: list[dict[str, Any]]
    next_seq: int
    server_time: dt.datetime


def problem_of(exc: DomainError) -> dict[str, Any]:
    from core.jsonable import jsonable

    return {
        "type": f"/problems/{exc.slug}",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        **{k: jsonable(v) for k, v in exc.extra.items() if v is not None},
    }


def stored_outcome(row: SyncMutation, *, replayed: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(row.mutation_id), "seq": row.seq, "status": row.status, **row.outcome}
    if replayed:
        out["replayed"] = True
    return out


@dataclass
class Applied:
    status: str
    outcome: dict[str, Any]
    blob: str | None = None


async def apply_one(
    session: AsyncSession,
    ctx: mutations.Context,
    device: SyncDevice,
    seq: int,
    name: str,
    args: dict[str, Any],
) -> Applied:
    """Apply one mutation, inside a savepoint of the caller's transaction unless its fast path
    takes it (one statement, all or nothing); never raises a DomainError."""
    try:
        mutation, typed = mutations.parse(name, args)
    except DomainError as exc:
        return Applied("rejected", {"problem": problem_of(exc)})
    if mutation.fast is not None:
        fast = await mutation.fast(ctx, typed)
        if fast is not None:
            return Applied("applied", {"result": fast})
    nested = await session.begin_nested()
    try:
        result = await mutation.apply(ctx, typed)
        await session.flush()
    except mutations.BlobMissing as exc:
        await nested.rollback()
        return Applied("pending_blob", {"blob": exc.sha256}, blob=exc.sha256)
    except conflicts.FieldConflict as exc:
        await nested.rollback()
        assert ctx.actor.user_id is not None
        row = conflicts.record(
            session,
            now=ctx.clock.now(),
            device_pk=device.id,
            seq=seq,
            user_id=ctx.actor.user_id,
            name=name,
            args=args,
            conflict=exc,
        )
        return Applied(
            "conflict",
            {"conflict": exc.kind, "conflict_id": str(row.id), "server_view": exc.server_view},
        )
    except DomainError as exc:
        await nested.rollback()
        return Applied("rejected", {"problem": problem_of(exc)})
    except IntegrityError:
        await nested.rollback()
        return Applied(
            "rejected",
            {
                "problem": {
                    "type": "/problems/conflict",
                    "title": "Conflicts with the current state",
                    "status": 409,
                    "detail": "A record with this id already exists or a reference is missing",
                }
            },
        )
    await nested.commit()
    return Applied("applied", {"result": result})


def _fresh_trail(session: AsyncSession) -> None:
    # What a rolled-back savepoint captured is not part of this unit of work's audit row.
    session.sync_session.info.pop(audit.TRAIL_KEY, None)


async def push(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    actor: Actor,
    request_id: str,
    *,
    device_id: uuid.UUID,
    device_now: dt.datetime,
    batch: list[Pushed],
) -> PushResult:
    """The whole batch in one transaction, each mutation in a savepoint of its own.

    Why one transaction rather than one per mutation: a mutation's own work is a handful of
    statements, and per-mutation transactions multiplied the fixed part (device lock, seq row
    update, commit, audit insert) by the batch size. The guarantees hold as before: a refused
    mutation rolls back only its savepoint and still consumes its seq with its stored outcome;
    the device row stays locked to the end, so seqs stay contiguous and a concurrent push of
    the same outbox waits and then replays; the answer is sent only after the single COMMIT,
    so a crash before it loses nothing acknowledged (the device resends the whole batch, none
    of which was stored). The stored outcomes and audit rows are inserted together at the end,
    one multi-row statement each."""
    received_at = clock.now()
    ordered = sorted({m.seq: m for m in reversed(batch)}.values(), key=lambda m: m.seq)
    async with sessionmaker() as session:
        async with session.begin():
            contact = await _contact(session, actor, request_id, device_id, device_now, batch, received_at)
            device = contact.device
            outcomes: list[dict[str, Any]] = []
            next_seq = device.next_seq
            if device.status == "active":
                outcomes, next_seq = await _apply_batch(session, clock, actor, request_id, contact, ordered)
        run_after_commit(session)
        forget_after_commit(session)
    if device.status != "active":
        devices.check_usable(device)
    return PushResult(outcomes=outcomes, next_seq=next_seq, server_time=clock.now())


@dataclass(frozen=True)
class _Contact:
    device: SyncDevice
    received_at: dt.datetime
    # The previous contact: the lower bound of the times this batch reports.
    last_contact: dt.datetime
    clock_offset: dt.timedelta


async def _contact(
    session: AsyncSession,
    actor: Actor,
    request_id: str,
    device_id: uuid.UUID,
    device_now: dt.datetime,
    batch: list[Pushed],
    received_at: dt.datetime,
) -> _Contact:
    """Lock the device's row for the whole push, measure the clock offset, remember the previous
    contact, and hold a suspended device's batch before anything is applied (a revoked one is
    refused by the caller)."""
    device = await devices.of_user(session, actor, device_id, lock=True)
    last_contact = device.last_contact_at
    offset = device_time.offset(received_at, device_now)
    if device.status == "active":
        device.clock_offset_s = offset.total_seconds()
        device.last_contact_at = received_at
        await session.flush()
        _fresh_trail(session)  # bookkeeping, not one of the mutations' changes
    elif device.status == "suspended":
        devices.hold(
            session,
            device,
            received_at,
            [{"id": str(m.id), "seq": m.seq, "name": m.name, "args": m.args} for m in batch],
        )
        audit.write_trail(
            session.sync_session,
            action="sync.push held (device suspended)",
            actor=actor,
            request_id=request_id,
            always=True,
        )
    return _Contact(device, received_at, last_contact, offset)


async def _apply_batch(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    request_id: str,
    contact: _Contact,
    ordered: list[Pushed],
) -> tuple[list[dict[str, Any]], int]:
    """Replay, apply or stop at each mutation in seq order; the outcomes and the next seq."""
    device = contact.device
    outcomes: list[dict[str, Any]] = []
    rows: list[Any] = []
    next_seq = device.next_seq
    appended: dict[int, _Appended | None] = {}
    for index, m in enumerate(ordered):
        if m.seq < next_seq:
            stored = await session.get(SyncMutation, (device.id, m.seq))
            if stored is None or stored.mutation_id != m.id:
                outcomes.append(_seq_reused(m))
            else:
                outcomes.append(stored_outcome(stored, replayed=True))
            continue
        if m.seq > next_seq:
            outcomes += _not_processed(ordered[index:], next_seq, "seq-gap")
            break
        if m.name == NOTE and m.seq not in appended:
            appended = await _append_notes(session, clock, actor, contact, ordered[index:])
        stored, trail = await _apply_and_store(
            session, clock, actor, request_id, contact, m, appended.get(m.seq)
        )
        rows += [stored, trail]
        outcomes.append(stored_outcome(stored))
        next_seq = m.seq + 1
    session.add_all(rows)
    device.next_seq = next_seq
    await session.flush()
    _fresh_trail(session)  # the rows just inserted are recorded in the audit rows themselves
    return outcomes, next_seq


NOTE = "visit.add_note@1"


@dataclass(frozen=True)
class _Appended:
    """A note of the batch that was appended together with the notes around it."""

    ctx: mutations.Context
    args: mutations.AddNote


def _context(session: AsyncSession, clock: Clock, actor: Actor, contact: _Contact) -> mutations.Context:
    return mutations.Context(
        session=session,
        actor=actor,
        clock=clock,
        received_at=contact.received_at,
        last_contact=contact.last_contact,
        clock_offset=contact.clock_offset,
    )


async def _append_notes(
    session: AsyncSession, clock: Clock, actor: Actor, contact: _Contact, rest: list[Pushed]
) -> dict[int, _Appended | None]:
    """The run of notes that starts the rest of the batch (contiguous seqs, valid arguments,
    distinct note ids), appended in one statement: by seq, each written one, or None. The others are
    applied in their turn as any mutation is, which says why they were refused. Notes do not
    depend on each other, so writing a run before its members' turns changes no outcome."""
    run: list[tuple[int, mutations.Context, mutations.AddNote]] = []
    seen: set[Any] = set()
    for m in rest:
        if m.name != NOTE or (run and m.seq != run[-1][0] + 1):
            break
        try:
            _, typed = mutations.parse(m.name, m.args)
        except DomainError:
            break
        assert isinstance(typed, mutations.AddNote)
        if typed.note_id in seen:
            break
        seen.add(typed.note_id)
        run.append((m.seq, _context(session, clock, actor, contact), typed))
    notes = [(a, ctx.when(a.at, backdated=a.backdated_reason is not None)) for _, ctx, a in run]
    written = await note_append.append_many(session, actor, notes)
    return {
        seq: _Appended(ctx, a) if done else None for (seq, ctx, a), done in zip(run, written, strict=True)
    }


async def _apply_and_store(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    request_id: str,
    contact: _Contact,
    m: Pushed,
    appended: _Appended | None = None,
) -> tuple[SyncMutation, audit.AuditLog]:
    """Apply the mutation (unless it was `appended` already); its stored outcome and its audit
    row, to be inserted by the caller."""
    if appended is not None:
        ctx = appended.ctx
        assert ctx.effective_at is not None
        note_append.record(session, actor, appended.args, ctx.effective_at)
        applied = Applied("applied", {"result": {"note_id": str(appended.args.note_id)}})
    else:
        ctx = _context(session, clock, actor, contact)
        applied = await apply_one(session, ctx, contact.device, m.seq, m.name, m.args)
    if applied.status != "applied":
        _fresh_trail(session)
        await session.flush()  # a conflict's inbox row, recorded in this mutation's audit row
    stored = SyncMutation(
        device_pk=contact.device.id,
        seq=m.seq,
        mutation_id=m.id,
        name=m.name,
        args=m.args,
        status=applied.status,
        outcome=applied.outcome,
        received_at=contact.received_at,
        applied_at=clock.now() if applied.status == "applied" else None,
        device_at=ctx.device_at,
        effective_at=ctx.effective_at,
        blob_sha256=applied.blob,
    )
    audit.trail_of(session.sync_session).changes.append(audit.inserted(stored))
    row = audit.trail_row(
        session.sync_session,
        action=f"sync {m.name} ({applied.status})",
        actor=actor,
        request_id=request_id,
        always=True,
    )
    assert row is not None
    return stored, row


def _not_processed(rest: list[Pushed], expected: int, reason: str) -> list[dict[str, Any]]:
    """Mutations after a gap (or after the device was revoked mid-batch): not stored, seq not used."""
    return [
        {
            "id": str(m.id),
            "seq": m.seq,
            "status": "not_processed",
            "problem": {
                "type": f"/problems/{reason}",
                "title": "Not processed: send the missing seq first"
                if reason == "seq-gap"
                else "Not processed: the device was revoked",
                "status": 409,
                "detail": f"The server expects seq {expected} next",
                "expected_seq": expected,
            },
        }
        for m in rest
    ]


def _seq_reused(m: Pushed) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "seq": m.seq,
        "status": "rejected",
        "problem": {
            "type": "/problems/seq-reused",
            "title": "This seq was used by another mutation",
            "status": 409,
            "detail": "A seq identifies one mutation for good; this one was never stored",
        },
    }


async def review_held(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    request_id: str,
    device_pk: uuid.UUID,
    *,
    reviewer: Actor,
    apply: bool,
) -> list[dict[str, Any]]:
    """After reinstatement: apply the pushes held while the device was suspended, oldest first,
    through `push` (so seqs already applied are replays and nothing runs twice), or discard them.
    The held rows are removed either way; the outcomes of applied ones are returned."""
    from sqlalchemy import delete, select

    from core.identity.models import User
    from core.identity.roles import Role
    from offline_sync.models import SyncHeldPush

    async with sessionmaker() as session, session.begin():
        device = await session.get(SyncDevice, device_pk)
        assert device is not None
        held = (
            (
                await session.execute(
                    select(SyncHeldPush)
                    .where(SyncHeldPush.device_pk == device_pk)
                    .order_by(SyncHeldPush.received_at)
                )
            )
            .scalars()
            .all()
        )
        batches = [list(h.mutations) for h in held]
        await session.execute(delete(SyncHeldPush).where(SyncHeldPush.device_pk == device_pk))
        owner = await session.get(User, device.user_id)
        assert owner is not None
        device_id = device.device_id
        audit.write_trail(
            session.sync_session,
            action=f"sync.held pushes {'applied' if apply else 'discarded'} on reinstatement",
            actor=reviewer,
            request_id=request_id,
            always=bool(batches),
        )
    if not apply or not batches:
        return []
    actor = Actor(user_id=owner.id, role=Role(owner.role), username=owner.username)
    outcomes: list[dict[str, Any]] = []
    for batch in batches:
        result = await push(
            sessionmaker,
            clock,
            actor,
            request_id,
            device_id=device_id,
            device_now=clock.now(),  # no device clock to measure: device times are clamped to now
            batch=[
                Pushed(id=uuid.UUID(m["id"]), seq=int(m["seq"]), name=m["name"], args=m["args"])
                for m in batch
            ],
        )
        outcomes.extend(result.outcomes)
    return outcomes
