// The desk's actions on one work order: contact (the response clock), pause/resume, backup offer
// declined, restored degraded, cancel, the state machine's transitions, a new visit, emergency
// insertion (proposal first), loan approval. Every action goes through the API; its problem is shown
// in the form; a version conflict reloads the order and says who changed it.

import { api, ApiError } from "./api.js";
import { h, fill } from "./dom.js";
import { actionForm } from "./forms.js";
import { localTime } from "./format.js";
import { t, v } from "./i18n.js";
import { section, table } from "./orders.js";

const CLOSED = new Set(["closed", "cancelled"]);
const SEVERITIES = ["critical", "high", "medium", "low"];
const CHANNELS = ["phone", "email", "web", "chat", "walk_in", "fax", "letter", "integration"];
const PAUSE_REASONS = ["site_not_accessible", "escort_delay", "customer_postponed", "change_freeze", "awaiting_quote_approval"];
const VISIT_KINDS = ["repair", "inspection", "backup_delivery", "swap_back"];
// The order the state machine's targets are offered in (forward moves first).
const TARGET_ORDER = ["triaged", "scheduled", "en_route", "on_site", "remote_fix", "resolved", "backup_installed", "signed", "closed", "reopened"];

const options = (group, values) => values.map((value) => [value, v(group, value)]);

export function isVersionConflict(error) {
  return error instanceof ApiError && error.status === 409 && String(error.problem.type || "").endsWith("/version-conflict");
}

/**
 * ctx: {nextStatuses: [status], loans: [loan], me: {display_name}, names(id), problemNumberOfVisit(id),
 *       reload(), notice(text), onConflict(error)}
 * Returns {actions, visitAction(visit), extra: [nodes]} for renderOrderDetail.
 */
export function deskFor(order, ctx) {
  const tz = order.site.time_zone;
  const base = `/api/work-orders/${encodeURIComponent(order.id)}`;
  const host = h("div", { class: "action-host" });
  const open = !CLOSED.has(order.status);
  const paused = order.status === "waiting_customer" || order.clocks.some((c) => c.state === "paused");

  const close = () => fill(host);
  const done = async (message) => {
    close();
    if (message) ctx.notice(message);
    await ctx.reload();
  };
  // A stale version: reload, and say who changed the order (the form's own problem otherwise).
  const onError = (error) => {
    if (!isVersionConflict(error)) return false;
    close();
    ctx.onConflict(error);
    return true;
  };
  const show = (form) => {
    fill(host, form);
    form.querySelector("input, select, textarea")?.focus();
  };
  const post = (path, body) => api("POST", `${base}${path}`, { body });

  const forms = {
    contact: () =>
      actionForm({
        id: "form-contact",
        title: t("desk.contact"),
        timeZone: tz,
        fields: [
          { name: "person_name", label: t("field.person_name"), required: true, value: ctx.me?.display_name || "" },
          { name: "channel", label: t("field.channel"), type: "select", options: options("channel", CHANNELS), value: "phone" },
          { name: "note", label: t("field.note"), type: "textarea" },
        ],
        onSubmit: async (values) => done(await post("/contacts", values) && t("desk.saved")),
        onClose: close,
        onError,
      }),
    pause: () =>
      actionForm({
        id: "form-pause",
        title: t("desk.pause"),
        timeZone: tz,
        fields: [
          { name: "reason", label: t("field.reason"), type: "select", options: options("pause_reason", PAUSE_REASONS) },
          { name: "customer_name", label: t("field.customer_name"), required: true, value: order.contact_name },
          { name: "channel", label: t("field.channel"), type: "select", options: options("channel", CHANNELS), value: "phone" },
          { name: "call_reference", label: t("field.call_reference"), required: true },
          { name: "until", label: t("field.until"), type: "datetime" },
        ],
        onSubmit: async (values) => done(await post("/pauses", { ...values, version: order.version }) && t("desk.saved")),
        onClose: close,
        onError,
      }),
    backup: () =>
      actionForm({
        id: "form-backup",
        title: t("desk.backup_declined"),
        timeZone: tz,
        fields: [
          { name: "unit_description", label: t("field.unit_description"), required: true, value: order.asset_model || "" },
          { name: "declined_by", label: t("field.declined_by"), required: true, value: order.contact_name },
          { name: "evidence", label: t("field.evidence"), required: true },
        ],
        onSubmit: async (values) => done(await post("/backup-offers", { ...values, declined: true }) && t("desk.saved")),
        onClose: close,
        onError,
      }),
    degraded: () =>
      actionForm({
        id: "form-degraded",
        title: t("desk.degraded"),
        timeZone: tz,
        fields: [
          {
            name: "severity",
            label: t("field.severity"),
            type: "select",
            options: options("severity", SEVERITIES.slice(SEVERITIES.indexOf(order.severity) + 1)),
          },
          { name: "note", label: t("field.note"), type: "textarea", required: true },
        ],
        onSubmit: async (values) => done(await post("/restored-degraded", { ...values, version: order.version }) && t("desk.saved")),
        onClose: close,
        onError,
      }),
    cancelled: () =>
      actionForm({
        id: "form-cancel",
        title: t("desk.cancel"),
        timeZone: tz,
        fields: [{ name: "note", label: t("field.cancel_reason"), type: "textarea", required: true }],
        onSubmit: async (values) => {
          if (!values.note) throw new ApiError(422, { title: t("desk.cancel"), errors: [{ field: "note", message: t("field.required") }] });
          return done(await post("/transitions", { to: "cancelled", note: values.note, version: order.version }) && t("desk.saved"));
        },
        onClose: close,
        onError,
      }),
    visit: () =>
      actionForm({
        id: "form-visit",
        title: t("desk.add_visit"),
        timeZone: tz,
        fields: [
          { name: "kind", label: t("field.visit_kind"), type: "select", options: options("visit_kind", VISIT_KINDS) },
          { name: "duration_minutes", label: t("field.duration_minutes"), type: "number", value: "60", min: 5, max: 1440 },
          { name: "window_start", label: t("field.window_start"), type: "datetime" },
          { name: "window_end", label: t("field.window_end"), type: "datetime" },
        ],
        onSubmit: async (values) => done(await post("/visits", values) && t("desk.saved")),
        onClose: close,
        onError,
      }),
  };

  const transitionForm = (target) =>
    actionForm({
      id: "form-transition",
      title: t("desk.move_to", { status: v("status", target) }),
      timeZone: tz,
      fields: [
        ...(target === "signed"
          ? [
              { name: "confirmed_by", label: t("field.confirmed_by"), required: true, value: order.contact_name },
              { name: "confirmation_channel", label: t("field.confirmation_channel"), type: "select", options: options("channel", CHANNELS), value: "phone" },
            ]
          : []),
        { name: "note", label: t("field.note"), type: "textarea" },
      ],
      onSubmit: async (values) => done(await post("/transitions", { ...values, to: target, version: order.version }) && t("desk.saved")),
      onClose: close,
      onError,
    });

  const button = (key, text, onclick, extra = {}) =>
    h("button", { type: "button", class: `desk-action ${extra.class || ""}`.trim(), dataset: { action: key, ...(extra.dataset || {}) }, onclick }, text);

  const targets = TARGET_ORDER.filter((s) => ctx.nextStatuses.includes(s));
  const buttons = [
    open ? button("contact", t("desk.contact"), () => show(forms.contact())) : null,
    open && !paused ? button("pause", t("desk.pause"), () => show(forms.pause())) : null,
    open && paused
      ? button("resume", t("desk.resume"), async (event) => {
          event.currentTarget.disabled = true;
          try {
            await post("/resume", { version: order.version });
            await done(t("desk.saved"));
          } catch (error) {
            if (!onError(error)) ctx.fail(error);
          }
        })
      : null,
    open ? button("backup", t("desk.backup_declined"), () => show(forms.backup())) : null,
    open && order.severity !== "low" ? button("degraded", t("desk.degraded"), () => show(forms.degraded())) : null,
    open ? button("visit", t("desk.add_visit"), () => show(forms.visit())) : null,
    ctx.nextStatuses.includes("cancelled") ? button("cancel", t("desk.cancel"), () => show(forms.cancelled()), { class: "danger" }) : null,
  ];
  const moves = targets.map((target) =>
    button("transition", t("desk.move_to", { status: v("status", target) }), () => show(transitionForm(target)), {
      class: "transition",
      dataset: { to: target },
    }),
  );

  const actions = h(
    "section",
    { class: "desk", "aria-label": t("desk.actions") },
    h("div", { class: "desk-buttons" }, buttons),
    moves.length ? h("div", { class: "desk-buttons transitions" }, moves) : null,
    host,
  );

  // Emergency insertion: the proposal first (who, arrival, lateness, who moves), then apply.
  const insert = async (visit, trigger) => {
    trigger.disabled = true;
    try {
      const proposal = await api("POST", "/api/dispatch/emergency-insertion", { body: { visit_id: visit.id, apply: false } });
      fill(host, proposalView(proposal, visit, tz, ctx, { onApply: applyInsert, onClose: close }));
    } catch (error) {
      ctx.fail(error);
    } finally {
      trigger.disabled = false;
    }
  };
  const applyInsert = async (visit, applyButton) => {
    applyButton.disabled = true;
    try {
      const applied = await api("POST", "/api/dispatch/emergency-insertion", { body: { visit_id: visit.id, apply: true } });
      await done(t("proposal.applied", { name: applied.engineer_name || applied.username || t("engineer") }));
    } catch (error) {
      applyButton.disabled = false;
      ctx.fail(error);
    }
  };
  const visitAction = (visit) =>
    visit.status === "planned" && open
      ? h("button", { type: "button", class: "desk-action emergency", dataset: { action: "emergency", visitId: visit.id }, onclick: (e) => insert(visit, e.currentTarget) }, t("desk.emergency"))
      : null;

  const extra = ctx.loans.length
    ? [
        section(
          t("detail.loans"),
          table(
            [t("detail.state"), t("detail.cause"), ""],
            ctx.loans.map((loan) => [
              h("span", { class: `pill loan-${loan.status}`, dataset: { loanId: loan.id, status: loan.status } }, v("loan_status", loan.status)),
              loan.cause,
              loan.status === "proposed"
                ? h(
                    "button",
                    {
                      type: "button",
                      class: "desk-action primary",
                      dataset: { action: "approve-loan", loanId: loan.id },
                      onclick: async (event) => {
                        event.currentTarget.disabled = true;
                        try {
                          await api("POST", `/api/stock/loans/${encodeURIComponent(loan.id)}/approve`, { body: { version: loan.version } });
                          await done(t("desk.saved"));
                        } catch (error) {
                          ctx.fail(error);
                        }
                      },
                    },
                    t("desk.approve_loan"),
                  )
                : "",
            ]),
          ),
        ),
      ]
    : [];

  return { actions, visitAction, extra };
}

function proposalView(p, visit, tz, ctx, { onApply, onClose }) {
  const apply = h("button", { type: "button", class: "primary", id: "proposal-apply", onclick: () => onApply(visit, apply) }, t("desk.emergency_apply"));
  return h(
    "div",
    { class: "proposal", id: "proposal" },
    h("h4", {}, t("proposal.title")),
    h(
      "dl",
      { class: "facts compact" },
      h("dt", {}, t("proposal.engineer")),
      h("dd", { class: "proposal-engineer" }, p.engineer_name || p.username || t("engineer"), p.username && p.engineer_name ? h("span", { class: "muted" }, ` ${p.username}`) : null),
      h("dt", {}, t("proposal.arrival")), h("dd", { class: "proposal-arrival" }, localTime(p.arrival, tz)),
      h("dt", {}, t("proposal.late")),
      h("dd", { class: "proposal-late" }, p.late_minutes > 0 ? t("proposal.late_minutes", { n: p.late_minutes }) : t("proposal.on_time")),
      h("dt", {}, t("proposal.travel")), h("dd", {}, t("detail.minutes", { n: p.added_travel_minutes })),
      p.pickup_at ? [h("dt", {}, t("proposal.pickup")), h("dd", {}, localTime(p.pickup_at, tz))] : null,
      h("dt", {}, t("proposal.shifted")),
      h(
        "dd",
        { class: "proposal-shifted" },
        p.shifted.length
          ? h("ul", {}, p.shifted.map((s) => h("li", {}, `${ctx.problemNumberOfVisit(s.visit_id) || s.visit_id.slice(0, 8)} → ${localTime(s.planned_start, tz)}`)))
          : t("proposal.none_shifted"),
      ),
    ),
    h("div", { class: "form-buttons" }, apply, h("button", { type: "button", onclick: onClose }, t("desk.close"))),
  );
}
