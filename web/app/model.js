// The day as the engineer sees it: the pulled documents with what the phone recorded since laid
// over them (so an action taken offline shows at once), the van stock less the parts used and
// not yet sent, and the clock corrected by the server's time from the last pull.
import { getMeta, replica } from "./store.js";
import * as outbox from "./outbox.js";
import { t } from "./i18n.js";

const RANK = { planned: 0, assigned: 1, en_route: 2, on_site: 3, done: 4 };
const ALIVE = new Set([null, "applied", "pending_blob"]); // refused and conflicting ones are not

let offsetMs = 0;
export async function loadOffset() {
  offsetMs = Number((await getMeta("server_offset_ms")) || 0);
}
/** Now, by the server's clock as last seen (a phone's clock may be off). */
export const now = () => new Date(Date.now() + offsetMs);

function advance(visit, status) {
  if ((RANK[status] ?? -1) > (RANK[visit.status] ?? 99)) visit.status = status;
}

function overlay(visit, journal) {
  const v = structuredClone(visit);
  v.parts = [];
  v.time_entries = [];
  v.journal = journal.filter((m) => m.args.visit_id === v.id);
  for (const m of v.journal) {
    if (!ALIVE.has(m.status)) continue;
    const unsent = m.status === null;
    const a = m.args;
    switch (m.name) {
      case "visit.start_travel@1":
        advance(v, "en_route");
        v.en_route_at = v.en_route_at || a.at;
        break;
      case "visit.arrive@1":
        advance(v, "on_site");
        v.arrived_at = v.arrived_at || a.at;
        break;
      case "visit.complete@1":
        advance(v, "done");
        v.outcome = v.outcome || a.outcome;
        v.finished_at = v.finished_at || a.at;
        break;
      case "visit.add_note@1":
        if (!v.notes.some((n) => n.id === a.note_id)) v.notes.push({ id: a.note_id, body: a.body, at: a.at, unsent });
        break;
      case "visit.attach_photo@1":
        if (!v.attachments.some((x) => x.id === a.photo_id)) {
          v.attachments.push({ id: a.photo_id, kind: "photo", sha256: a.sha256, at: a.at, unsent });
        }
        break;
      case "visit.consume_part@1":
        v.parts.push({ item_id: a.item_id, quantity: a.quantity, at: a.at, status: m.status, local: m.local });
        break;
      case "timesheet.add@1":
        v.time_entries.push({ ...a, status: m.status });
        break;
      case "inspection.record@1":
        // The checklist as answered on the phone, over what the last pull brought.
        v.inspection_answers ??= {};
        for (const r of a.results) (v.inspection_answers[r.asset_id] ??= {})[r.item_key] = { ...r };
        if (a.complete) v.inspection_completed = true;
        break;
      default:
        break;
    }
  }
  return v;
}

/** Visits of the user with their orders, and the van stock and catalogue. */
export async function day(user) {
  const docs = await replica(user);
  const journal = await outbox.all(user);
  const visits = [];
  for (const doc of Object.values(docs)) {
    if (!Array.isArray(doc.visits)) continue;
    for (const visit of doc.visits) {
      if (visit.engineer_id !== user && visit.partner_engineer_id !== user) continue;
      visits.push({ visit: overlay(visit, journal), order: doc });
    }
  }
  visits.sort((a, b) =>
    (a.visit.planned_start || "9999").localeCompare(b.visit.planned_start || "9999") ||
    (a.order.due_at || "").localeCompare(b.order.due_at || ""));
  const van = structuredClone(docs.van_stock || { items: [] });
  for (const m of journal) {
    if (m.name !== "visit.consume_part@1" || m.status !== null) continue;
    const row = van.items.find((i) => i.item_id === m.args.item_id);
    if (row) row.on_hand -= m.args.quantity;
  }
  return { visits, van, catalogue: docs.catalogue || { items: [] }, journal };
}

/** The refusals and conflicts the engineer has not put aside yet. */
export const issues = (journal) =>
  journal.filter((m) => (m.status === "rejected" || m.status === "conflict") && !m.dismissed);

/** Photos the visit holds (pulled, or taken on the phone and not refused). */
export const photoCount = (visit) => visit.attachments.filter((a) => a.kind === "photo").length;

/** The field rule of dispatch.work_orders.visits.finish, checked on the phone too. */
export function photoMissing(visit, order, outcome) {
  return visit.kind === "repair" && outcome === "resolved" && !order.site.no_photography && photoCount(visit) === 0;
}

// Times in the site's zone -------------------------------------------------------------------

function parts(date, timeZone) {
  const f = new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  return Object.fromEntries(f.formatToParts(date).map((p) => [p.type, p.value]));
}

/** "2026-03-02" in the zone. */
export function dayOf(date, timeZone) {
  const p = parts(date, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** "03-02 21:05" in the zone ("—" for none). */
export function localTime(iso, timeZone, withDate = true) {
  if (!iso) return "—";
  const p = parts(new Date(iso), timeZone || "UTC");
  return withDate ? `${p.month}-${p.day} ${p.hour}:${p.minute}` : `${p.hour}:${p.minute}`;
}

/** "2 h 05 min" for a span in milliseconds (absolute). */
export function span(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = String(minutes % 60).padStart(2, "0");
  const [D, H, M] = [t("unit_d"), t("unit_h"), t("unit_min")];
  return d ? `${d} ${D} ${h} ${H}` : h ? `${h} ${H} ${m} ${M}` : `${minutes % 60} ${M}`;
}

/** Which group of the route a visit falls in: today, tomorrow, other_days or unscheduled. */
export function routeGroup(visit, order, at = now()) {
  if (!visit.planned_start) return "unscheduled";
  const zone = order.site.time_zone || "UTC";
  const planned = dayOf(new Date(visit.planned_start), zone);
  if (planned === dayOf(at, zone)) return "today";
  if (planned === dayOf(new Date(at.getTime() + 86400000), zone)) return "tomorrow";
  return "other_days";
}
