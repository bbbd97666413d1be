// The application settings as a form: every field, and each error the API
// returns shown beside the field it names.

import { byTestId, call, errorsOf, notice } from "./api.js";

const FIELDS = [
  ["callback_persist", "boolean"], ["sent_status", "boolean"],
  ["callback_backoff_delay_ms", "number"], ["max_callback_backoff_delay_ms", "number"],
  ["heartbeat_interval", "number"], ["unhealthy_interval", "number"],
  ["log_level", ["info", "warning", "error", "fatal"]],
  ["webhooks.url", "text"], ["webhooks.max_concurrent_requests", ["6", "12", "18", "24"]],
  ["webhooks.message.sent", "boolean"], ["webhooks.message.delivered", "boolean"], ["webhooks.message.read", "boolean"],
  ["garbagecollector_enable.messages", "boolean"], ["garbagecollector_enable.media", "boolean"],
  ["media.auto_download", "list"], ["on_call_pager", "text"],
  ["show_security_notifications", "boolean"], ["notify_user_change_number", "boolean"],
  ["skip_referral_media_download", "boolean"], ["axolotl_context_striping_disabled", "boolean"],
  ["verbose_logging", "boolean"], ["pass_through", "boolean"],
];

const get = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

function set(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys[keys.length - 1]] = value;
}

let shown = {};

export async function loadSettings() {
  const r = await call("GET", "/v1/settings/application");
  if (r.status !== 200) { notice(errorsOf(r.body)); return; }
  shown = r.body.settings.application;
  byTestId("settings-fields").replaceChildren(...FIELDS.map(([name, kind]) => {
    const label = document.createElement("label");
    const value = get(shown, name);
    let input;
    if (Array.isArray(kind)) {
      input = document.createElement("select");
      for (const v of kind) input.append(new Option(v, v, false, String(value) === v));
    } else {
      input = document.createElement("input");
      input.type = kind === "boolean" ? "checkbox" : kind === "number" ? "text" : "url";
      if (kind === "boolean") { input.checked = Boolean(value); label.className = "check"; }
      else if (kind === "list") { input.type = "text"; input.value = (value || []).join(", "); input.placeholder = "image, audio, video, document, sticker, voice"; }
      else input.value = value ?? "";
      if (name === "on_call_pager") input.type = "text";
    }
    input.name = name;
    input.dataset.testid = `setting-${name}`;
    const error = document.createElement("span");
    error.className = "error";
    error.dataset.testid = `setting-error-${name}`;
    error.id = `error-${name.replaceAll(".", "-")}`;
    input.setAttribute("aria-describedby", error.id);
    label.append(name, input, error);
    return label;
  }));
}

async function saveSettings(event) {
  event.preventDefault();
  const patch = {};
  for (const [name, kind] of FIELDS) {
    const input = event.target.elements[name];
    let value = kind === "boolean" ? input.checked : input.value;
    if (kind === "number" && /^[0-9]+$/.test(value)) value = Number(value);
    if (name === "webhooks.max_concurrent_requests") value = Number(value);
    if (kind === "list") value = value.split(",").map((s) => s.trim()).filter(Boolean);
    const before = get(shown, name);
    if (String(value) !== String(kind === "list" ? before || [] : before ?? "")) set(patch, name, value);
  }
  for (const e of document.querySelectorAll('[data-testid^="setting-error-"]')) e.textContent = "";
  byTestId("settings-error").textContent = "";
  if (Object.keys(patch).length === 0) { notice("Nothing changed."); return; }
  const r = await call("PATCH", "/v1/settings/application", patch);
  if (r.status === 200) { notice("Saved."); await loadSettings(); return; }
  // Each error names its parameter: shown beside that field, as the API said it.
  const rest = [];
  for (const e of (r.body && r.body.errors) || []) {
    const m = /Parameter '([^']+)'/.exec(e.details || "");
    const slot = m && byTestId(`setting-error-${m[1]}`);
    if (slot) slot.textContent = `${e.code} ${e.title}: ${e.details}`; else rest.push(`${e.code} ${e.title}: ${e.details || ""}`);
  }
  byTestId("settings-error").textContent = rest.join("; ");
}

export function install() {
  byTestId("settings-form").addEventListener("submit", saveSettings);
}
