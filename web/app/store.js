// The phone's own store in IndexedDB: settings and tokens (meta), the outbox of mutations, the
// blobs waiting for upload, and the replica of the pulled documents. Outbox and replica are
// keyed by user, so a shared phone keeps one outbox per person (as the server does).
import { openDB, deleteDB } from "../vendor/idb/idb.js";

const NAME = "fsd-engineer-app";
let opened = null;

export function db() {
  if (!opened) {
    opened = openDB(NAME, 1, {
      upgrade(database) {
        database.createObjectStore("meta");
        database.createObjectStore("outbox", { keyPath: ["user", "seq"] });
        database.createObjectStore("blobs", { keyPath: "sha256" });
        database.createObjectStore("replica", { keyPath: ["user", "id"] });
      },
    });
  }
  return opened;
}

export async function getMeta(key) {
  return (await db()).get("meta", key);
}

export async function setMeta(key, value) {
  const database = await db();
  if (value === undefined || value === null) await database.delete("meta", key);
  else await database.put("meta", value, key);
}

/** Every document of the user's replica (work orders, van_stock, catalogue), by id. */
export async function replica(user) {
  const rows = await (await db()).getAll("replica", IDBKeyRange.bound([user, ""], [user, "\uffff"]));
  return Object.fromEntries(rows.map((r) => [r.id, r.data]));
}

// A note's time as text that sorts like the time: the server writes UTC times, with
// microseconds only when there are any.
const noteTime = (at) => (/\.\d+/.test(at) ? at : at.replace(/(T\d\d:\d\d:\d\d)/, "$1.000000"));

/** A pulled note put into its visit in the server's order (time, then id); false when this
 * store does not have the visit yet (its whole document comes later in the pull). */
export function mergeNote(doc, visitId, note) {
  const visit = (doc.visits || []).find((v) => v.id === visitId);
  if (!visit) return false;
  const notes = visit.notes.filter((n) => n.id !== note.id);
  notes.push(note);
  notes.sort((a, b) => {
    const ka = noteTime(a.at);
    const kb = noteTime(b.at);
    if (ka !== kb) return ka < kb ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  visit.notes = notes;
  return true;
}

/** One pulled page applied together with its cursor (a page is never half kept). */
export async function applyPage(user, page, { restart }) {
  const tx = (await db()).transaction(["replica", "meta"], "readwrite");
  const store = tx.objectStore("replica");
  if (restart) await store.delete(IDBKeyRange.bound([user, ""], [user, "\uffff"]));
  for (const change of page.changes) {
    if (change.entity === "visit_note") {
      const row = await store.get([user, change.work_order_id]);
      if (row && mergeNote(row.data, change.visit_id, change.data)) await store.put(row);
    } else if (change.op === "upsert") await store.put({ user, id: change.id, data: change.data });
    else await store.delete([user, change.id]);
  }
  await tx.objectStore("meta").put(page.cursor, `cursor:${user}`);
  await tx.done;
}

/** A device reported lost: everything on it goes, every person's outbox included. */
export async function wipe() {
  const database = await db();
  database.close();
  opened = null;
  await deleteDB(NAME);
}
