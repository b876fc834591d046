// Open notifications grouped by kind (oldest first in each), each group with "acknowledge all";
// times on the order's site clock, else the dispatcher's.

import { h, fill } from "./dom.js";
import { localTime } from "./format.js";
import { t, v } from "./i18n.js";

export function renderNotifications(el, items, { timeZone, zoneOf, problemNumbers, onAcknowledge, onAcknowledgeAll, onOpenOrder }) {
  if (!items.length) {
    fill(el, h("p", { class: "muted" }, t("notifications.none")));
    return;
  }
  const groups = new Map();
  for (const n of items) {
    if (!groups.has(n.kind)) groups.set(n.kind, []);
    groups.get(n.kind).push(n);
  }
  fill(
    el,
    [...groups].map(([kind, group]) =>
      h(
        "section",
        { class: "notification-group", dataset: { kind } },
        h(
          "header",
          { class: "group-head" },
          h("h3", {}, v("notification", kind), " ", h("span", { class: "badge" }, String(group.length))),
          h(
            "button",
            { type: "button", class: "acknowledge-all", onclick: (event) => onAcknowledgeAll(kind, group, event.currentTarget) },
            t("notifications.acknowledge_all", { n: group.length }),
          ),
        ),
        h(
          "ul",
          { class: "notifications" },
          group.map((n) => {
            const zone = (n.work_order_id && zoneOf(n.work_order_id)) || timeZone;
            return h(
              "li",
              { class: `notification kind-${n.kind}`, dataset: { id: n.id } },
              h(
                "div",
                { class: "notification-head" },
                h("time", { datetime: n.created_at, title: zone }, localTime(n.created_at, zone)),
                n.work_order_id && problemNumbers.get(n.work_order_id)
                  ? h("button", { type: "button", class: "link", onclick: () => onOpenOrder(n.work_order_id) }, problemNumbers.get(n.work_order_id))
                  : null,
              ),
              h("p", { class: "notification-message" }, n.message),
              h("button", { type: "button", class: "acknowledge", onclick: (event) => onAcknowledge(n, event.currentTarget) }, t("notifications.acknowledge")),
            );
          }),
        ),
      ),
    ),
  );
}
