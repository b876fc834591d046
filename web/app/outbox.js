// The outbox: every action recorded on the phone, as a named mutation with its own id and a
// contiguous seq per (phone, user), kept until the server answered it; and the blobs (photos,
// signatures) the mutations name, kept until uploaded. Same protocol as offline_sync/client.py.
import { db } from "./store.js";
import { clock, sha256, uuid } from "./ids.js";

// Outcomes after which the server holds the mutation for good (pending_blob: until its blob).
export const FINAL = new Set(["applied", "rejected", "conflict", "pending_blob"]);

const range = (user) => IDBKeyRange.bound([user, 0], [user, Number.MAX_SAFE_INTEGER]);

/** Appends a mutation (works offline); returns it. `local` is kept on the phone, never sent. */
export async function record(user, name, args, local = undefined) {
  const tx = (await db()).transaction("outbox", "readwrite");
  const last = await tx.store.openCursor(range(user), "prev");
  const seq = last ? last.value.seq + 1 : 1;
  const item = {
    user, seq, id: uuid(), name, args, status: null, outcome: null,
    recorded_at: clock.now().toISOString(), local: local ?? null,
  };
  await tx.store.add(item);
  await tx.done;
  return item;
}

/** Every mutation of the user, oldest first (the phone's journal of what was done). */
export async function all(user) {
  return (await db()).getAll("outbox", range(user));
}

/** Not yet answered by the server, in seq order. */
export async function pending(user) {
  return (await all(user)).filter((m) => m.status === null);
}

/** Stores the server's outcomes; `not_processed` ones stay pending (resent from next_seq). */
export async function settle(user, outcomes) {
  const tx = (await db()).transaction("outbox", "readwrite");
  for (const outcome of outcomes) {
    if (!FINAL.has(outcome.status)) continue;
    const row = await tx.store.get([user, outcome.seq]);
    if (!row || row.id !== outcome.id) continue;
    row.status = outcome.status;
    row.outcome = outcome;
    await tx.store.put(row);
  }
  await tx.done;
}

/** The engineer has looked at a refusal or conflict and put it aside. */
export async function dismiss(user, seq) {
  const tx = (await db()).transaction("outbox", "readwrite");
  const row = await tx.store.get([user, seq]);
  if (row) {
    row.dismissed = true;
    await tx.store.put(row);
  }
  await tx.done;
}

/** Keeps bytes for upload; returns their SHA-256, by which mutations name them. */
export async function addBlob(bytes, type, thumb = null) {
  const sha = await sha256(bytes);
  const database = await db();
  if (!(await database.get("blobs", sha))) {
    await database.put("blobs", { sha256: sha, data: bytes, type, thumb, uploaded: 0 });
  }
  return sha;
}

export async function blob(sha) {
  return (await db()).get("blobs", sha);
}

export async function blobsToUpload() {
  return (await (await db()).getAll("blobs")).filter((b) => !b.uploaded);
}

export async function markUploaded(sha) {
  const database = await db();
  const row = await database.get("blobs", sha);
  if (row) {
    row.uploaded = 1;
    await database.put("blobs", row);
  }
}
