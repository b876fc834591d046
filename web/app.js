// The dispatcher's console: sign-in, work orders by nearest deadline, map, plan, notifications.

import { startLive } from "./live.js";
import { api, ApiError, consoleConfig, currentSession, onSignedOut, signIn, signOut } from "./api.js";
import { deskFor } from "./desk.js";
import { $, fill, h } from "./dom.js";
import { localTime } from "./format.js";
import { applyStatic, language, onLanguageChange, problemTitle, setLanguage, t, v } from "./i18n.js";
import { renderIntake } from "./intake.js";
import { createInspections } from "./inspections.js";
import { createMap } from "./map.js";
import { renderNotifications } from "./notifications.js";
import { renderOrderDetail, renderOrderList } from "./orders.js";
import { renderProgress, renderResult } from "./plan.js";
import { createSupervisorDesk } from "./supervisor.js";

const DESK_ROLES = new Set(["admin", "supervisor", "dispatcher"]);
// Warehouse staff work at their own desk.
const WAREHOUSE_DESK = "/warehouse.html";
// Changes arrive over the live stream; this slow poll only backs it up.
const REFRESH_MS = 300_000;
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
  nextCursor: null,
  me: null,
  items: new Map(),
  order: null,
  nextStatuses: [],
  loans: [],
  notifications: [],
  // What the detail panel shows: an order, or the intake form.
  panel: "order",
};

// ---- errors ----------------------------------------------------------------------------------

function showError(error) {
  const title = error instanceof ApiError ? problemTitle(error.problem, error.title) : t("error.generic");
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
  state.supervisor = null; // the next sign-in's desk starts afresh
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
    if (session.role === "warehouse") {
      window.location.assign(WAREHOUSE_DESK);
      return;
    }
    if (!DESK_ROLES.has(session.role)) {
      await signOut();
      showLogin(t("login.desk_only"));
      return;
    }
    await startConsole();
  } catch (error) {
    $("#login-error").textContent = error instanceof ApiError ? [error.title, error.detail].filter(Boolean).join(": ") : String(error);
  }
}

async function onSignOut() {
  stopTimers();
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
    bbox: $("#filter-map-area").checked && state.map ? state.map.bbox() : undefined,
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
  state.nextCursor = page.next_cursor;
  state.fetchedAt = Date.now();
  state.timeZone = commonTimeZone(page.items) || state.timeZone;
  renderList();
  state.map.showOrders(state.orders);
  if (!state.fitted && state.orders.length) {
    state.fitted = true;
    state.map.fitTo([...state.orders.map((o) => o.site.point), ...state.warehousePoints]);
  }
}

function renderList() {
  $("#time-zone").textContent = t("header.times", { zone: state.timeZone });
  state.tickList = renderOrderList($("#order-list"), state.orders, {
    fetchedAt: state.fetchedAt,
    selectedId: state.selectedId,
    onSelect: (id) => guarded(selectOrder)(id, { scroll: true }),
  });
  $("#list-note").textContent = state.nextCursor ? t("list.more", { n: state.orders.length }) : t("list.count", { n: state.orders.length });
  renderSummary();
}

function renderSummary() {
  const count = (s) => state.orders.filter((o) => o.clocks.some((c) => c.state === s)).length;
  fill(
    $("#summary"),
    h("span", { class: "summary-item" }, h("strong", {}, state.orders.length), t("summary.listed")),
    h("span", { class: "summary-item state-at_risk" }, h("strong", {}, count("at_risk")), t("summary.at_risk")),
    h("span", { class: "summary-item state-breached" }, h("strong", {}, count("breached")), t("summary.breached")),
  );
}

/** A person's display name: engineers from their list, the signed-in user, else `fallback`. */
function nameOf(id, fallback = "—") {
  const engineer = state.engineers.get(id);
  if (engineer) return engineer.display_name || engineer.username;
  if (state.me && state.me.id === id) return state.me.display_name;
  return fallback === "—" ? t("engineer") : fallback;
}

function problemNumberOfVisit(visitId) {
  for (const order of [state.order, ...state.orders]) {
    if (order?.visits?.some((visit) => visit.id === visitId)) return order.problem_number;
  }
  return null;
}

function showNotice(text, kind = "info") {
  const box = $("#notice");
  box.textContent = text;
  box.className = `notice notice-${kind}`;
  box.hidden = !text;
}

/** Loads the order with what its actions need (allowed statuses, loans) and shows it. */
async function selectOrder(id, { scroll = false, keepNotice = false } = {}) {
  state.selectedId = id;
  state.panel = "order";
  if (!keepNotice) showNotice("");
  for (const row of document.querySelectorAll(".order-row")) row.classList.toggle("selected", row.dataset.id === id);
  showTab("detail");
  const path = `/api/work-orders/${encodeURIComponent(id)}`;
  const [order, next, loans] = await Promise.all([
    api("GET", path),
    api("GET", `${path}/next-statuses`).catch(() => ({ targets: [] })),
    api("GET", "/api/stock/loans", { query: { work_order_id: id } }).then((page) => page.items).catch(() => []),
  ]);
  if (state.selectedId !== id) return; // another order was picked meanwhile
  state.order = order;
  state.nextStatuses = next.targets;
  state.loans = loans;
  state.orderFetchedAt = Date.now();
  renderDetail();
  state.map.focusOrder(order);
  // On a phone the panel sits below the list: bring it into view.
  if (scroll && window.matchMedia("(max-width: 700px)").matches) $("#side").scrollIntoView({ block: "start" });
}

function renderDetail() {
  if (state.panel === "intake") {
    openIntake();
    return;
  }
  const order = state.order;
  if (!order) {
    fill($("#detail"), h("p", { class: "muted" }, t("detail.select")));
    return;
  }
  const desk = deskFor(order, {
    nextStatuses: state.nextStatuses,
    loans: state.loans,
    me: state.me,
    names: nameOf,
    problemNumberOfVisit,
    notice: (text) => showNotice(text),
    fail: showError,
    reload: async () => {
      await selectOrder(order.id, { keepNotice: true });
      await guarded(loadOrders)();
    },
    onConflict: guarded(async (error) => {
      const p = error.problem || {};
      const when = p.changed_at ? localTime(p.changed_at, order.site.time_zone) : "";
      showNotice(p.changed_by ? t("desk.conflict", { who: p.changed_by, time: when }) : t("desk.conflict_someone"), "warning");
      await selectOrder(order.id, { keepNotice: true });
      await guarded(loadOrders)();
    }),
  });
  renderOrderDetail($("#detail"), order, {
    names: nameOf,
    itemName: (sku) => state.items.get(sku),
    fetchedAt: state.orderFetchedAt || Date.now(),
    actions: desk.actions,
    visitAction: desk.visitAction,
    extra: desk.extra,
  });
}

function openIntake() {
  state.panel = "intake";
  showNotice("");
  showTab("detail");
  renderIntake($("#detail"), {
    timeZone: state.timeZone,
    onCreated: async (order) => {
      state.panel = "order";
      showNotice(t("intake.created", { number: order.problem_number }));
      $("#filter-q").value = "";
      await guarded(loadOrders)();
      await selectOrder(order.id, { keepNotice: true, scroll: true });
    },
    onClose: () => {
      state.panel = "order";
      renderDetail();
    },
  });
}

// ---- map layers ------------------------------------------------------------------------------

async function loadPlaces() {
  const [engineers, warehouses, me, items] = await Promise.all([
    api("GET", "/api/engineers", { query: { limit: 500 } }),
    api("GET", "/api/locations", { query: { kind: "warehouse", limit: 500 } }).then((page) => page.items),
    api("GET", "/api/users/me").catch(() => null),
    api("GET", "/api/stock/items", { query: { limit: 500 } }).catch(() => ({ items: [] })),
  ]);
  state.me = me;
  state.items = new Map(items.items.map((item) => [item.sku, item.name]));
  if (me) $("#who").title = me.display_name;
  state.engineers = new Map(engineers.items.map((e) => [e.id, e]));
  fill(
    $("#plan-engineers"),
    engineers.items
      .filter((e) => e.employer_kind !== "manufacturer")
      .map((e) => h("option", { value: e.id }, `${e.display_name} (${e.username})`)),
  );
  state.map.showEngineers(engineers.items);
  const itemsById = new Map(items.items.map((item) => [item.id, item]));
  state.map.showWarehouses(warehouses, async (id) => {
    const balances = await api("GET", "/api/stock/balances", { query: { location_id: id, limit: 500 } });
    return balances.items
      .filter((b) => b.free > 0)
      .sort((a, b) => b.free - a.free)
      .slice(0, 8)
      .map((b) => `${itemsById.get(b.item_id)?.sku || ""} ${itemsById.get(b.item_id)?.name || ""} · ${t("map.free", { n: b.free })}`);
  });
  state.warehousePoints = warehouses.map((w) => w.point).filter(Boolean);
}

async function loadSitesInView(bbox) {
  if ($("#console-view").hidden) return;
  state.map.showAllSites(await api("GET", "/api/sites/map", { query: { bbox, limit: 1000 } }));
}

// ---- notifications ---------------------------------------------------------------------------

async function loadNotifications() {
  const page = await api("GET", "/api/notifications", { query: { limit: 200 } });
  state.notifications = page.items;
  renderNotificationList();
}

function renderNotificationList() {
  const items = state.notifications;
  $("#notification-count").textContent = items.length ? String(items.length) : "";
  const zones = new Map(state.orders.map((o) => [o.id, o.site.time_zone]));
  renderNotifications($("#notifications"), items, {
    timeZone: state.timeZone,
    zoneOf: (id) => zones.get(id),
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
    onAcknowledgeAll: guarded(async (kind, group, button) => {
      button.disabled = true;
      try {
        await api("POST", "/api/notifications/acknowledge", { body: { ids: group.map((n) => n.id) } });
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
    const chosen = [...$("#plan-engineers").selectedOptions].map((option) => option.value);
    const body = {
      time_limit_seconds: timeLimit,
      horizon_hours: Number($("#plan-horizon").value) || 48,
      ...(chosen.length ? { engineer_ids: chosen } : {}),
    };
    const plan = await api("POST", "/api/dispatch/plans", { body });
    state.planComparison = null;
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
  const comparison = state.planComparison?.plan_id === plan.id ? state.planComparison : null;
  renderResult($("#plan-result"), plan, { timeZone: state.timeZone, onApply: guarded(applyPlan), items: state.items, comparison });
  if (plan.result && !comparison && ["done", "applied"].includes(plan.status)) {
    // Beside what is assigned now: fetched once the plan is done, then drawn with it.
    guarded(async () => {
      state.planComparison = await api("GET", `/api/dispatch/plans/${encodeURIComponent(plan.id)}/comparison`);
      if (state.plan?.id === plan.id) showPlanResult(state.plan);
    })();
  }
}

/** Every route, or only those of `engineerIds` (the others stay to be applied later). */
async function applyPlan(engineerIds) {
  const body = engineerIds ? { engineer_ids: engineerIds } : undefined;
  const plan = await api("POST", `/api/dispatch/plans/${encodeURIComponent(state.plan.id)}/apply`, { body });
  state.plan = plan;
  state.planComparison = await api("GET", `/api/dispatch/plans/${encodeURIComponent(plan.id)}/comparison`);
  showPlanResult(plan);
  await loadOrders();
  if (state.selectedId) await selectOrder(state.selectedId);
  showTab("plan");
}

// ---- layout ----------------------------------------------------------------------------------

/** The dispatcher's list and map, or the supervisor's desk; the order panel stays beside either. */
function showView(name) {
  $("#console-view").dataset.view = name;
  for (const button of document.querySelectorAll("#views button")) button.setAttribute("aria-pressed", String(button.dataset.view === name));
  $("#supervisor-desk").hidden = name !== "supervisor";
  if (name === "supervisor") {
    state.supervisor ??= createSupervisorDesk($("#supervisor-desk"), {
      openOrder: (id) => guarded(selectOrder)(id),
      fail: showError,
    });
    state.supervisor.show();
  } else {
    state.map?.invalidate();
  }
}

/** The order list or the inspections list in the list's place (the map and panel stay). */
function showList(name) {
  $(".orders").dataset.list = name;
  for (const button of document.querySelectorAll("#list-views button")) button.setAttribute("aria-pressed", String(button.dataset.list === name));
  $("#inspections").hidden = name !== "inspections";
  if (name === "inspections") {
    state.inspections ??= createInspections($("#inspections"), {
      openOrder: (id) => guarded(selectOrder)(id, { scroll: true }),
      fail: showError,
    });
    state.inspections.show();
  }
}

function showTab(name) {
  for (const tab of document.querySelectorAll("[role=tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  for (const panel of document.querySelectorAll("[role=tabpanel]")) panel.hidden = panel.id !== `panel-${name}`;
}

function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
  clearTimeout(state.planTimer);
  state.live?.stop();
  state.live = null;
}

/** Another desk's change, as it is committed: the list and the notifications follow it. */
async function loadPositions() {
  state.map.showPositions((await api("GET", "/api/engineers/positions", { query: { limit: 500 } })).items);
}

function followLive() {
  const reloadOrders = debounce(() => guarded(loadOrders)(), 300);
  const reloadPositions = debounce(() => guarded(loadPositions)(), 1000);
  const reloadNotifications = debounce(() => guarded(loadNotifications)(), 300);
  const reloadInspections = debounce(() => state.inspections?.reload(), 300);
  state.live = startLive({
    onChange: (event) => {
      if (["order", "visit", "clock"].includes(event.kind)) reloadOrders();
      if (["order", "visit"].includes(event.kind) && !$("#inspections").hidden) reloadInspections();
      if (event.kind === "notification" || event.kind === "clock") reloadNotifications();
      if (event.kind === "position") reloadPositions();
    },
    onResync: () => {
      reloadOrders();
      reloadNotifications();
    },
    onState: (live) => {
      $("#live-state").dataset.state = live;
      $("#live-state").textContent = t(`live.${live}`);
    },
  });
}

async function startConsole() {
  const session = currentSession();
  $("#login-view").hidden = true;
  $("#console-view").hidden = false;
  $("#who").textContent = t("who.role", { user: session.username, role: v("role", session.role) });
  if (!state.map) {
    state.map = createMap($("#map"), {
      tileUrl: state.config.tile_url,
      onSelectOrder: (id) => guarded(selectOrder)(id),
      onViewport: (bbox) => {
        guarded(loadSitesInView)(bbox);
        // The list follows the map while it is limited to the map's area.
        if ($("#filter-map-area").checked) guarded(loadOrders)();
      },
    });
  }
  state.map.invalidate();
  // Supervisors answer for the SLA figures: their desk is where they land.
  showView(session.role === "supervisor" ? "supervisor" : "dispatch");
  await guarded(loadPlaces)();
  await guarded(loadOrders)();
  await Promise.all([guarded(loadNotifications)(), guarded(loadSitesInView)(state.map.bbox())]);
  stopTimers();
  state.timers.push(setInterval(() => state.tickList(), 5_000));
  state.timers.push(
    setInterval(() => {
      guarded(loadOrders)();
      guarded(loadNotifications)();
      guarded(loadPositions)();
    }, REFRESH_MS),
  );
  await guarded(loadPositions)();
  followLive();
}

/** Everything drawn from data, again, in the language just chosen (no refetch). */
function rerender() {
  if ($("#console-view").hidden) return;
  const session = currentSession();
  if (session) $("#who").textContent = t("who.role", { user: session.username, role: v("role", session.role) });
  renderList();
  renderDetail();
  renderNotificationList();
  state.supervisor?.rerender();
  state.inspections?.rerender();
  if (state.plan) {
    renderProgress($("#plan-progress"), state.plan, Number($("#plan-time-limit").value) || 10, (Date.now() - (state.planStarted || Date.now())) / 1000);
    if (state.plan.result) showPlanResult(state.plan);
  }
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
  for (const id of ["#filter-status", "#filter-severity", "#filter-at-risk", "#filter-breached", "#filter-map-area"]) $(id).addEventListener("change", reload);
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
  onSignedOut(() => showLogin(t("login.ended")));
  $("#new-order").addEventListener("click", () => openIntake());
  for (const button of document.querySelectorAll("#views button")) button.addEventListener("click", () => showView(button.dataset.view));
  for (const button of document.querySelectorAll("#list-views button")) button.addEventListener("click", () => showList(button.dataset.list));
  for (const button of document.querySelectorAll("button.language")) {
    button.addEventListener("click", () => setLanguage(language() === "zh" ? "en" : "zh"));
  }
  onLanguageChange(rerender);
  applyStatic();

  try {
    state.config = await consoleConfig();
  } catch (error) {
    showError(error);
  }
  document.body.classList.add("ready");
  if (currentSession()?.role === "warehouse") window.location.assign(WAREHOUSE_DESK);
  else if (currentSession()?.access_token) await startConsole();
  else showLogin();
}

main();
