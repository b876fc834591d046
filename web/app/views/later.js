// "Recorded later": in secure rooms phones are not allowed, so arrival, notes, parts, time and
// the finish are entered afterwards with the time they actually happened, given in the site's
// local time, and a reason. The server keeps that time as given (not moved to the phone's
// previous contact) and the reason with the entry.
import { h } from "../../dom.js";
import { t } from "../i18n.js";
import { clock } from "../ids.js";

// Per visit, so a redraw (after each step) keeps the switch, the time and the reason.
const remembered = new Map();

/** The zone's offset from UTC at the instant, in milliseconds. */
function offset(ms, zone) {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const p = Object.fromEntries(format.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** An instant as the value of a datetime-local input showing the site's wall clock. */
export function toLocalInput(date, zone) {
  return new Date(date.getTime() + offset(date.getTime(), zone)).toISOString().slice(0, 16);
}

/** A datetime-local value read as the site's wall clock: the instant. */
export function fromLocalInput(value, zone) {
  const wall = Date.parse(`${value}:00Z`);
  const first = wall - offset(wall, zone);
  return new Date(wall - offset(first, zone)); // again at the guess: right across a DST change
}

/** The switch and its fields for one visit; `stamp()` gives an entry's time and extra args. */
export function recordedLater(visitId, zone) {
  const state = remembered.get(visitId) || { on: false, at: "", reason: "" };
  remembered.set(visitId, state);
  const toggle = h("input", { type: "checkbox", id: "later-switch" });
  toggle.checked = state.on;
  const when = h("input", { type: "datetime-local", id: "later-at", step: 60, value: state.at });
  const reason = h("input", { id: "later-reason", maxlength: 190, autocomplete: "off", value: state.reason });
  const fields = h("div", { id: "later-fields" },
    h("label", { for: "later-at" }, `${t("actual_time")} (${zone})`), when,
    h("label", { for: "later-reason" }, t("later_reason")), reason);
  fields.hidden = !state.on;
  const error = h("p", { class: "error", id: "later-error", role: "alert" });
  toggle.addEventListener("change", () => {
    state.on = toggle.checked;
    fields.hidden = !state.on;
    if (state.on && !when.value) when.value = state.at = toLocalInput(clock.now(), zone);
  });
  when.addEventListener("input", () => { state.at = when.value; error.textContent = ""; });
  reason.addEventListener("input", () => { state.reason = reason.value; error.textContent = ""; });
  const panel = h("div", { class: "panel", id: "later-panel" },
    h("label", { class: "check" }, toggle, ` ${t("recorded_later")}`),
    h("p", { class: "hint" }, t("recorded_later_hint")), fields, error);

  const refuse = (text) => {
    error.textContent = text;
    panel.scrollIntoView({ block: "center" });
    return null;
  };

  /** Now, or the time entered with its reason; null (and the reason shown) when incomplete. */
  function stamp() {
    error.textContent = "";
    if (!state.on) return { at: clock.now().toISOString(), extra: {} };
    if (!when.value) return refuse(`${t("actual_time")}: ${t("required")}`);
    if (!reason.value.trim()) return refuse(`${t("later_reason")}: ${t("required")}`);
    const at = fromLocalInput(when.value, zone);
    if (Number.isNaN(at.getTime())) return refuse(`${t("actual_time")}: ${t("required")}`);
    if (at > clock.now()) return refuse(t("later_in_future"));
    return { at: at.toISOString(), extra: { backdated_reason: reason.value.trim() } };
  }
  return { panel, stamp };
}
