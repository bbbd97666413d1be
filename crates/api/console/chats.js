// Chats: the list (last message, unread count, search), a chat's messages
// with their ticks and media, what the customer can do from it, and the
// event stream that keeps both current.

import { $, byTestId, call, errorsOf, notice, signedInNow } from "./api.js";
import { hydrate, knows, loadRegistry, parameterText, templateKey } from "./templates.js";

let stream = null;

// An inbound message is stored as its webhook body (`messages[0]` holds it);
// an outbound one as the object of its type (`{"body": …}` for a text).

/** An inbound message's `messages[0]` item; `null` for an outbound one. */
const received = (m) => (m.direction === "inbound" ? ((m.content || {}).messages || [])[0] || {} : null);

/** The object of the message's type (`{"body": …}`, `{"id", "caption"}`…). */
function typeObject(m) {
  const inbound = received(m);
  return inbound ? inbound[m.type] || {} : m.content || {};
}

export function textOf(message) {
  const c = message.content || {};
  const inbound = received(message);
  const inner = typeObject(message);
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
  const inner = typeObject(m);
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
    && !knows(templateKey(m.content.namespace, m.content.name, (m.content.language || {}).code)));
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
    const quoted = (received(m) || {}).context;
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
export async function openChat(id, group = false) {
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
export async function loadChats() {
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

/** What to do when the session turns out to have ended. */
let onSignedOut = () => {};

/** Follows the server's events. The browser reconnects by itself after a
 * restart; when it gives up (the stream was refused), the page checks its
 * session and listens again (or calls `signedOut` if the session ended),
 * and says so while the server is away. */
export function listen(signedOut) {
  onSignedOut = signedOut;
  if (stream) stream.close();
  // Same origin: the browser sends the session cookie with the stream.
  const s = new EventSource("/simulator/events?types=message_accepted,message_status,message_inbound");
  stream = s;
  for (const type of ["message_accepted", "message_status", "message_inbound", "ready"]) {
    s.addEventListener(type, refreshSoon);
  }
  s.addEventListener("ready", () => notice(""));
  s.addEventListener("error", () => {
    if (stream !== s) return;
    notice("The server cannot be reached; reconnecting…");
    if (s.readyState === EventSource.CLOSED) setTimeout(reconnect, 2000);
  });
}

async function reconnect() {
  if (!signedInNow()) return;
  const r = await call("GET", "/console/session");
  if (r.status === 200 && r.body.session) { listen(onSignedOut); return; }
  if (r.status === 200) { onSignedOut(); return; }
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

/** Stops following events and forgets the open chat (signed out). */
export function stop() {
  if (stream) { stream.close(); stream = null; }
  current = null;
}

export function install() {
  byTestId("open-chat").addEventListener("submit", openTyped);
  byTestId("chat-search").addEventListener("input", loadChats);
  byTestId("write-as-customer").addEventListener("submit", writeAsCustomer);
  byTestId("customer-location").addEventListener("submit", sendLocation);
  byTestId("customer-contact").addEventListener("submit", sendContact);
  byTestId("customer-media").addEventListener("submit", sendMedia);
}
