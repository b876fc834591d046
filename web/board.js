// The dispatch board: a row per engineer over one to three local days (shifts, standby, absences,
// visits with the drive before each, coloured by SLA state, pick-ups of parts at warehouses on the
// way) and the queue of visits nobody has. Drag a
// card or a bar onto an engineer and a time: the server's dry run is shown before anything is
// assigned. Without a mouse: "Assign…" on a card lists the engineers ranked by the same check.

import { $, fill, h } from "./dom.js";
import { ApiError, api, currentSession } from "./api.js";
import { toLocalInput } from "./format.js";
import { actionForm } from "./forms.js";
import { setLanguage } from "./i18n.js";
import { startLive } from "./live.js";

const WORDS = {
  zh: {
    title: "派工看板", from: "日期", days: "天数", console: "返回调度台", queue: "待派工", cancel: "取消",
    assign: "指派", pin: "固定在此时间", override: "仍然指派的理由", choose: "指派…", start: "开始",
    arrival: "到达", deadline: "SLA 截止", late: "迟到", travel: "路程", moved: "将被推迟的工单",
    none: "没有待派工的工单", refused: "规则不允许", live: "实时", connecting: "连接中", offline: "离线",
    minutes: "分钟", onCall: "值班", candidates: "选择工程师", noRoom: "无空档", lang: "English",
    pickup: "取件", joint: "协同",
    sick: "病假", leave: "休假", training: "培训", break: "休息", other: "不在岗",
    addAbsence: "记录不在岗", kind: "类型", startsAt: "开始", endsAt: "结束", note: "备注", save: "保存",
    removeAbsence: "删除此不在岗记录", remove: "删除", close: "关闭",
  },
  en: {
    title: "Dispatch board", from: "From", days: "Days", console: "Back to console", queue: "Unassigned",
    cancel: "Cancel", assign: "Assign", pin: "Pin at this time", override: "Reason to assign anyway",
    choose: "Assign…", start: "Start", arrival: "Arrival", deadline: "SLA deadline", late: "late",
    travel: "Drive", moved: "Moved later", none: "Nothing waiting", refused: "Refused by the rules",
    live: "live", connecting: "connecting", offline: "offline", minutes: "min", onCall: "on call",
    candidates: "Choose an engineer", noRoom: "no room", lang: "中文", pickup: "pick-up", joint: "joint",
    sick: "sick", leave: "leave", training: "training", break: "break", other: "away",
    addAbsence: "Record time away", kind: "Kind", startsAt: "From", endsAt: "Until", note: "Note", save: "Save",
    removeAbsence: "Remove this absence", remove: "Remove", close: "Close",
  },
};

const state = { board: null, lang: localStorage.getItem("fsd.console.lang") || "zh", drop: null };
const t = (key) => WORDS[state.lang][key] ?? key;

function when(iso, withDate = true) {
  if (!iso) return "—";
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: state.board?.time_zone || "Asia/Shanghai",
    ...(withDate ? { month: "2-digit", day: "2-digit" } : {}),
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const p = Object.fromEntries(format.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return withDate ? `${p.month}-${p.day} ${p.hour}:${p.minute}` : `${p.hour}:${p.minute}`;
}

function showError(error) {
  $("#error-title").textContent = error.title || "Error";
  $("#error-detail").textContent = error.detail || error.message || "";
  $("#error").hidden = false;
}

function span() {
  const start = Date.parse(state.board.start);
  return { start, total: Date.parse(state.board.end) - start };
}

function place(el, from, to) {
  const { start, total } = span();
  const left = Math.max(0, (Date.parse(from) - start) / total);
  const right = Math.min(1, (Date.parse(to) - start) / total);
  el.style.left = `${(left * 100).toFixed(3)}%`;
  el.style.width = `${(Math.max(right - left, 0.002) * 100).toFixed(3)}%`;
  return el;
}

async function load() {
  const day = $("#board-day").value;
  state.board = await api("GET", "/api/dispatch/board", { query: { from: day, days: $("#board-days").value } });
  if (!day) $("#board-day").value = state.board.start.slice(0, 10);
  $("#board-zone").textContent = state.board.time_zone;
  render();
}

function render() {
  renderAxis();
  renderRows();
  renderQueue();
}

function renderAxis() {
  const { start, total } = span();
  const ticks = [];
  for (let at = start; at < start + total; at += 3 * 3600 * 1000) {
    const day = (at - start) % 86400000 === 0;
    const label = when(new Date(at).toISOString(), day);
    const tick = h("span", { class: day ? "tick day" : "tick" }, day ? label.slice(0, 5) : label);
    tick.style.left = `${(((at - start) / total) * 100).toFixed(3)}%`;
    ticks.push(tick);
  }
  fill($("#timeline-axis"), h("div", { class: "row-label" }), h("div", { class: "row-lane" }, ticks));
}

function bar(visit, row) {
  const names = new Map(state.board.engineers.map((e) => [e.engineer_id, e.name]));
  const label = `${visit.problem_number} ${visit.customer}`;
  const el = h(
    "div",
    {
      class: `visit-bar sla-${visit.sla_state}${visit.pinned ? " pinned" : ""}${visit.parts_held_at ? " parts-held" : ""}`,
      draggable: ["assigned"].includes(visit.status) ? "true" : null,
      tabindex: "0",
      title: `${label} · ${visit.site} · ${when(visit.start)}–${when(visit.end, false)}${visit.parts_held_at ? ` · ${t("pickup")} ${visit.parts_held_at}` : ""}`,
      dataset: { visitId: visit.visit_id, status: visit.status, engineerId: row.engineer_id },
      ondragstart: (event) => startDrag(event, visit),
    },
    h("span", { class: "bar-text" }, label),
    visit.partner_engineer_id ? h("span", { class: "joint" }, ` ⇄ ${names.get(visit.partner_engineer_id) || t("joint")}`) : null,
  );
  return place(el, visit.start, visit.end);
}

const ABSENCE_KINDS = ["sick", "leave", "training", "break", "other"];

// Time away: a hatched block over the shift, named by its kind (and note); a click offers removal.
function absenceBlock(away, row) {
  const label = t(away.kind);
  const title = `${label} ${when(away.start)}–${when(away.end)}${away.note ? ` · ${away.note}` : ""}`;
  const el = h(
    "div",
    {
      class: `absence absence-${away.kind}`,
      title,
      tabindex: "0",
      dataset: { absenceId: away.absence_id, kind: away.kind },
      onclick: () => showAbsence(away, row, title),
    },
    h("span", { class: "bar-text" }, label),
  );
  return place(el, away.start, away.end);
}

function openAbsenceDialog(title, ...content) {
  $("#absence-title").textContent = title;
  fill($("#absence-body"), ...content);
  $("#absence").showModal();
}

// Record time away for the engineer: kind, from, until (in the board's zone), note.
function addAbsence(row) {
  const zone = state.board.time_zone;
  const from = new Date(Math.max(Date.now(), Date.parse(state.board.start)));
  const form = actionForm({
    id: "absence-form",
    timeZone: zone,
    submitLabel: t("save"),
    fields: [
      { name: "kind", label: t("kind"), type: "select", options: ABSENCE_KINDS.map((k) => [k, t(k)]), value: "sick" },
      { name: "starts_at", label: t("startsAt"), type: "datetime", value: toLocalInput(from, zone), required: true },
      { name: "ends_at", label: t("endsAt"), type: "datetime", value: toLocalInput(new Date(from.getTime() + 4 * 3600000), zone), required: true },
      { name: "note", label: t("note"), type: "text", max: 500 },
    ],
    onClose: () => $("#absence").close(),
    onSubmit: async (values) => {
      await api("POST", `/api/engineers/${row.engineer_id}/absences`, { body: values });
      $("#absence").close();
      await load();
    },
  });
  openAbsenceDialog(`${t("addAbsence")} · ${row.name}`, form);
}

function showAbsence(away, row, summary) {
  const problem = h("p", { class: "form-error", role: "alert" });
  const remove = async () => {
    try {
      await api("DELETE", `/api/engineers/${row.engineer_id}/absences/${away.absence_id}`, { query: { version: away.version } });
      $("#absence").close();
      await load();
    } catch (error) {
      problem.textContent = [error.title, error.detail].filter(Boolean).join(": ");
    }
  };
  openAbsenceDialog(
    `${row.name} · ${summary}`,
    problem,
    h(
      "menu",
      {},
      h("button", { type: "button", onclick: () => $("#absence").close() }, t("close")),
      h("button", { type: "button", class: "primary", id: "absence-remove", onclick: remove }, t("removeAbsence")),
    ),
  );
}

// A stop at a warehouse for a visit's parts, at its own time before the visit.
function pickupBlock(stop) {
  const title = `${t("pickup")} ${stop.warehouse} · ${stop.problem_number} · ${when(stop.start)}–${when(stop.end, false)}`;
  const el = h(
    "div",
    { class: "pickup-stop", title, dataset: { visitId: stop.visit_id } },
    h("span", { class: "bar-text" }, `${t("pickup")} ${stop.warehouse}`),
  );
  return place(el, stop.start, stop.end);
}

function renderRows() {
  const rows = state.board.engineers.map((row) => {
    const lane = h("div", {
      class: "row-lane",
      ondragover: (event) => event.preventDefault(),
      ondrop: (event) => dropOn(event, row),
    });
    for (const [from, to] of row.shifts) lane.append(place(h("div", { class: "shift" }), from, to));
    for (const [from, to] of row.on_call) lane.append(place(h("div", { class: "on-call", title: t("onCall") }), from, to));
    for (const away of row.absences || []) lane.append(absenceBlock(away, row));
    for (const stop of row.pickups || []) lane.append(pickupBlock(stop));
    for (const visit of row.visits) {
      const drive = new Date(Date.parse(visit.start) - visit.travel_minutes * 60000).toISOString();
      if (visit.travel_minutes > 0) lane.append(place(h("div", { class: "drive", title: `${t("travel")} ${visit.travel_minutes} ${t("minutes")}` }), drive, visit.start));
      lane.append(bar(visit, row));
    }
    return h(
      "div",
      { class: "board-row", dataset: { engineerId: row.engineer_id, username: row.username } },
      h(
        "div",
        { class: "row-label" },
        h("button", { type: "button", class: "add-absence link", title: t("addAbsence"), "aria-label": `${t("addAbsence")} · ${row.name}`, onclick: () => addAbsence(row) }, "＋"),
        h("strong", {}, row.name),
        h("span", { class: "muted" }, ` ${row.username}`),
      ),
      lane,
    );
  });
  fill($("#timeline-rows"), rows);
}

function renderQueue() {
  const items = state.board.unassigned.map((visit) =>
    h(
      "li",
      {
        class: `queue-card sla-${visit.sla_state}`,
        draggable: "true",
        dataset: { visitId: visit.visit_id },
        ondragstart: (event) => startDrag(event, visit),
      },
      h("div", {}, h("strong", {}, visit.problem_number), " ", h("span", { class: `pill severity-${visit.severity}` }, visit.severity)),
      h("div", {}, visit.customer, " · ", visit.site),
      h("div", { class: "muted" }, `${t("deadline")} ${when(visit.deadline)} · ${visit.duration_minutes} ${t("minutes")}`),
      h("button", { type: "button", class: "choose", onclick: () => chooseEngineer(visit) }, t("choose")),
    ),
  );
  fill($("#queue-list"), items.length ? items : h("li", { class: "muted" }, t("none")));
}

function startDrag(event, visit) {
  event.dataTransfer.setData("text/plain", visit.visit_id);
  event.dataTransfer.effectAllowed = "move";
  state.drag = visit;
}

function dropOn(event, row) {
  event.preventDefault();
  const visit = state.drag;
  if (!visit) return;
  const lane = event.currentTarget.getBoundingClientRect();
  const { start, total } = span();
  const share = Math.min(Math.max((event.clientX - lane.left) / lane.width, 0), 1);
  // To the nearest five minutes.
  const at = Math.round((start + share * total) / 300000) * 300000;
  check(visit, row.engineer_id, new Date(at).toISOString());
}

async function check(visit, engineerId, plannedStart) {
  try {
    const body = { engineer_id: engineerId, ...(plannedStart ? { planned_start: plannedStart } : {}) };
    const verdict = await api("POST", `/api/visits/${visit.visit_id}/assignment/check`, { body });
    showVerdict(visit, verdict, plannedStart);
  } catch (error) {
    showError(error);
  }
}

function fact(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function showVerdict(visit, verdict, plannedStart) {
  state.drop = { visit, verdict, plannedStart };
  $("#verdict-title").textContent = `${visit.problem_number} → ${verdict.engineer_name || verdict.username || "?"}`;
  const late = verdict.late_minutes ? ` (${t("late")} ${verdict.late_minutes} ${t("minutes")})` : "";
  fill(
    $("#verdict-facts"),
    fact(t("start"), when(verdict.planned_start)),
    fact(t("arrival"), when(verdict.arrival)),
    fact(t("deadline"), when(verdict.deadline) + late),
    verdict.pickup_warehouse ? fact(t("pickup"), `${verdict.pickup_warehouse} ${when(verdict.pickup_at)}`) : null,
  );
  fill(
    $("#verdict-findings"),
    verdict.findings.map((f) => h("li", { class: `finding ${f.severity}`, dataset: { rule: f.rule } }, f.message)),
  );
  fill(
    $("#verdict-others"),
    verdict.others.length
      ? [
          h("h3", {}, t("moved")),
          h("ul", {}, verdict.others.map((o) => h("li", {}, `${o.problem_number}: ${when(o.planned_start_before)} → ${when(o.planned_start_after)}${o.late_minutes ? ` (${t("late")} ${o.late_minutes} ${t("minutes")})` : ""}`))),
        ]
      : null,
  );
  $("#verdict-override-label").hidden = verdict.allowed;
  $("#verdict-override").value = "";
  $("#verdict-error").textContent = "";
  $("#verdict-assign").disabled = !verdict.planned_start && verdict.allowed;
  $("#verdict").showModal();
}

async function assign() {
  const { visit, verdict } = state.drop;
  const reason = $("#verdict-override").value.trim();
  if (!verdict.allowed && !reason) {
    $("#verdict-error").textContent = `${t("refused")}: ${t("override")}`;
    return;
  }
  try {
    await api("PUT", `/api/visits/${visit.visit_id}/assignment`, {
      body: {
        version: visit.version,
        engineer_id: verdict.engineer_id,
        planned_start: verdict.planned_start,
        pinned: $("#verdict-pin").checked,
        ...(reason ? { override_reason: reason } : {}),
      },
    });
    $("#verdict").close();
    await load();
  } catch (error) {
    const problem = error instanceof ApiError ? error.problem : {};
    $("#verdict-error").textContent = [error.title, problem.detail].filter(Boolean).join(": ");
  }
}

async function chooseEngineer(visit) {
  $("#candidates-title").textContent = `${t("candidates")} · ${visit.problem_number}`;
  fill($("#candidates-list"));
  $("#candidates").showModal();
  try {
    const ranked = (await api("GET", `/api/visits/${visit.visit_id}/candidates`, { query: { limit: 500 } })).items;
    fill(
      $("#candidates-list"),
      ranked.map((c) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: `candidate${c.allowed ? "" : " refused"}`,
              dataset: { engineerId: c.engineer_id },
              onclick: () => {
                $("#candidates").close();
                check(visit, c.engineer_id, c.planned_start);
              },
            },
            `${c.engineer_name} (${c.username}) · ${c.planned_start ? when(c.planned_start) : t("noRoom")}`,
            c.findings.length ? ` · ${c.findings.map((f) => f.message).join("; ")}` : "",
          ),
        ),
      ),
    );
  } catch (error) {
    $("#candidates").close();
    showError(error);
  }
}

function translate() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("#board-title").textContent = t("title");
  $("#board-lang").textContent = t("lang");
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
}

let reloading = null;
function reloadSoon() {
  clearTimeout(reloading);
  reloading = setTimeout(() => load().catch(showError), 300);
}

async function main() {
  if (!currentSession()) {
    window.location.replace("/");
    return;
  }
  translate();
  $("#error-close").addEventListener("click", () => ($("#error").hidden = true));
  $("#board-day").addEventListener("change", () => load().catch(showError));
  $("#board-days").addEventListener("change", () => load().catch(showError));
  $("#board-lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("fsd.console.lang", state.lang);
    setLanguage(state.lang); // the forms' words
    translate();
    render();
  });
  $("#verdict-cancel").addEventListener("click", () => $("#verdict").close());
  $("#verdict-assign").addEventListener("click", assign);
  $("#candidates-cancel").addEventListener("click", () => $("#candidates").close());
  await load();
  startLive({
    onChange: (event) => {
      if (["order", "visit", "clock", "absence"].includes(event.kind)) reloadSoon();
    },
    onResync: reloadSoon,
    onState: (s) => {
      $("#live-state").dataset.state = s;
      $("#live-state").textContent = t(s);
    },
  });
}

main().catch(showError);
