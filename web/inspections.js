// The dispatcher's inspections (巡检): overdue first, then due, then upcoming, each with its site,
// customer, window in the site's zone and the planned engineer; a row opens its work order.

import { api } from "./api.js";
import { fill, h } from "./dom.js";
import { localTime } from "./format.js";
import { t } from "./i18n.js";

// Overdue ones press most: they lead.
const STATES = ["overdue", "due", "upcoming"];
const LIMIT = 100;

function planned(row) {
  if (!row.planned.length) return h("span", { class: "insp-unplanned" }, t("insp.not_planned"));
  return row.planned.map((visit) =>
    h(
      "span",
      { class: "insp-planned" },
      visit.engineer_name || t("engineer"),
      " · ",
      visit.planned_start ? localTime(visit.planned_start, row.time_zone || "UTC") : t("insp.no_start"),
    ),
  );
}

function inspectionRow(row, selectedId, onOpen) {
  const zone = row.time_zone || "UTC";
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: `order-row inspection-row${row.work_order_id && row.work_order_id === selectedId ? " selected" : ""}`,
        dataset: { id: row.id, state: row.state, workOrderId: row.work_order_id || "", problemNumber: row.problem_number || "" },
        disabled: !row.work_order_id,
        onclick: () => row.work_order_id && onOpen(row.work_order_id),
      },
      h(
        "div",
        { class: "order-head" },
        h("span", { class: "problem-number" }, row.problem_number || "—"),
        h("span", { class: `pill insp-state insp-${row.state}` }, t(`insp.state.${row.state}`)),
        h("span", { class: "reported" }, t("insp.assets", { n: row.assets.length })),
      ),
      h("div", { class: "order-site" }, h("span", { class: "site-name" }, row.site_name || "—"), h("span", { class: "site-address" }, row.customer_name || "")),
      h(
        "div",
        { class: "insp-window", title: zone },
        t("insp.window", { start: localTime(row.window_start, zone), end: localTime(row.window_end, zone), zone }),
      ),
      h("div", { class: "insp-plan" }, planned(row)),
    ),
  );
}

/** The inspections view inside `el`; `openOrder(workOrderId)` shows an order in the side panel. */
export function createInspections(el, { openOrder, fail }) {
  let byState = null;
  let selectedId = null;
  let seq = 0;

  function render() {
    if (!byState) {
      fill(el, h("p", { class: "muted list-note" }, t("insp.loading")));
      return;
    }
    const sections = STATES.map((state) => {
      const rows = byState[state];
      return h(
        "section",
        { class: "insp-group", dataset: { state } },
        h("h3", {}, t(`insp.group.${state}`, { n: rows.length })),
        h(
          "ul",
          { class: "order-list" },
          rows.length
            ? rows.map((row) => inspectionRow(row, selectedId, (id) => {
                selectedId = id;
                render();
                openOrder(id);
              }))
            : h("li", { class: "empty" }, t("insp.none")),
        ),
      );
    });
    fill(el, sections);
  }

  async function load() {
    const mine = ++seq;
    try {
      const pages = await Promise.all(
        STATES.map((state) => api("GET", "/api/inspections", { query: { state, limit: LIMIT } })),
      );
      if (mine !== seq) return; // a newer load's answer wins
      byState = Object.fromEntries(STATES.map((state, i) => [state, pages[i].items]));
      render();
    } catch (error) {
      fail(error);
    }
  }

  return {
    show: () => {
      render();
      return load();
    },
    reload: load,
    rerender: render,
  };
}
