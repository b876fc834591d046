from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import GeoPoint, Input, LongText, Phone, ShortText, TimeZoneName
from core.times import Day

CustomerNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9\-]+$")]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
HourMinute = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
LeadMinutes = Annotated[int, msgspec.Meta(ge=0, le=30 * 24 * 60)]
EngineerIds = Annotated[list[uuid.UUID], msgspec.Meta(max_length=500)]
# A whitelist of nobody would leave the site unservable: null lets anyone go.
Whitelist = Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=500)]


class AccessWindow(Input):
    """When engineers may start work at the site, in its time zone; weekday 0 = Monday."""

    from_: HourMinute = msgspec.field(name="from")
    until: HourMinute
    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)] | None = None  # null: every day


AccessWindows = Annotated[list[AccessWindow], msgspec.Meta(max_length=50)]


class CustomerIn(Input):
    customer_number: CustomerNumber
    name: ShortText
    hotline_phone: Phone | None = None
    notes: LongText | None = None


class CustomerPatch(Input):
    version: int
    name: ShortText | UnsetType = UNSET
    hotline_phone: Phone | UnsetType | None = UNSET
    notes: LongText | UnsetType | None = UNSET


class CustomerOut(msgspec.Struct):
    id: uuid.UUID
    customer_number: str
    name: str
    hotline_phone: str | None
    notes: str | None
    version: int


class CustomerPage(msgspec.Struct):
    items: list[CustomerOut]
    next_cursor: str | None


class SiteIn(Input):
    customer_id: uuid.UUID
    name: ShortText
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    point: GeoPoint
    time_zone: TimeZoneName = "Asia/Shanghai"
    contact_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    contact_phone: Phone | None = None
    access_notes: LongText | None = None
    retains_media: bool = False
    no_photography: bool = False
    # The content of the QR code at reception; never sent to engineers' phones.
    reception_code: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    # Empty: any time.
    access_windows: AccessWindows = []
    registration_lead_minutes: LeadMinutes = 0
    allowed_engineer_ids: Whitelist | None = None
    barred_engineer_ids: EngineerIds = []
    preferred_engineer_ids: EngineerIds = []
    # The site's regional holidays, counted together with the contract's holiday calendar.
    region_calendar_id: uuid.UUID | None = None


class SitePatch(Input):
    version: int
    name: ShortText | UnsetType = UNSET
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | UnsetType = UNSET
    point: GeoPoint | UnsetType = UNSET
    time_zone: TimeZoneName | UnsetType = UNSET
    contact_name: Annotated[str, msgspec.Meta(max_length=100)] | UnsetType | None = UNSET
    contact_phone: Phone | UnsetType | None = UNSET
    access_notes: LongText | UnsetType | None = UNSET
    retains_media: bool | UnsetType = UNSET
    no_photography: bool | UnsetType = UNSET
    reception_code: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | UnsetType | None = UNSET
    access_windows: AccessWindows | UnsetType = UNSET
    registration_lead_minutes: LeadMinutes | UnsetType = UNSET
    allowed_engineer_ids: Whitelist | UnsetType | None = UNSET
    barred_engineer_ids: EngineerIds | UnsetType = UNSET
    preferred_engineer_ids: EngineerIds | UnsetType = UNSET
    region_calendar_id: uuid.UUID | UnsetType | None = UNSET


class SiteOut(msgspec.Struct):
    id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    name: str
    address: str
    point: GeoPoint
    time_zone: str
    contact_name: str | None
    contact_phone: str | None
    access_notes: str | None
    retains_media: bool
    no_photography: bool
    reception_code: str | None
    access_windows: list[AccessWindow]
    registration_lead_minutes: int
    allowed_engineer_ids: list[uuid.UUID] | None
    barred_engineer_ids: list[uuid.UUID]
    preferred_engineer_ids: list[uuid.UUID]
    region_calendar_id: uuid.UUID | None
    version: int


class SitePage(msgspec.Struct):
    items: list[SiteOut]
    next_cursor: str | None


class SiteFeature(msgspec.Struct):
    type: str
    id: uuid.UUID
    geometry: GeoPoint
    properties: dict[str, str | bool | None]


class SiteFeatureCollection(msgspec.Struct):
    """Sites as GeoJSON, for the dispatcher's map."""

    type: str
    features: list[SiteFeature]
    next_cursor: str | None


class AssetIn(Input):
    site_id: uuid.UUID
    model: ShortText
    serial: Serial
    contract_id: uuid.UUID | None = None
    purchase_date: Day | None = None
    warranty_end: Day | None = None


class AssetPatch(Input):
    version: int
    site_id: uuid.UUID | UnsetType = UNSET
    model: ShortText | UnsetType = UNSET
    serial: Serial | UnsetType = UNSET
    contract_id: uuid.UUID | UnsetType | None = UNSET
    purchase_date: Day | UnsetType | None = UNSET
    warranty_end: Day | UnsetType | None = UNSET


class AssetOut(msgspec.Struct):
    id: uuid.UUID
    site_id: uuid.UUID
    site_name: str
    contract_id: uuid.UUID | None
    model: str
    serial: str
    purchase_date: dt.date | None
    warranty_end: dt.date | None
    version: int
    # Set by a board swap that changed it.
    mac: str | None = None


class AssetPage(msgspec.Struct):
    items: list[AssetOut]
    next_cursor: str | None
