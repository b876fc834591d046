// The warehouse desk's loans board, repair cases and defective parts due back to the maker.

import { api } from "./api.js";
import { fill, h } from "./dom.js";
import { t, v } from "./i18n.js";
import { desk } from "./warehouse.js";

const STAGES = ["proposed", "approved", "installed", "at_vendor", "returned", "swap_back", "quarantined", "closed"];
const APPROVERS = new Set(["admin", "supervisor", "dispatcher"]);

const post = (path, body) => api("POST", path, { body });

/** Where a loan stands on the board, from the loan, its repair case and its backup unit. */
function stageOf(loan, repair, unit) {
  if (loan.status === "proposed" || loan.status === "approved") return loan.status;
  if (loan.status === "open") {
    if (!repair || repair.status === "awaiting_shipment") return "installed";
    return repair.status === "returned" ? "returned" : "at_vendor";
  }
  if (loan.status === "returning") return unit && unit.location_kind === "warehouse" ? "quarantined" : "swap_back";
  return loan.status === "closed" ? "closed" : null;
}

function isOverdue(loan) {
  return Boolean(loan.overdue);
}

/** A small form on a card: its fields, one button, the step through the API. */
function step(label, fields, action) {
  const form = h("form", { class: "wh-step" }, fields, h("button", { type: "submit", class: "primary" }, label));
  form.addEventListener(
    "submit",
    desk.guarded(async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      await action(values);
      desk.refresh();
    }),
  );
  return form;
}

function input(name, label) {
  return h("input", { name, required: true, placeholder: label, "aria-label": label });
}

function actionsFor(stage, loan, repair, unit) {
  if (stage === "proposed") {
    return APPROVERS.has(desk.role)
      ? step(t("wh.approve"), [], () => post(`/api/stock/loans/${loan.id}/approve`, { version: loan.version }))
      : h("span", { class: "muted" }, t("wh.approve_desk"));
  }
  if (stage === "installed" && repair) {
    return step(t("wh.ship"), [input("waybill", t("wh.waybill"))], ({ waybill }) =>
      post(`/api/stock/repairs/${repair.id}/ship`, { waybill, version: repair.version }),
    );
  }
  if (stage === "at_vendor" && repair) {
    return [
      repair.status === "shipped"
        ? step(t("wh.vendor_received"), [], () => post(`/api/stock/repairs/${repair.id}/vendor-received`, { version: repair.version }))
        : null,
      step(t("wh.record_return"), [desk.warehouseSelect()], ({ warehouse_id }) =>
        post(`/api/stock/repairs/${repair.id}/returned`, { warehouse_id, version: repair.version }),
      ),
    ];
  }
  if (stage === "swap_back" && unit) {
    return step(t("wh.back_in_stock"), [desk.warehouseSelect()], ({ warehouse_id }) =>
      post(`/api/stock/units/${unit.id}/back-in-stock`, { warehouse_id, version: unit.version }),
    );
  }
  if (stage === "quarantined" && unit) {
    return step(t("wh.record_wipe"), [input("method", t("wh.method")), input("operator", t("wh.operator"))], ({ method, operator }) =>
      post(`/api/stock/units/${unit.id}/wipe`, { method, operator, version: unit.version }),
    );
  }
  if (stage === "approved" || stage === "returned") return h("span", { class: "muted" }, t("wh.waiting_engineer"));
  return null;
}

function card(loan, stage, repair, unit) {
  const overdue = isOverdue(loan);
  return h(
    "div",
    { class: `wh-card${overdue ? " overdue" : ""}`, dataset: { loan: loan.id, stage } },
    h("strong", {}, loan.serial || "—", " ", h("span", { class: "muted" }, loan.item_name || "")),
    overdue ? h("span", { class: "wh-tag bad" }, t("wh.overdue")) : null,
    loan.return_by ? h("span", { class: "muted" }, t("wh.return_by", { day: loan.return_by })) : null,
    repair ? h("span", { class: "muted" }, `RMA ${v("repair_status", repair.status)}${repair.waybill ? ` · ${repair.waybill}` : ""}`) : null,
    actionsFor(stage, loan, repair, unit),
  );
}

export async function renderLoans(main) {
  const [loans, repairs, units] = await Promise.all([
    api("GET", "/api/stock/loans", { query: { limit: 500 } }),
    api("GET", "/api/stock/repairs", { query: { limit: 500 } }),
    api("GET", "/api/stock/units", { query: { unit_state: "quarantined", limit: 500 } }),
  ]);
  const repairOf = new Map(repairs.items.filter((r) => r.loan_id).map((r) => [r.loan_id, r]));
  const unitOf = new Map(units.items.map((u) => [u.id, u]));
  const columns = new Map(STAGES.map((s) => [s, []]));
  for (const loan of loans.items) {
    const repair = repairOf.get(loan.id);
    const unit = unitOf.get(loan.unit_id);
    const stage = stageOf(loan, repair, unit);
    if (stage) columns.get(stage).push({ loan, repair, unit });
  }
  fill(
    main,
    h(
      "div",
      { class: "wh-board" },
      STAGES.map((stage) => {
        const entries = columns.get(stage).sort((a, b) => Number(isOverdue(b.loan)) - Number(isOverdue(a.loan)));
        return h(
          "section",
          { class: "wh-column", dataset: { stage } },
          h("h3", {}, v("stage", stage), h("span", { class: "muted" }, entries.length)),
          entries.map(({ loan, repair, unit }) => card(loan, stage, repair, unit)),
        );
      }),
    ),
  );
}

export async function renderRepairs(main) {
  const repairs = await api("GET", "/api/stock/repairs", { query: { limit: 500 } });
  const rows = repairs.items
    .filter((r) => r.status !== "written_off")
    .map((r) =>
      h(
        "tr",
        { class: (r.days_at_vendor || 0) > 21 && !r.returned_at ? "bad" : null },
        h("td", {}, h("a", { href: `#unit/${r.unit_id}` }, r.serial || "—")),
        h("td", {}, r.item_name || ""),
        h("td", {}, v("repair_status", r.status)),
        h("td", {}, r.waybill || ""),
        h("td", { class: "num" }, r.days_at_vendor ?? "—"),
        h(
          "td",
          {},
          ["awaiting_shipment", "shipped", "at_vendor"].includes(r.status)
            ? step(t("wh.write_off"), [input("note", t("wh.reason"))], ({ note }) =>
                post(`/api/stock/repairs/${r.id}/write-off`, { note, version: r.version }),
              )
            : null,
        ),
      ),
    );
  fill(
    main,
    desk.table([[t("wh.serial")], [t("wh.model")], [t("wh.status")], [t("wh.waybill")], [t("wh.days_at_vendor"), "num"], [""]], rows),
  );
}

export async function renderDefective(main) {
  const swaps = await api("GET", "/api/stock/part-swaps", { query: { open_returns: true, limit: 500 } });
  const rows = swaps.items
    .sort((a, b) => String(a.return_by).localeCompare(String(b.return_by)))
    .map((s) =>
      h(
        "tr",
        { class: s.overdue ? "bad" : null },
        h("td", {}, h("a", { href: `#unit/${s.removed_unit_id}` }, s.removed_serial)),
        h("td", {}, `${s.item_sku || ""} ${s.item_name || ""}`),
        h("td", {}, s.bin_location_name || ""),
        h("td", {}, s.return_by || "—", " ", s.overdue ? h("span", { class: "wh-tag bad" }, t("wh.overdue")) : null),
        h(
          "td",
          {},
          step(t("wh.returned"), [input("waybill", t("wh.waybill"))], ({ waybill }) =>
            post(`/api/stock/part-swaps/${s.id}/return`, { waybill, version: s.version }),
          ),
        ),
      ),
    );
  fill(main, desk.table([[t("wh.serial")], [t("wh.name")], [t("wh.bin")], [t("wh.deadline")], [""]], rows));
}
