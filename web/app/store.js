// The phone's own store in IndexedDB: settings and tokens (meta), the outbox of mutations, the
// blobs waiting for upload, and the replica of the pulled documents. Outbox and replica are
// keyed by user, so a shared phone keeps one outbox per person (as the server does). Notes
// pulled as records are kept beside their document ("notes") rather than written into it, so a
// page of notes does not rewrite every document they belong to; a whole document that arrives
// later carries them and replaces them.
import { openDB, deleteDB } from "../vendor/idb/idb.js";

const NAME = "fsd-engineer-app";
let opened = null;

export function db() {
  if (!opened) {
    opened = openDB(NAME, 2, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore("meta");
          database.createObjectStore("outbox", { keyPath: ["user", "seq"] });
          database.createObjectStore("blobs", { keyPath: "sha256" });
          database.createObjectStore("replica", { keyPath: ["user", "id"] });
        }
        if (oldVersion < 2) {
          const notes = database.createObjectStore("notes", { keyPath: ["user", "id"] });
          notes.createIndex("order", ["user", "work_order_id"]);
        }
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

const mine = (user) => IDBKeyRange.bound([user, ""], [user, "\uffff"]);

/** Every document of the user's replica (work orders, van_stock, catalogue), by id, with the
 * notes pulled as records in their visits. */
export async function replica(user) {
  const database = await db();
  const rows = await database.getAll("replica", mine(user));
  const docs = Object.fromEntries(rows.map((r) => [r.id, r.data]));
  const byVisit = new Map();
  for (const note of await database.getAll("notes", mine(user))) {
    const key = `${note.work_order_id} ${note.visit_id}`;
    if (!byVisit.has(key)) byVisit.set(key, []);
    byVisit.get(key).push(note.data);
  }
  for (const [key, notes] of byVisit) {
    const [order, visit] = key.split(" ");
    if (docs[order]) mergeNotes(docs[order], visit, notes);
  }
  return docs;
}

// A note's time as text that sorts like the time: the server writes UTC times, with
// microseconds only when there are any.
const noteTime = (at) => (/\.\d+/.test(at) ? at : at.replace(/(T\d\d:\d\d:\d\d)/, "$1.000000"));

const byServerOrder = (a, b) => {
  const ka = noteTime(a.at);
  const kb = noteTime(b.at);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

/** Pulled notes put into their visit in the server's order (time, then id), replacing any with
 * the same id; false when the document does not have the visit yet (its whole document comes
 * later in the pull, with the notes). */
export function mergeNotes(doc, visitId, notes) {
  const visit = (doc.visits || []).find((v) => v.id === visitId);
  if (!visit) return false;
  const fresh = new Set(notes.map((n) => n.id));
  visit.notes = [...visit.notes.filter((n) => !fresh.has(n.id)), ...notes].sort(byServerOrder);
  return true;
}

/** One pulled page applied together with its cursor (a page is never half kept). A note record
 * is one small row; a whole document (or its removal) replaces the notes kept beside it. */
export async function applyPage(user, page, { restart }) {
  const tx = (await db()).transaction(["replica", "notes", "meta"], "readwrite");
  const store = tx.objectStore("replica");
  const notes = tx.objectStore("notes");
  if (restart) await Promise.all([store.delete(mine(user)), notes.delete(mine(user))]);
  const writes = [];
  for (const change of page.changes) {
    if (change.entity === "visit_note") {
      const { work_order_id, visit_id, data } = change;
      writes.push(notes.put({ user, id: change.id, work_order_id, visit_id, data }));
      continue;
    }
    for (const key of await notes.index("order").getAllKeys([user, change.id])) writes.push(notes.delete(key));
    if (change.op === "upsert") writes.push(store.put({ user, id: change.id, data: change.data }));
    else writes.push(store.delete([user, change.id]));
  }
  writes.push(tx.objectStore("meta").put(page.cursor, `cursor:${user}`));
  await Promise.all(writes);
  await tx.done;
}

/** A device reported lost: everything on it goes, every person's outbox included. */
export async function wipe() {
  const database = await db();
  database.close();
  opened = null;
  await deleteDB(NAME);
}
