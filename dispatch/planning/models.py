"""Dispatch plans: what the optimizer proposed, how far it got, and whether it was applied."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, UUIDPrimaryKey, pg_enum


class PlanStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    APPLIED = "applied"


class Plan(UUIDPrimaryKey, Base):
    __tablename__ = "dispatch_plan"

    created_at: Mapped[dt.datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[PlanStatus] = mapped_column(pg_enum(PlanStatus, "plan_status"), index=True)
    # Time zero of the plan: every solver time is seconds after it.
    origin: Mapped[dt.datetime]
    horizon_s: Mapped[int] = mapped_column(Integer)
    # What was asked: engineers in scope, time limit.
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The version of every visit the plan was made from: applying a stale plan is refused.
    visit_versions: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    # Best objective so far, elapsed seconds, solutions found.
    progress: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Routes with ETAs, unassigned and late visits with reasons, KPIs, GeoJSON.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None]
    applied_at: Mapped[dt.datetime | None]
    applied_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    inputs_hash: Mapped[str | None] = mapped_column(String(64))
    # The queue worker that runs the plan, and the database's time of its last sign of life: a
    # running plan whose worker stopped touching it is marked failed.
    runner_id: Mapped[uuid.UUID | None]
    heartbeat_at: Mapped[dt.datetime | None]
