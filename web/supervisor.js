// The supervisor's desk: SLA compliance of a period (by customer, region, engineer or severity)
// with the orders behind each figure, the completion KPIs, open escalations, engineers' time
// against their caps, two charts, and CSV files of each — the same numbers the API answers.

import { api, download } from "./api.js";
import { barChart } from "./charts.js";
import { $, fill, h } from "./dom.js";
import { localTime } from "./format.js";
import { t, v } from "./i18n.js";

// Dates of the period are days in the sites' zone; "last month" is counted on the company's clock.
const COMPANY_ZONE = "Asia/Shanghai";
const AGE_BUCKETS = [
  { key: "age.lt1", days: 1 },
  { key: "age.1to3", days: 3 },
  { key: "age.3to7", days: 7 },
  { key: "age.7to30", days: 30 },
  { key: "age.gt30", days: Infinity },
];
const SHOWN_KPIS = [
  "first_time_fix_rate",
  "mean_time_to_restore",
  "resolution_rate",
  "resolution_rate_major",
  "repeat_fault_rate",
  "stock_out_rate",
  "satisfaction",
  "csat",
  "complaints_per_100_orders",
  "engineer_utilisation",
  "travel_share",
  "mean_loan_days",
];

function today(zone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

function iso(date) {
  return date.toISOString().slice(0, 10);
}

/** The first and the last day of the month before today's, on the company's clock. */
export function lastMonth(now = today(COMPANY_ZONE)) {
  const [y, m] = now.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 2, 1));
  const last = new Date(Date.UTC(y, m - 1, 0));
  return { since: iso(first), until: iso(last) };
}

/** The weeks (Monday to Sunday, cut at the period's ends) of a period of plain dates. */
function weeks(since, until) {
  const out = [];
  let start = new Date(`${since}T00:00:00Z`);
  const end = new Date(`${until}T00:00:00Z`);
  while (start <= end) {
    const sunday = new Date(start);
    sunday.setUTCDate(sunday.getUTCDate() + ((7 - sunday.getUTCDay()) % 7));
    const last = sunday < end ? sunday : end;
    out.push({ since: iso(start), until: iso(last) });
    start = new Date(last);
    start.setUTCDate(start.getUTCDate() + 1);
  }
  return out;
}

const percent = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);

function kpiValue(k) {
  if (k.status === "not_applicable" || k.value === null) return "—";
  if (k.unit === "ratio") return percent(k.value);
  if (k.unit === "hours") return t("unit.hours", { n: k.value.toFixed(1) });
  if (k.unit === "days") return t("unit.days", { n: k.value.toFixed(1) });
  return String(Math.round(k.value * 100) / 100);
}

/** Overall share met of the clocks decided in a compliance answer (every target together). */
function overall(report) {
  let met = 0;
  let decided = 0;
  for (const g of report.groups) {
    for (const m of g.measures) {
      met += m.met;
      decided += m.met + m.breached;
    }
  }
  return decided ? met / decided : null;
}

export function createSupervisorDesk(root, { openOrder, fail }) {
  const state = {
    ...lastMonth(),
    groupBy: "",
    report: null,
    kpis: null,
    behind: null,
    escalations: null,
    engineers: null,
    weekly: null,
    ages: null,
    loaded: false,
  };
  const guarded = (fn) => async (...args) => {
    try {
      return await fn(...args);
    } catch (error) {
      fail(error);
      return undefined;
    }
  };

  function filters() {
    return { since: state.since, until: state.until, group_by: state.groupBy || undefined };
  }

  async function loadCompliance() {
    const [report, kpis] = await Promise.all([
      api("GET", "/api/reports/sla-compliance", { query: filters() }),
      api("GET", "/api/kpis", { query: { from: state.since, to: state.until } }),
    ]);
    state.report = report;
    state.kpis = kpis;
    state.behind = null;
    render();
    state.weekly = await Promise.all(
      weeks(state.since, state.until).map(async (w) => ({
        ...w,
        value: overall(await api("GET", "/api/reports/sla-compliance", { query: w })),
      })),
    );
    render();
  }

  async function loadBoard() {
    const [escalations, engineers] = await Promise.all([
      api("GET", "/api/reports/escalations", { query: { limit: 50 } }),
      api("GET", "/api/reports/engineer-time"),
    ]);
    state.escalations = escalations;
    state.engineers = engineers;
    render();
    state.ages = await openOrderAges();
    render();
  }

  async function openOrderAges() {
    const counts = AGE_BUCKETS.map(() => 0);
    const now = Date.now();
    let cursor = null;
    for (let page = 0; page < 10; page++) {
      const found = await api("GET", "/api/work-orders", { query: { open_only: "true", limit: 500, cursor } });
      for (const order of found.items) {
        const days = (now - Date.parse(order.reported_at)) / 86_400_000;
        counts[AGE_BUCKETS.findIndex((b) => days < b.days)] += 1;
      }
      cursor = found.next_cursor;
      if (!cursor) break;
    }
    return counts;
  }

  async function showOrders(group, measure, outcome) {
    const query = { ...filters(), key: state.groupBy ? group.key : undefined, measure: measure || undefined, outcome, limit: 50 };
    const page = await api("GET", "/api/reports/sla-compliance/orders", { query });
    state.behind = { group, measure, outcome, query, items: page.items, next: page.next_cursor };
    render();
    root.querySelector("#sv-orders")?.scrollIntoView({ block: "nearest" });
  }

  async function moreOrders() {
    const b = state.behind;
    const page = await api("GET", "/api/reports/sla-compliance/orders", { query: { ...b.query, cursor: b.next } });
    b.items = [...b.items, ...page.items];
    b.next = page.next_cursor;
    render();
  }

  function csvButton(id, path, query, name) {
    return h("button", { type: "button", id, class: "csv", onclick: guarded(() => download(path, query, name)) }, t("sv.csv"));
  }

  function toolbar() {
    const since = h("input", { type: "date", id: "sv-since", value: state.since, required: true });
    const until = h("input", { type: "date", id: "sv-until", value: state.until, required: true });
    const group = h(
      "select",
      { id: "sv-group-by" },
      ["", "customer", "region", "engineer", "severity"].map((g) => h("option", { value: g, selected: g === state.groupBy }, t(`sv.by.${g || "none"}`))),
    );
    const apply = guarded(async () => {
      if (!since.value || !until.value) return;
      Object.assign(state, { since: since.value, until: until.value, groupBy: group.value });
      await loadCompliance();
    });
    since.addEventListener("change", apply);
    until.addEventListener("change", apply);
    group.addEventListener("change", apply);
    return h(
      "form",
      { class: "sv-toolbar", onsubmit: (e) => e.preventDefault() },
      h("label", {}, t("sv.since"), " ", since),
      h("label", {}, t("sv.until"), " ", until),
      h("label", {}, t("sv.group_by"), " ", group),
      h("span", { class: "muted" }, state.report ? t("sv.zone", { zone: state.report.time_zone }) : ""),
      csvButton("sv-csv", "/api/reports/sla-compliance.csv", filters(), `sla-compliance-${state.since}.csv`),
    );
  }

  function complianceTable() {
    const report = state.report;
    if (!report) return h("p", { class: "muted" }, t("sv.loading"));
    if (!report.groups.length) return h("p", { class: "muted" }, t("sv.none"));
    const rows = [];
    for (const group of report.groups) {
      group.measures.forEach((m, i) => {
        const figure = (n, outcome, cls) =>
          n
            ? h("button", { type: "button", class: `link figure ${cls}`, dataset: { group: group.key, measure: m.measure, outcome }, onclick: guarded(() => showOrders(group, m.measure, outcome)) }, n)
            : h("span", { class: "muted" }, "0");
        rows.push(
          h(
            "tr",
            { dataset: { group: group.key, measure: m.measure } },
            i === 0 ? h("th", { rowspan: group.measures.length, scope: "rowgroup", class: "sv-group" }, groupName(group)) : null,
            h("td", {}, v("measure", m.measure)),
            h("td", { class: "num" }, m.clocks),
            h("td", { class: "num" }, m.met),
            h("td", { class: "num", "data-col": "breached" }, figure(m.breached, "breached", "state-breached")),
            h("td", { class: "num" }, m.customer_excused),
            h("td", { class: "num", "data-col": "running" }, figure(m.running, "at_risk", "state-at_risk")),
            h("td", { class: "num", "data-col": "raw" }, percent(m.raw_compliance)),
            h("td", { class: "num", "data-col": "contractual" }, percent(m.contractual_compliance)),
          ),
        );
      });
    }
    const head = ["sv.col.group", "sv.col.measure", "sv.col.clocks", "sv.col.met", "sv.col.breached", "sv.col.excused", "sv.col.running", "sv.col.raw", "sv.col.contractual"];
    return h("table", { class: "sv-table", id: "sv-compliance" }, h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))))), h("tbody", {}, rows));
  }

  function groupName(group) {
    if (!state.groupBy) return t("sv.all");
    if (!group.key) return t(state.groupBy === "engineer" ? "sv.unassigned" : "sv.no_group");
    return state.groupBy === "severity" ? v("severity", group.name) : group.name;
  }

  function ordersPanel() {
    const b = state.behind;
    if (!b) return null;
    const title = t(b.outcome === "breached" ? "sv.orders_breached" : "sv.orders_at_risk", { group: groupName(b.group), measure: v("measure", b.measure) });
    const { limit, cursor, ...query } = b.query;
    return h(
      "section",
      { id: "sv-orders", class: "sv-card" },
      h("header", {}, h("h3", {}, title), csvButton("sv-orders-csv", "/api/reports/sla-compliance/orders.csv", query, `sla-${b.outcome}-orders.csv`)),
      h(
        "ul",
        { class: "sv-order-list" },
        b.items.map((o) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "sv-order", dataset: { id: o.id, problemNumber: o.problem_number }, onclick: () => openOrder(o.id) },
              h("strong", {}, o.problem_number),
              " ",
              h("span", { class: `severity severity-${o.severity}` }, v("severity", o.severity)),
              " ",
              `${o.customer_name} · ${o.site_name}`,
              " · ",
              o.engineer_name || t("sv.unassigned"),
              h("span", { class: "muted" }, " ", o.clocks.map((c) => `${v("measure", c.measure)} ${c.deadline ? localTime(c.deadline, state.report?.time_zone || COMPANY_ZONE) : ""}`).join(" · ")),
            ),
          ),
        ),
      ),
      b.items.length ? null : h("p", { class: "muted" }, t("sv.none")),
      b.next ? h("button", { type: "button", class: "link", onclick: guarded(moreOrders) }, t("sv.more")) : null,
    );
  }

  function kpiTiles() {
    if (!state.kpis) return null;
    const byKey = new Map(state.kpis.kpis.map((k) => [k.key, k]));
    return h(
      "section",
      { class: "sv-card", id: "sv-kpis" },
      h("h3", {}, t("sv.kpis")),
      h(
        "div",
        { class: "sv-tiles" },
        SHOWN_KPIS.filter((key) => byKey.has(key)).map((key) => {
          const k = byKey.get(key);
          const cls = k.within_target === false ? "off-target" : k.within_target ? "on-target" : "";
          return h("div", { class: `sv-tile ${cls}`, dataset: { kpi: key }, title: k.definition }, h("span", { class: "muted" }, v("kpi", key)), h("strong", {}, kpiValue(k)));
        }),
      ),
    );
  }

  function charts() {
    const weekly = state.weekly
      ? barChart(
          state.weekly.map((w) => ({ label: w.since.slice(5), value: w.value, title: `${w.since} – ${w.until}` })),
          { max: 1, format: percent, label: t("sv.chart_weekly"), className: "chart-weekly" },
        )
      : h("p", { class: "muted" }, t("sv.loading"));
    const ages = state.ages
      ? barChart(
          AGE_BUCKETS.map((b, i) => ({ label: t(b.key), value: state.ages[i] })),
          { label: t("sv.chart_ages"), className: "chart-ages" },
        )
      : h("p", { class: "muted" }, t("sv.loading"));
    return h(
      "div",
      { class: "sv-charts" },
      h("section", { class: "sv-card", id: "sv-chart-weekly" }, h("h3", {}, t("sv.chart_weekly")), weekly),
      h("section", { class: "sv-card", id: "sv-chart-ages" }, h("h3", {}, t("sv.chart_ages")), ages),
    );
  }

  function escalationsCard() {
    const page = state.escalations;
    return h(
      "section",
      { class: "sv-card", id: "sv-escalations" },
      h("h3", {}, t("sv.escalations")),
      !page
        ? h("p", { class: "muted" }, t("sv.loading"))
        : page.items.length
          ? h(
              "ul",
              { class: "sv-order-list" },
              page.items.map((e) =>
                h(
                  "li",
                  {},
                  h(
                    "button",
                    { type: "button", class: "sv-order", dataset: { id: e.work_order_id }, onclick: () => openOrder(e.work_order_id) },
                    h("strong", {}, e.problem_number),
                    ` ${v("measure", e.measure)} · ${t("sv.level", { n: e.escalation_level })} · ${e.customer_name} · ${e.engineer_name || t("sv.unassigned")} · `,
                    h("span", { class: e.breached ? "state-breached" : "" }, e.deadline ? localTime(e.deadline, COMPANY_ZONE) : ""),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted" }, t("sv.none")),
    );
  }

  function engineersCard() {
    const report = state.engineers;
    if (!report) return h("section", { class: "sv-card" }, h("p", { class: "muted" }, t("sv.loading")));
    const head = ["sv.col.engineer", "sv.col.shift", "sv.col.on_site", "sv.col.utilisation", "sv.col.overtime", "sv.col.cap_day", "sv.col.left_month"];
    return h(
      "section",
      { class: "sv-card", id: "sv-engineers" },
      h("header", {}, h("h3", {}, t("sv.engineers")), csvButton("sv-engineers-csv", "/api/reports/engineer-time.csv", {}, "engineer-time.csv")),
      h(
        "table",
        { class: "sv-table" },
        h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))))),
        h(
          "tbody",
          {},
          report.engineers.map((e) =>
            h(
              "tr",
              { dataset: { engineer: e.engineer_id } },
              h("td", {}, e.engineer_name),
              h("td", { class: "num" }, e.shift_hours.toFixed(1)),
              h("td", { class: "num" }, e.on_site_hours.toFixed(1)),
              h("td", { class: "num" }, h("meter", { min: 0, max: 1, value: e.utilisation ?? 0 }), " ", percent(e.utilisation)),
              h("td", { class: e.overtime_left_month_minutes !== null && e.overtime_hours * 60 > e.overtime_left_month_minutes ? "num state-breached" : "num" }, e.overtime_hours.toFixed(1)),
              h("td", { class: "num" }, t("unit.minutes", { n: e.overtime_cap_minutes_day })),
              h("td", { class: "num" }, e.overtime_left_month_minutes === null ? "—" : t("unit.minutes", { n: e.overtime_left_month_minutes })),
            ),
          ),
        ),
      ),
    );
  }

  function render() {
    fill(
      root,
      h("h2", {}, t("sv.title")),
      toolbar(),
      h("section", { class: "sv-card" }, h("h3", {}, t("sv.compliance")), complianceTable()),
      ordersPanel(),
      kpiTiles(),
      charts(),
      escalationsCard(),
      engineersCard(),
    );
  }

  return {
    async show() {
      render();
      if (!state.loaded) {
        state.loaded = true;
        await Promise.all([guarded(loadCompliance)(), guarded(loadBoard)()]);
      }
    },
    rerender: render,
  };
}
