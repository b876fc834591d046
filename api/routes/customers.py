"""Customers, their sites (with a map view) and their assets."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import ADMIN, CUSTOMER_READERS
from api.params import BBoxParam, CurrentActor, Cursor, Limit, Search, Session
from api.schemas.common import GeoPoint, fields_of, given, out
from api.schemas.customers import (
    AccessWindow,
    AssetIn,
    AssetOut,
    AssetPage,
    AssetPatch,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    SiteFeature,
    SiteFeatureCollection,
    SiteIn,
    SiteOut,
    SitePage,
    SitePatch,
)
from core.geo import BBox
from core.records import delete_record
from dispatch.customers import names, service
from dispatch.customers.models import Asset, Customer, Site


def site_out(site: Site, customer_name: str) -> SiteOut:
    windows = msgspec.convert(site.access_windows, list[AccessWindow])
    return out(
        SiteOut, site, point=GeoPoint.of(site.point), access_windows=windows, customer_name=customer_name
    )


async def sites_out(session: Session, sites: list[Site]) -> list[SiteOut]:
    customers = await names.customer_names(session, (s.customer_id for s in sites))
    return [site_out(s, customers.get(s.customer_id, "")) for s in sites]


async def assets_out(session: Session, assets: list[Asset]) -> list[AssetOut]:
    sites = await names.site_names(session, (a.site_id for a in assets))
    return [out(AssetOut, a, site_name=sites.get(a.site_id, "")) for a in assets]


def _windows(items: list[AccessWindow]) -> list[dict[str, object]]:
    return [msgspec.to_builtins(w) for w in items]


# Customers ------------------------------------------------------------------------------------------


@get("/api/customers", roles=CUSTOMER_READERS, tags=["customers"], summary="List customers")
async def list_customers(
    session: Session, actor: CurrentActor, q: Search = None, limit: Limit = 50, cursor: Cursor = None
) -> CustomerPage:
    page = await service.list_customers(session, actor, q=q, limit=limit, cursor=cursor)
    return CustomerPage(items=[out(CustomerOut, c) for c in page.items], next_cursor=page.next_cursor)


@get("/api/customers/{customer_id:uuid}", roles=CUSTOMER_READERS, tags=["customers"], summary="One customer")
async def get_customer(
    session: Session, actor: CurrentActor, customer_id: FromPath[uuid.UUID]
) -> CustomerOut:
    return out(CustomerOut, await service.get_customer(session, actor, customer_id))


@post("/api/customers", roles=ADMIN, tags=["customers"], summary="Create a customer")
async def create_customer(session: Session, actor: CurrentActor, data: JSONBody[CustomerIn]) -> CustomerOut:
    return out(CustomerOut, await service.create_customer(session, actor, fields_of(data)))


@patch("/api/customers/{customer_id:uuid}", roles=ADMIN, tags=["customers"], summary="Change a customer")
async def update_customer(
    session: Session, actor: CurrentActor, customer_id: FromPath[uuid.UUID], data: JSONBody[CustomerPatch]
) -> CustomerOut:
    customer = await service.update_customer(session, actor, customer_id, data.version, given(data))
    return out(CustomerOut, customer)


@delete(
    "/api/customers/{customer_id:uuid}",
    roles=ADMIN,
    tags=["customers"],
    summary="Delete a customer that has no sites, contracts or contacts",
)
async def delete_customer(session: Session, customer_id: FromPath[uuid.UUID]) -> None:
    await delete_record(session, Customer, customer_id, "customer")


# Sites ----------------------------------------------------------------------------------------------


@get(
    "/api/sites",
    roles=CUSTOMER_READERS,
    tags=["sites"],
    summary="List sites (filter by customer, map bbox, text)",
)
async def list_sites(
    session: Session,
    actor: CurrentActor,
    customer_id: FromQuery[uuid.UUID | None] = None,
    bbox: BBoxParam = None,
    q: Search = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SitePage:
    page = await service.list_sites(
        session,
        actor,
        customer_id=customer_id,
        bbox=BBox.parse(bbox) if bbox else None,
        q=q,
        limit=limit,
        cursor=cursor,
    )
    return SitePage(items=await sites_out(session, page.items), next_cursor=page.next_cursor)


@get("/api/sites/map", roles=CUSTOMER_READERS, tags=["sites"], summary="Sites in a map viewport as GeoJSON")
async def sites_map(
    session: Session,
    actor: CurrentActor,
    bbox: BBoxParam = None,
    customer_id: FromQuery[uuid.UUID | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=5000)] = 1000,
    cursor: Cursor = None,
) -> SiteFeatureCollection:
    page = await service.list_sites(
        session,
        actor,
        customer_id=customer_id,
        bbox=BBox.parse(bbox) if bbox else None,
        q=None,
        limit=limit,
        cursor=cursor,
    )
    features = [
        SiteFeature(
            type="Feature",
            id=s.id,
            geometry=GeoPoint.of(s.point),
            properties={"name": s.name, "address": s.address, "customer_id": str(s.customer_id)},
        )
        for s in page.items
    ]
    return SiteFeatureCollection(type="FeatureCollection", features=features, next_cursor=page.next_cursor)


@get("/api/sites/{site_id:uuid}", roles=CUSTOMER_READERS, tags=["sites"], summary="One site")
async def get_site(session: Session, actor: CurrentActor, site_id: FromPath[uuid.UUID]) -> SiteOut:
    return (await sites_out(session, [await service.get_site(session, actor, site_id)]))[0]


@post("/api/sites", roles=ADMIN, tags=["sites"], summary="Create a site")
async def create_site(session: Session, actor: CurrentActor, data: JSONBody[SiteIn]) -> SiteOut:
    values = fields_of(data, skip=("point",))
    values["access_windows"] = _windows(data.access_windows)
    site = await service.create_site(session, actor, values, data.point.lonlat)
    return (await sites_out(session, [site]))[0]


@patch("/api/sites/{site_id:uuid}", roles=ADMIN, tags=["sites"], summary="Change a site")
async def update_site(
    session: Session, actor: CurrentActor, site_id: FromPath[uuid.UUID], data: JSONBody[SitePatch]
) -> SiteOut:
    point = data.point.lonlat if isinstance(data.point, GeoPoint) else None
    changes = given(data, skip=("version", "point"))
    if isinstance(data.access_windows, list):
        changes["access_windows"] = _windows(data.access_windows)
    site = await service.update_site(session, actor, site_id, data.version, changes, point)
    return (await sites_out(session, [site]))[0]


@delete("/api/sites/{site_id:uuid}", roles=ADMIN, tags=["sites"], summary="Delete a site that has no assets")
async def delete_site(session: Session, site_id: FromPath[uuid.UUID]) -> None:
    await delete_record(session, Site, site_id, "site")


# Assets ---------------------------------------------------------------------------------------------


@get(
    "/api/assets",
    roles=CUSTOMER_READERS,
    tags=["assets"],
    summary="List assets (filter by site, customer, serial)",
)
async def list_assets(
    session: Session,
    actor: CurrentActor,
    site_id: FromQuery[uuid.UUID | None] = None,
    customer_id: FromQuery[uuid.UUID | None] = None,
    serial: Search = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AssetPage:
    page = await service.list_assets(
        session, actor, site_id=site_id, customer_id=customer_id, serial=serial, limit=limit, cursor=cursor
    )
    return AssetPage(items=await assets_out(session, page.items), next_cursor=page.next_cursor)


@get("/api/assets/{asset_id:uuid}", roles=CUSTOMER_READERS, tags=["assets"], summary="One asset")
async def get_asset(session: Session, actor: CurrentActor, asset_id: FromPath[uuid.UUID]) -> AssetOut:
    asset, _ = await service.get_asset(session, actor, asset_id)
    return (await assets_out(session, [asset]))[0]


@post("/api/assets", roles=ADMIN, tags=["assets"], summary="Register an asset")
async def create_asset(session: Session, actor: CurrentActor, data: JSONBody[AssetIn]) -> AssetOut:
    return (await assets_out(session, [await service.create_asset(session, actor, fields_of(data))]))[0]


@patch("/api/assets/{asset_id:uuid}", roles=ADMIN, tags=["assets"], summary="Change an asset")
async def update_asset(
    session: Session, actor: CurrentActor, asset_id: FromPath[uuid.UUID], data: JSONBody[AssetPatch]
) -> AssetOut:
    asset = await service.update_asset(session, actor, asset_id, data.version, given(data))
    return (await assets_out(session, [asset]))[0]


@delete("/api/assets/{asset_id:uuid}", roles=ADMIN, tags=["assets"], summary="Delete an asset")
async def delete_asset(session: Session, asset_id: FromPath[uuid.UUID]) -> None:
    await delete_record(session, Asset, asset_id, "asset")


ROUTES = [
    list_customers,
    get_customer,
    create_customer,
    update_customer,
    delete_customer,
    list_sites,
    sites_map,
    get_site,
    create_site,
    update_site,
    delete_site,
    list_assets,
    get_asset,
    create_asset,
    update_asset,
    delete_asset,
]
