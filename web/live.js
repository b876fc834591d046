// Live updates: a single-use ticket (POST, with the access token), then server-sent events.
// The server ends each stream after a few minutes with `reconnect`; we come back with a new
// ticket and the last event id we saw, so nothing committed in between is missed.

import { api } from "./api.js";

const KINDS = ["order", "visit", "clock", "notification", "position", "plan", "absence"];

/**
 * startLive({ onChange(event), onResync(), onState(state) }) → { stop() }
 * state: "connecting" | "live" | "offline"
 */
export function startLive({ onChange, onResync = () => {}, onState = () => {} }) {
  let source = null;
  let lastId = null;
  let stopped = false;
  let retry = 1000;
  let timer = null;

  function close() {
    if (source) source.close();
    source = null;
  }

  function later() {
    close();
    if (stopped) return;
    onState("offline");
    clearTimeout(timer);
    timer = setTimeout(open, retry);
    retry = Math.min(retry * 2, 30000);
  }

  async function open() {
    if (stopped) return;
    onState("connecting");
    let ticket;
    try {
      ticket = (await api("POST", "/api/live/tickets")).ticket;
    } catch {
      later();
      return;
    }
    const url = new URL("/api/live", window.location.origin);
    url.searchParams.set("ticket", ticket);
    if (lastId !== null) url.searchParams.set("last_event_id", lastId);
    source = new EventSource(url);
    source.addEventListener("open", () => {
      retry = 1000;
      onState("live");
    });
    for (const kind of KINDS) {
      source.addEventListener(kind, (message) => {
        if (message.lastEventId) lastId = message.lastEventId;
        onChange(JSON.parse(message.data));
      });
    }
    source.addEventListener("resync", () => onResync());
    source.addEventListener("reconnect", () => {
      close();
      open();
    });
    // EventSource would retry with the spent ticket: we reconnect ourselves instead.
    source.addEventListener("error", later);
  }

  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      close();
    },
  };
}
