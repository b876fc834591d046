// What the van holds (less the parts used and not sent yet) and the parts catalogue.
import { h, fill } from "../../dom.js";
import { t } from "../i18n.js";

export function render(root, { day }) {
  const rows = day.van.items.map((i) =>
    h("tr", { class: "van-item", dataset: { itemId: i.item_id, sku: i.sku } },
      h("td", {}, i.sku), h("td", {}, i.name), h("td", { class: "on-hand" }, String(i.on_hand))));
  fill(root,
    h("h1", {}, t("van_stock")),
    rows.length
      ? h("table", { class: "stock", id: "van-stock" },
        h("thead", {}, h("tr", {}, h("th", {}, t("sku")), h("th", {}, t("name")), h("th", {}, t("on_hand")))),
        h("tbody", {}, rows))
      : h("p", {}, t("no_van")),
    h("details", { id: "catalogue" },
      h("summary", {}, `${t("catalogue")} (${day.catalogue.items.length})`),
      h("table", { class: "stock" }, h("tbody", {}, day.catalogue.items.map((i) =>
        h("tr", { class: "catalogue-item" }, h("td", {}, i.sku), h("td", {}, i.name), h("td", {}, i.model || "")))))));
}
