// Times in a given IANA zone (the site's), durations, labels.

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

/** 5400 → "1h 30m", 90000 → "1d 1h", -600 → "10m" (the caller says "overdue"). */
export function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, "0")}m`;
  return `${minutes}m`;
}

export const MEASURES = {
  response: "Response",
  on_site: "On site",
  restore: "Restore",
  permanent_fix: "Fix",
};

export const STATES = {
  ok: "OK",
  at_risk: "At risk",
  breached: "Breached",
  met: "Met",
  paused: "Paused",
  scheduled: "Scheduled",
};

export function label(text) {
  return String(text ?? "").replaceAll("_", " ");
}

/** The worst state among clocks still running, for a marker's colour. */
export function worstState(clocks) {
  const rank = ["breached", "at_risk", "paused", "ok", "scheduled", "met"];
  let best = "met";
  for (const clock of clocks || []) {
    if (rank.indexOf(clock.state) < rank.indexOf(best)) best = clock.state;
  }
  return best;
}
