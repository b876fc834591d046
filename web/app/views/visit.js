// One visit: everything needed on site (address and map hand-off, access notes, contacts,
// asset, fault, SLA deadlines counting down) and the work, each step recorded as the existing
// sync mutations with the server's field rules checked on the phone too.
import { h, fill } from "../../dom.js";
import { t, action } from "../i18n.js";
import { navigationLinks } from "../geo.js";
import { localTime, now, span, photoMissing } from "../model.js";
import { record, deviceNow } from "../actions.js";
import { uuid } from "../ids.js";
import { addBlob, blob } from "../outbox.js";
import { compress } from "../photo.js";
import { fieldForms } from "./field.js";
import { inspectionForms } from "./inspection.js";
import { recordedLater } from "./later.js";
import { parseLabel, scanner } from "../scan.js";

/** A deadline counting down (main.js ticks every `.countdown` while the page is visible). */
export function countdown(deadline, zone, metAt = null) {
  const el = h("span", { class: "countdown", dataset: { deadline, zone, metAt: metAt || "" } });
  tick(el);
  return el;
}

export function tick(el) {
  const zone = el.dataset.zone;
  if (el.dataset.metAt) {
    el.dataset.state = "met";
    el.textContent = `${localTime(el.dataset.deadline, zone)} · ${t("met")}`;
    return;
  }
  const left = Date.parse(el.dataset.deadline) - now().getTime();
  el.dataset.state = left < 0 ? "over" : left < 2 * 3600 * 1000 ? "soon" : "ok";
  const words = left < 0 ? t("deadline_over", { left: span(left) }) : t("deadline_in", { left: span(left) });
  el.textContent = `${localTime(el.dataset.deadline, zone)} · ${words}`;
}

const CLOCK_LABEL = {
  on_site: "on_site_deadline", restore: "restore_deadline", response: "response_deadline", permanent_fix: "fix_deadline",
};

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function header(visit, order) {
  const site = order.site;
  const zone = site.time_zone;
  const point = site.point?.coordinates;
  const links = point ? navigationLinks(point[0], point[1], site.name) : null;
  const clocks = (order.clocks || []).filter((c) => c.deadline);
  return [
    h("p", {}, h("a", { href: "#/route", class: "button secondary", id: "back" }, `← ${t("back")}`)),
    h("h1", { id: "visit-title" }, `${order.problem_number} · `, h("span", { class: `badge sev-${order.severity}` }, t(`sev_${order.severity}`))),
    facts([
      [t("customer"), order.customer?.name],
      [t("site"), site.name],
      [t("address"), site.address],
      [t("planned"), visit.planned_start ? localTime(visit.planned_start, zone) : null],
      [t("access_notes"), site.access_notes],
      [t("contacts"), order.contact_phone
        ? h("a", { href: `tel:${order.contact_phone}`, class: "tel" }, `${order.contact_name || ""} ${order.contact_phone}`)
        : order.contact_name],
      [t("asset"), order.asset ? `${order.asset.model} · ${t("serial")} ${order.asset.serial}` : null],
      [t("fault"), order.fault_description],
      [t("severity"), t(`sev_${order.severity}`)],
    ]),
    site.no_photography ? h("p", { class: "message", id: "no-photography" }, t("no_photography")) : null,
    h("div", { class: "panel", id: "sla" }, h("h3", {}, t("sla")),
      clocks.length
        ? clocks.map((c) => h("div", { class: "clock", dataset: { measure: c.measure } },
          `${t(CLOCK_LABEL[c.measure] || "due")}: `, countdown(c.deadline, zone, c.met_at)))
        : h("div", {}, `${t("due")}: `, order.due_at && !order.due_at.startsWith("2999") ? countdown(order.due_at, zone) : "—")),
    links ? h("div", { class: "nav-links", id: "nav-links" },
      h("a", { class: "button secondary", href: links.geo, dataset: { app: "geo" } }, `${t("navigate")} (geo)`),
      h("a", { class: "button secondary", href: links.amap, dataset: { app: "amap" }, rel: "noreferrer" }, "高德 AMap"),
      h("a", { class: "button secondary", href: links.baidu, dataset: { app: "baidu" }, rel: "noreferrer" }, "百度 Baidu"),
      h("a", { class: "button secondary", href: links.apple, dataset: { app: "apple" }, rel: "noreferrer" }, "Apple Maps")) : null,
  ];
}

async function thumbs(visit) {
  const out = [];
  for (const a of visit.attachments.filter((x) => x.kind === "photo")) {
    const local = await blob(a.sha256);
    out.push(local?.thumb
      ? h("img", { src: local.thumb, alt: t("photos"), class: "photo-thumb", dataset: { sha256: a.sha256 } })
      : h("span", { class: "photo-thumb badge", dataset: { sha256: a.sha256 } }, "📷"));
  }
  return out;
}

/** What was recorded on this visit, and the server's answer to each. */
export async function summary(visit, order, day) {
  const names = Object.fromEntries(day.catalogue.items.map((i) => [i.id, `${i.sku} ${i.name}`]));
  return [
    h("p", {}, `${t("status")}: `, h("strong", { id: "visit-status", dataset: { status: visit.status } }, t(`st_${visit.status}`))),
    h("div", { class: "panel" }, h("h3", {}, t("note")),
      h("ul", { id: "notes" }, visit.notes.map((n) => h("li", { class: "note", dataset: { unsent: n.unsent ? "1" : "" } }, n.body)))),
    h("div", { class: "panel" }, h("h3", {}, `${t("photos")} (`, h("span", { id: "photo-count" }, String(visit.attachments.filter((a) => a.kind === "photo").length)), ")"),
      h("div", { class: "thumbs", id: "photos" }, await thumbs(visit))),
    visit.parts.length ? h("div", { class: "panel" }, h("h3", {}, t("parts")),
      h("ul", { id: "parts-used" }, visit.parts.map((p) => h("li", { class: "part-used" }, `${names[p.item_id] || p.item_id} × ${p.quantity}`)))) : null,
    visit.time_entries.length ? h("div", { class: "panel" }, h("h3", {}, t("time_entry")),
      h("ul", { id: "time-entries" }, visit.time_entries.map((e) =>
        h("li", { class: "time-entry" }, `${t(`kind_${e.kind}`)} ${localTime(e.started_at, order.site.time_zone, false)}–${localTime(e.ended_at, order.site.time_zone, false)}`)))) : null,
    h("div", { class: "panel" }, h("h3", {}, t("journal")),
      h("ul", { class: "journal", id: "journal" }, visit.journal.map((m) =>
        h("li", { class: "journal-item", dataset: { name: m.name, status: String(m.status) } },
          h("span", {}, action(m.name)),
          h("span", { class: "st", dataset: { status: String(m.status) } }, m.status === null ? t("not_sent") : t(m.status)))))),
  ];
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve([p.coords.longitude, p.coords.latitude]),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });
}

/** Reads a QR code with the camera where the browser has BarcodeDetector; else the text is typed. */
async function scanInto(input, status) {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  const video = h("video", { id: "qr-video", playsinline: true, muted: true });
  status.replaceChildren(video, h("p", { class: "hint" }, t("scanning")));
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    await video.play();
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && document.visibilityState === "visible") {
      const codes = await detector.detect(video);
      if (codes.length) {
        input.value = codes[0].rawValue;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch {
    // No camera or no permission: the code is typed in.
  } finally {
    stream?.getTracks().forEach((track) => track.stop());
    status.replaceChildren();
  }
}

/** A scanned item label picks the part from the van; anything else is said, not guessed. */
function pickScanned(text, items, catalogue, select) {
  const label = parseLabel(text);
  if (label.kind === "unit") return { ok: false, message: t("scan_unit_on_consume", { serial: label.value }) };
  const sku = label.value.toLowerCase();
  const inVan = items.find((i) => i.sku.toLowerCase() === sku);
  if (inVan) {
    select.value = inVan.item_id;
    return { ok: true, message: t("scan_picked", { what: `${inVan.sku} ${inVan.name}` }) };
  }
  const known = catalogue.find((i) => i.sku.toLowerCase() === sku);
  if (known) return { ok: false, message: t("scan_not_in_van", { what: `${known.sku} ${known.name}` }) };
  return { ok: false, message: t("scan_unknown", { text: label.value }) };
}

function button(id, label, onclick, cls = "") {
  return h("button", { type: "button", id, class: cls, onclick }, label);
}

function forms(visit, order, day, refresh) {
  const vid = visit.id;
  const status = visit.status;
  const out = [];
  const before = (s) => ["assigned", "en_route"].includes(s);
  // Arrival, notes, parts, time and the finish can be recorded later, with their real time.
  const later = recordedLater(vid, order.site.time_zone);
  if (status === "assigned") {
    out.push(h("div", { class: "actions" }, button("act-travel", t("start_travel"), async () => {
      await record("visit.start_travel@1", { visit_id: vid, at: deviceNow() });
      refresh();
    })));
  }
  if (before(status) || status === "on_site") out.push(later.panel);
  if (before(status)) {
    const arriveError = h("p", { class: "error", id: "arrive-error" });
    const qr = h("input", { id: "qr-text", autocomplete: "off" });
    const customer = h("input", { id: "arrive-customer", autocomplete: "off" });
    const scanStatus = h("div");
    out.push(h("div", { class: "panel", id: "arrive-panel" }, h("h3", {}, t("arrive")),
      h("div", { class: "actions" }, button("act-arrive-gps", t("arrive_gps"), async () => {
        const when = later.stamp();
        if (!when) return;
        const location = await position();
        if (!location) {
          arriveError.textContent = `${t("arrive_qr")} / ${t("arrive_customer")}`;
          return;
        }
        await record("visit.arrive@1", { visit_id: vid, at: when.at, ...when.extra, location, proof: "gps" });
        refresh();
      })),
      h("label", { for: "qr-text" }, t("arrive_qr")),
      h("div", { class: "row" }, qr,
        "BarcodeDetector" in window ? button("act-scan", t("scan"), () => scanInto(qr, scanStatus), "secondary") : null),
      scanStatus,
      h("div", { class: "actions" }, button("act-arrive-qr", t("confirm"), async () => {
        if (!qr.value.trim()) return void (arriveError.textContent = `${t("qr_code")}: ${t("required")}`);
        const when = later.stamp();
        if (!when) return;
        await record("visit.arrive@1", { visit_id: vid, at: when.at, ...when.extra, proof: "qr_code", proof_reference: qr.value.trim() });
        refresh();
      })),
      h("label", { for: "arrive-customer" }, t("arrive_customer")),
      h("div", { class: "row" }, customer, button("act-arrive-customer", t("confirm"), async () => {
        if (!customer.value.trim()) return void (arriveError.textContent = `${t("customer_name")}: ${t("required")}`);
        const when = later.stamp();
        if (!when) return;
        await record("visit.arrive@1", { visit_id: vid, at: when.at, ...when.extra, proof: "customer_confirmation", proof_reference: customer.value.trim() });
        refresh();
      })),
      arriveError));
  }
  if (status === "on_site" || status === "done") {
    const note = h("textarea", { id: "note-text", maxlength: 4000 });
    out.push(h("div", { class: "panel", id: "note-panel" }, h("label", { for: "note-text" }, t("add_note")), note,
      h("div", { class: "actions" }, button("act-note", t("add_note"), async () => {
        if (!note.value.trim()) return;
        // A note after the visit is done is written now; while on site it may be recorded later.
        const when = status === "on_site" ? later.stamp() : { at: deviceNow(), extra: {} };
        if (!when) return;
        await record("visit.add_note@1", { visit_id: vid, note_id: uuid(), body: note.value.trim(), at: when.at, ...when.extra });
        refresh();
      }))));
  }
  if (status === "on_site") {
    if (!order.site.no_photography) {
      const photoStatus = h("p", { class: "hint", id: "photo-status" });
      const input = h("input", { id: "photo-input", type: "file", accept: "image/*", capture: "environment" });
      input.addEventListener("change", async () => {
        for (const file of input.files) {
          const photo = await compress(file);
          const sha = await addBlob(photo.bytes, "image/jpeg", photo.thumb);
          await record("visit.attach_photo@1", { visit_id: vid, photo_id: uuid(), sha256: sha, at: deviceNow() });
        }
        photoStatus.textContent = t("photo_added");
        refresh();
      });
      out.push(h("div", { class: "panel", id: "photo-panel" }, h("label", { for: "photo-input" }, t("take_photo")), input, photoStatus));
    }
    const items = day.van.items.filter((i) => i.on_hand > 0);
    const part = h("select", { id: "part-select" }, items.map((i) =>
      h("option", { value: i.item_id }, `${i.sku} ${i.name} (${t("on_hand")} ${i.on_hand})`)));
    const qty = h("input", { id: "part-qty", type: "number", min: 1, max: 10000, value: 1, inputmode: "numeric" });
    const scan = scanner("part-scan", (text) => pickScanned(text, items, day.catalogue.items, part));
    out.push(h("div", { class: "panel", id: "part-panel" }, h("h3", {}, t("consume_part")),
      items.length ? [scan, h("label", { for: "part-select" }, t("from_van")), part,
        h("label", { for: "part-qty" }, t("quantity")), qty,
        h("div", { class: "actions" }, button("act-part", t("consume_part"), async () => {
          const quantity = Number(qty.value);
          if (!part.value || !(quantity >= 1)) return;
          const when = later.stamp();
          if (!when) return;
          await record("visit.consume_part@1", { visit_id: vid, item_id: part.value, quantity, at: when.at, ...when.extra });
          refresh();
        }))] : h("p", {}, t("no_van"))));
    const kind = h("select", { id: "time-kind" }, ["work", "travel", "waiting"].map((k) => h("option", { value: k }, t(`kind_${k}`))));
    const minutes = h("input", { id: "time-minutes", type: "number", min: 1, max: 1440, value: 30, inputmode: "numeric" });
    out.push(h("div", { class: "panel", id: "time-panel" }, h("h3", {}, t("add_time")),
      h("div", { class: "row" }, h("div", {}, h("label", { for: "time-kind" }, t("time_entry")), kind),
        h("div", {}, h("label", { for: "time-minutes" }, t("minutes")), minutes)),
      h("div", { class: "actions" }, button("act-time", t("add_time"), async () => {
        const when = later.stamp();
        if (!when) return;
        const ended = new Date(when.at);
        const started = new Date(ended.getTime() - Number(minutes.value) * 60000);
        await record("timesheet.add@1", { entry_id: uuid(), kind: kind.value, visit_id: vid, started_at: started.toISOString(), ended_at: ended.toISOString(), ...when.extra });
        refresh();
      }))));
    out.push(...inspectionForms(visit, order, refresh));
    out.push(...fieldForms(visit, order, refresh, later.stamp, day.catalogue.items));
    const outcome = h("select", { id: "finish-outcome" }, ["resolved", "follow_up", "backup_installed"].map((o) =>
      h("option", { value: o }, t(`outcome_${o}`))));
    const finishError = h("p", { class: "error", id: "finish-error", role: "alert" });
    out.push(h("div", { class: "panel", id: "finish-panel" }, h("h3", {}, t("finish")),
      h("label", { for: "finish-outcome" }, t("outcome")), outcome,
      h("div", { class: "actions" }, button("act-finish", t("finish"), async () => {
        // The server's rule, checked here too: a resolved repair needs a photo unless the
        // site bans cameras.
        if (photoMissing(visit, order, outcome.value)) {
          finishError.textContent = t("photo_required");
          return;
        }
        const when = later.stamp();
        if (!when) return;
        await record("visit.complete@1", { visit_id: vid, outcome: outcome.value, at: when.at, ...when.extra });
        refresh();
      })), finishError));
  }
  if (status === "done") {
    out.push(h("div", { class: "actions" }, h("a", { class: "button", id: "to-sign", href: `#/sign/${vid}` }, t("sign_report"))));
  }
  return out;
}

export async function render(root, { day, params, refresh }) {
  const entry = day.visits.find((e) => e.visit.id === params.id);
  if (!entry) {
    fill(root, h("p", {}, h("a", { href: "#/route", class: "button secondary" }, `← ${t("back")}`)), h("p", { id: "visit-gone" }, t("no_visits")));
    return { update: null };
  }
  const { visit, order } = entry;
  const live = h("section", { id: "visit-live" }, await summary(visit, order, day));
  fill(root, header(visit, order), live, forms(visit, order, day, refresh));
  root.dataset.visitStatus = visit.status;
  return {
    // A sync changes the records shown, not the forms being filled in; a status change
    // (another step possible) redraws everything.
    // Returns false when the whole screen must be redrawn.
    async update(fresh) {
      const again = fresh.visits.find((e) => e.visit.id === params.id);
      if (!again || again.visit.status !== root.dataset.visitStatus) return false;
      fill(live, await summary(again.visit, again.order, fresh));
      return true;
    },
  };
}
