"""Customers → sites → assets: lookups, lists with filters, and admin changes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import InvalidInput, field_error
from core.geo import BBox, LonLat, to_geography
from core.identity.roles import Actor
from core.pagination import Page, keyset_page
from core.records import apply_changes, get_or_404, get_versioned, like_pattern
from dispatch.contracts.models import Contract, HolidayCalendar
from dispatch.customers.access import customer_scope, ensure_customer_visible
from dispatch.customers.models import Asset, Customer, Site, access_span
from dispatch.engineers.models import Engineer

MAP_LIMIT = 5000


# Customers ------------------------------------------------------------------------------------------


async def list_customers(
    session: AsyncSession, actor: Actor, *, q: str | None, limit: int, cursor: str | None
) -> Page[Customer]:
    stmt = select(Customer)
    if (scope := customer_scope(actor)) is not None:
        stmt = stmt.where(Customer.id == scope)
    if q:
        stmt = stmt.where(
            or_(Customer.name.ilike(like_pattern(q)), Customer.customer_number.ilike(like_pattern(q)))
        )
    return await keyset_page(
        session, stmt, [Customer.customer_number, Customer.id], limit=limit, cursor=cursor
    )


async def get_customer(session: AsyncSession, actor: Actor, customer_id: uuid.UUID) -> Customer:
    ensure_customer_visible(actor, customer_id, "customer", customer_id)
    return await get_or_404(session, Customer, customer_id, "customer")


async def create_customer(session: AsyncSession, actor: Actor, values: dict[str, Any]) -> Customer:
    customer = Customer(**values)
    session.add(customer)
    await session.flush()
    return customer


async def update_customer(
    session: AsyncSession, actor: Actor, customer_id: uuid.UUID, version: int, changes: dict[str, Any]
) -> Customer:
    customer = await get_versioned(session, Customer, customer_id, version, "customer")
    apply_changes(customer, changes)
    await session.flush()
    return customer


# Sites ----------------------------------------------------------------------------------------------


def _site_filters(
    stmt: Select[Any], actor: Actor, customer_id: uuid.UUID | None, bbox: BBox | None, q: str | None
) -> Select[Any]:
    if (scope := customer_scope(actor)) is not None:
        stmt = stmt.where(Site.customer_id == scope)
    if customer_id is not None:
        stmt = stmt.where(Site.customer_id == customer_id)
    if bbox is not None:
        envelope = func.ST_MakeEnvelope(bbox.west, bbox.south, bbox.east, bbox.north, 4326)
        # Covers, not Intersects: a site on the edge counts, nothing outside does.
        stmt = stmt.where(func.ST_Covers(envelope, func.geometry(Site.point)))
    if q:
        stmt = stmt.where(or_(Site.name.ilike(like_pattern(q)), Site.address.ilike(like_pattern(q))))
    return stmt


async def list_sites(
    session: AsyncSession,
    actor: Actor,
    *,
    customer_id: uuid.UUID | None,
    bbox: BBox | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Site]:
    stmt = _site_filters(select(Site), actor, customer_id, bbox, q)
    # Map viewports ask for many more rows than a list page.
    page = await keyset_page(
        session, stmt, [Site.name, Site.id], limit=limit, cursor=cursor, max_limit=MAP_LIMIT
    )
    if actor.is_staff:
        audit.note_read(session.sync_session, "site.contact", [s.id for s in page.items])
    return page


async def get_site(session: AsyncSession, actor: Actor, site_id: uuid.UUID) -> Site:
    site = await get_or_404(session, Site, site_id, "site")
    ensure_customer_visible(actor, site.customer_id, "site", site_id)
    if actor.is_staff:
        audit.note_read(session.sync_session, "site.contact", [site.id])
    return site


ENGINEER_LISTS = ("allowed_engineer_ids", "barred_engineer_ids", "preferred_engineer_ids")


async def _check_rules(session: AsyncSession, values: dict[str, Any]) -> None:
    """Access windows that close after they open, and engineer lists that name engineers."""
    for window in values.get("access_windows", []):
        if access_span(window).overnight:
            raise field_error("access_windows", "a window must close after it opens (from < until)")
    for name in ENGINEER_LISTS:
        ids = set(values.get(name) or [])
        if ids:
            known = set((await session.execute(select(Engineer.id).where(Engineer.id.in_(ids)))).scalars())
            if ids - known:
                raise field_error(name, f"no engineer with id {min(ids - known)}")
    if values.get("region_calendar_id") is not None:
        await get_or_404(session, HolidayCalendar, values["region_calendar_id"], "holiday calendar")


async def create_site(session: AsyncSession, actor: Actor, values: dict[str, Any], point: LonLat) -> Site:
    await get_or_404(session, Customer, values["customer_id"], "customer")
    await _check_rules(session, values)
    site = Site(**values, point=to_geography(point))
    session.add(site)
    await session.flush()
    return site


async def update_site(
    session: AsyncSession,
    actor: Actor,
    site_id: uuid.UUID,
    version: int,
    changes: dict[str, Any],
    point: LonLat | None,
) -> Site:
    site = await get_versioned(session, Site, site_id, version, "site")
    if "customer_id" in changes:
        await get_or_404(session, Customer, changes["customer_id"], "customer")
    await _check_rules(session, changes)
    apply_changes(site, changes)
    if point is not None:
        site.point = to_geography(point)
    await session.flush()
    await session.refresh(site)
    return site


# Assets ---------------------------------------------------------------------------------------------


async def list_assets(
    session: AsyncSession,
    actor: Actor,
    *,
    site_id: uuid.UUID | None,
    customer_id: uuid.UUID | None,
    serial: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Asset]:
    stmt = select(Asset).join(Site, Site.id == Asset.site_id)
    if (scope := customer_scope(actor)) is not None:
        stmt = stmt.where(Site.customer_id == scope)
    if site_id is not None:
        stmt = stmt.where(Asset.site_id == site_id)
    if customer_id is not None:
        stmt = stmt.where(Site.customer_id == customer_id)
    if serial:
        stmt = stmt.where(Asset.serial.ilike(like_pattern(serial)))
    return await keyset_page(session, stmt, [Asset.serial, Asset.id], limit=limit, cursor=cursor)


async def get_asset(session: AsyncSession, actor: Actor, asset_id: uuid.UUID) -> tuple[Asset, Site]:
    asset = await get_or_404(session, Asset, asset_id, "asset")
    site = await get_or_404(session, Site, asset.site_id, "site")
    ensure_customer_visible(actor, site.customer_id, "asset", asset_id)
    return asset, site


async def _check_asset_refs(session: AsyncSession, site_id: uuid.UUID, contract_id: uuid.UUID | None) -> None:
    site = await get_or_404(session, Site, site_id, "site")
    if contract_id is not None:
        contract = await get_or_404(session, Contract, contract_id, "contract")
        if contract.customer_id != site.customer_id:
            raise InvalidInput(
                "The contract belongs to another customer than the site",
                errors=[{"field": "contract_id", "message": "contract of another customer"}],
            )


def _check_dates(purchase: dt.date | None, warranty_end: dt.date | None) -> None:
    if purchase and warranty_end and warranty_end < purchase:
        raise InvalidInput(
            "The warranty cannot end before the purchase",
            errors=[{"field": "warranty_end", "message": "before purchase_date"}],
        )


async def create_asset(session: AsyncSession, actor: Actor, values: dict[str, Any]) -> Asset:
    await _check_asset_refs(session, values["site_id"], values.get("contract_id"))
    _check_dates(values.get("purchase_date"), values.get("warranty_end"))
    asset = Asset(**values)
    session.add(asset)
    await session.flush()
    return asset


async def update_asset(
    session: AsyncSession, actor: Actor, asset_id: uuid.UUID, version: int, changes: dict[str, Any]
) -> Asset:
    asset = await get_versioned(session, Asset, asset_id, version, "asset")
    apply_changes(asset, changes)
    await _check_asset_refs(session, asset.site_id, asset.contract_id)
    _check_dates(asset.purchase_date, asset.warranty_end)
    await session.flush()
    return asset
