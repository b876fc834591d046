// Small forms for desk actions and intake: labelled fields, a problem's title and its field errors
// shown beside the fields they name.

import { ApiError } from "./api.js";
import { h, fill } from "./dom.js";
import { fromLocalInput } from "./format.js";
import { problemTitle, t } from "./i18n.js";

/**
 * One labelled field. spec: {name, label, type: text|textarea|select|datetime|number|checkbox,
 * options: [[value, text]], value, required, min, max, placeholder}.
 */
export function field(spec) {
  const common = { name: spec.name, id: spec.id || `f-${spec.name}`, required: spec.required || false };
  let input;
  if (spec.type === "select") {
    input = h(
      "select",
      common,
      spec.options.map(([value, text]) => h("option", { value, selected: value === spec.value }, text)),
    );
  } else if (spec.type === "textarea") {
    input = h("textarea", { ...common, rows: spec.rows || 3, maxlength: spec.max || 4000 });
    input.value = spec.value ?? "";
  } else if (spec.type === "checkbox") {
    input = h("input", { ...common, type: "checkbox", checked: spec.value || false });
  } else {
    const type = spec.type === "datetime" ? "datetime-local" : spec.type || "text";
    input = h("input", { ...common, type, min: spec.min, max: spec.max, placeholder: spec.placeholder, autocomplete: "off" });
    input.value = spec.value ?? "";
  }
  input.dataset.kind = spec.type || "text";
  return h(
    "label",
    { class: `field field-${spec.type || "text"}`, dataset: { field: spec.name } },
    h("span", { class: "field-label" }, spec.label),
    input,
    h("span", { class: "field-error", dataset: { errorFor: spec.name } }),
  );
}

/** The form's values by name: datetimes as instants in `timeZone`, empty ones left out. */
export function valuesOf(form, timeZone) {
  const values = {};
  for (const input of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (input.dataset.kind === "checkbox") {
      values[input.name] = input.checked;
      continue;
    }
    const raw = input.value.trim();
    if (!raw) continue;
    if (input.dataset.kind === "datetime") values[input.name] = fromLocalInput(raw, timeZone);
    else if (input.dataset.kind === "number") values[input.name] = Number(raw);
    else values[input.name] = raw;
  }
  return values;
}

/** The last name in a problem's field path ("data.reason", "$.visits[0].kind" → "reason", "kind"). */
function fieldName(path) {
  const parts = String(path || "").replace(/\[\d+\]/g, "").split(/[.$`]+/).filter(Boolean);
  return parts[parts.length - 1] || "";
}

export function clearProblem(form) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll(".field.invalid")) el.classList.remove("invalid");
  const box = form.querySelector(".form-problem");
  if (box) fill(box);
}

/** A problem+json answer: its title (and detail) at the top of the form, each field error beside its field. */
export function showProblem(form, error) {
  clearProblem(form);
  const box = form.querySelector(".form-problem");
  const title = error instanceof ApiError ? problemTitle(error.problem, error.title) : t("error.generic");
  const detail = error instanceof ApiError ? error.detail : String(error?.message || error);
  const unplaced = [];
  for (const item of (error instanceof ApiError && error.problem.errors) || []) {
    // The path names the field; a missing one is named in the message ("missing required field `x`").
    const names = [fieldName(item.field), ...[...String(item.message).matchAll(/`\$?\.?([\w.]+)`/g)].map((m) => fieldName(m[1]))];
    const slot = names.map((name) => name && form.querySelector(`[data-error-for="${CSS.escape(name)}"]`)).find(Boolean);
    if (slot) {
      slot.textContent = item.message;
      slot.closest(".field")?.classList.add("invalid");
    } else {
      unplaced.push(`${item.field}: ${item.message}`);
    }
  }
  if (box) {
    fill(
      box,
      h("strong", { class: "problem-title" }, title),
      detail ? h("span", { class: "problem-detail" }, detail) : null,
      unplaced.length ? h("span", { class: "problem-detail" }, unplaced.join("; ")) : null,
    );
  }
}

/**
 * A form of `fields` with a submit and a close button. `onSubmit(values, form)` runs the action;
 * a thrown ApiError is shown in the form (unless `onError` returns true: it handled it).
 */
export function actionForm({ id, title, fields, submitLabel, timeZone, onSubmit, onClose, onError, extra = null }) {
  const submit = h("button", { type: "submit", class: "primary" }, submitLabel || t("desk.submit"));
  const form = h(
    "form",
    { class: "action-form", id, novalidate: true },
    title ? h("h4", {}, title) : null,
    h("div", { class: "form-problem", role: "alert" }),
    fields.map(field),
    extra,
    h(
      "div",
      { class: "form-buttons" },
      submit,
      onClose ? h("button", { type: "button", class: "form-close", onclick: onClose }, t("desk.close")) : null,
    ),
  );
  if (onClose) {
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") onClose();
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblem(form);
    submit.disabled = true;
    try {
      await onSubmit(valuesOf(form, timeZone), form);
    } catch (error) {
      if (!(onError && onError(error, form))) showProblem(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
