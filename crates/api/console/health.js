// Health: the gateway, the registration, live figures, the magic numbers,
// the simulated network's chaos and generated traffic.

import { $, byTestId, call, errorsOf, figures, notice } from "./api.js";
import { openChat } from "./chats.js";

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

export async function loadHealth() {
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
  if (chaos.status === 200) await showChaos(chaos.body.chaos);
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

/** The failure codes chaos takes, from the API's own description. */
let failureCodes = null;

async function loadFailureCodes() {
  if (failureCodes) return failureCodes;
  const r = await call("GET", "/openapi.json");
  const schema = r.status === 200
    ? (((r.body.paths["/simulator/chaos"] || {}).put || {}).requestBody || {}).content["application/json"].schema : null;
  failureCodes = schema ? schema.properties.failures.items.properties.code.enum : [];
  return failureCodes;
}

const delayText = (d) => (Array.isArray(d) ? `${d[0]}-${d[1]}` : "");
const share = (v) => (v === undefined || v === null ? "" : String(v));

/** The chaos form from `GET /simulator/chaos`. */
async function showChaos(chaos) {
  const codes = await loadFailureCodes();
  const f = byTestId("chaos-form");
  for (const select of [f.failure_code, byTestId("chaos-next-code")]) {
    if (!select.options.length) for (const c of codes) select.append(new Option(String(c), String(c)));
  }
  f.outage.checked = chaos.outage;
  f.seed.value = String(chaos.seed ?? "");
  f.never_read.value = share(chaos.never_read);
  for (const step of ["sent", "delivered", "read"]) f[`delay_${step}`].value = delayText((chaos.delays || {})[step]);
  const failure = (chaos.failures || [])[0] || {};
  f.failure_rate.value = share(failure.rate);
  if (failure.code) f.failure_code.value = String(failure.code);
  f.failure_step.value = failure.step || "";
  f.duplicate.value = share((chaos.webhooks || {}).duplicate);
  f.out_of_order.value = share((chaos.webhooks || {}).out_of_order);
  const waiting = (chaos.next || []).reduce((sum, n) => sum + (n.count || 0), 0);
  byTestId("chaos-planned").textContent = waiting
    ? `${waiting} forced outcome(s) waiting: ${(chaos.next || []).map((n) => `${n.count} ${n.outcome}${n.code ? " " + n.code : ""}`).join(", ")}.`
    : "No forced outcomes waiting.";
}

/** `PUT /simulator/chaos` replaces the settings: the form is all of them
 * (a second failure rule set by a script is kept as it was). */
async function applyChaos(event) {
  event.preventDefault();
  notice("");
  const f = event.target;
  const current = await call("GET", "/simulator/chaos");
  if (current.status !== 200) { notice(errorsOf(current.body)); return; }
  const { next, planned, ...chaos } = current.body.chaos;
  const number = (text) => (text.trim() === "" ? undefined : Number(text));
  chaos.outage = f.outage.checked;
  chaos.seed = number(f.seed.value);
  chaos.never_read = number(f.never_read.value) ?? 0;
  chaos.delays = {};
  for (const step of ["sent", "delivered", "read"]) {
    const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(f[`delay_${step}`].value);
    if (m) chaos.delays[step] = [Number(m[1]), Number(m[2])];
    else if (f[`delay_${step}`].value.trim()) { byTestId("chaos-error").textContent = `The ${step} delay is "from-to" in ms.`; return; }
  }
  const rest = (chaos.failures || []).slice(1);
  const rate = number(f.failure_rate.value);
  const rule = { rate, code: Number(f.failure_code.value) };
  if (f.failure_step.value) rule.step = f.failure_step.value;
  chaos.failures = rate ? [rule, ...rest] : rest;
  chaos.webhooks = { ...(chaos.webhooks || {}), duplicate: number(f.duplicate.value) ?? 0, out_of_order: number(f.out_of_order.value) ?? 0 };
  if (chaos.seed === undefined) delete chaos.seed;
  const r = await call("PUT", "/simulator/chaos", chaos);
  byTestId("chaos-error").textContent = r.status === 200 ? "" : errorsOf(r.body);
  if (r.status === 200) notice("Chaos settings applied.");
  loadHealth();
}

/** `POST /simulator/chaos/next`: the next messages get exactly this outcome. */
async function forceOutcome(event) {
  event.preventDefault();
  const f = event.target;
  const body = { count: Number(f.count.value), outcome: f.outcome.value };
  if (body.outcome === "failed") body.code = Number(f.code.value);
  const r = await call("POST", "/simulator/chaos/next", body);
  notice(r.status === 200 ? `${r.body.waiting} forced outcome(s) waiting.` : errorsOf(r.body));
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

export function install() {
  byTestId("chaos-form").addEventListener("submit", applyChaos);
  byTestId("chaos-next-form").addEventListener("submit", forceOutcome);
  byTestId("traffic-form").addEventListener("submit", startTraffic);
}
