"""The reference client's command line: a simulated engineer's phone.

Everything an engineer records goes into the outbox first (works offline) and reaches the
server at the next `sync`, which prints what the server did with each mutation: refusals and
conflicts with the server's type, title and detail, never a silent "nothing waiting".

Exit codes: 0 done; 1 the server refused something or kept it for review (see `outbox`);
2 a command line or input mistake (nothing recorded); 3 the server could not be reached
(the outbox is kept); 4 the device is suspended or was wiped, or signing in failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from offline_sync.client import DeviceClient, DeviceSuspended, DeviceWiped, Offline, SyncError, SyncSummary

OK, ATTENTION, USAGE, OFFLINE, REFUSED_DEVICE = 0, 1, 2, 3, 4
# The visit states in which an engineer still has something to do.
ACTIVE = ("planned", "assigned", "en_route", "on_site")


class Usage(Exception):
    """A mistake on the command line or in a file named there; nothing was recorded."""


# Reading the replica ---------------------------------------------------------------------------


def _zone(name: str | None) -> dt.tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _when(visit: dict[str, Any]) -> dt.datetime | None:
    return _time(visit.get("planned_start")) or _time(visit.get("window_start"))


def upcoming(
    documents: Iterable[dict[str, Any]], now: dt.datetime, *, every: bool = False
) -> list[tuple[dt.datetime | None, dict[str, Any], dict[str, Any]]]:
    """(planned time, visit, order) for the visits planned today or tomorrow in their site's time
    zone, and those under way whatever their day (all of them with `every`), earliest first."""
    rows: list[tuple[dt.datetime | None, dict[str, Any], dict[str, Any]]] = []
    for order in documents:
        zone = _zone(order["site"].get("time_zone"))
        today = now.astimezone(zone).date()
        for visit in order["visits"]:
            when = _when(visit)
            local = when.astimezone(zone) if when else None
            soon = local is not None and today <= local.date() <= today + dt.timedelta(days=1)
            under_way = visit["status"] in ("en_route", "on_site")
            if every or (visit["status"] in ACTIVE and (soon or under_way)):
                rows.append((local, visit, order))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(rows, key=lambda r: (r[0] or far, r[1]["id"]))


def _left(deadline: dt.datetime, now: dt.datetime) -> str:
    seconds = int((deadline - now).total_seconds())
    sign, seconds = ("", seconds) if seconds >= 0 else ("overdue by ", -seconds)
    hours, minutes = divmod(seconds // 60, 60)
    days, hours = divmod(hours, 24)
    span = f"{days}d{hours:02d}h" if days >= 2 else f"{days * 24 + hours}h{minutes:02d}m"
    return f"{sign}{span}" + ("" if sign else " left")


def _clocks(order: dict[str, Any], zone: dt.tzinfo, now: dt.datetime) -> str:
    parts = []
    for clock in order.get("clocks", []):
        deadline = _time(clock.get("deadline"))
        if deadline is None:
            continue
        local = deadline.astimezone(zone).strftime("%m-%d %H:%M")
        if clock.get("met_at"):
            state = "met"
        elif clock.get("breached_at"):
            state = "breached"
        else:
            state = _left(deadline, now)
        parts.append(f"{clock['measure']} by {local} ({state})")
    if not parts and order.get("due_at"):
        due = _time(order["due_at"])
        assert due is not None
        parts.append(f"due {due.astimezone(zone).strftime('%m-%d %H:%M')} ({_left(due, now)})")
    return "; ".join(parts) or "none"


def describe(
    local: dt.datetime | None, visit: dict[str, Any], order: dict[str, Any], now: dt.datetime
) -> str:
    site = order["site"]
    zone = _zone(site.get("time_zone"))
    when = local.strftime("%Y-%m-%d %H:%M %Z") if local else "not scheduled"
    customer = (order.get("customer") or {}).get("name") or "?"
    lines = [
        f"{when}  {visit['status']:<9} {order['problem_number']}  {order['severity']}  {visit['kind']}",
        f"  visit    {visit['id']}",
        f"  customer {customer} — {site['name']}, {site.get('address') or 'no address'}",
        f"  contact  {order.get('contact_name') or '?'} tel:{order.get('contact_phone') or '?'}",
        f"  fault    {order.get('fault_description') or ''}",
        f"  SLA      {_clocks(order, zone, now)}",
    ]
    if site.get("access_notes"):
        lines.append(f"  access   {site['access_notes']}")
    if site.get("no_photography"):
        lines.append("  note     cameras banned at this site: no photo needed to resolve")
    return "\n".join(lines)


def problem_line(outcome: dict[str, Any]) -> str:
    problem = outcome.get("problem") or {}
    return f"{problem.get('type', '?')}: {problem.get('title', '')}" + (
        f" — {problem['detail']}" if problem.get("detail") else ""
    )


def report_sync(summary: SyncSummary, orders: int, names: dict[int, str]) -> list[str]:
    """The lines `sync` prints: counts first, then each refusal and conflict in the server's words."""
    head = (
        f"synced: {summary.applied} applied, {len(summary.refused)} refused, "
        f"{len(summary.conflicts)} in conflict"
    )
    if summary.pending_blob:
        head += f", {summary.pending_blob} waiting for their file"
    head += f"; {summary.waiting} mutations waiting; {orders} work orders"
    lines = [head]
    for outcome in summary.refused:
        name = names.get(int(outcome["seq"]), "?")
        lines.append(f"  1 refused — {problem_line(outcome)} (seq {outcome['seq']} {name})")
    for outcome in summary.conflicts:
        name = names.get(int(outcome["seq"]), "?")
        lines.append(
            f"  1 in conflict — {outcome.get('conflict')}: kept for the dispatcher to review "
            f"(seq {outcome['seq']} {name}, conflict {outcome.get('conflict_id')})"
        )
    return lines


# Recording -------------------------------------------------------------------------------------


def _at(text: str | None, now: dt.datetime) -> str:
    """A time given on the command line: RFC 3339 with an offset, or HH:MM today in local time."""
    if not text:
        return now.isoformat()
    try:
        if len(text) <= 5 and ":" in text:
            hour, minute = (int(x) for x in text.split(":"))
            local = now.astimezone()
            return local.replace(hour=hour, minute=minute, second=0, microsecond=0).isoformat()
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise Usage(f"{text!r}: not a time (HH:MM, or e.g. 2026-12-03T09:30+08:00)") from exc
    if value.tzinfo is None:
        raise Usage(f"{text!r}: give the UTC offset (e.g. +08:00)")
    return value.isoformat()


def _file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise Usage(f"{path}: {exc.strerror or exc}") from exc


def _item(device: DeviceClient, wanted: str) -> str:
    """An item id from the catalogue the phone pulled, by id or SKU."""
    catalogue = device.replica().get("catalogue", {}).get("items", [])
    for item in catalogue:
        if wanted in (item["id"], item["sku"]):
            return str(item["id"])
    try:
        return str(uuid.UUID(wanted))
    except ValueError:
        raise Usage(f"{wanted}: no such item or SKU in the catalogue (sync first)") from None


def _report_of(device: DeviceClient, visit_id: str) -> dict[str, Any] | None:
    """The newest report of the visit the phone knows, from the pulled work-order documents."""
    found = [r for order in device.documents() for r in order.get("reports", []) if r["visit_id"] == visit_id]
    return max(found, key=lambda r: r["version"]) if found else None


def _report_edit(device: DeviceClient, a: argparse.Namespace, at: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("diagnosis", "actions_taken", "result", "customer_remarks", "follow_up_needed", "billable"):
        if getattr(a, name) is not None:
            changes[name] = getattr(a, name)
    if a.config_backup is not None:
        changes["configuration_backup"] = (
            {"done": False} if a.config_backup == "" else {"done": True, "where": a.config_backup}
        )
    known = _report_of(device, a.visit)
    if known is None:
        # Never seen: the server drafts it from what the visit recorded, under this id.
        return {"visit_id": a.visit, "report_id": str(uuid.uuid4()), "at": at, **changes}
    return {"report_id": known["id"], "revision": known["revision"], "at": at, **changes}


def _given(**args: Any) -> dict[str, Any]:
    """The arguments given (an option left out is not sent)."""
    return {k: v for k, v in args.items() if v is not None}


def _progress(a: argparse.Namespace, at: str, backdated: str | None) -> tuple[str, dict[str, Any]] | None:
    """Travel, arrival, notes and the end of the visit."""
    if a.command == "travel":
        return "visit.start_travel@1", {"visit_id": a.visit, "at": at}
    if a.command == "arrive":
        proof: dict[str, Any] = {}
        if a.qr:
            proof = {"proof": "qr_code", "proof_reference": a.qr}
        elif a.confirmed_by:
            proof = {"proof": "customer_confirmation", "proof_reference": a.confirmed_by}
        return "visit.arrive@1", {"visit_id": a.visit, "at": at, **proof}
    if a.command == "note":
        note_id, body = str(uuid.uuid4()), " ".join(a.text)
        args = _given(visit_id=a.visit, note_id=note_id, body=body, at=at, backdated_reason=backdated)
        return "visit.add_note@1", args
    if a.command == "complete":
        return "visit.complete@1", _given(visit_id=a.visit, outcome=a.outcome, at=at, note=a.note)
    return None


def _files(device: DeviceClient, a: argparse.Namespace, at: str) -> tuple[str, dict[str, Any]] | None:
    """Photos and the customer's signature: the file is kept for upload, the mutation names its hash."""
    if a.command == "photo":
        sha = device.add_blob(_file(a.file))
        args = _given(visit_id=a.visit, photo_id=str(uuid.uuid4()), sha256=sha, at=at, caption=a.caption)
        return "visit.attach_photo@1", args
    if a.command == "signature":
        png = _file(a.file)
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise Usage(f"{a.file}: not a PNG image")
        return "visit.capture_signature@1", {
            "visit_id": a.visit,
            "signature_id": str(uuid.uuid4()),
            "sha256": device.add_blob(png),
            "signer_name": a.signer,
            "at": at,
        }
    return None


def _stock(
    device: DeviceClient, a: argparse.Namespace, at: str, backdated: str | None
) -> tuple[str, dict[str, Any]] | None:
    """Parts used and swapped, the backup unit asked for, put in and taken out."""
    if a.command == "consume":
        item = _item(device, a.item)
        return "visit.consume_part@1", {
            "visit_id": a.visit,
            "item_id": item,
            "quantity": a.quantity,
            "at": at,
        }
    if a.command == "swap":
        return "visit.swap_part@1", _given(
            visit_id=a.visit,
            installed_serial=a.fitted,
            removed_serial=a.removed,
            at=at,
            item_id=_item(device, a.item) if a.item else None,
            disposition=a.disposition,
            backdated_reason=backdated,
        )
    if a.command == "cannot-fix":
        return "visit.cannot_fix@1", {"visit_id": a.visit, "reason": " ".join(a.reason), "at": at}
    if a.command == "backup-install":
        return "visit.backup_unit@1", _given(
            visit_id=a.visit,
            action="install",
            serial=a.serial,
            signed_by=a.signed_by,
            at=at,
            loan_form_reference=a.form,
            loan_form_sha256=device.add_blob(_file(a.form_photo)) if a.form_photo else None,
            configuration=a.configuration,
            return_by=a.return_by,
        )
    if a.command == "backup-remove":
        args = _given(visit_id=a.visit, action="remove", serial=a.serial, at=at, note=a.note)
        return "visit.backup_unit@1", args
    return None


def _record(device: DeviceClient, a: argparse.Namespace, now: dt.datetime) -> tuple[str, dict[str, Any]]:
    """The mutation a recording command stands for."""
    at = _at(getattr(a, "at", None), now)
    backdated: str | None = getattr(a, "backdated", None)
    if a.command == "time":
        return "timesheet.add@1", _given(
            entry_id=str(uuid.uuid4()),
            kind=a.kind,
            started_at=_at(a.start, now),
            ended_at=_at(a.end, now),
            visit_id=a.visit,
            note=a.note,
            backdated_reason=backdated,
        )
    if a.command == "report":
        return "report.edit@1", _report_edit(device, a, at)
    found = _progress(a, at, backdated) or _files(device, a, at) or _stock(device, a, at, backdated)
    assert found is not None, a.command
    return found


# The command line ------------------------------------------------------------------------------


Command = Callable[..., argparse.ArgumentParser]


def _stock_commands(command: Command) -> None:
    """Parts, swaps and the backup unit."""
    consume = command("consume", "a part used from the van (item id or SKU)")
    consume.add_argument("item", metavar="ITEM")
    consume.add_argument("--quantity", type=int, default=1)
    swap = command("swap", "a serialized part swapped: both serials")
    swap.add_argument("--fitted", required=True, metavar="SERIAL", help="the serial put in (from the van)")
    swap.add_argument("--removed", required=True, metavar="SERIAL", help="the faulty serial taken out")
    swap.add_argument("--item", metavar="ITEM", help="the item (id or SKU) picked from van stock")
    swap.add_argument("--disposition", choices=["return", "customer_retained", "destroyed"])
    swap.add_argument("--backdated", metavar="REASON")
    cannot = command("cannot-fix", "the repair cannot finish within the deadline: ask for a backup unit")
    cannot.add_argument("reason", nargs="+")
    install = command("backup-install", "a backup unit put in, the loan form signed")
    install.add_argument("serial")
    install.add_argument("--signed-by", required=True, metavar="NAME")
    install.add_argument("--form", metavar="NUMBER", help="the loan form's number")
    install.add_argument("--form-photo", metavar="FILE", help="a photo of the signed loan form")
    install.add_argument("--configuration")
    install.add_argument("--return-by", metavar="YYYY-MM-DD")
    remove = command("backup-remove", "the backup unit taken out at the swap-back")
    remove.add_argument("serial")
    remove.add_argument("--note")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m offline_sync.client", description="A simulated engineer phone"
    )
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", default="demo-pass")
    parser.add_argument("--db", default="device.sqlite")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str, *, visit: bool = True, when: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        if visit:
            sub.add_argument("visit", metavar="VISIT_ID")
        if when:
            sub.add_argument(
                "--at", help="when it happened: HH:MM local, or RFC 3339 with offset (default now)"
            )
        return sub

    command("sync", "upload files, push the outbox, pull; print what the server did", visit=False, when=False)
    listing = command(
        "visits", "today's and tomorrow's visits in the sites' time zones", visit=False, when=False
    )
    listing.add_argument("--all", action="store_true", help="every visit the phone holds")
    command("outbox", "what waits to be sent, and what the server refused or holds", visit=False, when=False)
    command("travel", "start travelling to the visit")
    arrive = command("arrive", "arrived on site (GPS, the site's QR code, or the customer)")
    arrive.add_argument("--qr", metavar="CODE", help="the code scanned at reception")
    arrive.add_argument("--confirmed-by", metavar="NAME", help="the customer who confirmed the arrival")
    note = command("note", "a note on the visit")
    note.add_argument("text", nargs="+")
    note.add_argument("--backdated", metavar="REASON", help="written later (phones banned on site)")
    photo = command("photo", "attach a photo (a file)")
    photo.add_argument("file")
    photo.add_argument("--caption")
    signature = command("signature", "the customer's signature (a PNG file)")
    signature.add_argument("file")
    signature.add_argument("--signer", required=True, metavar="NAME")
    time = command("time", "a time entry", visit=False, when=False)
    time.add_argument("kind", choices=["travel", "work", "waiting"])
    time.add_argument("start", help="HH:MM local, or RFC 3339 with offset")
    time.add_argument("end")
    time.add_argument("--visit", metavar="VISIT_ID")
    time.add_argument("--note")
    time.add_argument("--backdated", metavar="REASON")
    _stock_commands(command)
    report = command("report", "edit the visit's service report (drafted on the server if new)")
    report.add_argument("--diagnosis")
    report.add_argument("--actions", dest="actions_taken")
    report.add_argument(
        "--config-backup", metavar="WHERE", help="configuration backed up, and where ('' = not)"
    )
    report.add_argument("--result", choices=["restored", "temporary_fix", "backup_installed", "not_fixed"])
    report.add_argument("--follow-up", dest="follow_up_needed", action=argparse.BooleanOptionalAction)
    report.add_argument("--billable", action=argparse.BooleanOptionalAction)
    report.add_argument("--remarks", dest="customer_remarks")
    complete = command("complete", "finished on site")
    complete.add_argument(
        "--outcome", choices=["resolved", "follow_up", "backup_installed"], default="resolved"
    )
    complete.add_argument("--note")
    return parser


def _outbox(device: DeviceClient, out: Callable[[str], None]) -> int:
    pending = device.pending()
    out(f"{len(pending)} mutations waiting to be sent")
    for item in pending:
        out(f"  {item['seq']} {item['name']} {json.dumps(item['args'], ensure_ascii=False)}")
    attention = device.to_look_at()
    for item in attention:
        if item["status"] == "rejected":
            out(f"  refused seq {item['seq']} {item['name']} — {problem_line(item)}")
        else:
            out(f"  in conflict seq {item['seq']} {item['name']} — {item.get('conflict')} (kept for review)")
    return ATTENTION if attention else OK


def run(device: DeviceClient, a: argparse.Namespace, out: Callable[[str], None]) -> int:
    now = device.clock()
    if a.command == "sync":
        names = {item["seq"]: item["name"] for item in device.pending()}
        summary = device.sync()
        for line in report_sync(summary, len(device.documents()), names):
            out(line)
        return OK if summary.clean else ATTENTION
    if a.command == "visits":
        rows = upcoming(device.documents(), now, every=a.all)
        if not rows:
            out("no visits today or tomorrow (run `sync` first?)")
        for index, (local, visit, order) in enumerate(rows):
            out(("\n" if index else "") + describe(local, visit, order, now))
        return OK
    if a.command == "outbox":
        return _outbox(device, out)
    name, args = _record(device, a, now)
    seq = device.record(name, **args)
    out(f"recorded {name} as seq {seq}; {len(device.pending())} waiting — run `sync` when online")
    return OK


def main(
    argv: list[str] | None = None,
    *,
    device_clock: Callable[[], dt.datetime] | None = None,
    out: Callable[[str], None] = print,
) -> int:
    a = _parser().parse_args(argv)
    with httpx.Client(base_url=a.server, timeout=30) as http:
        device = DeviceClient(http, a.db, a.user, a.password, device_clock=device_clock)
        try:
            return run(device, a, out)
        except Usage as exc:
            out(f"error: {exc}")
            return USAGE
        except Offline:
            out(
                f"offline: {a.server} cannot be reached; {len(device.pending())} mutations kept in the "
                "outbox — run `sync` again when the network is back"
            )
            return OFFLINE
        except (DeviceSuspended, DeviceWiped) as exc:
            out(f"device: {exc}")
            return REFUSED_DEVICE
        except SyncError as exc:
            out(f"sync failed: {exc}; {len(device.pending())} mutations kept in the outbox")
            return REFUSED_DEVICE
