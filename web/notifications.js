// Open notifications, oldest first, each with an acknowledge button.

import { h, fill } from "./dom.js";
import { label, localTime } from "./format.js";

export function renderNotifications(el, items, { timeZone, problemNumbers, onAcknowledge, onOpenOrder }) {
  if (!items.length) {
    fill(el, h("p", { class: "muted" }, "No open notifications."));
    return;
  }
  fill(
    el,
    h(
      "ul",
      { class: "notifications" },
      items.map((n) =>
        h(
          "li",
          { class: `notification kind-${n.kind}`, dataset: { id: n.id } },
          h(
            "div",
            { class: "notification-head" },
            h("span", { class: "pill" }, label(n.kind)),
            h("time", {}, localTime(n.created_at, timeZone)),
            n.work_order_id && problemNumbers.get(n.work_order_id)
              ? h("button", { type: "button", class: "link", onclick: () => onOpenOrder(n.work_order_id) }, problemNumbers.get(n.work_order_id))
              : null,
          ),
          h("p", { class: "notification-message" }, n.message),
          h("button", { type: "button", class: "acknowledge", onclick: (event) => onAcknowledge(n, event.currentTarget) }, "Acknowledge"),
        ),
      ),
    ),
  );
}
