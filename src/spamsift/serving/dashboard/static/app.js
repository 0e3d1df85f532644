// The dashboard's shell: log in with a key, then route #/page/... to the page modules.

import {api, ApiError, session, whenUnauthenticated} from "./api.js";
import {clear, h} from "./dom.js";
import * as history from "./history.js";
import * as message from "./message.js";
import * as conflicts from "./conflicts.js";
import * as stats from "./stats.js";
import * as models from "./models.js";

const PAGES = {history, message, conflicts, stats, models};
const $ = (id) => document.getElementById(id);

let me = null;          // {id, name, scopes} of the key logged in with
let cleanup = null;     // the current page's, run when leaving it

const ctx = {
  can: (scope) => !!me && (me.scopes.includes(scope) || me.scopes.includes("admin")),
  notify(text, bad = false) {
    const root = $("page");
    root.querySelector(".notice")?.remove();
    root.prepend(h("div", {class: bad ? "notice bad" : "notice", id: "status",
                           role: "status"}, text));
  },
  go: (hash) => { location.hash = hash; },
};

function showLogin(problem = "") {
  me = null;
  $("nav").hidden = $("who").hidden = $("logout").hidden = true;
  $("page").hidden = true;
  clear($("page"));
  $("login").hidden = false;
  $("login-error").textContent = problem;
  $("key").value = "";
  $("key").focus();
}

function showShell() {
  $("login").hidden = true;
  $("nav").hidden = $("who").hidden = $("logout").hidden = false;
  $("who").textContent = `${me.name || me.id} · ${me.scopes.filter((s) => s !== "classify").join(", ")}`;
  for (const a of $("nav").querySelectorAll("a[data-needs]")) a.hidden = !ctx.can(a.dataset.needs);
  $("page").hidden = false;
}

async function route() {
  if (!me) return;
  if (cleanup) { cleanup(); cleanup = null; }
  const [where, search = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [page = "history", ...rest] = where.split("/");
  const module = PAGES[page] || history;
  const root = clear($("page"));
  root.dataset.page = PAGES[page] ? page : "history";
  root.dataset.ready = "false";
  for (const a of $("nav").querySelectorAll("a")) {
    a.classList.toggle("current", a.dataset.page === root.dataset.page ||
                                  (page === "message" && a.dataset.page === "history"));
  }
  const params = new URLSearchParams(search);
  try {
    cleanup = (await module.render(root, ctx, {params, path: rest.map(decodeURIComponent)})) || null;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    root.append(h("p", {class: "notice bad", role: "alert"},
                  error instanceof ApiError ? error.message : `Something went wrong: ${error}`));
  }
  root.dataset.ready = "true";
}

async function logIn(key) {
  me = await api("GET", "/v1/me", undefined, key);
  session.save(key);
  showShell();
  await route();
}

async function start() {
  whenUnauthenticated(() => {
    session.forget();
    showLogin("The server no longer takes this key (revoked?): log in again.");
  });
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("key").value.trim();
    $("login-button").disabled = true;
    $("login-error").textContent = "";
    try {
      await logIn(key);
    } catch (error) {
      $("login-error").textContent = !(error instanceof ApiError) ? `Cannot reach the server: ${error}`
        : error.status === 401 ? "The server does not know this key."
        : error.status === 403 ? "This key lacks the read scope: the dashboard needs a key created with --scope read (or admin)."
        : error.message;
    } finally {
      $("login-button").disabled = false;
      $("key").value = "";
    }
  });
  $("logout").addEventListener("click", () => {
    session.forget();
    if (cleanup) { cleanup(); cleanup = null; }
    showLogin();
  });
  window.addEventListener("hashchange", route);
  const key = session.key();
  if (!key) { showLogin(); return; }
  try {
    await logIn(key);
  } catch (error) {
    session.forget();
    showLogin(error instanceof ApiError ? error.message : String(error));
  }
}

start();
