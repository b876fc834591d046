"""Which version of a list page the database holds now, cheaply: a digest of the row versions
behind the page, read by the same filter, order and cursor as the page itself.

Every row PostgreSQL stores carries the id of the transaction that wrote it (`xmin`); an update
writes a new row with the updating transaction's id. A page shows an order's columns, its site,
its SLA clocks and pauses, its visits with their notes and the display names of the engineers
and authors; the digest covers each of those rows' id and `xmin`, for the orders the page would
list now (and the one after, which decides whether a next page exists). So it changes when any
of them is inserted, updated or deleted, or when another order enters or leaves the page, by
any process, through any path (the API, a sync push, the watch, a script), and not otherwise.
Reading it costs PostgreSQL the page's index reads without building the page's JSON, and Python
one short string instead of 150 KB of rows.

The digest is read before the page, in its own statement: a change committed between the two
makes the stored digest older than the page, which costs one more read of the page later, never
a stale one.

Cheaper still is the list's change counter (`list_change`, bumped at commit by every transaction
that changes a table a page shows, whoever wrote): while it reads as it did before a page was
built, nothing behind any page changed, and the digest need not be read at all. It is read
before the page too, for the same reason; a row's `xmin` changes with every bump, and a database
restored from a backup holds other `xmin`s, so an older count can never read as current again.

A kept page's recheck can carry the request's sign-in check as well (`change_count_if_signed_in`):
one statement reads the account behind the token (still active, the sign-in live, role and
organisation as the page was kept for) and the counter, and writes the staff read's audit row
only when both stand. It is sent on the pooled connection's own asyncpg driver, prepared once per
connection, without the ORM's execute path (a tenth of a millisecond of each answer).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.roles import Actor
from core.identity.sessions import LIVE_ACCOUNT_SQL
from core.pagination import Keyset, keyset_statement
from dispatch.work_orders import queries
from dispatch.work_orders.models import WorkOrder

# One order's part of the digest. `coalesce` keeps every part in its place when one is empty.
_ROW_VERSIONS: Any = literal_column(
    """concat_ws('/', work_order.xmin, order_site.xmin,
    coalesce((SELECT string_agg(concat_ws(':', c.id, c.xmin), ',' ORDER BY c.id)
              FROM sla_clock AS c WHERE c.work_order_id = work_order.id), ''),
    coalesce((SELECT string_agg(concat_ws(':', p.id, p.xmin), ',' ORDER BY p.id)
              FROM sla_pause AS p WHERE p.work_order_id = work_order.id), ''),
    coalesce((SELECT string_agg(concat_ws(':', v.id, v.xmin, coalesce(e.xmin::text, ''),
                                          coalesce(pe.xmin::text, '')), ',' ORDER BY v.id)
              FROM visit AS v
              LEFT JOIN app_user AS e ON e.id = v.engineer_id
              LEFT JOIN app_user AS pe ON pe.id = v.partner_engineer_id
              WHERE v.work_order_id = work_order.id), ''),
    coalesce((SELECT string_agg(concat_ws(':', n.id, n.xmin, coalesce(a.xmin::text, '')), ',' ORDER BY n.id)
              FROM visit AS nv
              JOIN visit_note AS n ON n.visit_id = nv.id
              LEFT JOIN app_user AS a ON a.id = n.author_id
              WHERE nv.work_order_id = work_order.id), ''))"""
).label("row_versions")


def _digest(page: Select[Any]) -> Select[Any]:
    rows = page.with_only_columns(WorkOrder.due_at, WorkOrder.id, _ROW_VERSIONS).subquery("page")
    joined = func.string_agg(rows.c.row_versions, literal_column("'|' ORDER BY page.due_at, page.id"))
    return select(func.coalesce(func.md5(joined), "none"))


def _digests(keyset: Keyset) -> Keyset:
    return Keyset(order=keyset.order, first=_digest(keyset.first), later=_digest(keyset.later))


# The unfiltered list's, made once (see `Keyset`).
_ALL_DIGESTS = _digests(queries.ALL_ORDERS)


async def page_version(
    session: AsyncSession,
    actor: Actor,
    f: queries.OrderFilter,
    now: dt.datetime,
    *,
    limit: int,
    cursor: str | None,
) -> str:
    """The digest of the rows behind the page `queries.list_orders` would return now."""
    keyset = queries.orders_keyset(actor, f, now)
    digests = _ALL_DIGESTS if keyset is queries.ALL_ORDERS else _digests(keyset)
    stmt, params = keyset_statement(session, digests, limit=limit, cursor=cursor)
    connection = await session.connection()
    return str((await connection.execute(stmt, params)).scalar_one())


_COUNTER = "SELECT md5(string_agg(concat_ws(':', changes, xmin), ',' ORDER BY shard)) AS v FROM list_change"
_CHANGES = text(_COUNTER)
# A kept page's recheck in one round trip: the counter, and when it has not moved, the staff
# read's audit row (as the unit of work would write it) with a commit that does not wait for the
# disk when that row is the transaction's only write (`core.database.commit_lazily`). The
# unreferenced INSERT runs after the outer SELECT, so the SELECT still sees nothing written.
_UNCHANGED_OR_NOT = text(
    f"""WITH counter AS ({_COUNTER}),
    trail AS (
        INSERT INTO audit_log (actor_id, actor_role, action, request_id, changes, reads)
        SELECT CAST(:actor_id AS uuid), :actor_role, :action, :request_id, '[]'::jsonb,
               CAST(CAST(:reads AS text) AS jsonb)
        FROM counter WHERE counter.v = :kept AND CAST(:audited AS boolean)
        RETURNING id)
    SELECT counter.v,
           CASE WHEN counter.v = :kept AND CAST(:audited AS boolean) AND CAST(:lazy AS boolean)
                     AND pg_current_xact_id_if_assigned() IS NULL
                THEN set_config('synchronous_commit', 'off', true) END
    FROM counter"""  # noqa: S608 (constant text, bound parameters)
)


# The recheck with the sign-in check folded in ($1 user, $2 sign-in, $3 role, $4 organisation,
# $5 the kept count, $6-$8 the audit row's action, request id and reads, $9 whether a row is
# written, $10 lazily). Nothing is written unless the sign-in stands as presumed and the count
# is the kept one; the role is compared as text, the organisation as a nullable id.
_SIGNED_IN_UNCHANGED_OR_NOT = f"""WITH account AS ({LIVE_ACCOUNT_SQL}),
    signed_in AS (
        SELECT FROM account WHERE account.role = $3 AND account.customer_id IS NOT DISTINCT FROM $4),
    counter AS ({_COUNTER}),
    trail AS (
        INSERT INTO audit_log (actor_id, actor_role, action, request_id, changes, reads)
        SELECT $1, $3, $6, $7, '[]'::jsonb, CAST(CAST($8 AS text) AS jsonb)
        FROM counter, signed_in WHERE counter.v = $5 AND $9
        RETURNING id)
    SELECT EXISTS (SELECT FROM signed_in) AS signed_in, counter.v,
           CASE WHEN counter.v = $5 AND $9 AND $10 AND EXISTS (SELECT FROM signed_in)
                     AND pg_current_xact_id_if_assigned() IS NULL
                THEN set_config('synchronous_commit', 'off', true) END
    FROM counter"""  # noqa: S608 (constant text, bound parameters)


@dataclass(frozen=True, slots=True)
class ReadTrail:
    """The audit row of a staff read (`core.audit.write_trail`'s columns)."""

    actor_id: uuid.UUID
    actor_role: str
    action: str
    request_id: str
    # The `reads` column as JSON text.
    reads: str
    # Its commit need not wait for the disk.
    lazy: bool


async def change_count(session: AsyncSession) -> str:
    """The list's change counter now."""
    connection = await session.connection()
    return str((await connection.execute(_CHANGES)).scalar_one())


async def change_count_unless(session: AsyncSession, kept: str, trail: ReadTrail | None) -> str:
    """The list's change counter now; when it is still `kept`, `trail` is written too."""
    connection = await session.connection()
    params = {
        "kept": kept,
        "audited": trail is not None,
        "actor_id": trail.actor_id if trail else None,
        "actor_role": trail.actor_role if trail else None,
        "action": trail.action if trail else None,
        "request_id": trail.request_id if trail else None,
        "reads": trail.reads if trail else None,
        "lazy": trail.lazy if trail else False,
    }
    return str((await connection.execute(_UNCHANGED_OR_NOT, params)).scalar_one())


class Fetches(Protocol):
    """A driver connection (asyncpg's) that prepares a statement once and runs it by its text."""

    async def fetchrow(self, query: str, *args: object) -> Any: ...


@dataclass(frozen=True, slots=True)
class SignIn:
    """Who a kept page was answered to: the sign-in, and the account's role and organisation then."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    role: str
    customer_id: uuid.UUID | None


async def change_count_if_signed_in(
    driver: Fetches, sign_in: SignIn, kept: str, trail: ReadTrail | None
) -> tuple[bool, str]:
    """Whether the sign-in is still live with the same role and organisation, and the list's
    change counter now; `trail` is written only when both the sign-in and the count `kept` stand.
    One round trip, outside any transaction (the statement commits itself)."""
    row = await driver.fetchrow(
        _SIGNED_IN_UNCHANGED_OR_NOT,
        sign_in.user_id,
        sign_in.session_id,
        sign_in.role,
        sign_in.customer_id,
        kept,
        trail.action if trail else None,
        trail.request_id if trail else None,
        trail.reads if trail else None,
        trail is not None,
        trail.lazy if trail else False,
    )
    return bool(row[0]), str(row[1])
