// A dispatch plan: start, poll every second, show progress, KPIs, routes, unassigned; apply.

import { h, fill } from "./dom.js";
import { label, localTime } from "./format.js";
import { ROUTE_COLOURS } from "./map.js";

const KPI_LABELS = [
  ["visits", "Visits"],
  ["assigned", "Assigned"],
  ["unassigned", "Unassigned"],
  ["on_time", "On time"],
  ["predicted_breaches", "Predicted breaches"],
  ["engineers_used", "Engineers used"],
  ["travel_minutes", "Travel (min)"],
  ["overtime_minutes", "Overtime (min)"],
  ["solve_seconds", "Solve (s)"],
];

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
    h("div", { class: "plan-status", dataset: { status: plan.status } }, h("span", { class: `pill plan-${plan.status}` }, label(plan.status))),
    h("div", { class: "bar" }, bar),
    h(
      "dl",
      { class: "facts compact" },
      h("dt", {}, "Best objective"), h("dd", { class: "plan-objective" }, p.objective ?? "—"),
      h("dt", {}, "Found at"), h("dd", {}, p.elapsed_s === undefined ? "—" : `${Number(p.elapsed_s).toFixed(1)} s`),
      h("dt", {}, "Solutions"), h("dd", {}, p.solutions ?? 0),
      h("dt", {}, running ? "Elapsed" : "Solved in"), h("dd", { class: "plan-elapsed" }, `${shown.toFixed(1)} s of ${timeLimit} s`),
    ),
    plan.status === "queued" && plan.queue_position > 0
      ? h("p", { class: "plan-queue" }, `Waiting for a solver: ${plan.queue_position} plan(s) ahead`)
      : null,
    plan.error ? h("p", { class: "form-error" }, plan.error) : null,
  );
}

export function renderResult(el, plan, { timeZone, onApply }) {
  const result = plan.result;
  if (!result) {
    fill(el);
    return;
  }
  const kpis = result.kpis || {};
  const applied = plan.status === "applied";
  fill(
    el,
    h(
      "div",
      { class: "kpis" },
      KPI_LABELS.map(([key, text]) =>
        h("div", { class: "kpi", dataset: { kpi: key } }, h("span", { class: "kpi-value" }, kpis[key] ?? "—"), h("span", { class: "kpi-label" }, text)),
      ),
    ),
    h(
      "div",
      { class: "plan-actions" },
      h("button", { type: "button", id: "plan-apply", class: "primary", disabled: applied || plan.status !== "done", onclick: onApply }, applied ? "Applied" : "Apply"),
    ),
    h("h3", {}, `Routes (${result.routes.filter((r) => r.stops.length).length})`),
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
            h("div", { class: "route-head" }, swatch, h("strong", { title: route.username || "" }, route.engineer_name || route.username || "engineer"), h("span", { class: "muted" }, `${route.stops.filter((s) => s.kind !== "pickup").length} stops · ${route.travel_minutes} min travel${route.on_call ? " · on call" : ""}`)),
            h(
              "ol",
              { class: "stops" },
              route.stops.map((s) =>
                s.kind === "pickup"
                  ? h(
                      "li",
                      { class: "pickup" },
                      h("span", { class: "muted" }, `Pick up ${s.parts.join(", ")} at ${s.warehouse || "warehouse"} for `),
                      h("span", { class: "problem-number" }, s.problem_number),
                      ` ${localTime(s.start, timeZone)}–${localTime(s.end, timeZone, false)}`,
                    )
                  : h(
                      "li",
                      {},
                      h("span", { class: "problem-number" }, s.problem_number),
                      ` ${localTime(s.start, timeZone)}–${localTime(s.end, timeZone, false)}`,
                      s.late_minutes > 0 ? h("span", { class: "pill state-breached" }, `late ${s.late_minutes} min`) : null,
                    ),
              ),
            ),
          );
        }),
    ),
    h("h3", {}, `Unassigned (${result.unassigned.length})`),
    result.unassigned.length
      ? h("ul", { class: "unassigned" }, result.unassigned.map((u) => h("li", {}, h("span", { class: "problem-number" }, u.problem_number), h("span", { class: "reason" }, label(u.reason)))))
      : h("p", { class: "muted" }, "Every visit has an engineer."),
    result.late?.length
      ? [
          h("h3", {}, `Late (${result.late.length})`),
          h("ul", { class: "late" }, result.late.map((l) => h("li", {}, h("span", { class: "problem-number" }, l.problem_number), ` ${l.late_minutes} min after ${localTime(l.deadline, timeZone)}`, l.reason ? h("span", { class: "reason" }, label(l.reason)) : null))),
        ]
      : null,
  );
}
