"""Stock locations. Items, units and the ledger arrive with the inventory flows."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, Timestamps, UUIDPrimaryKey, point_column


class LocationKind(enum.StrEnum):
    WAREHOUSE = "warehouse"
    # An engineer's van or, as often, the backpack they carry: the same kind of location.
    VAN = "van"
    CUSTOMER_SITE = "customer_site"
    REPAIR_VENDOR = "repair_vendor"
    IN_TRANSIT = "in_transit"
    DISCREPANCY = "discrepancy"


class Location(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "stock_location"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[LocationKind] = mapped_column(
        Enum(LocationKind, name="location_kind", values_callable=lambda e: [m.value for m in e])
    )
    address: Mapped[str | None] = mapped_column(String(500))
    point: Mapped[Any] = point_column(nullable=True)
    # Referenced by id only: inventory never imports dispatch.
    engineer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("engineer.id", ondelete="SET NULL"), index=True
    )
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"), index=True)
