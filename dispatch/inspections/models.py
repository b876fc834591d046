"""Inspection plans per contract, the inspections they generate (one per plan, site and period),
and the checklist results recorded on them."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, Timestamps, UUIDPrimaryKey, Versioned, pg_enum


class Scope(enum.StrEnum):
    ALL = "all"
    MODELS = "models"
    SITES = "sites"


class CycleUnit(enum.StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    FIXED = "fixed"


class ItemKind(enum.StrEnum):
    PASS_FAIL = "pass_fail"  # noqa: S105 (a checklist kind, not a secret)
    NUMBER = "number"
    TEXT = "text"
    PHOTO = "photo"


class InspectionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class InspectionPlan(UUIDPrimaryKey, Timestamps, Versioned, Base):
    __tablename__ = "inspection_plan"
    __mapper_args__ = {"version_id_col": Versioned.version}
    __table_args__ = (
        CheckConstraint("cycle_every > 0", name="cycle_every"),
        CheckConstraint("tolerance_days BETWEEN 0 AND 60", name="tolerance"),
        CheckConstraint("lead_days BETWEEN 0 AND 366", name="lead"),
        CheckConstraint("default_duration_minutes > 0", name="duration"),
    )

    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[Scope] = mapped_column(pg_enum(Scope, "inspection_scope"))
    # Asset models (scope "models") or site ids as strings (scope "sites").
    scope_values: Mapped[list[str]] = mapped_column(JSONB, default=list)
    cycle_unit: Mapped[CycleUnit] = mapped_column(pg_enum(CycleUnit, "inspection_cycle"))
    cycle_every: Mapped[int] = mapped_column(Integer, default=1)
    # The first due date; the cycle counts from it (period 0 is due then).
    first_due: Mapped[dt.date]
    # Cycle "fixed": the due dates themselves, ISO dates in order.
    fixed_dates: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # The next due date counts from the day the previous inspection was done instead of the cycle.
    from_last_visit: Mapped[bool] = mapped_column(default=False)
    # Due date ± this many business days on the contract's calendar at the site.
    tolerance_days: Mapped[int] = mapped_column(Integer, default=5)
    # Work orders are generated this many days before their window opens.
    lead_days: Mapped[int] = mapped_column(Integer, default=14)
    # {"PowerEdge R750": 30}: minutes per asset of that model; others take the default.
    durations: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    default_duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    required_skills: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    # {"PowerEdge R750": [{"key": "fans", "label": "…", "kind": "pass_fail", "min": …, "max": …}]}
    checklists: Mapped[dict[str, list[dict[str, Any]]]] = mapped_column(JSONB, default=dict)
    default_checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    active: Mapped[bool] = mapped_column(default=True)


class Inspection(UUIDPrimaryKey, Timestamps, Base):
    """One period's inspection of one site under a plan: the work order it generated and its window."""

    __tablename__ = "inspection"
    # The generators' idempotency key: a re-run or a second process inserts nothing.
    __table_args__ = (UniqueConstraint("plan_id", "site_id", "period"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection_plan.id", ondelete="RESTRICT"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("site.id"), index=True)
    period: Mapped[int]
    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract.id"), index=True)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_order.id"), unique=True)
    due_on: Mapped[dt.date]
    window_start: Mapped[dt.datetime] = mapped_column(index=True)
    window_end: Mapped[dt.datetime]
    # [{"asset_id": "…", "model": "…", "serial": "…"}]: what is inspected, fixed at generation.
    assets: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    status: Mapped[InspectionStatus] = mapped_column(
        pg_enum(InspectionStatus, "inspection_status"), index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[dt.datetime | None]


class ChecklistResult(UUIDPrimaryKey, Base):
    """One checklist item's answer for one asset; a later answer replaces an earlier one."""

    __tablename__ = "inspection_result"
    __table_args__ = (UniqueConstraint("inspection_id", "asset_id", "item_key"),)

    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection.id"), index=True)
    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asset.id"))
    item_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ItemKind] = mapped_column(pg_enum(ItemKind, "checklist_item_kind"))
    # {"passed": true} | {"number": 41.5} | {"text": "…"} | {"photo_sha256": "…"}
    value: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    passed: Mapped[bool | None]
    finding: Mapped[str | None] = mapped_column(Text)
    # The repair work order raised from a failed item.
    repair_work_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_order.id"))
    recorded_at: Mapped[dt.datetime]
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
