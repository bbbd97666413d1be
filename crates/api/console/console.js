// The wabiz console: plain JavaScript over the documented API. The token of a
// sign-in lives in an HttpOnly cookie the page cannot read; changing calls
// carry the session's CSRF value. Every action here is an /openapi.json call.

const $ = (sel, root = document) => root.querySelector(sel);
const byTestId = (id) => $(`[data-testid="${id}"]`);

let csrf = null;
let stream = null;

/** A call to the API; resolves to {status, body}, status 0 when the server
 * cannot be reached (a restart): the page then waits for it, it does not throw. */
async function call(method, path, body, headers = {}) {
  const h = { ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (csrf && method !== "GET") h["X-Wabiz-CSRF"] = csrf;
  let r;
  try {
    r = await fetch(path, {
      method, headers: h, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { status: 0, body: { errors: [{ code: 0, title: "The server cannot be reached" }] } };
  }
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
  listen();
  loadRegistry().then(route);
}

function signedOut() {
  csrf = null;
  current = null;
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
    const shown = hydrate(inner);
    if (shown) return [shown.header, shown.body, shown.footer].filter(Boolean).join("\n");
    const params = (inner.components || []).flatMap((c) => c.parameters || []).map(parameterText);
    return `[template ${inner.name}] ${params.join(", ")}`;
  }
  if (message.type === "button" && inner.text) return `[button] ${inner.text}`;
  if (inner.caption) return `[${message.type}] ${inner.caption}`;
  if (["image", "video", "audio", "voice", "document", "sticker"].includes(message.type)) {
    return `[${message.type}]${inner.filename ? " " + inner.filename : ""}`;
  }
  if (message.type === "location" && inner.latitude !== undefined) return `[location] ${inner.name || ""} ${inner.latitude}, ${inner.longitude}`;
  return `[${message.type}]`;
}

// ---- templates as the customer sees them

/** The registry (`GET /simulator/templates`), by namespace, name and language. */
let registry = new Map();
const templateKey = (namespace, name, language) => `${namespace}/${name}/${language}`;

async function loadRegistry() {
  const r = await call("GET", "/simulator/templates");
  if (r.status !== 200) return;
  registry = new Map(r.body.templates.map((t) => [templateKey(t.namespace, t.name, t.language), t]));
}

/** What a parameter shows: its text, or a currency's or date's fallback. */
function parameterText(p) {
  return p.text ?? p[p.type]?.fallback_value ?? p.type;
}

/** A sent template with its parameters filled in ({{1}} → the first
 * parameter of its component), and its quick-reply buttons; `null` when the
 * registry does not hold it (any more). */
function hydrate(t) {
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

// The message the customer's next text replies to, and each message's text by id.
let replyTo = null;
let textById = new Map();

/** What the customer can do with a message: press one of its buttons, or reply quoting it. */
function actionsFor(m) {
  const bar = document.createElement("div");
  bar.className = "actions";
  const c = m.content || {};
  const press = (title, message) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = title;
    b.dataset.testid = "customer-button";
    b.setAttribute("aria-label", `Press “${title}” as the customer`);
    b.addEventListener("click", () => customerSays({ ...message, context: { id: m.id } }));
    bar.append(b);
  };
  const outbound = m.direction === "outbound";
  // Reply buttons, the rows of a list, and a template's quick replies.
  if (outbound && m.type === "interactive" && c.type === "button") {
    for (const b of (c.action || {}).buttons || []) {
      press(b.reply.title, { type: "interactive", interactive: { type: "button_reply", button_reply: { id: b.reply.id, title: b.reply.title } } });
    }
  }
  if (outbound && m.type === "interactive" && c.type === "list") {
    for (const row of ((c.action || {}).sections || []).flatMap((s) => s.rows || [])) {
      const reply = { id: row.id, title: row.title };
      if (row.description) reply.description = row.description;
      press(row.title, { type: "interactive", interactive: { type: "list_reply", list_reply: reply } });
    }
  }
  if (outbound && m.type === "template") {
    const shown = hydrate(c);
    for (const b of (shown ? shown.buttons : []).filter((b) => b.type === "QUICK_REPLY")) {
      press(b.text, { type: "button", button: { payload: b.payload, text: b.text } });
    }
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

/** Media kept by wabiz, shown from `/v1/media/{id}` (same origin: the
 * session cookie goes with it): a picture, a player, or a download link. A
 * link elsewhere is only named: the page loads nothing from other origins. */
function previewOf(m) {
  const c = m.content || {};
  const inner = m.direction === "inbound" ? (((c.messages || [])[0] || {})[m.type] || {}) : c;
  if (!inner.id) return null;
  const src = `/v1/media/${encodeURIComponent(inner.id)}`;
  const label = inner.caption || inner.filename || `${m.type} ${inner.id}`;
  let el;
  if (m.type === "image" || m.type === "sticker") {
    el = document.createElement("img");
    el.alt = label;
  } else if (m.type === "video" || m.type === "audio" || m.type === "voice") {
    el = document.createElement(m.type === "video" ? "video" : "audio");
    el.controls = true;
    el.preload = "metadata";
    el.setAttribute("aria-label", label);
  } else if (m.type === "document") {
    el = document.createElement("a");
    el.href = src;
    el.download = inner.filename || "document";
    el.textContent = `Download ${inner.filename || "the document"}`;
    el.className = "preview";
    el.dataset.testid = "media-preview";
    return el;
  } else {
    return null;
  }
  el.className = "preview";
  el.dataset.testid = "media-preview";
  el.src = src;
  return el;
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
  if (await customerSays({ type: kind, [kind]: media })) f.reset();
}

/** A message from the open chat's customer, or in a group from the chosen
 * participant (`POST /simulator/inbound`), then the chat again. */
async function customerSays(message) {
  if (!current) return false;
  const from = current.group ? $("[data-testid=group-participant]").value : current.id;
  const body = { from, ...message };
  if (current.group) body.group_id = current.id;
  const r = await call("POST", "/simulator/inbound", body);
  if (r.status !== 201) { notice(errorsOf(r.body)); return false; }
  await loadChat();
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

/** The chat open now: `{id, group, participants}`. */
let current = null;

/** Renders the open chat's last 100 messages. */
async function loadChat() {
  if (!current) return;
  const { id } = current;
  const r = await call("GET", `/simulator/conversations/${encodeURIComponent(id)}`);
  if (!current || current.id !== id) return;
  // A template this page has not seen yet: read the registry again.
  const unknown = r.status === 200 && r.body.messages.some((m) => m.type === "template" && m.direction === "outbound"
    && !registry.has(templateKey(m.content.namespace, m.content.name, (m.content.language || {}).code)));
  if (unknown) await loadRegistry();
  const list = byTestId("messages");
  if (r.status !== 200) { notice(errorsOf(r.body)); return; }
  byTestId("chat").hidden = false;
  byTestId("chat-title").textContent = id;
  textById = new Map(r.body.messages.map((m) => [m.id, textOf(m)]));
  // Stay at the newest message unless the reader scrolled up to older ones.
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40 || list.dataset.chat !== id;
  list.dataset.chat = id;
  list.replaceChildren(...r.body.messages.map((m) => {
    const li = document.createElement("li");
    li.className = m.direction;
    li.dataset.testid = "message";
    li.dataset.status = m.status;
    if (current.group && m.direction === "inbound") {
      const who = document.createElement("span");
      who.className = "sender";
      who.dataset.testid = "sender";
      const profile = ((((m.content || {}).contacts || [])[0] || {}).profile || {}).name;
      who.textContent = profile ? `${profile} (${m.peer})` : m.peer;
      li.append(who);
    }
    const quoted = m.direction === "inbound" ? (((m.content || {}).messages || [])[0] || {}).context : null;
    if (quoted && quoted.id) {
      const q = document.createElement("span");
      q.className = "quote";
      q.dataset.testid = "quote";
      q.textContent = `replying to ${textById.get(quoted.id) || quoted.id}`;
      li.append(q);
    }
    li.append(document.createTextNode(textOf(m)));
    const media = previewOf(m);
    if (media) li.append(media);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.dataset.testid = "message-status";
    meta.textContent = `${m.direction === "outbound" ? TICKS[m.status] || m.status : "received"} · ${new Date(m.created_at * 1000).toLocaleTimeString()}`;
    if (m.status === "failed") explainFailure(m.id, meta);
    li.append(meta);
    li.append(actionsFor(m));
    return li;
  }));
  if (atEnd) list.scrollTop = list.scrollHeight;
}

/** What each outbound status shows: its ticks and its name. */
const TICKS = { accepted: "◷ accepted", sent: "✓ sent", delivered: "✓✓ delivered", read: "✓✓ read", failed: "✕ failed", deleted: "deleted" };

/** Opens a chat (a customer, or a group and its participants). */
async function openChat(id, group = false) {
  current = { id, group, participants: [] };
  replyTo = null;
  byTestId("quoting").hidden = true;
  byTestId("chat-wa-id").value = id;
  const pick = $("[data-testid=group-participant]");
  $("[data-group-only]").hidden = !group;
  pick.replaceChildren();
  if (group) {
    const g = await call("GET", `/v1/groups/${encodeURIComponent(id)}`);
    const participants = g.status === 200 ? g.body.groups[0].participants || [] : [];
    current.participants = participants;
    for (const p of participants) pick.append(new Option(p, p));
  }
  await loadChat();
  markSelected();
}

// ---- the list of chats

/** The list: the most recent chats, or those the search finds. */
async function loadChats() {
  const search = byTestId("chat-search").value.trim();
  const q = search ? `?search=${encodeURIComponent(search)}` : "";
  const r = await call("GET", `/simulator/chats${q}`);
  if (r.status !== 200 || byTestId("chat-search").value.trim() !== search) return;
  byTestId("chat-list").replaceChildren(...r.body.chats.map((c) => {
    const li = document.createElement("li");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "chat-item";
    open.dataset.testid = "chat-item";
    open.dataset.id = c.id;
    open.dataset.unread = String(c.unread);
    const name = document.createElement("span");
    name.className = "chat-name";
    name.textContent = c.name ? `${c.name} · ${c.id}` : c.id;
    if (c.recipient_type === "group") name.textContent = `👥 ${name.textContent}`;
    const last = document.createElement("span");
    last.className = "chat-last";
    last.textContent = c.last_message ? textOf(c.last_message) : "";
    const when = document.createElement("span");
    when.className = "chat-when";
    when.textContent = new Date(c.last_at * 1000).toLocaleTimeString();
    open.append(name, when, last);
    let label = `${name.textContent}, last message ${last.textContent}`;
    if (c.unread > 0) {
      const badge = document.createElement("span");
      badge.className = "unread";
      badge.dataset.testid = "chat-unread";
      badge.textContent = c.unread >= 100 ? "99+" : String(c.unread);
      open.append(badge);
      label += `, ${badge.textContent} unread`;
    }
    open.setAttribute("aria-label", label);
    open.addEventListener("click", () => openChat(c.id, c.recipient_type === "group"));
    li.append(open);
    return li;
  }));
  markSelected();
}

function markSelected() {
  for (const b of document.querySelectorAll("[data-testid=chat-item]")) {
    if (current && b.dataset.id === current.id) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
  }
}

// ---- live: one event stream for the list and the open chat

let refreshing = null;

/** Reloads the list and the open chat at most every 300 ms, however many
 * events arrive (a traffic run sends many). */
function refreshSoon() {
  if (refreshing) return;
  refreshing = setTimeout(async () => {
    refreshing = null;
    if (location.hash !== "" && location.hash !== "#chats") return;
    await Promise.all([loadChats(), loadChat()]);
  }, 300);
}

/** Follows the server's events. The browser reconnects by itself after a
 * restart; when it gives up (the stream was refused), the page checks its
 * session and listens again, and says so while the server is away. */
function listen() {
  if (stream) stream.close();
  // Same origin: the browser sends the session cookie with the stream.
  stream = new EventSource("/simulator/events?types=message_accepted,message_status,message_inbound");
  for (const type of ["message_accepted", "message_status", "message_inbound", "ready"]) {
    stream.addEventListener(type, refreshSoon);
  }
  stream.addEventListener("ready", () => notice(""));
  stream.addEventListener("error", () => {
    notice("The server cannot be reached; reconnecting…");
    if (stream && stream.readyState === EventSource.CLOSED) setTimeout(reconnect, 2000);
  });
}

async function reconnect() {
  if (!csrf) return;
  const r = await call("GET", "/console/session");
  if (r.status === 200 && r.body.session) { listen(); return; }
  if (r.status === 200) { signedOut(); return; }
  setTimeout(reconnect, 2000);
}

/** "New chat as a customer": any number, written in or not. */
async function openTyped(event) {
  event.preventDefault();
  const id = event.target.wa_id.value.trim().replace(/^\+/, "");
  if (id) await openChat(id);
}

async function writeAsCustomer(event) {
  event.preventDefault();
  const message = { type: "text", text: { body: event.target.body.value } };
  if (replyTo) message.context = { id: replyTo };
  if (await customerSays(message)) {
    event.target.reset();
    replyTo = null;
    byTestId("quoting").hidden = true;
  }
}

async function sendLocation(event) {
  event.preventDefault();
  const f = event.target;
  const location = { latitude: Number(f.latitude.value), longitude: Number(f.longitude.value), name: f.name.value };
  await customerSays({ type: "location", location });
}

async function sendContact(event) {
  event.preventDefault();
  const f = event.target;
  const card = { name: { formatted_name: f.name.value }, phones: [{ phone: f.phone.value, type: "CELL" }] };
  if (await customerSays({ type: "contacts", contacts: [card] })) f.reset();
}

// ---- webhooks

/** A webhook URL as shown on screen: its query's values (a shared secret,
 * often) hidden. */
function shownUrl(url) {
  if (!url) return "not set";
  try {
    const u = new URL(url);
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, "…");
    return decodeURI(u.toString());
  } catch {
    return url;
  }
}

/** The webhook settings deliveries follow (the API's own settings). */
async function loadWebhookSettings() {
  const r = await call("GET", "/v1/settings/application");
  if (r.status !== 200) return;
  const a = r.body.settings.application;
  const w = a.webhooks || {};
  const m = w.message || {};
  const sent = [["sent", m.sent], ["delivered", m.delivered], ["read", m.read]].filter(([, on]) => on !== false).map(([k]) => k);
  figures("webhook-settings", [
    ["URL", shownUrl(w.url)],
    ["At once", w.max_concurrent_requests],
    ["Retry step", `${a.callback_backoff_delay_ms} ms`],
    ["Longest wait", `${a.max_callback_backoff_delay_ms} ms`],
    ["Statuses sent", sent.join(", ") || "none"],
    ["Kept across restarts", a.callback_persist ? "yes" : "no"],
  ]);
}

/** One test POST to the URL; shows what the receiver answered. */
async function testWebhook() {
  const out = byTestId("webhook-test-result");
  out.hidden = false;
  out.textContent = "Sending…";
  const r = await call("POST", "/wabiz/webhook/test");
  if (r.status !== 200) { out.textContent = errorsOf(r.body); return; }
  const t = r.body.test;
  out.dataset.acknowledged = String(t.acknowledged);
  out.textContent = t.status === null
    ? `Not answered: ${t.failure}`
    : `HTTP ${t.status} in ${t.took_ms} ms${t.acknowledged ? " (acknowledged)" : " (a callback would be retried: only 200 acknowledges)"}${t.body ? "\n" + t.body : ""}`;
}

async function loadWebhooks() {
  const r = await call("GET", "/wabiz/callbacks");
  if (r.status !== 200) { notice(errorsOf(r.body)); return; }
  const c = r.body.callbacks;
  const oldest = c.queue.oldest_created_at;
  const figures = [
    ["Waiting", c.queue.pending], ["In flight", c.queue.requests_in_flight],
    ["Oldest waiting", oldest ? `${Math.max(0, Math.round((Date.now() - oldest) / 1000))} s` : "–"],
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
      : `#${cb.seq} ${cb.kind} ${cb.subject || ""}: ${cb.attempts} attempt(s)${cb.last_result ? ", last: " + cb.last_result : ""}${
        cb.attempts && cb.next_attempt_at ? `, next at ${new Date(cb.next_attempt_at).toLocaleTimeString()}` : ""}`;
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
      await openChat(c.wa_id);
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
  if (view === "webhooks") { loadWebhooks(); loadWebhookSettings(); }
  if (view === "settings") loadSettings();
  if (view === "health") loadHealth();
  if (view === "templates") { loadTemplates(); previewTemplate(); }
  if (view === "chats") loadChats();
}

async function start() {
  byTestId("sign-in-form").addEventListener("submit", signIn);
  byTestId("sign-out").addEventListener("click", signOut);
  byTestId("open-chat").addEventListener("submit", openTyped);
  byTestId("chat-search").addEventListener("input", loadChats);
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
  byTestId("webhook-test").addEventListener("click", testWebhook);
  byTestId("template-form").addEventListener("input", previewTemplate);
  window.addEventListener("hashchange", route);
  const r = await call("GET", "/console/session");
  if (r.status === 200 && r.body.session) signedIn(r.body.session); else signedOut();
}

start();
