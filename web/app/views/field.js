// The rest of the work on site, each form queued as its sync mutation: a part swap with both
// serials, "cannot fix within the deadline" (starts the backup-device flow), a backup unit
// installed on its delivery visit or removed at the swap-back, and the report's text edited
// before the customer signs (drafted on the server from what was recorded if there is none yet).
import { h } from "../../dom.js";
import { t } from "../i18n.js";
import { record, deviceNow } from "../actions.js";
import { parseLabel, scanner } from "../scan.js";

function field(id, label, input) {
  input.id = id;
  return [h("label", { for: id }, label), input];
}

function form(id, title, children, submit, refresh) {
  const error = h("p", { class: "error", role: "alert" });
  return h(
    "div",
    { class: "panel", id },
    h("h3", {}, title),
    children,
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        id: `${id}-send`,
        class: "primary",
        onclick: async () => {
          const problem = await submit();
          if (problem) {
            error.textContent = problem;
            return;
          }
          refresh();
        },
      }, t("confirm")),
    ),
    error,
  );
}

const text = (attrs = {}) => h("input", { autocomplete: "off", ...attrs });
const area = () => h("textarea", { maxlength: 4000, rows: 3 });
const required = (label) => `${label}: ${t("required")}`;

/** A scanned unit label (or a maker's serial barcode) fills the serial; an item label cannot. */
function serialFrom(input, catalogue) {
  return (text) => {
    const label = parseLabel(text);
    const item = catalogue.find((i) => i.sku.toLowerCase() === label.value.toLowerCase());
    if (label.kind === "item" || (label.kind === "plain" && item)) {
      return { ok: false, message: t("scan_item_on_swap", { what: item ? `${item.sku} ${item.name}` : label.value }) };
    }
    input.value = label.value;
    return { ok: true, message: t("scan_serial", { serial: label.value }) };
  };
}

function swapForm(vid, refresh, stamp, catalogue) {
  const fitted = text({ maxlength: 100 });
  const removed = text({ maxlength: 100 });
  return form("swap-panel", t("swap_part"), [
    ...field("swap-fitted", t("serial_fitted"), fitted),
    scanner("swap-fitted-scan", serialFrom(fitted, catalogue)),
    ...field("swap-removed", t("serial_removed"), removed),
    scanner("swap-removed-scan", serialFrom(removed, catalogue)),
  ], async () => {
    if (!fitted.value.trim()) return required(t("serial_fitted"));
    if (!removed.value.trim()) return required(t("serial_removed"));
    const when = stamp();
    if (!when) return t("later_incomplete");
    await record("visit.swap_part@1", {
      visit_id: vid, installed_serial: fitted.value.trim(), removed_serial: removed.value.trim(), at: when.at, ...when.extra,
    });
    return null;
  }, refresh);
}

function cannotFixForm(vid, refresh) {
  const reason = h("textarea", { maxlength: 190, rows: 2 });
  return form("cannot-fix-panel", t("cannot_fix"), field("cannot-fix-reason", t("reason"), reason), async () => {
    if (!reason.value.trim()) return required(t("reason"));
    await record("visit.cannot_fix@1", { visit_id: vid, reason: reason.value.trim(), at: deviceNow() });
    return null;
  }, refresh);
}

function backupForm(visit, refresh) {
  const install = visit.kind === "backup_delivery";
  const serial = text({ maxlength: 100 });
  const signer = text({ maxlength: 100 });
  const formNumber = text({ maxlength: 200 });
  return form("backup-panel", t(install ? "backup_install" : "backup_remove"), [
    ...field("backup-serial", t("serial"), serial),
    ...(install ? field("backup-signer", t("loan_signed_by"), signer) : []),
    ...field("backup-form", t("loan_form"), formNumber),
  ], async () => {
    if (!serial.value.trim()) return required(t("serial"));
    if (install && !signer.value.trim()) return required(t("loan_signed_by"));
    await record("visit.backup_unit@1", {
      visit_id: visit.id,
      action: install ? "install" : "remove",
      serial: serial.value.trim(),
      at: deviceNow(),
      ...(install ? { signed_by: signer.value.trim() } : {}),
      ...(formNumber.value.trim() ? { loan_form_reference: formNumber.value.trim() } : {}),
    });
    return null;
  }, refresh);
}

function reportForm(visit, order, refresh) {
  const current = (order.reports || []).filter((r) => r.visit_id === visit.id && r.status !== "signed").at(-1);
  const content = current?.content || {};
  const diagnosis = area();
  diagnosis.value = content.diagnosis || "";
  const actions = area();
  actions.value = content.actions_taken || "";
  const backedUp = h("input", { type: "checkbox" });
  backedUp.checked = Boolean(content.configuration_backup?.done);
  const where = text({ maxlength: 500, value: content.configuration_backup?.where || "" });
  const remarks = area();
  remarks.value = content.customer_remarks || "";
  return form("report-panel", t("edit_report"), [
    ...field("report-diagnosis", t("diagnosis"), diagnosis),
    ...field("report-actions", t("actions_taken"), actions),
    h("label", { class: "check" }, backedUp, ` ${t("config_backed_up")}`),
    ...field("report-backup-where", t("config_where"), where),
    ...field("report-remarks", t("customer_remarks"), remarks),
  ], async () => {
    await record("report.edit@1", {
      at: deviceNow(),
      ...(current ? { report_id: current.id, revision: current.revision } : { visit_id: visit.id }),
      diagnosis: diagnosis.value.trim(),
      actions_taken: actions.value.trim(),
      configuration_backup: { done: backedUp.checked, where: where.value.trim() || null },
      customer_remarks: remarks.value.trim(),
    });
    return null;
  }, refresh);
}

/** The forms a visit on site offers, by its kind. */
export function fieldForms(visit, order, refresh, stamp, catalogue) {
  const out = [swapForm(visit.id, refresh, stamp, catalogue)];
  if (visit.kind === "repair") out.push(cannotFixForm(visit.id, refresh));
  if (visit.kind === "backup_delivery" || visit.kind === "swap_back") out.push(backupForm(visit, refresh));
  out.push(reportForm(visit, order, refresh));
  return out;
}
