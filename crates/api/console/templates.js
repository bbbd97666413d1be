// Templates: the registry as the customer sees a sent template (its text
// with the parameters filled in, its quick replies), and the templates view
// (list, status, a new one with a live preview).

import { $, byTestId, call, errorsOf, notice } from "./api.js";

/** The registry (`GET /simulator/templates`), by namespace, name and language. */
let registry = new Map();
export const templateKey = (namespace, name, language) => `${namespace}/${name}/${language}`;

export async function loadRegistry() {
  const r = await call("GET", "/simulator/templates");
  if (r.status !== 200) return;
  registry = new Map(r.body.templates.map((t) => [templateKey(t.namespace, t.name, t.language), t]));
}

/** What a parameter shows: its text, or a currency's or date's fallback. */
export function parameterText(p) {
  return p.text ?? p[p.type]?.fallback_value ?? p.type;
}

/** A sent template with its parameters filled in ({{1}} → the first
 * parameter of its component), and its quick-reply buttons; `null` when the
 * registry does not hold it (any more). */
export function hydrate(t) {
  const lang = (t.language || {}).code;
  const registered = registry.get(templateKey(t.namespace, t.name, lang));
  if (!registered) return null;
  const sent = (type) => (t.components || []).find((c) => (c.type || "").toLowerCase() === type) || {};
  const fill = (text, type) => {
    const params = (sent(type).parameters || []).map(parameterText);
    return (text || "").replace(/\{\{(\d+)\}\}/g, (all, n) => params[Number(n) - 1] ?? all);
  };
  const part = (type) => registered.components.find((c) => (c.type || "").toUpperCase() === type);
  const header = part("HEADER");
  const buttons = ((part("BUTTONS") || {}).buttons || []).map((b, index) => {
    const given = (t.components || []).find((c) => (c.type || "").toLowerCase() === "button" && String(c.index) === String(index));
    const payload = ((given || {}).parameters || []).find((p) => p.type === "payload");
    return { type: b.type, text: b.text, payload: payload ? payload.payload : b.text };
  });
  return {
    header: header && header.format === "TEXT" ? fill(header.text, "header") : "",
    body: fill((part("BODY") || {}).text, "body"),
    footer: (part("FOOTER") || {}).text || "",
    buttons,
  };
}

/** Whether the registry this page holds knows the template. */
export const knows = (key) => registry.has(key);

const STATUSES = ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"];

async function loadTemplates() {
  const r = await call("GET", "/simulator/templates");
  if (r.status !== 200) { notice(errorsOf(r.body)); return; }
  const rows = r.body.templates.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "template-row";
    tr.dataset.name = t.name;
    for (const text of [t.name, t.language, t.category]) {
      const td = document.createElement("td"); td.textContent = text; tr.append(td);
    }
    // The status is changed in place (the API's PATCH).
    const td = document.createElement("td");
    const select = document.createElement("select");
    select.setAttribute("aria-label", `Status of ${t.name} (${t.language})`);
    select.dataset.testid = "template-status";
    for (const s of STATUSES) select.append(new Option(s, s, false, s === t.status));
    select.addEventListener("change", async () => {
      const body = { namespace: t.namespace, name: t.name, language: t.language, status: select.value };
      const p = await call("PATCH", "/simulator/templates", body);
      notice(p.status === 200 ? `${t.name} is ${select.value}.` : errorsOf(p.body));
    });
    td.append(select);
    tr.append(td);
    return tr;
  });
  $("tbody", byTestId("templates")).replaceChildren(...rows);
}

function templateComponents(form) {
  const components = [];
  if (form.header.value) components.push({ type: "HEADER", format: "TEXT", text: form.header.value });
  components.push({ type: "BODY", text: form.body.value });
  if (form.footer.value) components.push({ type: "FOOTER", text: form.footer.value });
  return components;
}

/** The template as a customer would see it, parameters shown as [1], [2]…. */
function previewTemplate() {
  const form = byTestId("template-form");
  const fill = (text) => text.replace(/\{\{(\d+)\}\}/g, "[$1]");
  const parts = templateComponents(form).map((c) => {
    const div = document.createElement("div");
    div.className = c.type.toLowerCase();
    div.textContent = fill(c.text || "");
    return div;
  });
  byTestId("template-preview").replaceChildren(...parts);
}

async function createTemplate(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    namespace: form.namespace.value, name: form.name.value, language: form.language.value,
    category: form.category.value, components: templateComponents(form),
  };
  const r = await call("POST", "/simulator/templates", body);
  if (r.status !== 201) { byTestId("template-error").textContent = errorsOf(r.body); return; }
  byTestId("template-error").textContent = "";
  notice(`Template ${body.name} created.`);
  await loadTemplates();
}

export function install() {
  byTestId("template-form").addEventListener("submit", createTemplate);
  byTestId("template-form").addEventListener("input", previewTemplate);
}

export async function showTemplates() {
  await loadTemplates();
  previewTemplate();
}
