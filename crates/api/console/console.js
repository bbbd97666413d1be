// The wabiz console: plain JavaScript modules over the documented API. The
// token of a sign-in lives in an HttpOnly cookie the page cannot read;
// changing calls carry the session's CSRF value. Every action here is an
// /openapi.json call. This module signs in and out and shows the views.

import { $, byTestId, call, errorsOf, setCsrf, signedInNow } from "./api.js";
import * as chats from "./chats.js";
import * as health from "./health.js";
import * as settings from "./settings.js";
import * as templates from "./templates.js";
import * as webhooks from "./webhooks.js";

function show(view) {
  for (const s of document.querySelectorAll("[data-view]")) s.hidden = s.dataset.view !== view;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.hash === `#${view}`) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}


function signedIn(session) {
  setCsrf(session.csrf);
  byTestId("who").textContent = `${session.username} (${session.role === "ROLE_ADMIN" ? "admin" : "user"})`;
  for (const id of ["nav", "who", "sign-out"]) byTestId(id).hidden = false;
  chats.listen(signedOut);
  templates.loadRegistry().then(route);
}

function signedOut() {
  setCsrf(null);
  chats.stop();
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

// ---- navigation

function route() {
  if (!signedInNow()) return;
  const view = (location.hash || "#chats").slice(1);
  show(view);
  if (view === "webhooks") webhooks.showWebhooks();
  if (view === "settings") settings.loadSettings();
  if (view === "health") health.loadHealth();
  if (view === "templates") templates.showTemplates();
  if (view === "chats") chats.loadChats();
}

async function start() {
  byTestId("sign-in-form").addEventListener("submit", signIn);
  byTestId("sign-out").addEventListener("click", signOut);
  for (const view of [chats, health, settings, templates, webhooks]) view.install();
  window.addEventListener("hashchange", route);
  const r = await call("GET", "/console/session");
  if (r.status === 200 && r.body.session) signedIn(r.body.session); else signedOut();
}

start();
