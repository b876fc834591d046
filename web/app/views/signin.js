// Sign-in: engineer accounts only; the phone's id binds the refresh token to this device.
import { h, fill } from "../../dom.js";
import { t } from "../i18n.js";
import * as sync from "../sync.js";

export function render(root, { message, done }) {
  const error = h("p", { id: "signin-error", class: "error", role: "alert" });
  const username = h("input", { id: "signin-username", autocomplete: "username", autocapitalize: "none", required: true });
  const password = h("input", { id: "signin-password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { id: "signin-form" },
    h("h1", {}, t("app_title")),
    message ? h("p", { class: "message", id: "signin-message" }, message) : null,
    h("label", { for: "signin-username" }, t("username")), username,
    h("label", { for: "signin-password" }, t("password")), password,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("sign_in"))),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await sync.signIn(username.value.trim(), password.value);
      done();
    } catch (e) {
      error.textContent = e instanceof sync.NotEngineer ? t("only_engineers")
        : e instanceof sync.DeviceWiped ? t("wiped")
          : t("sign_in_failed", { reason: e.message });
    }
  });
  fill(root, form);
}
