// The API client: tokens in sessionStorage, one refresh on 401, problem+json errors.

const KEY = "fsd.console.session";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail || "";
    this.problem = problem;
  }
}

let signedOutHandler = () => {};
let refreshing = null;

export function onSignedOut(handler) {
  signedOutHandler = handler;
}

export function currentSession() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

function store(tokens, username) {
  const session = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    role: tokens.role,
    username: username ?? currentSession()?.username ?? "",
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

function forget() {
  sessionStorage.removeItem(KEY);
}

function idempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function problemOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = { title: response.statusText || `HTTP ${response.status}` };
  }
  return new ApiError(response.status, typeof body === "object" && body ? body : {});
}

function send(method, path, { body, query, key }) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
  }
  const headers = { Accept: "application/json" };
  const session = currentSession();
  if (session?.access_token) headers.Authorization = `Bearer ${session.access_token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  return fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Exchanges the refresh token once, however many calls got 401 at the same time. */
function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const session = currentSession();
      if (!session?.refresh_token) return false;
      const response = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      });
      if (!response.ok) return false;
      store(await response.json());
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function api(method, path, options = {}) {
  const key = method === "POST" ? idempotencyKey() : undefined;
  let response = await send(method, path, { ...options, key });
  if (response.status === 401 && currentSession()) {
    if (await refresh()) {
      response = await send(method, path, { ...options, key });
    }
    if (response.status === 401) {
      forget();
      signedOutHandler();
      throw await problemOf(response);
    }
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  return response.json();
}

export async function signIn(username, password) {
  const response = await fetch("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw await problemOf(response);
  return store(await response.json(), username);
}

/** Ends the sign-in on the server too (refreshing first if the access token expired). */
export async function signOut() {
  try {
    if (currentSession()) await api("POST", "/api/auth/logout");
  } catch {
    // Signed out here either way.
  } finally {
    forget();
  }
}

export async function consoleConfig() {
  const response = await fetch("/console-config.json", { headers: { Accept: "application/json" } });
  if (!response.ok) throw await problemOf(response);
  return response.json();
}

/** A file the API answers (a PDF, a CSV) as a Blob, with the same sign-in handling as api(). */
export async function apiFile(path, options = {}) {
  let response = await send("GET", path, options);
  if (response.status === 401 && currentSession() && (await refresh())) response = await send("GET", path, options);
  if (!response.ok) throw await problemOf(response);
  return response.blob();
}

/** A file the API makes (a CSV export), fetched with the sign-in and saved as `name`. */
export async function download(path, query, name) {
  const url = URL.createObjectURL(await apiFile(path, { query }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
