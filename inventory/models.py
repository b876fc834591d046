"""Stock locations, items, serialized units, the stock ledger, reservations, loans and repairs.

Work orders and visits are referred to by id only: inventory never imports dispatch.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base, Timestamps, UUIDPrimaryKey, pg_enum, point_column
from core.weekly_hours import WeeklySpan


class LocationKind(enum.StrEnum):
    WAREHOUSE = "warehouse"
    # An engineer's van or, as often, the backpack they carry: the same kind of location.
    VAN = "van"
    CUSTOMER_SITE = "customer_site"
    REPAIR_VENDOR = "repair_vendor"
    IN_TRANSIT = "in_transit"
    # Where stock the books did not know about is booked: the one kind allowed below zero.
    DISCREPANCY = "discrepancy"
    # Faulty parts removed in the field, waiting to go back to the manufacturer (per engineer
    # or per warehouse), each with its return deadline.
    DEFECTIVE_BIN = "defective_bin"


class Location(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "stock_location"
    __table_args__ = (
        CheckConstraint("(opens IS NULL) = (closes IS NULL)", name="hours_paired"),
        CheckConstraint("opens <> closes", name="hours_not_empty"),
    )

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
    # in_transit: the courier's waybill and the expected arrival (a visit cannot start before it).
    waybill: Mapped[str | None] = mapped_column(String(100))
    eta: Mapped[dt.datetime | None]
    # in_transit: where the shipment goes (a warehouse, a van, a customer site's location).
    destination_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_location.id"), index=True)
    # warehouse: daily opening hours in the planning time zone, for pick-ups (both null: any time;
    # `closes` before `opens`: the next day).
    opens: Mapped[dt.time | None] = mapped_column(Time)
    closes: Mapped[dt.time | None] = mapped_column(Time)
    # in_transit: moves on when the shipment arrives (its arrival names it). Kept by hand rather
    # than as the ORM's version column, since vans and warehouses change under many services.
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def opening_hours(self) -> list[WeeklySpan]:
        """Every day from `opens` to `closes`; none on record: open any time."""
        if self.opens is None or self.closes is None:
            return []
        return [WeeklySpan(None, self.opens, self.closes)]


class ItemKind(enum.StrEnum):
    # Counted: so many power supplies, no serial numbers.
    PART = "part"
    # Serialized: each unit has a serial number and a state (backup devices, boards).
    DEVICE = "device"


class Item(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "stock_item"

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ItemKind] = mapped_column(pg_enum(ItemKind, "item_kind"))
    # The model name as it appears on customers' assets ("PowerEdge R750"), for devices.
    model: Mapped[str | None] = mapped_column(String(100), index=True)
    # Disks and the like: at sites that retain media the faulty one stays with the customer.
    data_bearing: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class Compatibility(Base):
    """A backup model that can stand in for a customer's model."""

    __tablename__ = "stock_compatibility"

    backup_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_item.id"), primary_key=True)
    customer_model: Mapped[str] = mapped_column(String(100), primary_key=True)


class UnitState(enum.StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    IN_TRANSIT = "in_transit"
    ON_LOAN = "on_loan"
    INSTALLED = "installed"
    FAULTY = "faulty"
    IN_REPAIR = "in_repair"
    SCRAPPED = "scrapped"
    # Back from a loan: not available until its data wipe is recorded.
    QUARANTINED = "quarantined"


class Unit(UUIDPrimaryKey, Timestamps, Base):
    """One serialized device. Its location follows the ledger; its state is the lifecycle."""

    __tablename__ = "stock_unit"

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_item.id"), index=True)
    serial: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[UnitState] = mapped_column(pg_enum(UnitState, "unit_state"), index=True)
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_location.id"), index=True)
    # A customer's own device taken in for repair: tracked, never lent out.
    customer_owned: Mapped[bool] = mapped_column(default=False)
    configuration: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class UnitEvent(Base):
    """The append-only history of one serial number."""

    __tablename__ = "stock_unit_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_unit.id"), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_location.id"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    work_order_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class MoveKind(enum.StrEnum):
    RECEIVE = "receive"
    TRANSFER = "transfer"
    RESERVE = "reserve"
    RELEASE = "release"
    PICK = "pick"
    CONSUME = "consume"
    RETURN = "return"
    ADJUST = "adjust"
    SCRAP = "scrap"


class StockMove(Base):
    """One immutable ledger line: `quantity` of an item leaves `from` and enters `to`.

    A missing side is the world outside the books (a supplier, a work order that used the
    part, the scrap bin, a count). `reserve` and `release` move stock between the free and
    the reserved share of one location. The balance table is kept by a trigger on insert,
    and the database rejects UPDATE and DELETE here: corrections are new lines.
    """

    __tablename__ = "stock_move"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("from_location_id IS NOT NULL OR to_location_id IS NOT NULL", name="has_a_side"),
        CheckConstraint(
            "kind NOT IN ('reserve', 'release') OR (from_location_id IS NOT NULL AND to_location_id IS NULL)",
            name="reservation_side",
        ),
        CheckConstraint(
            "from_location_id IS NULL OR to_location_id IS NULL OR from_location_id <> to_location_id",
            name="two_places",
        ),
        CheckConstraint("kind <> 'adjust' OR reason IS NOT NULL", name="adjust_reason"),
        Index("ix_stock_move_item_location", "item_id", "from_location_id"),
        Index("ix_stock_move_item_to_location", "item_id", "to_location_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[dt.datetime]
    kind: Mapped[MoveKind] = mapped_column(pg_enum(MoveKind, "stock_move_kind"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_item.id"))
    quantity: Mapped[int]
    from_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_location.id"))
    to_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_location.id"))
    # The quantity leaves the reserved share of `from` (a pick or a consumption of reserved stock).
    from_reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_unit.id"), index=True)
    reservation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_reservation.id"))
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    visit_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))


class StockBalance(Base):
    """On-hand and reserved per item and location: a cache of the ledger, kept by its trigger.

    The CHECK constraints are the never-negative rule, enforced by the database under
    concurrency; only a `discrepancy` location (allow_negative) may go below zero.
    """

    __tablename__ = "stock_balance"
    __audited__ = False  # derived from stock_move, which is audited
    __table_args__ = (
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("allow_negative OR on_hand >= reserved", name="never_negative"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_item.id"), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stock_location.id"), primary_key=True, index=True
    )
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    allow_negative: Mapped[bool] = mapped_column(default=False)


class ReservationStatus(enum.StrEnum):
    ACTIVE = "active"
    CONSUMED = "consumed"
    RELEASED = "released"
    EXPIRED = "expired"


class Reservation(UUIDPrimaryKey, Base):
    """Stock held for a work order or visit (parts for a planned repair, a backup unit for a loan)."""

    __tablename__ = "stock_reservation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_stock_reservation_due", "expires_at", postgresql_where=text("status = 'active'")),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_item.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_location.id"))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_unit.id"))
    quantity: Mapped[int]
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    visit_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    status: Mapped[ReservationStatus] = mapped_column(pg_enum(ReservationStatus, "reservation_status"))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))


class LoanStatus(enum.StrEnum):
    # Unit reserved for a work order, waiting for a dispatcher's approval.
    PROPOSED = "proposed"
    APPROVED = "approved"
    # Installed at the customer's, the loan form signed.
    OPEN = "open"
    # Swapped back: the unit is on its way back to stock and its wipe.
    RETURNING = "returning"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Loan(UUIDPrimaryKey, Timestamps, Base):
    """A backup unit lent to a customer while their device is repaired (借用单)."""

    __tablename__ = "stock_loan"
    __table_args__ = (
        Index(
            "uq_stock_loan_active_unit",
            "unit_id",
            unique=True,
            postgresql_where=text("status NOT IN ('closed', 'cancelled')"),
        ),
    )

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_unit.id"))
    reservation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_reservation.id"))
    work_order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    delivery_visit_id: Mapped[uuid.UUID | None]
    swap_back_visit_id: Mapped[uuid.UUID | None]
    site_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_location.id"))
    status: Mapped[LoanStatus] = mapped_column(pg_enum(LoanStatus, "loan_status"), index=True)
    # Why the loan was needed: "restore clock at risk", "engineer: repair cannot finish in time".
    cause: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    approved_at: Mapped[dt.datetime | None]
    # The loan form the customer signs: serial (the unit's), configuration, return date.
    signed_by: Mapped[str | None] = mapped_column(String(100))
    configuration: Mapped[str | None] = mapped_column(Text)
    return_by: Mapped[dt.date | None]
    opened_at: Mapped[dt.datetime | None]
    returned_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    faulty_unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_unit.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class RepairStatus(enum.StrEnum):
    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"
    AT_VENDOR = "at_vendor"
    RETURNED = "returned"
    WRITTEN_OFF = "written_off"


class RepairCase(UUIDPrimaryKey, Timestamps, Base):
    """A faulty unit's trip through the repair vendor (RMA)."""

    __tablename__ = "stock_repair_case"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_unit.id"), index=True)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    loan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_loan.id"))
    status: Mapped[RepairStatus] = mapped_column(pg_enum(RepairStatus, "repair_status"), index=True)
    waybill: Mapped[str | None] = mapped_column(String(100))
    shipped_at: Mapped[dt.datetime | None]
    at_vendor_since: Mapped[dt.datetime | None]
    returned_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class Wipe(UUIDPrimaryKey, Base):
    """A recorded data wipe of a returned unit: what releases it from quarantine."""

    __tablename__ = "stock_wipe"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_unit.id"), index=True)
    at: Mapped[dt.datetime]
    method: Mapped[str] = mapped_column(String(100))
    operator: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))


class SwapDisposition(enum.StrEnum):
    # Into the defective bin, to be returned to the manufacturer by the deadline.
    RETURN = "return"
    # A data-bearing part at a site that retains media: handed to the customer, never RMA.
    CUSTOMER_RETAINED = "customer_retained"
    # A data-bearing part destroyed (on site or at the warehouse), the destruction recorded.
    DESTROYED = "destroyed"


class PartSwap(UUIDPrimaryKey, Base):
    """A serialized part swapped on a work order: the new serial in, the faulty serial out."""

    __tablename__ = "stock_part_swap"

    work_order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    visit_id: Mapped[uuid.UUID | None]
    at: Mapped[dt.datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_item.id"))
    installed_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_unit.id"))
    installed_serial: Mapped[str] = mapped_column(String(100))
    removed_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_unit.id"), index=True)
    removed_serial: Mapped[str] = mapped_column(String(100))
    disposition: Mapped[SwapDisposition] = mapped_column(pg_enum(SwapDisposition, "swap_disposition"))
    # return: the defective bin it went to and the manufacturer's deadline (they bill after it).
    bin_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stock_location.id"))
    return_by: Mapped[dt.date | None] = mapped_column(index=True)
    returned_at: Mapped[dt.datetime | None]
    return_waybill: Mapped[str | None] = mapped_column(String(100))
    # customer_retained: who took the part, signing for its serial.
    handed_to: Mapped[str | None] = mapped_column(String(100))
    signature: Mapped[str | None] = mapped_column(Text)
    # destroyed: how, and who witnessed it.
    destruction_method: Mapped[str | None] = mapped_column(String(100))
    destruction_witness: Mapped[str | None] = mapped_column(String(100))
    destroyed_at: Mapped[dt.datetime | None]
    # Its return or destruction names the version it changes.
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class StockLevel(Base):
    """Replenishment levels of an item at a location: below `min_quantity`, refill to `max_quantity`."""

    __tablename__ = "stock_level"
    __table_args__ = (
        CheckConstraint(
            "min_quantity >= 0 AND max_quantity >= min_quantity AND max_quantity > 0", name="levels"
        ),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_item.id"), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_location.id"), primary_key=True)
    min_quantity: Mapped[int]
    max_quantity: Mapped[int]


class CountStatus(enum.StrEnum):
    # The engineer enters what they find; book quantities are not shown.
    OPEN = "open"
    # Counting finished: book quantities frozen, variances computed.
    SUBMITTED = "submitted"
    # Warehouse staff approved: the variances were posted as `adjust` movements.
    APPROVED = "approved"
    CANCELLED = "cancelled"


class StockCount(UUIDPrimaryKey, Base):
    """A blind count of one location (an engineer's van or backpack)."""

    __tablename__ = "stock_count"

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_location.id"), index=True)
    engineer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("engineer.id"), index=True)
    status: Mapped[CountStatus] = mapped_column(pg_enum(CountStatus, "count_status"))
    opened_at: Mapped[dt.datetime]
    opened_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[dt.datetime | None]
    approved_at: Mapped[dt.datetime | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class StockCountLine(Base):
    __tablename__ = "stock_count_line"

    count_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_count.id"), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_item.id"), primary_key=True)
    counted: Mapped[int] = mapped_column(Integer, default=0)
    # Frozen when the count is submitted.
    book: Mapped[int | None]
