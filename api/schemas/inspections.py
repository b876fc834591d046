"""Inspection plans, inspections and their checklists."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import Input, ShortText
from core.times import Day, Instant
from dispatch.contracts.models import Severity
from dispatch.inspections.models import CycleUnit, InspectionStatus, ItemKind, Scope

Key = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Minutes = Annotated[int, msgspec.Meta(gt=0, le=24 * 60)]
Skills = dict[
    Annotated[str, msgspec.Meta(min_length=1, max_length=64)], Annotated[int, msgspec.Meta(ge=1, le=5)]
]


class ChecklistItem(Input):
    key: Key
    label: ShortText
    kind: ItemKind
    # A number item passes inside [min, max] (either may be left open).
    min: float | None = None
    max: float | None = None
    unit: Annotated[str, msgspec.Meta(max_length=20)] | None = None


Checklist = Annotated[list[ChecklistItem], msgspec.Meta(max_length=100)]


class InspectionPlanIn(Input):
    contract_id: uuid.UUID
    name: ShortText
    first_due: Day
    scope: Scope = Scope.ALL
    # Asset models (scope "models") or site ids (scope "sites").
    scope_values: Annotated[list[ShortText], msgspec.Meta(max_length=500)] = []
    cycle_unit: CycleUnit = CycleUnit.MONTHS
    cycle_every: Annotated[int, msgspec.Meta(ge=1, le=366)] = 3
    fixed_dates: Annotated[list[Day], msgspec.Meta(max_length=366)] = []
    from_last_visit: bool = False
    tolerance_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 5
    lead_days: Annotated[int, msgspec.Meta(ge=0, le=366)] = 14
    durations: dict[ShortText, Minutes] = {}
    default_duration_minutes: Minutes = 30
    required_skills: Skills = {}
    checklists: dict[ShortText, Checklist] = {}
    default_checklist: Checklist = []


class InspectionPlanPatch(Input):
    version: int
    name: ShortText | UnsetType = UNSET
    scope: Scope | UnsetType = UNSET
    scope_values: Annotated[list[ShortText], msgspec.Meta(max_length=500)] | UnsetType = UNSET
    cycle_unit: CycleUnit | UnsetType = UNSET
    cycle_every: Annotated[int, msgspec.Meta(ge=1, le=366)] | UnsetType = UNSET
    first_due: Day | UnsetType = UNSET
    fixed_dates: Annotated[list[Day], msgspec.Meta(max_length=366)] | UnsetType = UNSET
    from_last_visit: bool | UnsetType = UNSET
    tolerance_days: Annotated[int, msgspec.Meta(ge=0, le=60)] | UnsetType = UNSET
    lead_days: Annotated[int, msgspec.Meta(ge=0, le=366)] | UnsetType = UNSET
    durations: dict[ShortText, Minutes] | UnsetType = UNSET
    default_duration_minutes: Minutes | UnsetType = UNSET
    required_skills: Skills | UnsetType = UNSET
    checklists: dict[ShortText, Checklist] | UnsetType = UNSET
    default_checklist: Checklist | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class ChecklistItemOut(msgspec.Struct):
    key: str
    label: str
    kind: ItemKind
    min: float | None = None
    max: float | None = None
    unit: str | None = None


class InspectionPlanOut(msgspec.Struct):
    id: uuid.UUID
    version: int
    contract_id: uuid.UUID
    name: str
    scope: Scope
    scope_values: list[str]
    cycle_unit: CycleUnit
    cycle_every: int
    first_due: dt.date
    fixed_dates: list[str]
    from_last_visit: bool
    tolerance_days: int
    lead_days: int
    durations: dict[str, int]
    default_duration_minutes: int
    required_skills: dict[str, int]
    checklists: dict[str, list[ChecklistItemOut]]
    default_checklist: list[ChecklistItemOut]
    active: bool


class InspectionPlanPage(msgspec.Struct):
    items: list[InspectionPlanOut]
    next_cursor: str | None


class GenerationOut(msgspec.Struct):
    created: int
    blocked: list[str]


class InspectedAsset(msgspec.Struct):
    asset_id: uuid.UUID
    model: str
    serial: str | None = None


class PlannedVisit(msgspec.Struct):
    visit_id: uuid.UUID
    engineer_id: uuid.UUID | None
    planned_start: dt.datetime | None
    status: str
    engineer_name: str | None = None


class InspectionOut(msgspec.Struct):
    id: uuid.UUID
    plan_id: uuid.UUID
    site_id: uuid.UUID
    contract_id: uuid.UUID
    work_order_id: uuid.UUID | None
    problem_number: str | None
    period: int
    due_on: dt.date
    window_start: dt.datetime
    window_end: dt.datetime
    status: InspectionStatus
    # upcoming | due | overdue (open ones), or done | cancelled | skipped
    state: str
    reason: str | None
    done_at: dt.datetime | None
    assets: list[InspectedAsset]
    # The visits' engineers and planned starts (empty: not planned yet).
    planned: list[PlannedVisit]
    site_name: str | None = None
    customer_name: str | None = None
    # The site's zone: the window as the site sees it.
    time_zone: str | None = None


class InspectionPage(msgspec.Struct):
    items: list[InspectionOut]
    next_cursor: str | None


class SetAsideIn(Input):
    status: Literal["cancelled", "skipped"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class AnswerIn(Input):
    asset_id: uuid.UUID
    item_key: Key
    passed: bool | None = None
    number: float | None = None
    text: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    photo_sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")] | None = None
    finding: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    # A failed item raises a repair work order of this severity at once.
    repair_severity: Severity | None = None


class ResultsIn(Input):
    results: Annotated[list[AnswerIn], msgspec.Meta(max_length=2000)]
    at: Instant | None = None
    # Done: every item of every asset is answered.
    complete: bool = False


class AnswerValue(msgspec.Struct):
    """What was answered: one of these, by the item's kind."""

    passed: bool | None = None
    number: float | None = None
    text: str | None = None
    photo_sha256: str | None = None


class ResultOut(msgspec.Struct):
    asset_id: uuid.UUID
    item_key: str
    kind: ItemKind
    value: AnswerValue
    passed: bool | None
    finding: str | None
    repair_work_order_id: uuid.UUID | None
    recorded_at: dt.datetime


class ResultsOut(msgspec.Struct):
    inspection_id: uuid.UUID
    status: InspectionStatus
    results: list[ResultOut]
