// The engineer app: sign-in, the route, a visit, the van stock and the customer's signature,
// all read from the phone's own store; sync when opened, when the network returns and on
// demand — and nothing at all while the page is hidden.
import { t, setLanguage, language } from "./i18n.js";
import * as sync from "./sync.js";
import * as model from "./model.js";
import * as syncbar from "./syncbar.js";
import * as signin from "./views/signin.js";
import * as routeView from "./views/route.js";
import * as visitView from "./views/visit.js";
import * as stockView from "./views/stock.js";
import * as signView from "./views/sign.js";

const root = document.getElementById("view");
let mounted = null; // { name, update? }
let signInMessage = null;
let rendering = Promise.resolve();

function parseHash() {
  const [, name = "route", id] = location.hash.split("/");
  return { name, params: { id } };
}

async function zoneOf(user) {
  const day = user ? await model.day(user) : null;
  return day?.visits[0]?.order.site.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

async function show() {
  await model.loadOffset();
  const current = await sync.session();
  const tabs = document.getElementById("tabs");
  if (!current?.access_token) {
    tabs.hidden = true;
    mounted = { name: "signin" };
    signin.render(root, {
      message: signInMessage || (current ? t("sign_in_again") : null),
      done: () => { signInMessage = null; location.hash = "#/route"; refresh(); sync.sync(); },
    });
    await syncbar.render({ zone: await zoneOf(null) });
    return;
  }
  tabs.hidden = false;
  document.getElementById("tab-route").textContent = t("tab_route");
  document.getElementById("tab-stock").textContent = t("tab_stock");
  document.getElementById("sign-out").textContent = t("sign_out");
  const { name, params } = parseHash();
  for (const tab of tabs.querySelectorAll("a")) tab.classList.toggle("active", tab.id === `tab-${name}`);
  const day = await model.day(current.user_id);
  const ctx = { day, params, refresh };
  let result = null;
  if (name === "visit") result = await visitView.render(root, ctx);
  else if (name === "sign") await signView.render(root, ctx);
  else if (name === "stock") stockView.render(root, ctx);
  else routeView.render(root, ctx);
  mounted = { name, update: result?.update || null };
  await syncbar.render({ zone: day.visits[0]?.order.site.time_zone });
}

/** Redraws the current screen (serialised: two redraws never interleave). */
export function refresh() {
  rendering = rendering.then(show).catch((error) => console.error(error));
  return rendering;
}

/** After a sync: screens with forms being filled in redraw only their records. */
function changed() {
  rendering = rendering.then(async () => {
    const current = await sync.session();
    if (["wiped", "signin"].includes(sync.state.status) || !current?.access_token) {
      if (sync.state.status === "wiped") signInMessage = t("wiped");
      // A sign-in form being filled in is not redrawn (its error message stays).
      if (mounted?.name === "signin" && sync.state.status !== "wiped") return syncbar.render({ zone: await zoneOf(null) });
      return show();
    }
    if (mounted?.name === "sign") return syncbar.render({ zone: await zoneOf(current.user_id) });
    if (mounted?.update) {
      await model.loadOffset();
      if (!(await mounted.update(await model.day(current.user_id)))) return show();
      return syncbar.render({ zone: await zoneOf(current.user_id) });
    }
    return show();
  }).catch((error) => console.error(error));
}

// Sync triggers: opened, network back, the button, a visible page now and then. --------------

const EVERY_MS = 5 * 60 * 1000;
let timer = null;

function startTimers() {
  stopTimers();
  if (document.visibilityState !== "visible") return;
  timer = {
    sync: setInterval(() => { if (navigator.onLine) sync.sync(); }, EVERY_MS),
    tick: setInterval(() => document.querySelectorAll(".countdown").forEach(visitView.tick), 30 * 1000),
  };
}

function stopTimers() {
  if (timer) {
    clearInterval(timer.sync);
    clearInterval(timer.tick);
    timer = null;
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    startTimers();
    sync.sync();
  } else stopTimers(); // no background work while hidden
});
window.addEventListener("online", () => { if (document.visibilityState === "visible") sync.sync(); });
window.addEventListener("offline", () => { sync.state.status = "offline"; changed(); });
window.addEventListener("hashchange", refresh);
sync.events.addEventListener("change", changed);
document.getElementById("sync-now").addEventListener("click", () => sync.sync());
document.getElementById("lang-switch").addEventListener("click", () => {
  setLanguage(language() === "zh" ? "en" : "zh");
  refresh();
});
document.getElementById("sign-out").addEventListener("click", async () => {
  await sync.signOut();
  location.hash = "#/route";
  refresh();
});

// The service worker: the shell offline, and a prompt when a new version waits. -------------

function offerUpdate(worker) {
  const banner = document.getElementById("update-banner");
  document.getElementById("update-text").textContent = t("update_ready");
  const button = document.getElementById("update-reload");
  button.textContent = t("reload");
  button.onclick = () => worker.postMessage({ type: "skip-waiting" });
  banner.hidden = false;
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return; // plain HTTP on a LAN address: online only
  const registration = await navigator.serviceWorker.register("sw.js", { scope: "./" });
  if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) offerUpdate(worker);
    });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || document.getElementById("update-banner").hidden) return; // the first install
    reloading = true;
    location.reload();
  });
}

setLanguage(language());
startTimers();
refresh().then(() => sync.sync());
registerWorker().catch((error) => console.warn("service worker", error));
