"""CSV import of items, units and opening balances; CSV export of balances and movements."""

from __future__ import annotations

import uuid

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import WAREHOUSE
from api.downloads import csv_download
from api.params import CurrentActor, Now, OptionalInstantQuery, Search, Session
from api.schemas.common import out
from api.schemas.inventory.imports import ImportIn, ImportOut, RejectionOut
from inventory import exports, imports
from inventory.models import LocationKind
from inventory.queries import BalanceFilter


@post(
    "/api/stock/imports/{kind:str}",
    roles=WAREHOUSE,
    tags=["stock"],
    summary="Import items, units or opening balances from CSV: all rows or none, a report of rejected rows",
)
async def import_csv(
    now: Now,
    session: Session,
    actor: CurrentActor,
    kind: FromPath[imports.ImportKind],
    data: JSONBody[ImportIn],
) -> ImportOut:
    report = await imports.run(session, actor, now, kind, data.csv)
    return out(ImportOut, report, rejected=[out(RejectionOut, r) for r in report.rejected])


@get(
    "/api/stock/balances.csv",
    roles=WAREHOUSE,
    tags=["stock"],
    media_type="text/csv",
    summary="Balances with names as CSV (UTF-8 with BOM for Excel), filtered like /api/stock/balances",
)
async def balances_csv(
    session: Session,
    location_id: FromQuery[uuid.UUID | None] = None,
    item_id: FromQuery[uuid.UUID | None] = None,
    location_kind: FromQuery[LocationKind | None] = None,
    q: Search = None,
) -> Response[bytes]:
    where = BalanceFilter(location_id=location_id, item_id=item_id, location_kind=location_kind, q=q)
    return csv_download(await exports.balances_csv(session, where), "balances")


@get(
    "/api/stock/moves.csv",
    roles=WAREHOUSE,
    tags=["stock"],
    media_type="text/csv",
    summary="Ledger lines of a period as CSV (UTF-8 with BOM for Excel), oldest first",
)
async def moves_csv(
    session: Session,
    since: OptionalInstantQuery = None,
    until: OptionalInstantQuery = None,
    location_id: FromQuery[uuid.UUID | None] = None,
) -> Response[bytes]:
    body = await exports.moves_csv(session, since=since, until=until, location_id=location_id)
    return csv_download(body, "movements")


ROUTES = [import_csv, balances_csv, moves_csv]
