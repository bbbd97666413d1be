// What every view of the console uses: the API call (with the session's
// CSRF value on changing calls), its error list as a line, the notice line,
// and a row of figures.

export const $ = (sel, root = document) => root.querySelector(sel);
export const byTestId = (id) => $(`[data-testid="${id}"]`);

let csrf = null;

/** Keeps the session's CSRF value (`null` once signed out). */
export function setCsrf(value) { csrf = value; }

/** Whether a session is open. */
export const signedInNow = () => csrf !== null;

/** A call to the API; resolves to {status, body}, status 0 when the server
 * cannot be reached (a restart): the page then waits for it, it does not throw. */
export async function call(method, path, body, headers = {}) {
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
export function errorsOf(body) {
  const errors = (body && body.errors) || [];
  return errors.map((e) => `${e.code} ${e.title}${e.details ? ": " + e.details : ""}`).join("; ");
}

export function notice(text) { byTestId("notice").textContent = text; }

export function figures(testid, pairs) {
  byTestId(testid).replaceChildren(...pairs.map(([name, value]) => {
    const div = document.createElement("div");
    div.dataset.testid = `figure-${name.toLowerCase().replaceAll(" ", "-")}`;
    const dt = document.createElement("dt"); dt.textContent = name;
    const dd = document.createElement("dd"); dd.textContent = String(value ?? "–");
    div.append(dt, dd);
    return div;
  }));
}
