// The always-visible sync bar: state, how many records wait to be sent, the last successful
// sync in the site's time zone, and the refusals and conflicts, each with the server's reason.
import { h, fill } from "../dom.js";
import { t, action, language } from "./i18n.js";
import * as sync from "./sync.js";
import * as outbox from "./outbox.js";
import { getMeta } from "./store.js";
import { localTime, issues } from "./model.js";

// Problem types the engineer meets, in their words (the server's title and detail follow).
const PROBLEM_WORDS = {
  "/problems/photo-required": "fix_add_photo",
  "/problems/proof-mismatch": "arrival_proof_mismatch",
};

function explain(m) {
  const outcome = m.outcome || {};
  if (m.status === "conflict") return t(`conflict_${outcome.conflict}`) || t("conflict");
  const words = PROBLEM_WORDS[outcome.problem?.type];
  return words ? t(words) : t("refused");
}

/** A refusal is settled once the same action on the same record was sent again and not refused. */
function superseded(m, journal) {
  const target = m.args.visit_id || m.args.report_id;
  return journal.some((later) => later.seq > m.seq && later.name === m.name &&
    (later.args.visit_id || later.args.report_id) === target && !["rejected", "conflict"].includes(later.status));
}

export async function render({ zone }) {
  const current = await sync.session();
  const journal = current ? await outbox.all(current.user_id) : [];
  const unsent = journal.filter((m) => m.status === null).length;
  const count = document.getElementById("pending-count");
  count.textContent = String(unsent);
  count.dataset.count = String(unsent);
  document.getElementById("pending-label").textContent = t("pending");
  const state = document.getElementById("sync-state");
  state.dataset.status = sync.state.status;
  state.textContent = {
    syncing: t("syncing"), offline: t("offline"), error: t("sync_error", { detail: sync.state.detail }),
    suspended: t("suspended"), signin: t("sign_in_again"), wiped: t("wiped"),
  }[sync.state.status] || (navigator.onLine ? "" : t("offline"));
  const last = current ? await getMeta(`last_sync:${current.user_id}`) : null;
  const lastEl = document.getElementById("last-sync");
  lastEl.textContent = `${t("last_sync")}: ${last ? localTime(last, zone) : t("never")}`;
  lastEl.dataset.at = last || "";
  document.getElementById("sync-now").textContent = t("sync");
  document.getElementById("lang-switch").textContent = t("language");
  const list = document.getElementById("sync-issues");
  fill(list, issues(journal).filter((m) => !superseded(m, journal)).map((m) => {
    const problem = m.outcome?.problem;
    const target = m.args.visit_id;
    return h("li", { class: "issue", dataset: { seq: m.seq, status: m.status, name: m.name, problemType: problem?.type || "" } },
      h("div", { class: "issue-title" }, `${action(m.name)} · ${m.status === "conflict" ? t("conflict") : t("refused")}`),
      h("div", { class: "issue-words" }, explain(m)),
      problem ? h("div", { class: "issue-server", lang: "en" }, [problem.title, problem.detail].filter(Boolean).join(" — ")) : null,
      h("div", { class: "issue-actions" },
        target && m.status === "rejected" ? h("a", { class: "button secondary issue-open", href: `#/visit/${target}` }, t("send_again")) : null,
        h("button", { type: "button", class: "secondary issue-dismiss", onclick: async () => {
          await outbox.dismiss(current.user_id, m.seq);
          sync.notify();
        } }, t("dismiss"))));
  }));
  document.documentElement.lang = language() === "zh" ? "zh-CN" : "en";
}
