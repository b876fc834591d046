// The inspection checklist (巡检) on an inspection visit: one form per asset, pass/fail toggles,
// numbers against their limits, text and photos; a failed item may raise a repair of a chosen
// severity. Answers go out as `inspection.record@1` (queued offline like every step); "complete"
// is offered once every item has an answer.
import { h } from "../../dom.js";
import { t } from "../i18n.js";
import { record, deviceNow } from "../actions.js";
import { addBlob } from "../outbox.js";
import { compress } from "../photo.js";

const SEVERITIES = ["critical", "high", "medium", "low"];

/** The server's stored answer as the form holds it. */
function fromServer(stored) {
  return { ...(stored.value || {}), passed: stored.passed, finding: stored.finding || "" };
}

function failed(item, answer) {
  if (!answer) return false;
  if (item.kind === "pass_fail") return answer.passed === false;
  if (item.kind === "number" && typeof answer.number === "number") {
    return (item.min != null && answer.number < item.min) || (item.max != null && answer.number > item.max);
  }
  return false;
}

function answered(item, answer) {
  if (!answer) return false;
  if (item.kind === "pass_fail") return typeof answer.passed === "boolean";
  if (item.kind === "number") return typeof answer.number === "number" && Number.isFinite(answer.number);
  if (item.kind === "text") return Boolean(answer.text);
  return Boolean(answer.photo_sha256);
}

function limits(item) {
  const unit = item.unit ? ` ${item.unit}` : "";
  if (item.min != null && item.max != null) return `${item.min}–${item.max}${unit}`;
  if (item.min != null) return `≥ ${item.min}${unit}`;
  if (item.max != null) return `≤ ${item.max}${unit}`;
  return unit.trim();
}

function itemRow(item, answer, change, prefix) {
  const id = `${prefix}-${item.key}`;
  const row = h("div", { class: "insp-item", dataset: { key: item.key, kind: item.kind } });
  const failure = h("div", { class: "insp-failure" });
  const drawFailure = () => {
    failure.replaceChildren();
    row.dataset.failed = failed(item, answer()) ? "1" : "";
    if (!row.dataset.failed) return;
    const finding = h("input", { id: `${id}-finding`, class: "insp-finding", value: answer().finding || "", placeholder: t("insp_finding") });
    finding.addEventListener("input", () => change({ finding: finding.value }));
    const severity = h("select", { id: `${id}-severity`, class: "insp-severity" },
      h("option", { value: "" }, t("insp_no_repair")),
      SEVERITIES.map((s) => h("option", { value: s, selected: answer().repair_severity === s }, `${t("insp_repair")} · ${t(`sev_${s}`)}`)));
    severity.addEventListener("change", () => change({ repair_severity: severity.value || null }));
    failure.append(h("label", { for: finding.id }, t("insp_finding")), finding, h("label", { for: severity.id }, t("insp_repair")), severity);
  };
  const label = h("label", { class: "insp-label", for: id }, item.label, item.kind === "number" && limits(item) ? h("span", { class: "hint insp-limits" }, ` (${limits(item)})`) : null);
  let control;
  if (item.kind === "pass_fail") {
    const toggle = (value, text) => {
      const b = h("button", { type: "button", class: "secondary insp-toggle", id: `${id}-${value ? "pass" : "fail"}`, "aria-pressed": String(answer()?.passed === value) }, text);
      b.addEventListener("click", () => {
        change({ passed: value });
        for (const other of control.querySelectorAll(".insp-toggle")) other.setAttribute("aria-pressed", String(other === b));
        drawFailure();
      });
      return b;
    };
    control = h("div", { class: "row insp-toggles", id }, toggle(true, t("insp_pass")), toggle(false, t("insp_fail")));
  } else if (item.kind === "number") {
    control = h("input", { id, type: "number", step: "any", inputmode: "decimal", value: answer()?.number ?? "" });
    control.addEventListener("input", () => {
      change({ number: control.value === "" ? null : Number(control.value) });
      drawFailure();
    });
  } else if (item.kind === "text") {
    control = h("input", { id, value: answer()?.text || "" });
    control.addEventListener("input", () => change({ text: control.value.trim() || null }));
  } else {
    control = h("input", { id, type: "file", accept: "image/*", capture: "environment" });
    control.addEventListener("change", async () => {
      const file = control.files[0];
      if (!file) return;
      const photo = await compress(file);
      change({ photo_sha256: await addBlob(photo.bytes, "image/jpeg", photo.thumb) });
      row.dataset.photo = "1";
    });
  }
  row.append(label, control, failure);
  drawFailure();
  return row;
}

/** The checklist panel for an inspection visit on site (none for other visits). */
export function inspectionForms(visit, order, refresh) {
  const doc = order.inspection;
  if (!doc || visit.kind !== "inspection") return [];
  const closed = doc.status !== "open" || visit.inspection_completed;
  const local = visit.inspection_answers || {};
  // asset id → item key → the answer as the form holds it (the phone's unsent ones over the server's).
  const answers = {};
  for (const asset of doc.assets) {
    answers[asset.asset_id] = {};
    for (const [key, stored] of Object.entries(asset.answers || {})) answers[asset.asset_id][key] = fromServer(stored);
    for (const [key, mine] of Object.entries(local[asset.asset_id] || {})) answers[asset.asset_id][key] = { ...mine };
  }
  const error = h("p", { class: "error", id: "insp-error", role: "alert" });
  const progress = h("p", { class: "hint", id: "insp-progress" });
  const total = doc.assets.reduce((n, a) => n + a.items.length, 0);
  const countAnswered = () => doc.assets.reduce((n, a) => n + a.items.filter((i) => answered(i, answers[a.asset_id][i.key])).length, 0);
  const showProgress = () => {
    const n = countAnswered();
    progress.textContent = t("insp_progress", { n, total });
    progress.dataset.answered = String(n);
    if (n === total) error.textContent = "";
  };
  const assets = doc.assets.map((asset, index) => h("div", { class: "panel insp-asset", id: `insp-asset-${index}`, dataset: { assetId: asset.asset_id } },
    h("h3", {}, `${asset.model} · ${t("serial")} ${asset.serial || "—"}`),
    asset.items.map((item) => itemRow(item, () => answers[asset.asset_id][item.key],
      (patch) => {
        answers[asset.asset_id][item.key] = { ...(answers[asset.asset_id][item.key] || {}), ...patch };
        showProgress();
      }, `insp-${index}`))));
  showProgress();

  const send = async (complete) => {
    error.textContent = "";
    const results = [];
    for (const asset of doc.assets) {
      for (const item of asset.items) {
        const answer = answers[asset.asset_id][item.key];
        if (!answered(item, answer)) continue;
        const out = { asset_id: asset.asset_id, item_key: item.key };
        if (item.kind === "pass_fail") out.passed = answer.passed;
        else if (item.kind === "number") out.number = answer.number;
        else if (item.kind === "text") out.text = answer.text;
        else out.photo_sha256 = answer.photo_sha256;
        if (failed(item, answer)) {
          if (answer.finding) out.finding = answer.finding;
          if (answer.repair_severity) out.repair_severity = answer.repair_severity;
        }
        results.push(out);
      }
    }
    if (complete && results.length < total) {
      error.textContent = t("insp_missing", { n: total - results.length });
      return;
    }
    if (!results.length && !complete) return;
    await record("inspection.record@1", { visit_id: visit.id, at: deviceNow(), results, complete });
    refresh();
  };
  return [h("section", { id: "inspection-panel", dataset: { status: closed ? "done" : "open" } },
    h("h2", {}, t("insp_title")),
    closed ? h("p", { id: "insp-done", class: "message" }, t("insp_done")) : null,
    progress,
    closed ? null : [
      assets,
      h("div", { class: "actions" },
        h("button", { type: "button", id: "act-insp-save", class: "secondary", onclick: () => send(false) }, t("insp_save")),
        h("button", { type: "button", id: "act-insp-complete", onclick: () => send(true) }, t("insp_complete"))),
      error,
    ])];
}
