// The "new order" form: customer type-ahead (names in Chinese or numbers), the customer's site,
// an asset by serial or none, severity, channel, fault, contact, reported-at (now, in the
// dispatcher's zone, editable) → POST /api/work-orders, then the new order opens.

import { api, ApiError } from "./api.js";
import { h, fill } from "./dom.js";
import { field, showProblem, clearProblem } from "./forms.js";
import { fromLocalInput, toLocalInput } from "./format.js";
import { t, v } from "./i18n.js";

const SEVERITIES = ["critical", "high", "medium", "low"];
const CHANNELS = ["phone", "email", "web", "chat", "walk_in", "fax", "letter", "integration"];

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Renders the form into `el`; `onCreated(order)` once the server has it. */
export function renderIntake(el, { timeZone, onCreated, onClose }) {
  let customerId = null;
  let reportedTouched = false;
  let sites = [];
  let searchSeq = 0;

  const customerInput = h("input", {
    id: "intake-customer",
    type: "search",
    placeholder: t("intake.customer_search"),
    autocomplete: "off",
    "aria-autocomplete": "list",
    "aria-controls": "intake-customer-list",
  });
  const suggestions = h("ul", { id: "intake-customer-list", class: "suggestions", role: "listbox" });
  const siteSelect = h("select", { id: "f-site_id", name: "site_id", disabled: true }, h("option", { value: "" }, t("intake.pick_customer")));
  const assetSearch = h("input", { id: "intake-asset-search", type: "search", placeholder: t("intake.asset_search"), autocomplete: "off", disabled: true });
  const assetSelect = h("select", { id: "f-asset_id", name: "asset_id", disabled: true }, h("option", { value: "" }, t("intake.no_asset")));
  const reported = field({ name: "reported_at", label: t("intake.reported_at", { zone: timeZone }), type: "datetime", value: toLocalInput(new Date(), timeZone) });
  const reportedInput = reported.querySelector("input");
  reportedInput.addEventListener("input", () => {
    reportedTouched = true;
  });
  const contactName = field({ name: "contact_name", label: t("intake.contact_name"), required: true });
  const contactPhone = field({ name: "contact_phone", label: t("intake.contact_phone"), required: true, type: "tel" });
  const submit = h("button", { type: "submit", class: "primary", id: "intake-submit" }, t("intake.submit"));

  const pickCustomer = async (customer) => {
    customerId = customer.id;
    customerInput.value = `${customer.name} (${customer.customer_number})`;
    customerInput.dataset.customerId = customer.id;
    fill(suggestions);
    const page = await api("GET", "/api/sites", { query: { customer_id: customer.id, limit: 200 } });
    sites = page.items;
    fill(siteSelect, sites.map((s) => h("option", { value: s.id }, `${s.name} — ${s.address}`)));
    siteSelect.disabled = !sites.length;
    await pickSite();
  };

  const loadAssets = async () => {
    const siteId = siteSelect.value;
    if (!siteId) return;
    const page = await api("GET", "/api/assets", { query: { site_id: siteId, serial: assetSearch.value.trim() || undefined, limit: 50 } });
    fill(
      assetSelect,
      h("option", { value: "" }, t("intake.no_asset")),
      page.items.map((a) => h("option", { value: a.id }, `${a.serial} · ${a.model}`)),
    );
    // A serial typed in full picks its asset.
    if (assetSearch.value.trim() && page.items.length === 1) assetSelect.value = page.items[0].id;
    assetSelect.disabled = false;
    assetSearch.disabled = false;
  };

  const pickSite = async () => {
    const site = sites.find((s) => s.id === siteSelect.value);
    if (site) {
      const name = contactName.querySelector("input");
      const phone = contactPhone.querySelector("input");
      if (!name.value && site.contact_name) name.value = site.contact_name;
      if (!phone.value && site.contact_phone) phone.value = site.contact_phone;
    }
    await loadAssets();
  };

  const search = debounce(async () => {
    const q = customerInput.value.trim();
    const seq = ++searchSeq;
    if (!q) {
      fill(suggestions);
      return;
    }
    const page = await api("GET", "/api/customers", { query: { q, limit: 10 } });
    if (seq !== searchSeq) return; // a newer keystroke's answer wins
    fill(
      suggestions,
      page.items.length
        ? page.items.map((c) =>
            h(
              "li",
              { role: "option" },
              h("button", { type: "button", class: "suggestion", dataset: { customerId: c.id }, onclick: () => pickCustomer(c) }, h("strong", {}, c.name), h("span", { class: "muted" }, ` ${c.customer_number}`)),
            ),
          )
        : h("li", { class: "muted" }, t("intake.no_customers")),
    );
  }, 250);
  customerInput.addEventListener("input", () => {
    customerId = null;
    delete customerInput.dataset.customerId;
    search();
  });
  siteSelect.addEventListener("change", () => pickSite());
  assetSearch.addEventListener("input", debounce(() => loadAssets(), 250));

  const form = h(
    "form",
    { class: "action-form intake", id: "intake-form", novalidate: true },
    h("h2", {}, t("intake.title")),
    h("div", { class: "form-problem", role: "alert" }),
    h(
      "div",
      { class: "field", dataset: { field: "customer_id" } },
      h("label", { class: "field-label", for: "intake-customer" }, t("intake.customer")),
      customerInput,
      suggestions,
      h("span", { class: "field-error", dataset: { errorFor: "customer_id" } }),
    ),
    h("label", { class: "field", dataset: { field: "site_id" } }, h("span", { class: "field-label" }, t("intake.site")), siteSelect, h("span", { class: "field-error", dataset: { errorFor: "site_id" } })),
    h(
      "div",
      { class: "field", dataset: { field: "asset_id" } },
      h("label", { class: "field-label", for: "intake-asset-search" }, t("intake.asset")),
      assetSearch,
      assetSelect,
      h("span", { class: "field-error", dataset: { errorFor: "asset_id" } }),
    ),
    h(
      "div",
      { class: "field-row" },
      field({ name: "severity", label: t("field.severity"), type: "select", options: SEVERITIES.map((s) => [s, v("severity", s)]), value: "high" }),
      field({ name: "channel", label: t("intake.channel"), type: "select", options: CHANNELS.map((c) => [c, v("channel", c)]), value: "phone" }),
    ),
    field({ name: "fault_description", label: t("intake.fault"), type: "textarea", required: true }),
    field({ name: "impact_scope", label: t("intake.impact") }),
    h("div", { class: "field-row" }, contactName, contactPhone),
    reported,
    h("div", { class: "form-buttons" }, submit, h("button", { type: "button", class: "form-close", onclick: onClose }, t("intake.cancel"))),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblem(form);
    const value = (name) => form.querySelector(`[name="${name}"]`)?.value.trim() || undefined;
    const body = {
      site_id: siteSelect.value || undefined,
      customer_id: customerId || undefined,
      asset_id: assetSelect.value || undefined,
      severity: value("severity"),
      channel: value("channel"),
      fault_description: value("fault_description"),
      impact_scope: value("impact_scope"),
      contact_name: value("contact_name"),
      contact_phone: value("contact_phone"),
      // Untouched, "now" is the server's now (a desk PC's clock may be off); edited, it is read
      // as wall-clock time in the dispatcher's zone.
      reported_at: reportedTouched ? fromLocalInput(reportedInput.value, timeZone) || undefined : undefined,
    };
    submit.disabled = true;
    try {
      if (!body.site_id) {
        const missing = t("field.required");
        throw new ApiError(422, { title: t("intake.title"), errors: [{ field: customerId ? "site_id" : "customer_id", message: missing }] });
      }
      const order = await api("POST", "/api/work-orders", { body });
      await onCreated(order);
    } catch (error) {
      showProblem(form, error);
    } finally {
      submit.disabled = false;
    }
  });

  fill(el, form);
  customerInput.focus();
}
