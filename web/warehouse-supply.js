// The warehouse desk's supply work: tomorrow's restock per engineer, reorder suggestions,
// shipments in transit, blind counts, and CSV import/export with label sheets.

import { api } from "./api.js";
import { fill, h } from "./dom.js";
import { t, v } from "./i18n.js";
import { desk } from "./warehouse.js";

const post = (path, body) => api("POST", path, { body });

function button(label, action, props = {}) {
  return h("button", { type: "button", ...props, onclick: desk.guarded(async () => {
    await action();
    desk.refresh();
  }) }, label);
}

/** One click loads a van: one all-or-none transfer per source warehouse. */
function loadVan(entry) {
  const bySource = new Map();
  for (const line of entry.lines) {
    if (line.to_load <= 0 || !line.item_id || !line.from_location_id) continue;
    if (!bySource.has(line.from_location_id)) bySource.set(line.from_location_id, []);
    bySource.get(line.from_location_id).push({ item_id: line.item_id, quantity: line.to_load });
  }
  return async () => {
    for (const [from, lines] of bySource) {
      await post("/api/stock/transfers", { from_location_id: from, to_location_id: entry.van_location_id, lines, reason: "restock" });
    }
  };
}

function restockCard(entry) {
  const loadable = entry.lines.filter((l) => l.to_load > 0 && l.item_id && l.from_location_id);
  return h(
    "div",
    { class: "wh-panel restock", dataset: { engineer: entry.engineer_id } },
    h("h3", {}, entry.engineer_name || entry.username, " ", h("span", { class: "muted" }, entry.van_location_name || "")),
    desk.table(
      [[t("wh.sku")], [t("wh.name")], [t("wh.needed"), "num"], [t("wh.in_van"), "num"], [t("wh.in_transit"), "num"], [t("wh.to_load"), "num"], [t("wh.from")]],
      entry.lines.map((l) =>
        h(
          "tr",
          {},
          h("td", {}, l.sku),
          h("td", {}, l.item_name || ""),
          h("td", { class: "num" }, l.needed),
          h("td", { class: "num" }, l.in_van),
          h("td", { class: "num" }, l.in_transit),
          h("td", { class: "num" }, l.to_load),
          h("td", {}, l.from_location_name || "—"),
        ),
      ),
    ),
    loadable.length && entry.van_location_id
      ? button(t("wh.transfer", { n: loadable.length }), loadVan(entry), { class: "primary restock-transfer" })
      : h("p", { class: "wh-ok" }, t("wh.nothing_to_load")),
  );
}

export async function renderRestock(main) {
  const [lists, suggestions] = await Promise.all([
    api("GET", "/api/stock/restock-lists", { query: { limit: 500 } }),
    api("GET", "/api/stock/reorder-suggestions", { query: { limit: 500 } }),
  ]);
  fill(
    main,
    h("div", { class: "wh-grid" }, lists.items.length ? lists.items.map(restockCard) : h("p", { class: "muted" }, t("wh.none"))),
    h("h2", {}, t("wh.reorder")),
    desk.table(
      [[t("wh.location")], [t("wh.sku")], [t("wh.name")], [t("wh.free"), "num"], [t("wh.in_transit"), "num"], [t("wh.order_quantity"), "num"]],
      suggestions.items.map((s) =>
        h(
          "tr",
          {},
          h("td", {}, s.location_name || ""),
          h("td", {}, s.sku),
          h("td", {}, s.item_name || ""),
          h("td", { class: "num" }, s.free),
          h("td", { class: "num" }, s.in_transit),
          h("td", { class: "num" }, s.order_quantity),
        ),
      ),
    ),
  );
}

export async function renderShipments(main) {
  const shipments = await api("GET", "/api/stock/shipments", { query: { limit: 500 } });
  fill(
    main,
    desk.table(
      [[t("wh.waybill")], [t("wh.eta")], [t("wh.to")], [t("wh.contents")], [""]],
      shipments.items.map((s) =>
        h(
          "tr",
          { class: s.eta && new Date(s.eta) < new Date() ? "bad" : null },
          h("td", {}, s.waybill || s.code),
          h("td", {}, desk.when(s.eta)),
          h("td", {}, s.destination_name || ""),
          h("td", {}, s.lines.map((l) => `${l.item_sku} ${l.item_name} × ${l.quantity}`).join("; ")),
          h("td", {}, button(t("wh.arrived"), () => post(`/api/stock/shipments/${s.id}/arrival`, { version: s.version }))),
        ),
      ),
    ),
  );
}

function countPanel(count) {
  const submitted = count.status === "submitted";
  const approve = h(
    "form",
    { class: "wh-step" },
    h("input", { name: "reason", required: true, placeholder: t("wh.reason"), "aria-label": t("wh.reason") }),
    h("button", { type: "submit", class: "primary" }, t("wh.approve_count")),
  );
  approve.addEventListener(
    "submit",
    desk.guarded(async (event) => {
      event.preventDefault();
      await post(`/api/stock/counts/${count.id}/approve`, { reason: new FormData(approve).get("reason"), version: count.version });
      desk.refresh();
    }),
  );
  return h(
    "div",
    { class: "wh-panel", dataset: { count: count.id } },
    h("h3", {}, count.engineer_name || count.location_name || "", " ", h("span", { class: "wh-tag" }, v("count_status", count.status))),
    h("p", { class: "muted" }, desk.when(count.opened_at)),
    desk.table(
      [[t("wh.sku")], [t("wh.name")], [t("wh.counted"), "num"], [t("wh.book"), "num"], [t("wh.variance"), "num"]],
      count.lines.map((l) =>
        h(
          "tr",
          { class: l.variance ? "bad" : null },
          h("td", {}, l.item_sku || ""),
          h("td", {}, l.item_name || ""),
          h("td", { class: "num" }, l.counted),
          h("td", { class: "num" }, l.book ?? "—"),
          h("td", { class: "num" }, l.variance ?? "—"),
        ),
      ),
    ),
    submitted ? approve : null,
  );
}

export async function renderCounts(main) {
  const [counts, vans] = await Promise.all([
    api("GET", "/api/stock/counts", { query: { limit: 500 } }),
    api("GET", "/api/locations", { query: { kind: "van", limit: 500 } }),
  ]);
  const running = counts.items.filter((c) => c.status !== "approved");
  const pick = h(
    "select",
    { name: "engineer_id", "aria-label": t("wh.engineer") },
    vans.items.filter((van) => van.engineer_id).map((van) => h("option", { value: van.engineer_id }, van.engineer_name || van.name)),
  );
  fill(
    main,
    h("div", { class: "wh-bar" }, pick, button(t("wh.open_count"), () => post("/api/stock/counts", { engineer_id: pick.value }))),
    h("div", { class: "wh-grid" }, running.length ? running.map(countPanel) : h("p", { class: "muted" }, t("wh.none"))),
  );
}

function importForm() {
  const report = h("div", { id: "import-report", role: "status" });
  const form = h(
    "form",
    { id: "import-form", class: "wh-bar" },
    h("select", { name: "kind", "aria-label": t("wh.import_kind") }, ["items", "units", "balances"].map((k) => h("option", { value: k }, v("import_kind", k)))),
    h("input", { type: "file", name: "file", accept: ".csv,text/csv", required: true, "aria-label": t("wh.file") }),
    h("button", { type: "submit", class: "primary" }, t("wh.import")),
  );
  form.addEventListener(
    "submit",
    desk.guarded(async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const text = await data.get("file").text();
      const done = await post(`/api/stock/imports/${data.get("kind")}`, { csv: text });
      fill(
        report,
        done.applied
          ? h("p", { class: "wh-ok" }, t("wh.imported", done))
          : [
              h("p", { class: "form-error" }, t("wh.rejected", { n: done.rejected.length })),
              h("ul", { class: "wh-report" }, done.rejected.map((r) => h("li", {}, t("wh.line", r)))),
            ],
      );
    }),
  );
  return [form, report];
}

export async function renderFiles(main) {
  const items = await api("GET", "/api/stock/items", { query: { kind: "part", limit: 500 } });
  const where = desk.warehouseSelect("location_id");
  const chosen = h(
    "select",
    { name: "item_id", multiple: true, size: 6, "aria-label": t("wh.name") },
    items.items.map((i) => h("option", { value: i.id }, `${i.sku} ${i.name}`)),
  );
  const labels = button(t("wh.bin_labels"), () =>
    desk.download("/api/stock/labels/items.pdf", { item_id: Array.from(chosen.selectedOptions, (o) => o.value), location_id: where.value }, "bin-labels.pdf"),
  );
  const unitLabels = button(t("wh.unit_labels"), () =>
    desk.download("/api/stock/labels/units.pdf", { location_id: where.value }, "unit-labels.pdf"),
    { id: "print-unit-labels" },
  );
  fill(
    main,
    h("h2", {}, t("wh.import")),
    importForm(),
    h("h2", {}, t("wh.export")),
    h(
      "div",
      { class: "wh-bar" },
      button(t("wh.export_balances"), () => desk.download("/api/stock/balances.csv", {}, "balances.csv")),
      button(t("wh.export_moves"), () => desk.download("/api/stock/moves.csv", {}, "movements.csv")),
    ),
    h("h2", {}, t("wh.labels")),
    h("div", { class: "wh-bar" }, where, unitLabels),
    h("div", { class: "wh-bar" }, chosen, labels),
  );
}
