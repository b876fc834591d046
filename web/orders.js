// The work-order list (nearest deadline first) and one order's detail.

import { h, fill } from "./dom.js";
import { duration, localTime } from "./format.js";
import { t, v } from "./i18n.js";

/** One clock as a coloured chip; its remaining time ticks from `fetchedAt`. */
function clockChip(clock, timeZone, fetchedAt) {
  const remaining = h("span", { class: "clock-remaining" });
  const chip = h(
    "span",
    {
      class: `clock state-${clock.state}`,
      title: `${v("measure", clock.measure)}: ${v("state", clock.state)}`,
      dataset: { measure: clock.measure, state: clock.state },
    },
    h("span", { class: "clock-measure" }, v("measure", clock.measure)),
    h("span", { class: "clock-state" }, v("state", clock.state)),
    remaining,
    h("span", { class: "clock-deadline" }, clock.deadline ? localTime(clock.deadline, timeZone) : ""),
  );
  const tick = () => {
    if (clock.state === "met") {
      remaining.textContent = clock.met_at ? t("clock.met_at", { time: localTime(clock.met_at, timeZone, false) }) : t("clock.met");
    } else if (clock.remaining_seconds === null || clock.remaining_seconds === undefined) {
      remaining.textContent = clock.deadline ? "" : t("clock.no_deadline");
    } else if (clock.state === "paused") {
      remaining.textContent = t("clock.left", { d: duration(clock.remaining_seconds) });
    } else {
      const left = clock.remaining_seconds - (Date.now() - fetchedAt) / 1000;
      remaining.textContent = t(left >= 0 ? "clock.left" : "clock.over", { d: duration(left) });
      remaining.classList.toggle("overdue", left < 0);
    }
  };
  tick();
  chip.tick = tick;
  return chip;
}

export function renderOrderList(listEl, orders, { fetchedAt, selectedId, onSelect }) {
  const chips = [];
  const rows = orders.map((order) => {
    const tz = order.site.time_zone;
    const clocks = order.clocks.map((c) => clockChip(c, tz, fetchedAt));
    chips.push(...clocks);
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: `order-row${order.id === selectedId ? " selected" : ""}`,
          dataset: { id: order.id, problemNumber: order.problem_number },
          onclick: () => onSelect(order.id),
        },
        h(
          "div",
          { class: "order-head" },
          h("span", { class: "problem-number" }, order.problem_number),
          h("span", { class: `pill severity-${order.severity}` }, v("severity", order.severity)),
          order.kind === "inspection" ? h("span", { class: "pill kind-inspection" }, v("work_kind", order.kind)) : null,
          h("span", { class: `pill status status-${order.status}` }, v("status", order.status)),
          h("span", { class: "reported", title: t("list.reported") }, localTime(order.reported_at, tz)),
        ),
        h("div", { class: "order-site" }, h("span", { class: "site-name" }, order.site.name), h("span", { class: "site-address" }, order.site.address)),
        h("div", { class: "order-fault" }, order.fault_description),
        h("div", { class: "clocks" }, clocks),
      ),
    );
  });
  if (!rows.length) rows.push(h("li", { class: "empty" }, t("list.empty")));
  fill(listEl, rows);
  return () => chips.forEach((chip) => chip.tick());
}

function section(title, ...content) {
  return h("section", { class: "detail-section" }, h("h3", {}, title), content);
}

function table(headers, rows) {
  return h(
    "table",
    { class: "grid" },
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => (c instanceof Node ? h("td", {}, c) : h("td", {}, c ?? "—")))))),
  );
}

/**
 * One order: facts, the desk's `actions` (a node, or null), clocks, visits (with `visitAction(visit)`
 * beside each), `extra` sections (loans) and the timeline. `names(id)` gives a person's display name,
 * `itemName(sku)` a part's name (shown beside its code).
 */
export function renderOrderDetail(el, order, { names, itemName = () => null, fetchedAt, actions = null, visitAction = () => null, extra = [] }) {
  const tz = order.site.time_zone;
  const who = (id) => (id ? names(id) : "—");
  fill(
    el,
    h(
      "header",
      { class: "detail-head" },
      h("h2", { class: "problem-number" }, order.problem_number),
      h("span", { class: `pill severity-${order.severity}`, dataset: { severity: order.severity } }, v("severity", order.severity)),
      h("span", { class: `pill status status-${order.status}`, dataset: { status: order.status } }, v("status", order.status)),
      order.kind === "inspection" ? h("span", { class: "pill kind-inspection" }, v("work_kind", order.kind)) : null,
      order.billable ? h("span", { class: "pill billable" }, t("detail.billable")) : null,
    ),
    actions,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("detail.site")), h("dd", { class: "site-name" }, order.site.name),
      h("dt", {}, t("detail.address")), h("dd", {}, order.site.address),
      h("dt", {}, t("detail.contact")), h("dd", {}, `${order.contact_name} ${order.contact_phone}`),
      h("dt", {}, t("detail.asset")), h("dd", {}, [order.asset_model, order.asset_serial].filter(Boolean).join(" · ") || "—"),
      h("dt", {}, t("detail.fault")), h("dd", {}, order.fault_description),
      h("dt", {}, t("detail.impact")), h("dd", {}, order.impact_scope || "—"),
      h("dt", {}, t("detail.reported")),
      h("dd", {}, t("detail.reported_via", { time: localTime(order.reported_at, tz), zone: tz, channel: v("channel", order.channel) })),
      h("dt", {}, t("detail.archive")), h("dd", {}, order.archive_id),
    ),
    section(
      t("detail.clocks"),
      table(
        [t("detail.clock"), t("detail.state"), t("detail.deadline"), t("detail.remaining")],
        order.clocks.map((c) => {
          const chip = clockChip(c, tz, fetchedAt);
          return [
            v("measure", c.measure),
            h("span", { class: `pill state-${c.state}`, dataset: { measure: c.measure, state: c.state } }, v("state", c.state)),
            c.deadline ? localTime(c.deadline, tz) : "—",
            chip.querySelector(".clock-remaining"),
          ];
        }),
      ),
    ),
    section(
      t("detail.visits"),
      order.visits.length
        ? table(
            [t("detail.kind"), t("detail.state"), t("detail.engineer"), t("detail.planned_start"), t("detail.duration"), ""],
            order.visits.map((visit) => [
              h(
                "span",
                {},
                v("visit_kind", visit.kind),
                (visit.required_parts || []).map((part) =>
                  h("span", { class: "part", title: part.sku }, `${part.sku}${itemName(part.sku) ? ` ${itemName(part.sku)}` : ""} ×${part.quantity ?? 1}`),
                ),
              ),
              v("visit_status", visit.status),
              h("span", { class: "visit-engineer", dataset: { visitId: visit.id } }, who(visit.engineer_id)),
              localTime(visit.planned_start, tz),
              t("detail.minutes", { n: visit.duration_minutes }),
              visitAction(visit) || "",
            ]),
          )
        : h("p", { class: "muted" }, t("detail.no_visits")),
    ),
    extra,
    section(
      t("detail.timeline"),
      h(
        "ol",
        { class: "timeline" },
        (order.timeline || []).map((e) =>
          h(
            "li",
            {},
            h("time", {}, localTime(e.at, tz)),
            h("span", { class: "event-kind" }, v("event", e.kind)),
            e.actor_id ? h("span", { class: "event-actor" }, names(e.actor_id, "")) : null,
            e.from_status || e.to_status ? h("span", { class: "event-move" }, `${v("status", e.from_status)} → ${v("status", e.to_status)}`) : null,
            e.note ? h("span", { class: "event-note" }, e.note) : null,
          ),
        ),
      ),
    ),
  );
}

export { section, table };
