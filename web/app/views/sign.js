// The customer signs: the report exactly as pulled (its canonical text, whose hash is shown and
// sent), labelled in Chinese or English, then a signature pad, or a photo of the paper
// confirmation form the customer stamped; queued as report.sign@1 with that hash, so it can be
// signed offline and synced later.
import { h, fill } from "../../dom.js";
import { t, language } from "../i18n.js";
import SignaturePad from "../../vendor/signature_pad/signature_pad.js";
import { record, deviceNow } from "../actions.js";
import { addBlob } from "../outbox.js";
import * as sync from "../sync.js";
import { localTime } from "../model.js";
import { compress } from "../photo.js";

const LABELS = {
  zh: {
    title: "表单", problem_number: "问题编号", archive_id: "档案号", customer: "客户", site: "站点",
    asset: "设备", fault_reported: "报修故障", reported_at: "报修时间", engineers: "工程师", notes: "记录",
    photos: "照片", parts_consumed: "使用备件", part_swaps: "更换部件", backup_units: "备机",
    on_site_contact: "现场联系人", diagnosis: "诊断", actions_taken: "处理过程", configuration_backup: "配置备份",
    result: "结果", follow_up_needed: "需后续跟进", billable: "收费", customer_remarks: "客户意见",
    name: "名称", address: "地址", model: "型号", serial: "序列号", phone: "电话", arrived_at: "到达",
    departed_at: "离开", body: "内容", at: "时间", quantity: "数量", sku: "编号", version: "版本",
    customer_number: "客户编号", time_zone: "时区", done: "已完成", where: "位置",
  },
  en: {
    title: "Form", problem_number: "Problem number", archive_id: "Archive id", fault_reported: "Fault reported",
    reported_at: "Reported", on_site_contact: "On-site contact", actions_taken: "Actions taken",
    configuration_backup: "Configuration backup", follow_up_needed: "Follow-up needed",
    customer_remarks: "Customer's remarks", parts_consumed: "Parts used", part_swaps: "Parts swapped",
    backup_units: "Backup units", arrived_at: "Arrived", departed_at: "Left", customer_number: "Customer number",
  },
};
const HIDDEN = new Set(["report_id", "work_order_id", "visit_id", "supersedes_id", "engineer_id", "id", "sha256", "form", "loan_id"]);

function label(key) {
  return (LABELS[language()] || {})[key] || key.replaceAll("_", " ");
}

function value(v, zone) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return language() === "zh" ? (v ? "是" : "否") : (v ? "yes" : "no");
  if (typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) return localTime(v, zone);
  if (Array.isArray(v)) return v.length ? h("ol", {}, v.map((x) => h("li", {}, value(x, zone)))) : "—";
  if (typeof v === "object") return fields(v, zone);
  return String(v);
}

function fields(obj, zone) {
  return h("dl", {}, Object.entries(obj).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => [h("dt", {}, label(k)), h("dd", {}, value(v, zone))]));
}

function strokesOf(pad) {
  // [[x, y, ms since the first point], ...] per stroke, as report.sign@1 takes them.
  const data = pad.toData();
  const t0 = data[0]?.points[0]?.time ?? 0;
  return data.slice(0, 500).map((stroke) => stroke.points.map((p) =>
    [Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10, Math.max(0, Math.round(p.time - t0))]));
}

function dataUrlBytes(url) {
  const raw = atob(url.split(",")[1]);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes.buffer;
}

export async function render(root, { day, params, refresh }) {
  const entry = day.visits.find((e) => e.visit.id === params.id);
  const back = h("p", {}, h("a", { href: `#/visit/${params.id}`, class: "button secondary" }, `← ${t("back")}`));
  if (!entry) return void fill(root, back, h("p", {}, t("no_visits")));
  const { visit, order } = entry;
  const zone = order.site.time_zone;
  const reports = (order.reports || []).filter((r) => r.visit_id === visit.id);
  const report = reports.filter((r) => r.status === "draft").at(-1) || reports.at(-1);
  if (!report) {
    const error = h("p", { class: "error", id: "draft-error" });
    fill(root, back, h("h1", {}, t("report")),
      navigator.onLine
        ? h("div", { class: "actions" }, h("button", { type: "button", id: "act-draft", onclick: async () => {
          try {
            const response = await sync.api("POST", `/api/visits/${visit.id}/report`);
            if (response.status >= 400) {
              const body = await response.json().catch(() => ({}));
              error.textContent = [body.title, body.detail].filter(Boolean).join(" — ");
              return;
            }
            await sync.sync();
            refresh();
          } catch {
            error.textContent = t("report_online_only");
          }
        } }, t("draft_report")))
        : h("p", { class: "message", id: "report-offline" }, t("report_online_only")),
      error);
    return;
  }
  const queued = day.journal.find((m) => m.name === "report.sign@1" && m.args.report_id === report.id &&
    !["rejected", "conflict"].includes(m.status));
  const shown = h("section", { class: "report-summary panel", id: "report-summary" },
    h("h2", {}, t("report")), fields(JSON.parse(report.canonical), zone),
    h("p", {}, `${t("report_hash")}: `, h("span", { class: "hash", id: "report-hash" }, report.hash)));
  if (report.status === "signed" || queued) {
    fill(root, back, h("p", { class: "message", id: "sign-done" }, report.status === "signed" ? t("report_signed") : t("signed_queued")), shown);
    return;
  }
  const canvas = h("canvas", { id: "signature-pad" });
  const name = h("input", { id: "signer-name", autocomplete: "name", value: order.contact_name || "" });
  const role = h("input", { id: "signer-role", autocomplete: "organization-title" });
  const error = h("p", { class: "error", id: "sign-error", role: "alert" });
  const stamped = h("input", { id: "stamped-input", type: "file", accept: "image/*", capture: "environment" });
  stamped.addEventListener("change", () => signStamped(stamped.files[0]));
  fill(root, back, shown,
    h("div", { class: "panel" },
      h("h3", {}, t("sign_report")),
      h("div", { class: "sig-wrap" }, canvas),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", id: "sig-undo", onclick: () => { const d = pad.toData(); d.pop(); pad.fromData(d); } }, t("undo")),
        h("button", { type: "button", class: "secondary", id: "sig-clear", onclick: () => pad.clear() }, t("clear"))),
      h("label", { for: "signer-name" }, t("signer_name")), name,
      h("label", { for: "signer-role" }, t("signer_role")), role,
      h("div", { class: "actions" }, h("button", { type: "button", id: "act-sign", onclick: sign }, t("sign"))),
      error),
    h("div", { class: "panel", id: "stamped-panel" },
      h("h3", {}, t("stamped_form")),
      h("p", { class: "hint" }, t("stamped_form_hint")),
      h("label", { for: "stamped-input" }, t("take_stamped_photo")), stamped));
  const ratio = Math.max(window.devicePixelRatio || 1, 1);
  canvas.width = canvas.offsetWidth * ratio;
  canvas.height = canvas.offsetHeight * ratio;
  canvas.getContext("2d").scale(ratio, ratio);
  const pad = new SignaturePad(canvas, { backgroundColor: "rgb(255,255,255)", penColor: "rgb(0,0,0)" });

  const signer = () => (name.value.trim() && role.value.trim()
    ? { signer_name: name.value.trim(), signer_role: role.value.trim() } : null);

  /** The customer stamped the paper form instead: its photo, made smaller like every photo. */
  async function signStamped(file) {
    if (!file) return;
    const who = signer();
    if (!who) {
      stamped.value = "";
      return void (error.textContent = `${t("signer_name")} / ${t("signer_role")}: ${t("required")}`);
    }
    const photo = await compress(file);
    const image = await addBlob(photo.bytes, "image/jpeg", photo.thumb);
    await record("report.sign@1", {
      report_id: report.id, report_hash: report.hash, kind: "stamped_form", ...who, at: deviceNow(), image_sha256: image,
    });
    refresh();
  }

  async function sign() {
    if (pad.isEmpty()) return void (error.textContent = t("signature_needed"));
    if (!name.value.trim() || !role.value.trim()) return void (error.textContent = `${t("signer_name")} / ${t("signer_role")}: ${t("required")}`);
    const image = await addBlob(dataUrlBytes(pad.toDataURL("image/png")), "image/png");
    await record("report.sign@1", {
      report_id: report.id, report_hash: report.hash, kind: "strokes",
      signer_name: name.value.trim(), signer_role: role.value.trim(), at: deviceNow(),
      image_sha256: image, strokes: strokesOf(pad),
    });
    refresh();
  }
}
