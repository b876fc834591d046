// The route: today's and tomorrow's visits in planned order, with the planned time in the
// site's zone, the customer, the address and the nearest SLA deadline counting down.
import { h, fill } from "../../dom.js";
import { t } from "../i18n.js";
import { localTime, routeGroup } from "../model.js";
import { countdown } from "./visit.js";

const GROUPS = ["today", "tomorrow", "other_days", "unscheduled"];

function nextDeadline(order) {
  const open = (order.clocks || []).filter((c) => c.deadline && !c.met_at).map((c) => c.deadline).sort();
  return open[0] || (order.due_at && !order.due_at.startsWith("2999") ? order.due_at : null);
}

function card({ visit, order }) {
  const zone = order.site.time_zone;
  const deadline = nextDeadline(order);
  return h("a", { class: "visit-card", href: `#/visit/${visit.id}`, dataset: { visitId: visit.id, status: visit.status, problemNumber: order.problem_number } },
    h("div", { class: "top" },
      h("span", { class: "planned" }, visit.planned_start ? localTime(visit.planned_start, zone) : "—"),
      h("span", { class: `badge sev-${order.severity}` }, t(`sev_${order.severity}`)),
      h("span", { class: `badge status-${visit.status}` }, t(`st_${visit.status}`))),
    h("div", { class: "customer" }, order.customer?.name || order.site.name),
    h("div", { class: "site-name" }, order.site.name),
    h("div", { class: "address" }, order.site.address),
    h("div", { class: "fault" }, `${order.problem_number} · ${order.fault_description}`),
    deadline ? h("div", {}, `${t("due")}: `, countdown(deadline, zone)) : null);
}

export function render(root, { day }) {
  const groups = Object.fromEntries(GROUPS.map((g) => [g, []]));
  for (const entry of day.visits) groups[routeGroup(entry.visit, entry.order)].push(entry);
  fill(root,
    h("h1", {}, t("tab_route")),
    day.visits.length ? null : h("p", { id: "no-visits" }, t("no_visits")),
    GROUPS.filter((g) => groups[g].length).map((g) =>
      h("section", { class: "route-group", dataset: { group: g } }, h("h2", {}, t(g)), groups[g].map(card))));
}
