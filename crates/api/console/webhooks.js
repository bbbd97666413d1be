// Webhook deliveries: the queue, where callbacks go (with a test callback),
// the waiting ones with "Retry now", the ones just delivered, a filter.

import { byTestId, call, errorsOf, figures, notice } from "./api.js";

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
    li.dataset.peer = cb.peer || "";
    if (cb.items) {
      // What it carries (or carried), folded away for the delivered ones.
      const payload = document.createElement("details");
      payload.open = !delivered;
      const summary = document.createElement("summary");
      summary.textContent = `Payload (${cb.items.length} item${cb.items.length === 1 ? "" : "s"})`;
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify(cb.items, null, 2);
      payload.append(summary, pre);
      li.append(payload);
    }
    return li;
  };
  // The filter: a customer and a kind.
  const filter = byTestId("callback-filter");
  const peer = filter.peer.value.trim(), kind = filter.kind.value;
  const keep = (cb) => (!peer || cb.peer === peer) && (!kind || cb.kind === kind);
  byTestId("pending").replaceChildren(...c.pending.filter(keep).map((cb) => item(cb, false)));
  byTestId("delivered").replaceChildren(...c.recently_delivered.filter(keep).map((cb) => item(cb, true)));
}

export function install() {
  byTestId("callback-filter").addEventListener("input", loadWebhooks);
  byTestId("callback-filter").addEventListener("submit", (e) => { e.preventDefault(); loadWebhooks(); });
  byTestId("webhook-test").addEventListener("click", testWebhook);
}

export function showWebhooks() {
  loadWebhooks();
  loadWebhookSettings();
}
