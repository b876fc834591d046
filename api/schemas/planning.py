"""Dispatch plans, emergency insertion and re-planning."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

from api.schemas.common import Input
from core.times import Instant
from dispatch.planning.models import PlanStatus


class PlanIn(Input):
    horizon_hours: Annotated[int, msgspec.Meta(ge=1, le=7 * 24)] = 48
    engineer_ids: list[uuid.UUID] | None = None
    time_limit_seconds: Annotated[float, msgspec.Meta(ge=0.5, le=600)] = 30.0
    # Stop after this many solutions (repeatable runs); none: the time limit alone.
    solution_limit: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None


class PlanOut(msgspec.Struct):
    id: uuid.UUID
    status: PlanStatus
    created_at: dt.datetime
    origin: dt.datetime
    horizon_s: int
    params: dict[str, Any]
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    finished_at: dt.datetime | None
    applied_at: dt.datetime | None
    # While queued: how many solves must end before this plan starts (0: it starts now).
    queue_position: int | None = None


class InsertIn(Input):
    visit_id: uuid.UUID
    apply: bool = False


class ProposalOut(msgspec.Struct):
    visit_id: uuid.UUID
    engineer_id: uuid.UUID
    username: str | None
    engineer_name: str | None
    planned_start: dt.datetime
    arrival: dt.datetime
    late_minutes: float
    added_travel_minutes: float
    shifted: list[dict[str, Any]]
    applied: bool
    # The van lacks the visit's parts: picked up here on the way.
    pickup_warehouse_id: uuid.UUID | None = None
    pickup_at: dt.datetime | None = None


class OverrunIn(Input):
    extra_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)]
    # The visit's version as read; without one (older clients) the time is added to what is current.
    version: int | None = None


class AssignmentCheckIn(Input):
    engineer_id: uuid.UUID
    # From this time on (the drop's place on the timeline); none: as soon as they can.
    planned_start: Instant | None = None


class FindingOut(msgspec.Struct):
    rule: str
    severity: str  # refuse | warn | info
    message: str


class MovedOut(msgspec.Struct):
    visit_id: uuid.UUID
    work_order_id: uuid.UUID | None
    problem_number: str | None
    planned_start_before: dt.datetime
    planned_start_after: dt.datetime
    deadline: dt.datetime | None
    late_minutes: float


class VerdictOut(msgspec.Struct):
    visit_id: uuid.UUID
    engineer_id: uuid.UUID
    engineer_name: str | None
    username: str | None
    # No rule refuses it (skills, licences, the site's admission).
    allowed: bool
    # Allowed, with a place in the shifts, and no deadline missed because of it.
    fits: bool
    findings: list[FindingOut]
    planned_start: dt.datetime | None
    arrival: dt.datetime | None
    deadline: dt.datetime | None
    late_minutes: float | None
    added_travel_minutes: float | None
    pickup_warehouse_id: uuid.UUID | None
    pickup_warehouse: str | None
    pickup_at: dt.datetime | None
    others: list[MovedOut]


class ApplyIn(Input):
    # Only these engineers' routes (the others can be applied later); none: every route.
    engineer_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=500)] | None = None


class VerdictPage(msgspec.Struct):
    items: list[VerdictOut]
    next_cursor: str | None
