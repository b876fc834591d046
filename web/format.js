// Times in a given IANA zone (the site's), durations, labels.

import { t } from "./i18n.js";

const formatters = new Map();

function formatter(timeZone, withDate) {
  const key = `${timeZone}|${withDate}`;
  if (!formatters.has(key)) {
    formatters.set(
      key,
      new Intl.DateTimeFormat("en-CA", {
        timeZone,
        ...(withDate ? { month: "2-digit", day: "2-digit" } : {}),
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      }),
    );
  }
  return formatters.get(key);
}

/** "03-02 21:05" in `timeZone` (or "21:05" with withDate false); "—" for no time. */
export function localTime(iso, timeZone, withDate = true) {
  if (!iso) return "—";
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "—";
  let parts;
  try {
    parts = Object.fromEntries(formatter(timeZone, withDate).formatToParts(at).map((p) => [p.type, p.value]));
  } catch {
    parts = Object.fromEntries(formatter("UTC", withDate).formatToParts(at).map((p) => [p.type, p.value]));
  }
  const time = `${parts.hour}:${parts.minute}`;
  return withDate ? `${parts.month}-${parts.day} ${time}` : time;
}

/** 5400 → "1h 30m", 90000 → "1d 1h", -600 → "10m" (the caller says "overdue"); in the page's language. */
export function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return t("duration.dh", { d: days, h: hours });
  if (hours > 0) return t("duration.hm", { h: hours, m: String(minutes).padStart(2, "0") });
  return t("duration.m", { m: minutes });
}

/** The wall-clock fields of `at` in `timeZone`, as numbers. */
function wallClock(at, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const f = Object.fromEntries(parts.map((p) => [p.type, Number(p.value)]));
  return f;
}

/** A datetime-local input's value ("2026-03-02T09:00") for the instant `at` in `timeZone`. */
export function toLocalInput(at, timeZone) {
  const f = wallClock(at, timeZone);
  const two = (n) => String(n).padStart(2, "0");
  return `${f.year}-${two(f.month)}-${two(f.day)}T${two(f.hour)}:${two(f.minute)}`;
}

/** The instant (ISO 8601 with the zone's offset, as the API wants) of a datetime-local value read
 * as wall-clock time in `timeZone`; null when empty or malformed. */
export function fromLocalInput(value, timeZone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  // The zone's offset at that moment; a second pass settles a guess that crossed a DST change.
  let offset = 0;
  for (let i = 0; i < 2; i += 1) {
    const f = wallClock(new Date(asUtc - offset), timeZone);
    offset = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - (asUtc - offset);
  }
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset) / 60000;
  const two = (n) => String(n).padStart(2, "0");
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

export function label(text) {
  return String(text ?? "").replaceAll("_", " ");
}

/** The worst state among clocks still running, for a marker's colour. */
export function worstState(clocks) {
  const rank = ["breached", "at_risk", "paused", "ok", "scheduled", "awaiting_confirmation", "met"];
  let best = "met";
  for (const clock of clocks || []) {
    if (rank.indexOf(clock.state) < rank.indexOf(best)) best = clock.state;
  }
  return best;
}
