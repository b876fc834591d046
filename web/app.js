// The dispatcher's console: sign-in, work orders by nearest deadline, map, plan, notifications.

import { api, ApiError, consoleConfig, currentSession, onSignedOut, signIn, signOut } from "./api.js";
import { $, fill, h } from "./dom.js";
import { createMap } from "./map.js";
import { renderNotifications } from "./notifications.js";
import { renderOrderDetail, renderOrderList } from "./orders.js";
import { renderProgress, renderResult } from "./plan.js";

const DESK_ROLES = new Set(["admin", "supervisor", "dispatcher"]);
const REFRESH_MS = 30_000;
const LIST_LIMIT = 200;

const state = {
  config: { tile_url: "" },
  map: null,
  orders: [],
  fetchedAt: Date.now(),
  selectedId: null,
  engineers: new Map(),
  warehousePoints: [],
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  tickList: () => {},
  fitted: false,
  plan: null,
  planTimer: null,
  timers: [],
  listSeq: 0,
};

// ---- errors ----------------------------------------------------------------------------------

function showError(error) {
  const title = error instanceof ApiError ? error.title : "Something went wrong";
  const detail = error instanceof ApiError ? error.detail : String(error?.message || error);
  $("#error-title").textContent = title;
  $("#error-detail").textContent = detail;
  $("#error").hidden = false;
}

function guarded(fn) {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showError(error);
      return undefined;
    }
  };
}

// ---- sign-in ---------------------------------------------------------------------------------

function showLogin(message = "") {
  stopTimers();
  $("#console-view").hidden = true;
  $("#login-view").hidden = false;
  $("#login-error").textContent = message;
  $("#login-password").value = "";
  $("#login-username").focus();
}

async function onLogin(event) {
  event.preventDefault();
  const username = $("#login-username").value.trim();
  const password = $("#login-password").value;
  $("#login-error").textContent = "";
  try {
    const session = await signIn(username, password);
    if (!DESK_ROLES.has(session.role)) {
      await signOut();
      showLogin("This console is for dispatchers, supervisors and administrators.");
      return;
    }
    await startConsole();
  } catch (error) {
    $("#login-error").textContent = error instanceof ApiError ? [error.title, error.detail].filter(Boolean).join(": ") : String(error);
  }
}

async function onSignOut() {
  await signOut().catch(() => {});
  state.map?.clearRoutes();
  showLogin();
}

// ---- work orders -----------------------------------------------------------------------------

function filters() {
  const status = $("#filter-status").value;
  return {
    open_only: status ? undefined : "true",
    status: status || undefined,
    severity: $("#filter-severity").value || undefined,
    at_risk: $("#filter-at-risk").checked ? "true" : undefined,
    breached: $("#filter-breached").checked ? "true" : undefined,
    q: $("#filter-q").value.trim() || undefined,
    limit: LIST_LIMIT,
  };
}

function commonTimeZone(orders) {
  const counts = new Map();
  for (const o of orders) counts.set(o.site.time_zone, (counts.get(o.site.time_zone) || 0) + 1);
  let best = null;
  for (const [zone, n] of counts) if (!best || n > counts.get(best)) best = zone;
  return best;
}

async function loadOrders() {
  const seq = ++state.listSeq;
  const page = await api("GET", "/api/work-orders", { query: filters() });
  if (seq !== state.listSeq) return; // a newer filter's answer wins
  state.orders = page.items;
  state.fetchedAt = Date.now();
  state.timeZone = commonTimeZone(page.items) || state.timeZone;
  $("#time-zone").textContent = `Times: ${state.timeZone}`;
  state.tickList = renderOrderList($("#order-list"), state.orders, {
    fetchedAt: state.fetchedAt,
    selectedId: state.selectedId,
    onSelect: (id) => guarded(selectOrder)(id),
  });
  $("#list-note").textContent = page.next_cursor
    ? `Showing the ${page.items.length} nearest deadlines; narrow the filters to see others.`
    : `${page.items.length} work orders, nearest deadline first`;
  renderSummary();
  state.map.showOrders(state.orders);
  if (!state.fitted && state.orders.length) {
    state.fitted = true;
    state.map.fitTo([...state.orders.map((o) => o.site.point), ...state.warehousePoints]);
  }
}

function renderSummary() {
  const count = (s) => state.orders.filter((o) => o.clocks.some((c) => c.state === s)).length;
  fill(
    $("#summary"),
    h("span", { class: "summary-item" }, h("strong", {}, state.orders.length), " listed"),
    h("span", { class: "summary-item state-at_risk" }, h("strong", {}, count("at_risk")), " at risk"),
    h("span", { class: "summary-item state-breached" }, h("strong", {}, count("breached")), " breached"),
  );
}

async function selectOrder(id) {
  state.selectedId = id;
  for (const row of document.querySelectorAll(".order-row")) row.classList.toggle("selected", row.dataset.id === id);
  showTab("detail");
  const order = await api("GET", `/api/work-orders/${encodeURIComponent(id)}`);
  renderOrderDetail($("#detail"), order, { engineers: state.engineers, fetchedAt: Date.now() });
  state.map.focusOrder(order);
}

// ---- map layers ------------------------------------------------------------------------------

async function loadPlaces() {
  const [engineers, warehouses] = await Promise.all([
    api("GET", "/api/engineers", { query: { limit: 500 } }),
    api("GET", "/api/locations", { query: { kind: "warehouse" } }),
  ]);
  state.engineers = new Map(engineers.items.map((e) => [e.id, e]));
  state.map.showEngineers(engineers.items);
  state.map.showWarehouses(warehouses);
  state.warehousePoints = warehouses.map((w) => w.point).filter(Boolean);
}

async function loadSitesInView(bbox) {
  if ($("#console-view").hidden) return;
  state.map.showAllSites(await api("GET", "/api/sites/map", { query: { bbox, limit: 1000 } }));
}

// ---- notifications ---------------------------------------------------------------------------

async function loadNotifications() {
  const page = await api("GET", "/api/notifications", { query: { limit: 100 } });
  $("#notification-count").textContent = page.items.length ? String(page.items.length) : "";
  renderNotifications($("#notifications"), page.items, {
    timeZone: state.timeZone,
    problemNumbers: new Map(state.orders.map((o) => [o.id, o.problem_number])),
    onAcknowledge: guarded(async (notification, button) => {
      button.disabled = true;
      try {
        await api("POST", `/api/notifications/${encodeURIComponent(notification.id)}/acknowledge`);
      } finally {
        button.disabled = false;
      }
      await loadNotifications();
    }),
    onOpenOrder: (id) => guarded(selectOrder)(id),
  });
}

// ---- plans -----------------------------------------------------------------------------------

async function runPlan(event) {
  event.preventDefault();
  const timeLimit = Number($("#plan-time-limit").value) || 10;
  clearTimeout(state.planTimer);
  state.map.clearRoutes();
  fill($("#plan-result"));
  $("#plan-run").disabled = true;
  try {
    const plan = await api("POST", "/api/dispatch/plans", { body: { time_limit_seconds: timeLimit } });
    state.plan = plan;
    state.planStarted = Date.now();
    renderProgress($("#plan-progress"), plan, timeLimit, 0);
    pollPlan(plan.id, timeLimit);
  } catch (error) {
    $("#plan-run").disabled = false;
    throw error;
  }
}

function pollPlan(id, timeLimit) {
  state.planTimer = setTimeout(
    guarded(async () => {
      let plan;
      try {
        plan = await api("GET", `/api/dispatch/plans/${encodeURIComponent(id)}`);
      } catch (error) {
        $("#plan-run").disabled = false;
        throw error;
      }
      state.plan = plan;
      renderProgress($("#plan-progress"), plan, timeLimit, (Date.now() - state.planStarted) / 1000);
      if (plan.status === "queued" || plan.status === "running") {
        pollPlan(id, timeLimit);
        return;
      }
      $("#plan-run").disabled = false;
      showPlanResult(plan);
    }),
    1000,
  );
}

function showPlanResult(plan) {
  if (plan.result) state.map.showRoutes(plan.result.geometry);
  renderResult($("#plan-result"), plan, { timeZone: state.timeZone, onApply: guarded(applyPlan) });
}

async function applyPlan() {
  const plan = await api("POST", `/api/dispatch/plans/${encodeURIComponent(state.plan.id)}/apply`);
  state.plan = plan;
  showPlanResult(plan);
  await loadOrders();
  if (state.selectedId) await selectOrder(state.selectedId);
  showTab("plan");
}

// ---- layout ----------------------------------------------------------------------------------

function showTab(name) {
  for (const tab of document.querySelectorAll("[role=tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  for (const panel of document.querySelectorAll("[role=tabpanel]")) panel.hidden = panel.id !== `panel-${name}`;
}

function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
  clearTimeout(state.planTimer);
}

async function startConsole() {
  const session = currentSession();
  $("#login-view").hidden = true;
  $("#console-view").hidden = false;
  $("#who").textContent = `${session.username} (${session.role})`;
  if (!state.map) {
    state.map = createMap($("#map"), {
      tileUrl: state.config.tile_url,
      onSelectOrder: (id) => guarded(selectOrder)(id),
      onViewport: (bbox) => guarded(loadSitesInView)(bbox),
    });
  }
  state.map.invalidate();
  await guarded(loadPlaces)();
  await guarded(loadOrders)();
  await Promise.all([guarded(loadNotifications)(), guarded(loadSitesInView)(state.map.bbox())]);
  stopTimers();
  state.timers.push(setInterval(() => state.tickList(), 5_000));
  state.timers.push(
    setInterval(() => {
      guarded(loadOrders)();
      guarded(loadNotifications)();
    }, REFRESH_MS),
  );
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

async function main() {
  $("#login-form").addEventListener("submit", onLogin);
  $("#sign-out").addEventListener("click", onSignOut);
  $("#error-close").addEventListener("click", () => {
    $("#error").hidden = true;
  });
  const reload = guarded(loadOrders);
  $("#filter-q").addEventListener("input", debounce(reload, 300));
  for (const id of ["#filter-status", "#filter-severity", "#filter-at-risk", "#filter-breached"]) $(id).addEventListener("change", reload);
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    reload();
  });
  for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  $("#plan-form").addEventListener("submit", guarded(runPlan));
  $("#plan-clear").addEventListener("click", () => {
    state.map.clearRoutes();
    fill($("#plan-result"));
    fill($("#plan-progress"));
  });
  onSignedOut(() => showLogin("Your sign-in has ended; please sign in again."));

  try {
    state.config = await consoleConfig();
  } catch (error) {
    showError(error);
  }
  document.body.classList.add("ready");
  if (currentSession()?.access_token) await startConsole();
  else showLogin();
}

main();
