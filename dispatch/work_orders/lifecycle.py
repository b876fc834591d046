"""The work-order state machine: which status may follow which.

Pure: no database. `dispatch.work_orders.service.move` applies it, with the order's event;
`service.transition` adds the version check and the rules of each target status.
"""

from __future__ import annotations

from dispatch.work_orders.models import Status, VisitStatus

S = Status

ALLOWED: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.TRIAGED, S.SCHEDULED, S.REMOTE_FIX, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.TRIAGED: frozenset({S.SCHEDULED, S.REMOTE_FIX, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.REOPENED: frozenset({S.TRIAGED, S.SCHEDULED, S.REMOTE_FIX, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.EN_ROUTE, S.ON_SITE, S.TRIAGED, S.REMOTE_FIX, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.ON_SITE, S.SCHEDULED, S.WAITING_CUSTOMER}),
    # On site: fixed, restored by a backup unit, or another visit is needed (parts, a specialist).
    S.ON_SITE: frozenset({S.RESOLVED, S.BACKUP_INSTALLED, S.SCHEDULED, S.WAITING_CUSTOMER}),
    # Service runs on a loaned unit until the swap-back visit resolves the order.
    S.BACKUP_INSTALLED: frozenset({S.SCHEDULED, S.EN_ROUTE, S.ON_SITE, S.RESOLVED, S.WAITING_CUSTOMER}),
    S.RESOLVED: frozenset({S.SIGNED, S.REOPENED}),
    S.REMOTE_FIX: frozenset({S.SIGNED, S.REOPENED}),
    S.SIGNED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    # Returns to the status it came from (checked separately).
    S.WAITING_CUSTOMER: frozenset(),
    S.CANCELLED: frozenset(),
}

OPEN = frozenset(Status) - {S.CLOSED, S.CANCELLED}
# A visit takes notes (and the progress its engineers record) unless the visit is cancelled or its
# order is over. The online steps, the sync's conflict gate and the sync's one-statement note
# append (`offline_sync.note_append`, in SQL) all read these two sets.
VISIT_NO_NOTES = frozenset({VisitStatus.CANCELLED})
ORDER_NO_NOTES = frozenset(Status) - OPEN
# Statuses in which service is restored (the restore clock has been met or is moot).
SERVICE_RESTORED = frozenset({S.RESOLVED, S.REMOTE_FIX, S.SIGNED, S.CLOSED, S.BACKUP_INSTALLED})


def allowed_next(current: Status, resume_status: Status | None) -> frozenset[Status]:
    if current is S.WAITING_CUSTOMER:
        return frozenset({resume_status}) if resume_status else frozenset({S.TRIAGED})
    return ALLOWED[current]


def can_move(current: Status, target: Status, resume_status: Status | None = None) -> bool:
    return target in allowed_next(current, resume_status)


def takes_notes(visit: VisitStatus, order: Status) -> bool:
    """Whether a visit in status `visit` of an order in status `order` takes notes."""
    return visit not in VISIT_NO_NOTES and order not in ORDER_NO_NOTES
