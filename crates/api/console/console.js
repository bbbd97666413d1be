// The wabiz console: plain JavaScript over the documented API. The token of a
// sign-in lives in an HttpOnly cookie the page cannot read; changing calls
// carry the session's CSRF value. Every action here is an /openapi.json call.

const $ = (sel, root = document) => root.querySelector(sel);
const byTestId = (id) => $(`[data-testid="${id}"]`);

let csrf = null;
let stream = null;

/** A call to the API; resolves to {status, body}. */
async function call(method, path, body, headers = {}) {
  const h = { ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (csrf && method !== "GET") h["X-Wabiz-CSRF"] = csrf;
  const r = await fetch(path, {
    method, headers: h, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: r.status, body: parsed };
}

/** The On-Premises error list of an answer, as one line. */
function errorsOf(body) {
  const errors = (body && body.errors) || [];
  return errors.map((e) => `${e.code} ${e.title}${e.details ? ": " + e.details : ""}`).join("; ");
}

function notice(text) { byTestId("notice").textContent = text; }

function show(view) {
  for (const s of document.querySelectorAll("[data-view]")) s.hidden = s.dataset.view !== view;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.hash === `#${view}`) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

function signedIn(session) {
  csrf = session.csrf;
  byTestId("who").textContent = `${session.username} (${session.role === "ROLE_ADMIN" ? "admin" : "user"})`;
  for (const id of ["nav", "who", "sign-out"]) byTestId(id).hidden = false;
  route();
}

function signedOut() {
  csrf = null;
  if (stream) { stream.close(); stream = null; }
  for (const id of ["nav", "who", "sign-out"]) byTestId(id).hidden = true;
  show("sign-in");
}

// ---- sign in and out

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const error = byTestId("sign-in-error");
  error.textContent = "";
  const user = form.username.value, password = form.password.value;
  const body = form.new_password.value ? { new_password: form.new_password.value } : {};
  const login = await call("POST", "/v1/users/login", body, { Authorization: "Basic " + btoa(`${user}:${password}`) });
  if (login.status !== 200) {
    const codes = ((login.body && login.body.errors) || []).map((e) => e.code);
    if (codes.includes(1024)) {
      $("[data-new-password]").hidden = false;
      error.textContent = "Choose a new password to replace the factory one.";
    } else {
      error.textContent = errorsOf(login.body) || "Wrong user name or password.";
    }
    return;
  }
  const token = login.body.users[0].token;
  const opened = await call("POST", "/console/session", undefined, { Authorization: `Bearer ${token}` });
  if (opened.status !== 201) { error.textContent = errorsOf(opened.body); return; }
  form.reset();
  $("[data-new-password]").hidden = true;
  signedIn(opened.body.session);
}

async function signOut() {
  await call("DELETE", "/console/session");
  signedOut();
}

// ---- chats

// An inbound message is stored as its webhook body (`messages[0]` holds it);
// an outbound one as the object of its type (`{"body": …}` for a text).
function textOf(message) {
  const c = message.content || {};
  const inbound = message.direction === "inbound" ? (c.messages || [])[0] || {} : null;
  const inner = inbound ? inbound[message.type] || {} : c;
  if (typeof inner.body === "string") return inner.body;
  if (message.type === "interactive") {
    const reply = inner.button_reply || inner.list_reply;
    return reply ? `[${inner.type}] ${reply.title}` : (inner.body || {}).text || "[interactive]";
  }
  if (message.type === "contacts") {
    const cards = inbound ? inbound.contacts || [] : c.contacts || c || [];
    return `[contact] ${(Array.isArray(cards) ? cards : []).map((k) => (k.name || {}).formatted_name).join(", ")}`;
  }
  if (message.type === "template" && inner.name) {
    const params = (inner.components || []).flatMap((c) => c.parameters || []).map((p) => p.text ?? p[p.type]?.fallback_value ?? p.type);
    return `[template ${inner.name}] ${params.join(", ")}`;
  }
  if (inner.caption) return `[${message.type}] ${inner.caption}`;
  if (["image", "video", "audio", "voice", "document", "sticker"].includes(message.type)) {
    return `[${message.type}]${inner.filename ? " " + inner.filename : ""}`;
  }
  if (message.type === "location" && inner.latitude !== undefined) return `[location] ${inner.name || ""} ${inner.latitude}, ${inner.longitude}`;
  return `[${message.type}]`;
}

// The message the customer's next text replies to, and each message's text by id.
let replyTo = null;
let textById = new Map();

/** What the customer can do with a message: press one of its buttons, or reply quoting it. */
function actionsFor(m, waId) {
  const bar = document.createElement("div");
  bar.className = "actions";
  const c = m.content || {};
  const buttons = m.direction === "outbound" && m.type === "interactive" && c.type === "button" ? (c.action || {}).buttons || [] : [];
  for (const b of buttons) {
    const press = document.createElement("button");
    press.type = "button";
    press.textContent = b.reply.title;
    press.dataset.testid = "customer-button";
    press.setAttribute("aria-label", `Press “${b.reply.title}” as the customer`);
    press.addEventListener("click", () => customerSays(waId, {
      type: "interactive", interactive: { type: "button_reply", button_reply: { id: b.reply.id, title: b.reply.title } },
      context: { id: m.id },
    }));
    bar.append(press);
  }
  const reply = document.createElement("button");
  reply.type = "button";
  reply.textContent = "Reply";
  reply.dataset.testid = "reply";
  reply.setAttribute("aria-label", `Reply to “${textOf(m)}” as the customer`);
  reply.addEventListener("click", () => {
    replyTo = m.id;
    const q = byTestId("quoting");
    q.hidden = false;
    q.textContent = `Replying to: ${textOf(m)}`;
    byTestId("customer-text").focus();
  });
  bar.append(reply);
  return bar;
}

/** An image kept by wabiz, shown from `/v1/media/{id}` (same origin: the
 * session cookie goes with it). A link elsewhere is only named: the page
 * loads nothing from other origins. */
function previewOf(m) {
  if (m.type !== "image" && m.type !== "sticker") return null;
  const c = m.content || {};
  const inner = m.direction === "inbound" ? (((c.messages || [])[0] || {})[m.type] || {}) : c;
  if (!inner.id) return null;
  const img = document.createElement("img");
  img.className = "preview";
  img.dataset.testid = "media-preview";
  img.alt = inner.caption || `${m.type} ${inner.id}`;
  img.src = `/v1/media/${encodeURIComponent(inner.id)}`;
  return img;
}

/** The file as base64, for `POST /simulator/inbound`'s `data`. */
function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function sendMedia(event) {
  event.preventDefault();
  const f = event.target;
  const file = f.file.files[0];
  if (!file) return;
  const kind = ["image", "video", "audio"].find((k) => file.type.startsWith(`${k}/`)) || "document";
  const media = { data: await base64Of(file), mime_type: file.type || "application/octet-stream" };
  if (f.caption.value && kind !== "audio") media.caption = f.caption.value;
  if (kind === "document") media.filename = file.name;
  if (await customerSays(byTestId("chat-title").textContent, { type: kind, [kind]: media })) f.reset();
}

/** A message from the customer (`POST /simulator/inbound`), then the chat again. */
async function customerSays(waId, message) {
  const r = await call("POST", "/simulator/inbound", { from: waId, ...message });
  if (r.status !== 201) { notice(errorsOf(r.body)); return false; }
  await loadChat(waId);
  return true;
}

/** Why a message failed (its `failed` status's errors): on hover, and in
 * the line itself for a touch screen. */
async function explainFailure(id, meta) {
  const r = await call("GET", `/simulator/messages/${encodeURIComponent(id)}`);
  const failed = r.status === 200 ? r.body.message.statuses.find((s) => s.status === "failed") : null;
  const errors = (failed && failed.errors) || [];
  if (!errors.length) return;
  meta.title = errors.map((e) => `${e.code} ${e.title}${e.details ? ": " + e.details : ""}`).join("; ");
  meta.textContent += ` · ${errors[0].code} ${errors[0].title}`;
}

async function loadChat(waId) {
  const r = await call("GET", `/simulator/conversations/${encodeURIComponent(waId)}`);
  const list = byTestId("messages");
  if (r.status !== 200) { notice(errorsOf(r.body)); return; }
  byTestId("chat").hidden = false;
  byTestId("chat-title").textContent = waId;
  textById = new Map(r.body.messages.map((m) => [m.id, textOf(m)]));
  list.replaceChildren(...r.body.messages.map((m) => {
    const li = document.createElement("li");
    li.className = m.direction;
    li.dataset.testid = "message";
    li.dataset.status = m.status;
    const quoted = m.direction === "inbound" ? (((m.content || {}).messages || [])[0] || {}).context : null;
    if (quoted && quoted.id) {
      const q = document.createElement("span");
      q.className = "quote";
      q.dataset.testid = "quote";
      q.textContent = `replying to ${textById.get(quoted.id) || quoted.id}`;
      li.append(q);
    }
    li.append(document.createTextNode(textOf(m)));
    const picture = previewOf(m);
    if (picture) li.append(picture);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.dataset.testid = "message-status";
    meta.textContent = `${m.direction === "outbound" ? m.status : "received"} · ${new Date(m.created_at * 1000).toLocaleTimeString()}`;
    if (m.status === "failed") explainFailure(m.id, meta);
    li.append(meta);
    li.append(actionsFor(m, waId));
    return li;
  }));
}

function follow(waId) {
  if (stream) stream.close();
  // Same origin: the browser sends the session cookie with the stream.
  stream = new EventSource(`/simulator/events?wa_id=${encodeURIComponent(waId)}`);
  const refresh = () => loadChat(waId);
  for (const type of ["message_accepted", "message_status", "message_inbound"]) stream.addEventListener(type, refresh);
  stream.addEventListener("ready", refresh);
}

async function openChat(event) {
  event.preventDefault();
  const waId = event.target.wa_id.value.trim();
  if (!waId) return;
  await loadChat(waId);
  follow(waId);
}

async function writeAsCustomer(event) {
  event.preventDefault();
  const waId = byTestId("chat-title").textContent;
  const message = { type: "text", text: { body: event.target.body.value } };
  if (replyTo) message.context = { id: replyTo };
  if (await customerSays(waId, message)) {
    event.target.reset();
    replyTo = null;
    byTestId("quoting").hidden = true;
  }
}

async function sendLocation(event) {
  event.preventDefault();
  const f = event.target;
  const location = { latitude: Number(f.latitude.value), longitude: Number(f.longitude.value), name: f.name.value };
  await customerSays(byTestId("chat-title").textContent, { type: "location", location });
}

async function sendContact(event) {
  event.preventDefault();
  const f = event.target;
  const card = { name: { formatted_name: f.name.value }, phones: [{ phone: f.phone.value, type: "CELL" }] };
  if (await customerSays(byTestId("chat-title").textContent, { type: "contacts", contacts: [card] })) f.reset();
}

// ---- webhooks

async function loadWebhooks() {
  const r = await call("GET", "/wabiz/callbacks");
  if (r.status !== 200) { notice(errorsOf(r.body)); return; }
  const c = r.body.callbacks;
  const figures = [
    ["Waiting", c.queue.pending], ["In flight", c.queue.requests_in_flight],
    ["Delivered", c.delivery.delivered], ["Failed attempts", c.delivery.failed_attempts],
  ];
  byTestId("queue").replaceChildren(...figures.map(([name, value]) => {
    const div = document.createElement("div");
    const dt = document.createElement("dt"); dt.textContent = name;
    const dd = document.createElement("dd"); dd.textContent = String(value);
    div.append(dt, dd);
    return div;
  }));
  const item = (cb, delivered) => {
    const li = document.createElement("li");
    li.dataset.testid = delivered ? "delivered-callback" : "pending-callback";
    const head = document.createElement("div");
    head.textContent = delivered
      ? `#${cb.seq} ${cb.kind} ${cb.subject || ""}: delivered after ${cb.attempts} attempt(s), ${cb.last_result}`
      : `#${cb.seq} ${cb.kind} ${cb.subject || ""}: ${cb.attempts} attempt(s)${cb.last_result ? ", last: " + cb.last_result : ""}`;
    li.append(head);
    li.dataset.attempts = String(cb.attempts);
    if (!delivered) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.textContent = "Retry now";
      retry.dataset.testid = "retry-callback";
      retry.setAttribute("aria-label", `Retry callback ${cb.seq} now`);
      retry.addEventListener("click", async () => {
        const r = await call("POST", `/wabiz/callbacks/${cb.seq}/retry`);
        notice(r.status === 202 ? `Callback ${cb.seq} retried.` : errorsOf(r.body));
        setTimeout(loadWebhooks, 500);
      });
      li.append(retry);
    }
    if (cb.items) {
      // A waiting callback shows what it carries.
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify(cb.items, null, 2);
      li.append(pre);
    }
    return li;
  };
  // The filter: a customer (the waiting ones name theirs) and a kind.
  const filter = byTestId("callback-filter");
  const peer = filter.peer.value.trim(), kind = filter.kind.value;
  const keep = (cb) => (!peer || cb.peer === peer) && (!kind || cb.kind === kind);
  byTestId("pending").replaceChildren(...c.pending.filter(keep).map((cb) => item(cb, false)));
  byTestId("delivered").replaceChildren(...c.recently_delivered.filter((cb) => !kind || cb.kind === kind).map((cb) => item(cb, true)));
}

// ---- health, registration, live figures, chaos and traffic

function figures(testid, pairs) {
  byTestId(testid).replaceChildren(...pairs.map(([name, value]) => {
    const div = document.createElement("div");
    div.dataset.testid = `figure-${name.toLowerCase().replaceAll(" ", "-")}`;
    const dt = document.createElement("dt"); dt.textContent = name;
    const dd = document.createElement("dd"); dd.textContent = String(value ?? "–");
    div.append(dt, dd);
    return div;
  }));
}

/** The value of a one-sample metric of `/v1/stats/app`. */
const metric = (app, name) => ((app[name] || {}).data || []).reduce((sum, d) => sum + (d.value || 0), 0);

const CHARTS = [
  ["Sends per second", (app) => metric(app, "out_message_sent"), true],
  ["Callbacks per second", (app) => metric(app, "callbacks_delivered"), true],
  ["Queue depth", (app) => metric(app, "callback_queue_size"), false],
];
let series = CHARTS.map(() => []);
let previous = null;
let poller = null;

function drawCharts() {
  byTestId("charts").replaceChildren(...CHARTS.map(([name], i) => {
    const points = series[i];
    const div = document.createElement("div");
    div.className = "chart";
    div.dataset.testid = "chart";
    const last = points.length ? points[points.length - 1] : 0;
    const title = document.createElement("p");
    title.textContent = `${name}: ${Math.round(last * 10) / 10}`;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 60 20");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `${name}, the last minute`);
    const top = Math.max(1, ...points);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.map((v, x) => `${x * 2},${20 - (v / top) * 19}`).join(" "));
    svg.append(line);
    div.append(title, svg);
    return div;
  }));
}

async function sampleStats() {
  const r = await call("GET", "/v1/stats/app");
  if (r.status !== 200) return;
  const app = r.body.stats.app;
  const now = Date.now();
  const values = CHARTS.map(([, read]) => read(app));
  if (previous) {
    const seconds = Math.max(0.001, (now - previous.at) / 1000);
    CHARTS.forEach(([, , rate], i) => {
      series[i].push(rate ? Math.max(0, (values[i] - previous.values[i]) / seconds) : values[i]);
      if (series[i].length > 30) series[i].shift();
    });
  }
  previous = { at: now, values };
  drawCharts();
}

async function loadHealth() {
  const [health, registration, chaos, traffic, magic] = await Promise.all([
    call("GET", "/v1/health"), call("GET", "/simulator/registration"),
    call("GET", "/simulator/chaos"), call("GET", "/simulator/traffic"), call("GET", "/simulator/customers"),
  ]);
  if (magic.status === 200) showMagicNumbers(magic.body.customers);
  if (health.status === 200) figures("health", [["Gateway", health.body.health.gateway_status]]);
  if (registration.status === 200) {
    const reg = registration.body.registration;
    const pending = reg.pending || {};
    figures("registration", [["Number", reg.wa_id], ["Gateway", reg.gateway_status], ["Pending code", pending.code]]);
  }
  if (chaos.status === 200) {
    const form = byTestId("chaos-form");
    form.outage.checked = chaos.body.chaos.outage;
    form.never_read.value = String(chaos.body.chaos.never_read);
  }
  if (traffic.status === 200) showRuns(traffic.body.traffic);
  if (!poller) {
    series = CHARTS.map(() => []);
    previous = null;
    await sampleStats();
    poller = setInterval(() => { if (location.hash === "#health") sampleStats(); else { clearInterval(poller); poller = null; } }, 2000);
  }
}

function showMagicNumbers(customers) {
  $("tbody", byTestId("magic-numbers")).replaceChildren(...customers.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "magic-number";
    for (const text of [c.wa_id, c.description]) {
      const td = document.createElement("td"); td.textContent = text; tr.append(td);
    }
    const td = document.createElement("td");
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = "Open chat";
    open.setAttribute("aria-label", `Open the chat with ${c.wa_id}`);
    open.addEventListener("click", async () => {
      location.hash = "#chats";
      byTestId("chat-wa-id").value = c.wa_id;
      await loadChat(c.wa_id);
      follow(c.wa_id);
    });
    td.append(open);
    tr.append(td);
    return tr;
  }));
}

function showRuns(runs) {
  byTestId("traffic-runs").replaceChildren(...runs.map((run) => {
    const li = document.createElement("li");
    li.dataset.testid = "traffic-run";
    li.dataset.state = run.state;
    li.textContent = `${run.id}: ${run.state}, ${run.generated} generated `;
    if (run.state === "running") {
      const stop = document.createElement("button");
      stop.type = "button";
      stop.textContent = "Stop";
      stop.setAttribute("aria-label", `Stop run ${run.id}`);
      stop.addEventListener("click", async () => { await call("DELETE", `/simulator/traffic/${run.id}`); loadHealth(); });
      li.append(stop);
    }
    return li;
  }));
}

async function applyChaos(event) {
  event.preventDefault();
  const form = event.target;
  const current = await call("GET", "/simulator/chaos");
  if (current.status !== 200) { notice(errorsOf(current.body)); return; }
  // PUT replaces the settings: keep the rest, change these two.
  const { next, planned, ...chaos } = current.body.chaos;
  chaos.outage = form.outage.checked;
  chaos.never_read = Number(form.never_read.value);
  const r = await call("PUT", "/simulator/chaos", chaos);
  notice(r.status === 200 ? "Chaos settings applied." : errorsOf(r.body));
  loadHealth();
}

async function startTraffic(event) {
  event.preventDefault();
  const form = event.target;
  const body = { rate: Number(form.rate.value), count: Number(form.count.value), customers: Number(form.customers.value) };
  const r = await call("POST", "/simulator/traffic", body);
  notice(r.status === 201 ? `Traffic run ${r.body.traffic[0].id} started.` : errorsOf(r.body));
  loadHealth();
}

// ---- templates

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

// ---- settings

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

async function loadSettings() {
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

// ---- navigation

function route() {
  if (!csrf) return;
  const view = (location.hash || "#chats").slice(1);
  show(view);
  if (view === "webhooks") loadWebhooks();
  if (view === "settings") loadSettings();
  if (view === "health") loadHealth();
  if (view === "templates") { loadTemplates(); previewTemplate(); }
}

async function start() {
  byTestId("sign-in-form").addEventListener("submit", signIn);
  byTestId("sign-out").addEventListener("click", signOut);
  byTestId("open-chat").addEventListener("submit", openChat);
  byTestId("write-as-customer").addEventListener("submit", writeAsCustomer);
  byTestId("customer-location").addEventListener("submit", sendLocation);
  byTestId("customer-contact").addEventListener("submit", sendContact);
  byTestId("customer-media").addEventListener("submit", sendMedia);
  byTestId("settings-form").addEventListener("submit", saveSettings);
  byTestId("template-form").addEventListener("submit", createTemplate);
  byTestId("chaos-form").addEventListener("submit", applyChaos);
  byTestId("callback-filter").addEventListener("input", loadWebhooks);
  byTestId("callback-filter").addEventListener("submit", (e) => { e.preventDefault(); loadWebhooks(); });
  byTestId("traffic-form").addEventListener("submit", startTraffic);
  byTestId("template-form").addEventListener("input", previewTemplate);
  window.addEventListener("hashchange", route);
  const r = await call("GET", "/console/session");
  if (r.status === 200 && r.body.session) signedIn(r.body.session); else signedOut();
}

start();
