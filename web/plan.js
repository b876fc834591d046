// A dispatch plan: start, poll every second, show progress, KPIs, routes, unassigned; apply.

import { h, fill } from "./dom.js";
import { localTime } from "./format.js";
import { t, v } from "./i18n.js";
import { ROUTE_COLOURS } from "./map.js";

const KPIS = ["visits", "assigned", "unassigned", "on_time", "predicted_breaches", "engineers_used", "travel_minutes", "overtime_minutes", "solve_seconds"];

/** `elapsed`: seconds since the plan was started, by this browser's watch. */
export function renderProgress(el, plan, timeLimit, elapsed) {
  const p = plan.progress || {};
  const running = plan.status === "running" || plan.status === "queued";
  const shown = running ? elapsed : Number(plan.result?.kpis?.solve_seconds ?? elapsed);
  const share = timeLimit > 0 ? Math.min(1, elapsed / timeLimit) : 0;
  const bar = h("div", { class: "bar-fill" });
  bar.style.width = `${Math.round((running ? share : 1) * 100)}%`;
  fill(
    el,
    h("div", { class: "plan-status", dataset: { status: plan.status } }, h("span", { class: `pill plan-${plan.status}` }, v("plan_status", plan.status))),
    h("div", { class: "bar" }, bar),
    h(
      "dl",
      { class: "facts compact" },
      h("dt", {}, t("plan.best_objective")), h("dd", { class: "plan-objective" }, p.objective ?? "—"),
      h("dt", {}, t("plan.found_at")), h("dd", {}, p.elapsed_s === undefined ? "—" : `${Number(p.elapsed_s).toFixed(1)} s`),
      h("dt", {}, t("plan.solutions")), h("dd", {}, p.solutions ?? 0),
      h("dt", {}, t(running ? "plan.elapsed" : "plan.solved_in")), h("dd", { class: "plan-elapsed" }, t("plan.of_seconds", { s: shown.toFixed(1), limit: timeLimit })),
    ),
    plan.status === "queued" && plan.queue_position > 0
      ? h("p", { class: "plan-queue" }, t("plan.waiting", { n: plan.queue_position }))
      : null,
    plan.error ? h("p", { class: "form-error" }, plan.error) : null,
  );
}

/** `items`: SKU → item name, so parts read as "SKU name". */
/** The plan beside what is assigned now (GET …/comparison): figures before and after, the moves. */
function renderComparison(comparison, timeZone) {
  if (!comparison) return null;
  const rows = ["assigned", "unassigned", "predicted_breaches"].map((key) =>
    h("tr", { dataset: { figure: key } }, h("th", {}, t(`kpi.${key}`)), h("td", { class: "before" }, comparison.before[key]), h("td", { class: "after" }, comparison.after[key])),
  );
  const when = (iso) => (iso ? localTime(iso, timeZone) : "—");
  return h(
    "section",
    { class: "comparison", id: "plan-comparison" },
    h("h3", {}, t("plan.compare_title", { n: comparison.breaches_avoided })),
    h("table", { class: "figures" }, h("tr", {}, h("th", {}), h("th", {}, t("plan.now")), h("th", {}, t("plan.planned"))), rows),
    h(
      "ul",
      { class: "moves" },
      comparison.moved.map((m) =>
        h("li", { dataset: { visitId: m.visit_id } }, h("span", { class: "problem-number" }, m.problem_number || ""), ` ${m.engineer_before || "—"} ${when(m.start_before)} → ${m.engineer_after || "—"} ${when(m.start_after)}`),
      ),
    ),
  );
}

export function renderResult(el, plan, { timeZone, onApply, items = new Map(), comparison = null }) {
  const result = plan.result;
  if (!result) {
    fill(el);
    return;
  }
  const kpis = result.kpis || {};
  const applied = plan.status === "applied";
  const done = new Set(result.applied_engineers || []);
  const picked = () => [...el.querySelectorAll("input.route-pick:checked:not(:disabled)")].map((box) => box.dataset.engineerId);
  fill(
    el,
    h(
      "div",
      { class: "kpis" },
      KPIS.map((key) =>
        h("div", { class: "kpi", dataset: { kpi: key } }, h("span", { class: "kpi-value" }, kpis[key] ?? "—"), h("span", { class: "kpi-label" }, t(`kpi.${key}`))),
      ),
    ),
    h(
      "div",
      { class: "plan-actions" },
      h("button", { type: "button", id: "plan-apply", class: "primary", disabled: applied || plan.status !== "done", onclick: () => onApply() }, t(applied ? "plan.applied" : "plan.apply")),
      h("button", { type: "button", id: "plan-apply-selected", disabled: applied || plan.status !== "done", onclick: () => onApply(picked()) }, t("plan.apply_selected")),
    ),
    renderComparison(comparison, timeZone),
    h("h3", {}, t("plan.routes", { n: result.routes.filter((r) => r.stops.length).length })),
    h(
      "ol",
      { class: "routes" },
      result.routes
        .filter((r) => r.stops.length)
        .map((route) => {
          const index = (result.geometry?.features || []).findIndex((f) => f.properties.engineer_id === route.engineer_id);
          const swatch = h("span", { class: "swatch" });
          swatch.style.background = ROUTE_COLOURS[(index < 0 ? 0 : index) % ROUTE_COLOURS.length];
          return h(
            "li",
            { class: "route" },
            h("div", { class: "route-head" }, h("input", { type: "checkbox", class: "route-pick", checked: true, disabled: done.has(route.engineer_id) || applied, dataset: { engineerId: route.engineer_id }, "aria-label": route.engineer_name || route.username || "" }), swatch, h("strong", { title: route.username || "" }, route.engineer_name || route.username || t("engineer")), h("span", { class: "muted" }, t("plan.route_summary", { stops: route.stops.filter((s) => s.kind !== "pickup").length, travel: route.travel_minutes }) + (route.on_call ? t("plan.on_call") : ""))),
            h(
              "ol",
              { class: "stops" },
              route.stops.map((s) =>
                s.kind === "pickup"
                  ? h(
                      "li",
                      { class: "pickup" },
                      h("span", { class: "muted" }, t("plan.pickup", { parts: s.parts.map((sku) => (items.get(sku) ? `${sku} ${items.get(sku)}` : sku)).join(", "), warehouse: s.warehouse || t("plan.warehouse") })),
                      h("span", { class: "problem-number" }, s.problem_number),
                      ` ${localTime(s.start, timeZone)}–${localTime(s.end, timeZone, false)}`,
                    )
                  : h(
                      "li",
                      {},
                      h("span", { class: "problem-number" }, s.problem_number),
                      ` ${localTime(s.start, timeZone)}–${localTime(s.end, timeZone, false)}`,
                      s.late_minutes > 0 ? h("span", { class: "pill state-breached" }, t("plan.late_pill", { n: s.late_minutes })) : null,
                    ),
              ),
            ),
          );
        }),
    ),
    h("h3", {}, t("plan.unassigned", { n: result.unassigned.length })),
    result.unassigned.length
      ? h("ul", { class: "unassigned" }, result.unassigned.map((u) => h("li", {}, h("span", { class: "problem-number" }, u.problem_number), h("span", { class: "reason" }, v("reason", u.reason)))))
      : h("p", { class: "muted" }, t("plan.all_assigned")),
    result.late?.length
      ? [
          h("h3", {}, t("plan.late", { n: result.late.length })),
          h("ul", { class: "late" }, result.late.map((l) => h("li", {}, h("span", { class: "problem-number" }, l.problem_number), t("plan.late_after", { n: l.late_minutes, deadline: localTime(l.deadline, timeZone) }), l.reason ? h("span", { class: "reason" }, v("reason", l.reason)) : null))),
        ]
      : null,
  );
}
