// The warehouse desk: stock with names, a unit's and a location's page, and the sections of
// warehouse work (loans board, repairs, defective returns, restock, shipments, counts, files).

import "./warehouse-words.js";
import { api, apiFile, ApiError, currentSession, onSignedOut, signOut } from "./api.js";
import { $, fill, h } from "./dom.js";
import { localTime } from "./format.js";
import { applyStatic, language, onLanguageChange, problemTitle, setLanguage, t, v } from "./i18n.js";
import { renderLoans, renderRepairs, renderDefective } from "./warehouse-flows.js";
import { renderRestock, renderShipments, renderCounts, renderFiles } from "./warehouse-supply.js";

const LIMIT = 200;
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export const desk = {
  zone,
  warehouses: [],
  role: "",
  /** Runs fn, showing a problem in the banner instead of throwing. */
  guarded(fn) {
    return async (...args) => {
      try {
        return await fn(...args);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 401)) showError(error);
        return undefined;
      }
    };
  },
  /** Redraws the current section after a step changed something. */
  refresh: () => route(),
  when: (iso) => (iso ? localTime(iso, zone) : "—"),
  table(headers, rows) {
    if (!rows.length) return h("p", { class: "muted" }, t("wh.none"));
    return h(
      "table",
      { class: "wh-table" },
      h("thead", {}, h("tr", {}, headers.map(([label, cls]) => h("th", { class: cls || null }, label)))),
      h("tbody", {}, rows),
    );
  },
  /** Saves a file the API answers (a label sheet, an export) under `name`. */
  async download(path, query, name) {
    const blob = await apiFile(path, { query });
    const link = h("a", { href: URL.createObjectURL(blob), download: name, class: "wh-download" });
    document.body.append(link);
    link.click();
    setTimeout(() => {
      URL.revokeObjectURL(link.href);
      link.remove();
    }, 60_000);
  },
  warehouseSelect(name = "warehouse_id") {
    return h("select", { name, required: true }, desk.warehouses.map((w) => h("option", { value: w.id }, w.name)));
  },
};

function showError(error) {
  $("#error-title").textContent = error instanceof ApiError ? problemTitle(error.problem, error.title) : t("error.generic");
  $("#error-detail").textContent = error instanceof ApiError ? error.detail || "" : String(error?.message || error);
  $("#error").hidden = false;
}

// ---- stock -------------------------------------------------------------------------------------

const KINDS = ["warehouse", "van", "backpack", "in_transit", "defective_bin", "discrepancy"];

function unitLink(unit) {
  return h("a", { href: `#unit/${unit.id}`, class: "unit-link" }, unit.serial);
}

function placeLink(id, name) {
  return id ? h("a", { href: `#location/${id}` }, name || "—") : "—";
}

function balanceRows(items) {
  return items.map((b) =>
    h(
      "tr",
      { class: b.free < 0 || b.location_kind === "discrepancy" ? "bad" : null },
      h("td", {}, placeLink(b.location_id, b.location_name)),
      h("td", {}, v("location_kind", b.location_kind)),
      h("td", {}, b.engineer_name || ""),
      h("td", {}, b.item_sku),
      h("td", {}, b.item_name),
      h("td", { class: "num" }, b.on_hand),
      h("td", { class: "num" }, b.reserved),
      h("td", { class: "num" }, b.free),
    ),
  );
}

const BALANCE_HEAD = () => [
  [t("wh.location")], [t("wh.kind")], [t("wh.engineer")], [t("wh.sku")], [t("wh.name")],
  [t("wh.on_hand"), "num"], [t("wh.reserved"), "num"], [t("wh.free"), "num"],
];

function unitRows(items) {
  return items.map((u) =>
    h(
      "tr",
      {},
      h("td", {}, unitLink(u)),
      h("td", {}, `${u.item_sku} ${u.item_name}`),
      h("td", {}, v("unit_state", u.state)),
      h("td", {}, placeLink(u.location_id, u.location_name)),
      h("td", {}, u.engineer_name || ""),
    ),
  );
}

const UNIT_HEAD = () => [[t("wh.serial")], [t("wh.model")], [t("wh.state")], [t("wh.location")], [t("wh.engineer")]];

async function renderStock(main) {
  const q = $("#wh-q").value.trim();
  const kind = desk.stockKind || "";
  const select = h(
    "select",
    { id: "wh-kind", "aria-label": t("wh.kind") },
    h("option", { value: "" }, t("wh.any_kind")),
    KINDS.map((k) => h("option", { value: k, selected: k === kind }, v("location_kind", k))),
  );
  select.addEventListener("change", () => {
    desk.stockKind = select.value;
    route();
  });
  const [balances, units] = await Promise.all([
    api("GET", "/api/stock/balances", { query: { q, location_kind: kind, limit: LIMIT } }),
    q ? api("GET", "/api/stock/units", { query: { q, limit: LIMIT } }) : Promise.resolve({ items: [] }),
  ]);
  fill(
    main,
    h("div", { class: "wh-bar" }, select),
    units.items.length ? [h("h2", {}, t("wh.units")), desk.table(UNIT_HEAD(), unitRows(units.items))] : null,
    h("h2", {}, t("wh.balances")),
    desk.table(BALANCE_HEAD(), balanceRows(balances.items)),
    balances.next_cursor ? h("p", { class: "muted" }, t("wh.more", { n: LIMIT })) : null,
  );
}

function moveRows(moves) {
  return moves.map((m) =>
    h(
      "tr",
      {},
      h("td", {}, desk.when(m.at)),
      h("td", {}, m.kind),
      h("td", {}, `${m.item_sku || ""} ${m.item_name || ""}`),
      h("td", { class: "num" }, m.quantity),
      h("td", {}, placeLink(m.from_location_id, m.from_location_name)),
      h("td", {}, placeLink(m.to_location_id, m.to_location_name)),
      h("td", {}, m.reason || ""),
    ),
  );
}

const MOVE_HEAD = () => [[t("wh.at")], [t("wh.kind")], [t("wh.name")], [t("wh.quantity"), "num"], [t("wh.from")], [t("wh.to")], [t("wh.reason")]];

async function renderUnit(main, id) {
  const found = await api("GET", `/api/stock/units/${encodeURIComponent(id)}/history`);
  const unit = found.unit;
  fill(
    main,
    h("div", { class: "wh-bar" }, h("a", { href: "#stock" }, t("wh.back"))),
    h("h2", { id: "unit-title" }, t("wh.unit", { serial: unit.serial })),
    h(
      "p",
      {},
      `${unit.item_sku} ${unit.item_name} · ${v("unit_state", unit.state)} · `,
      placeLink(unit.location_id, unit.location_name),
      unit.engineer_name ? ` · ${unit.engineer_name}` : "",
    ),
    h("h3", {}, t("wh.history")),
    desk.table(
      [[t("wh.at")], [t("wh.event")], [t("wh.state")], [t("wh.location")]],
      found.events.map((e) =>
        h(
          "tr",
          { class: "history-row" },
          h("td", {}, desk.when(e.at)),
          h("td", {}, e.kind),
          h("td", {}, `${v("unit_state", e.from_state)} → ${v("unit_state", e.to_state)}`),
          h("td", {}, e.location_name || ""),
        ),
      ),
    ),
    h("h3", {}, t("wh.moves")),
    desk.table(MOVE_HEAD(), moveRows(found.moves)),
  );
}

async function renderLocation(main, id) {
  const [balances, units, moves] = await Promise.all([
    api("GET", "/api/stock/balances", { query: { location_id: id, limit: LIMIT } }),
    api("GET", "/api/stock/units", { query: { location_id: id, limit: LIMIT } }),
    api("GET", "/api/stock/moves", { query: { location_id: id, limit: LIMIT } }),
  ]);
  const place = balances.items[0] || units.items[0] || {};
  const print = h("button", { type: "button", id: "print-unit-labels" }, t("wh.unit_labels"));
  print.addEventListener("click", desk.guarded(() => desk.download("/api/stock/labels/units.pdf", { location_id: id }, "unit-labels.pdf")));
  fill(
    main,
    h("div", { class: "wh-bar" }, h("a", { href: "#stock" }, t("wh.back")), units.items.length ? print : null),
    h("h2", {}, place.location_name || "", place.engineer_name ? ` · ${place.engineer_name}` : ""),
    h("h3", {}, t("wh.balances")),
    desk.table(BALANCE_HEAD(), balanceRows(balances.items)),
    h("h3", {}, t("wh.units")),
    desk.table(UNIT_HEAD(), unitRows(units.items)),
    h("h3", {}, t("wh.moves")),
    desk.table(MOVE_HEAD(), moveRows(moves.items)),
  );
}

// ---- navigation ----------------------------------------------------------------------------------

const SECTIONS = {
  stock: renderStock,
  loans: renderLoans,
  repairs: renderRepairs,
  defective: renderDefective,
  restock: renderRestock,
  shipments: renderShipments,
  counts: renderCounts,
  files: renderFiles,
};

function drawNav(current) {
  fill(
    $("#wh-nav"),
    Object.keys(SECTIONS).map((name) =>
      h(
        "button",
        { type: "button", dataset: { section: name }, "aria-current": name === current ? "page" : null, onclick: () => (window.location.hash = name) },
        t(`wh.nav.${name}`),
      ),
    ),
  );
}

let routing = 0;

async function route() {
  const [name, id] = (window.location.hash.slice(1) || "stock").split("/");
  const seq = ++routing;
  drawNav(name === "unit" || name === "location" ? "stock" : name);
  const main = $("#wh-main");
  const page = h("div", { class: "wh-page" });
  if (name === "unit") await renderUnit(page, id);
  else if (name === "location") await renderLocation(page, id);
  else await (SECTIONS[name] || renderStock)(page);
  if (seq === routing) fill(main, page);
}

async function start() {
  const session = currentSession();
  if (!session?.access_token) {
    window.location.assign("/");
    return;
  }
  desk.role = session.role;
  $("#desk").hidden = false;
  $("#who").textContent = t("who.role", { user: session.username, role: v("role", session.role) });
  $("#wh-console").hidden = session.role === "warehouse";
  const houses = await api("GET", "/api/locations", { query: { kind: "warehouse", limit: 500 } });
  desk.warehouses = houses.items;
  await desk.guarded(route)();
}

function main() {
  $("#error-close").addEventListener("click", () => {
    $("#error").hidden = true;
  });
  $("#sign-out").addEventListener("click", async () => {
    await signOut().catch(() => {});
    window.location.assign("/");
  });
  $("#wh-search").addEventListener("submit", (event) => {
    event.preventDefault();
    if (window.location.hash.slice(1).split("/")[0] === "stock") desk.guarded(route)();
    else window.location.hash = "stock";
  });
  for (const button of document.querySelectorAll("button.language")) {
    button.addEventListener("click", () => setLanguage(language() === "zh" ? "en" : "zh"));
  }
  onSignedOut(() => window.location.assign("/"));
  window.addEventListener("hashchange", desk.guarded(route));
  onLanguageChange(() => {
    const session = currentSession();
    if (session) $("#who").textContent = t("who.role", { user: session.username, role: v("role", session.role) });
    desk.guarded(route)();
  });
  applyStatic();
  document.body.classList.add("ready");
  desk.guarded(start)();
}

main();
