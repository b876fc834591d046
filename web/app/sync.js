// Sync with the server, the protocol of offline_sync/client.py: device-bound sign-in and
// registration, blobs uploaded before the mutations that name them (in resumable chunks when
// large), the outbox pushed in seq order, then pages pulled with the cursor. Every request is
// retried with backoff (Retry-After honoured); a retry after a lost answer is safe because the
// server answers a seq it has seen with the stored outcome.
import { applyPage, getMeta, setMeta, wipe } from "./store.js";
import * as outbox from "./outbox.js";
import { clock, uuid } from "./ids.js";

export const events = new EventTarget();
const changed = () => events.dispatchEvent(new Event("change"));

export const CHUNK = 256 * 1024; // blobs above this go up in chunks (as the reference client)
const MAX_BACKOFF = 30;
const ATTEMPTS = 4;
export const timing = { firstDelay: 0.5 };

export class SignInNeeded extends Error {}
export class NotEngineer extends Error {}
export class DeviceWiped extends Error {}
export class DeviceSuspended extends Error {}
export class Offline extends Error {}
export class SyncFailed extends Error {}

/** What the sync bar shows: idle | syncing | offline | error | suspended | signin | wiped. */
export const state = { status: "idle", detail: null };

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function retryAfter(response) {
  const value = Number(response.headers.get("retry-after"));
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), MAX_BACKOFF) : 0;
}

export async function deviceId() {
  let id = await getMeta("device_id");
  if (!id) {
    id = uuid();
    await setMeta("device_id", id);
  }
  return id;
}

export const session = () => getMeta("session");

async function request(method, url, { body, headers = {}, json } = {}) {
  const init = { method, headers: { ...headers }, cache: "no-store" };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["content-type"] = "application/json";
  } else if (body !== undefined) init.body = body;
  return fetch(url, init);
}

/** A signed-in request, retried with backoff; an expired access token is renewed once. */
async function send(method, url, options = {}) {
  let delay = timing.firstDelay;
  let renewed = false;
  let failure = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (!navigator.onLine) throw new Offline();
    const current = await session();
    if (!current) throw new SignInNeeded();
    const headers = { ...(options.headers || {}), authorization: `Bearer ${current.access_token}` };
    let response;
    try {
      response = await request(method, url, { ...options, headers });
    } catch (error) {
      failure = error; // dropped on the way there or back
    }
    if (response) {
      if (response.status === 401 && !renewed) {
        renewed = true;
        await renew();
        continue;
      }
      if (response.status === 401) throw new SignInNeeded();
      if (response.status < 500) return response;
      failure = new SyncFailed(`${method} ${url}: ${response.status}`);
      delay = Math.max(delay, retryAfter(response)); // 503 names its wait: never sooner
    }
    await sleep(delay);
    delay = Math.min(delay * 2, MAX_BACKOFF);
  }
  if (!navigator.onLine || failure instanceof TypeError) throw new Offline();
  throw failure;
}

/** Sign-in and refresh: resent only when nothing was done (503) or nothing arrived; a refresh
 * is resent with the same Idempotency-Key, which the server honours within its grace window. */
async function sendUnsigned(url, json, headers = {}) {
  let delay = timing.firstDelay;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      const response = await request("POST", url, { json, headers });
      if (response.status !== 503) return response;
      delay = Math.max(delay, retryAfter(response));
    } catch (error) {
      if (!navigator.onLine) throw new Offline();
    }
    await sleep(delay);
    delay = Math.min(delay * 2, MAX_BACKOFF);
  }
  throw new Offline();
}

async function renew() {
  const current = await session();
  const response = await sendUnsigned(
    "/api/auth/refresh",
    { refresh_token: current.refresh_token },
    { "idempotency-key": uuid() },
  );
  await refused(response); // a phone reported lost is told so here, and wipes at once
  if (response.status !== 200) {
    // The sign-in ended (signed out elsewhere, password changed): ask for the password again;
    // the outbox stays and is sent after the next sign-in.
    await setMeta("session", { ...current, access_token: null, refresh_token: null });
    throw new SignInNeeded();
  }
  const body = await response.json();
  await setMeta("session", { ...current, access_token: body.access_token, refresh_token: body.refresh_token });
}

async function refused(response) {
  if (response.status !== 403) return;
  const body = await response.clone().json().catch(() => ({}));
  if (body.type === "/problems/device-lost") {
    await wipe();
    throw new DeviceWiped();
  }
  if (body.type === "/problems/device-suspended") throw new DeviceSuspended();
}

export async function signIn(username, password) {
  const response = await sendUnsigned("/api/auth/login", { username, password, device_id: await deviceId() });
  if (response.status !== 200) {
    const body = await response.json().catch(() => ({}));
    const error = new Error(body.detail || body.title || String(response.status));
    error.status = response.status;
    throw error;
  }
  const body = await response.json();
  if (body.role !== "engineer") {
    // Not a field engineer: end that sign-in straight away, keep nothing.
    await request("POST", "/api/auth/logout", { headers: { authorization: `Bearer ${body.access_token}` } })
      .catch(() => {});
    throw new NotEngineer();
  }
  await setMeta("session", {
    user_id: body.user_id, username, role: body.role,
    access_token: body.access_token, refresh_token: body.refresh_token,
  });
  const registered = await send("POST", "/api/sync/devices", {
    json: { device_id: await deviceId(), label: `${username} · ${navigator.platform || "phone"}`.slice(0, 100) },
  });
  await refused(registered);
  if (registered.status !== 201) throw new SyncFailed(`registration: ${registered.status}`);
  changed();
}

export async function signOut() {
  const current = await session();
  if (current?.access_token && navigator.onLine) {
    await request("POST", "/api/auth/logout", { headers: { authorization: `Bearer ${current.access_token}` } })
      .catch(() => {});
  }
  await setMeta("session", null);
  changed();
}

// Upload ------------------------------------------------------------------------------------

async function uploadBlobs() {
  for (const item of await outbox.blobsToUpload()) {
    const url = `/api/sync/blobs/${item.sha256}`;
    const head = await send("HEAD", url);
    if (head.status !== 200) {
      const bytes = new Uint8Array(item.data);
      const response = bytes.length <= CHUNK
        ? await send("PUT", url, { body: bytes, headers: { "content-type": item.type } })
        : await uploadChunks(url, bytes, item.type, Number(head.headers.get("x-blob-received") || 0));
      if (response.status !== 200) throw new SyncFailed(`upload ${item.sha256}: ${response.status}`);
    }
    await outbox.markUploaded(item.sha256);
  }
}

/** From `start` on in chunks; after a dropped connection the server says how much it holds. */
async function uploadChunks(url, bytes, type, start) {
  for (;;) {
    const end = Math.min(start + CHUNK, bytes.length);
    const response = await send("PUT", url, {
      body: bytes.slice(start, end),
      headers: { "content-type": type, "content-range": `bytes ${start}-${end - 1}/${bytes.length}` },
    });
    if (response.status === 202 || response.status === 409) {
      const body = await response.clone().json();
      if (body.received !== undefined) {
        start = Number(body.received);
        continue;
      }
    }
    return response;
  }
}

// Push and pull -----------------------------------------------------------------------------

/** The pending mutations up to the first that names a file still on the phone: a photo taken
 * while a round was already past its uploads waits for the next round, so the completion after
 * it is not judged before the photo is there (seqs stay contiguous). */
async function held(user) {
  const batch = await outbox.pending(user);
  const waiting = new Set((await outbox.blobsToUpload()).map((b) => b.sha256));
  const cut = batch.findIndex((m) => [m.args.sha256, m.args.image_sha256].some((s) => waiting.has(s)));
  return cut < 0 ? batch : batch.slice(0, cut);
}

/** Pushes the outbox (or `batch`, e.g. mutations sent again as they were first sent). */
export async function push(user, batch = null) {
  batch = batch ?? (await held(user));
  if (!batch.length) return 0;
  const response = await send("POST", "/api/sync/push", {
    json: {
      device_id: await deviceId(),
      device_time: clock.now().toISOString(),
      mutations: batch.map(({ id, seq, name, args }) => ({ id, seq, name, args })),
    },
  });
  await refused(response);
  if (response.status !== 200) throw new SyncFailed(`push: ${response.status}`);
  const body = await response.json();
  await outbox.settle(user, body.outcomes);
  return batch.length;
}

export async function pull(user) {
  let cursor = await getMeta(`cursor:${user}`);
  const id = await deviceId();
  for (;;) {
    // Records: an order whose only changes are notes gets just those notes (kept by store.js
    // beside the document rather than written into it).
    const params = new URLSearchParams({ device_id: id, limit: "100", format: "records" });
    if (cursor) params.set("cursor", cursor);
    const response = await send("GET", `/api/sync/pull?${params}`);
    await refused(response);
    if (response.status === 410) {
      // Too far behind: start again from a bootstrap; the outbox is untouched.
      cursor = null;
      await setMeta(`cursor:${user}`, null);
      continue;
    }
    if (response.status !== 200) throw new SyncFailed(`pull: ${response.status}`);
    const page = await response.json();
    await applyPage(user, page, { restart: page.bootstrap && !cursor });
    await setMeta("server_offset_ms", Date.parse(page.server_time) - Date.now());
    cursor = page.cursor;
    if (!page.has_more) return;
  }
}

let running = null;
let again = false;

/** Upload, push, pull; one at a time. A call while one runs asks for one more round after it
 * (what was recorded meanwhile may have missed its push) and waits for that round too. */
export function sync() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    try {
      do {
        again = false;
        await run();
      } while (again);
    } finally {
      running = null;
    }
  })();
  return running;
}

async function run() {
  const current = await session();
  if (!current?.access_token) {
    state.status = current ? "signin" : "idle";
    changed();
    return;
  }
  if (!navigator.onLine) {
    state.status = "offline";
    changed();
    return;
  }
  state.status = "syncing";
  state.detail = null;
  changed();
  try {
    await uploadBlobs();
    for (;;) {
      const before = (await outbox.pending(current.user_id)).length;
      if (!before) break;
      await push(current.user_id);
      if ((await outbox.pending(current.user_id)).length === before) break; // a gap: next time
    }
    await pull(current.user_id);
    await setMeta(`last_sync:${current.user_id}`, new Date().toISOString());
    state.status = "idle";
  } catch (error) {
    if (error instanceof Offline) state.status = "offline";
    else if (error instanceof SignInNeeded) state.status = "signin";
    else if (error instanceof DeviceWiped) state.status = "wiped";
    else if (error instanceof DeviceSuspended) state.status = "suspended";
    else {
      state.status = "error";
      state.detail = String(error.message || error);
    }
  }
  changed();
}

/** Lets the views re-read the outbox after recording something. */
export const notify = changed;

/** A signed-in call that needs the network (drafting a report): retried like the sync's. */
export const api = (method, url, options) => send(method, url, options);
