// The work-order list (nearest deadline first) and one order's detail.

import { h, fill } from "./dom.js";
import { MEASURES, STATES, duration, label, localTime } from "./format.js";

/** One clock as a coloured chip; its remaining time ticks from `fetchedAt`. */
function clockChip(clock, timeZone, fetchedAt) {
  const remaining = h("span", { class: "clock-remaining" });
  const chip = h(
    "span",
    {
      class: `clock state-${clock.state}`,
      title: `${MEASURES[clock.measure] || clock.measure}: ${STATES[clock.state] || clock.state}`,
      dataset: { measure: clock.measure, state: clock.state },
    },
    h("span", { class: "clock-measure" }, MEASURES[clock.measure] || label(clock.measure)),
    h("span", { class: "clock-state" }, STATES[clock.state] || label(clock.state)),
    remaining,
    h("span", { class: "clock-deadline" }, clock.deadline ? localTime(clock.deadline, timeZone) : ""),
  );
  const tick = () => {
    if (clock.state === "met") {
      remaining.textContent = clock.met_at ? `met ${localTime(clock.met_at, timeZone, false)}` : "met";
    } else if (clock.remaining_seconds === null || clock.remaining_seconds === undefined) {
      remaining.textContent = clock.deadline ? "" : "no deadline";
    } else if (clock.state === "paused") {
      remaining.textContent = `${duration(clock.remaining_seconds)} left`;
    } else {
      const left = clock.remaining_seconds - (Date.now() - fetchedAt) / 1000;
      remaining.textContent = left >= 0 ? `${duration(left)} left` : `${duration(left)} over`;
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
          h("span", { class: `pill severity-${order.severity}` }, label(order.severity)),
          h("span", { class: `pill status status-${order.status}` }, label(order.status)),
          h("span", { class: "reported", title: "reported" }, localTime(order.reported_at, tz)),
        ),
        h("div", { class: "order-site" }, h("span", { class: "site-name" }, order.site.name), h("span", { class: "site-address" }, order.site.address)),
        h("div", { class: "order-fault" }, order.fault_description),
        h("div", { class: "clocks" }, clocks),
      ),
    );
  });
  if (!rows.length) rows.push(h("li", { class: "empty" }, "No work orders match."));
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

export function renderOrderDetail(el, order, { engineers, fetchedAt }) {
  const tz = order.site.time_zone;
  const who = (id) => (id ? engineers.get(id)?.display_name || engineers.get(id)?.username || "engineer" : "—");
  fill(
    el,
    h(
      "header",
      { class: "detail-head" },
      h("h2", { class: "problem-number" }, order.problem_number),
      h("span", { class: `pill severity-${order.severity}` }, label(order.severity)),
      h("span", { class: `pill status status-${order.status}` }, label(order.status)),
      order.billable ? h("span", { class: "pill billable" }, "billable") : null,
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Site"), h("dd", { class: "site-name" }, order.site.name),
      h("dt", {}, "Address"), h("dd", {}, order.site.address),
      h("dt", {}, "Contact"), h("dd", {}, `${order.contact_name} ${order.contact_phone}`),
      h("dt", {}, "Asset"), h("dd", {}, [order.asset_model, order.asset_serial].filter(Boolean).join(" · ") || "—"),
      h("dt", {}, "Fault"), h("dd", {}, order.fault_description),
      h("dt", {}, "Impact"), h("dd", {}, order.impact_scope || "—"),
      h("dt", {}, "Reported"), h("dd", {}, `${localTime(order.reported_at, tz)} (${tz}) via ${label(order.channel)}`),
      h("dt", {}, "Archive id"), h("dd", {}, order.archive_id),
    ),
    section(
      "SLA clocks",
      table(
        ["Clock", "State", "Deadline", "Remaining"],
        order.clocks.map((c) => {
          const chip = clockChip(c, tz, fetchedAt);
          return [
            MEASURES[c.measure] || label(c.measure),
            h("span", { class: `pill state-${c.state}` }, STATES[c.state] || label(c.state)),
            c.deadline ? localTime(c.deadline, tz) : "—",
            chip.querySelector(".clock-remaining"),
          ];
        }),
      ),
    ),
    section(
      "Visits",
      order.visits.length
        ? table(
            ["Kind", "Status", "Engineer", "Planned start", "Duration"],
            order.visits.map((v) => [label(v.kind), label(v.status), who(v.engineer_id), localTime(v.planned_start, tz), `${v.duration_minutes} min`]),
          )
        : h("p", { class: "muted" }, "No visits yet."),
    ),
    section(
      "Timeline",
      h(
        "ol",
        { class: "timeline" },
        (order.timeline || []).map((e) =>
          h(
            "li",
            {},
            h("time", {}, localTime(e.at, tz)),
            h("span", { class: "event-kind" }, label(e.kind)),
            e.from_status || e.to_status ? h("span", { class: "event-move" }, `${label(e.from_status || "—")} → ${label(e.to_status || "—")}`) : null,
            e.note ? h("span", { class: "event-note" }, e.note) : null,
          ),
        ),
      ),
    ),
  );
}
