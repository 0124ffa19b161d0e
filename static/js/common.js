// How pages are built: docs/panel-pages.md.
// Shared by every page: translated strings, safe redirects, theme toggle, logout.
// Page scripts import this module through the exact URL of <script id="common-js"> so the
// browser keeps one instance and the content-hashed URL keeps caches honest.
// One piece (over 400 lines): every page imports this one module by its exact URL, and the
// dashboard page loads it as a blob; splitting it would add a request per page in both surfaces.

// fetch/WebSocket on the own port, AstrBot's bridge in its dashboard (static/js/transport.js).
const transport = await import(document.getElementById("transport-js").src);
export const { goTo, reloadPage, replaceUrl, openSocket } = transport;
/** The transport's request as is (a Response-like, no toasts): for probes. */
export const rawRequest = transport.request;

const THEME_KEY = "pc_theme";

let strings = null;

/** Translated text for `key` from the page's JSON block, `{name}` placeholders filled. */
export function tr(key, vars = {}) {
  if (strings === null) {
    const node = document.getElementById("i18n");
    try {
      strings = node ? JSON.parse(node.textContent) : {};
    } catch {
      strings = {};
    }
  }
  // "1 session", not "1 sessions": a `.one` form wins when the count is 1 (web/i18n.py).
  const count = vars.n ?? vars.parts;
  if (count !== undefined && String(count) === "1" && Object.hasOwn(strings, `${key}.one`)) {
    key = `${key}.one`;
  }
  const text = Object.hasOwn(strings, key) ? strings[key] : key;
  return text.replace(/\{(\w+)\}/g, (match, name) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : match,
  );
}

/** `value` if it is a path on this site, else `fallback` (mirrors web/pages.py safe_next). */
export function safeNext(value, fallback = "/overview") {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return fallback;
  if (!value.startsWith("/") || value.startsWith("//")) return fallback;
  if (value.includes("\\") || /[\u0000-\u001f\u007f]/.test(value)) return fallback;
  try {
    const url = new URL(value, window.location.origin);
    if (url.origin !== window.location.origin) return fallback;
  } catch {
    return fallback;
  }
  return value;
}

function currentTheme() {
  return document.documentElement.getAttribute("data-theme") === "dark" ? "dark" : "light";
}

function savedTheme() {
  try {
    return localStorage.getItem(THEME_KEY);
  } catch {
    return null;
  }
}

function applyTheme(theme, persist) {
  document.documentElement.setAttribute("data-theme", theme);
  if (persist) {
    try {
      localStorage.setItem(THEME_KEY, theme);
    } catch {
      // Not persisted; the toggle still works for this page.
    }
  }
  const button = document.getElementById("theme-toggle");
  if (button) {
    const label = tr(theme === "dark" ? "theme.to_light" : "theme.to_dark");
    button.setAttribute("aria-label", label);
    button.title = label;
  }
}

function initTheme() {
  applyTheme(currentTheme(), false);
  document.getElementById("theme-toggle")?.addEventListener("click", () => {
    applyTheme(currentTheme() === "dark" ? "light" : "dark", true);
  });
  // In AstrBot's dashboard its theme rules (the bridge sets data-theme).
  if (transport.hostOwnsTheme) return;
  // Follow the system setting until the user picks a theme here.
  window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", (event) => {
    if (savedTheme() !== "light" && savedTheme() !== "dark") {
      applyTheme(event.matches ? "dark" : "light", false);
    }
  });
}

function initLogout() {
  const button = document.getElementById("logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await transport.request("/api/logout", { method: "POST" });
    } catch {
      // Offline: the login page is still the right place to go.
    }
    goTo("/login");
  });
}

initTheme();
initLogout();

// ---------------------------------------------------------------------------------------
// Shared by the engine pages: the API, feedback, times in AstrBot's zone, live events.

let env = null;

/** `{tz, offset, zone}` of AstrBot's timezone, from <script id="pc-env">. */
export function pageEnv() {
  if (env === null) {
    const node = document.getElementById("pc-env");
    try {
      env = node ? JSON.parse(node.textContent) : {};
    } catch {
      env = {};
    }
    if (typeof env.offset !== "number") env.offset = 0;
  }
  return env;
}

/** A DOM element built without HTML parsing: text from chats and models stays text. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const formatters = new Map();

function partsIn(date, zone) {
  let fmt = formatters.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, fmt);
  }
  const parts = {};
  for (const part of fmt.formatToParts(date)) parts[part.type] = part.value;
  return parts;
}

/** `ts` (Unix seconds) as "YYYY-MM-DD HH:MM[:SS]" in AstrBot's zone, like the server does. */
export function formatTime(ts, { seconds = false, dateOnly = false } = {}) {
  if (ts === null || ts === undefined || !Number.isFinite(Number(ts))) return "—";
  const { tz, offset } = pageEnv();
  let p;
  try {
    p = tz
      ? partsIn(new Date(Number(ts) * 1000), tz)
      : partsIn(new Date(Number(ts) * 1000 + offset * 60000), "UTC");
  } catch {
    p = partsIn(new Date(Number(ts) * 1000 + offset * 60000), "UTC");
  }
  const day = `${p.year}-${p.month}-${p.day}`;
  if (dateOnly) return day;
  return `${day} ${p.hour}:${p.minute}${seconds ? `:${p.second}` : ""}`;
}

/** "in 23 min" / "5 h ago" / "just now", in the page's language. */
export function relativeTime(ts, now = Date.now() / 1000) {
  if (ts === null || ts === undefined || !Number.isFinite(Number(ts))) return tr("time.never");
  const delta = Number(ts) - now;
  const abs = Math.abs(delta);
  if (abs < 5) return tr("time.now");
  const [unit, size] =
    abs < 60 ? ["s", 1] : abs < 3600 ? ["min", 60] : abs < 86400 ? ["h", 3600] : ["d", 86400];
  const n = Math.max(1, Math.round(abs / size));
  return tr(delta > 0 ? `time.in_${unit}` : `time.ago_${unit}`, { n });
}

/** Give every `<time class="ts" data-ts>` under `root` its relative text, kept fresh. */
export function refreshTimes(root = document) {
  const now = Date.now() / 1000;
  for (const node of root.querySelectorAll("time.ts[data-ts]")) {
    const ts = Number(node.dataset.ts);
    let rel = node.nextElementSibling;
    if (!rel || !rel.classList.contains("rel")) {
      rel = el("span", { class: "rel" });
      node.after(rel);
    }
    const text = relativeTime(ts, now);
    if (rel.textContent !== text) rel.textContent = text;
  }
}

/** A `<time>` for `ts` (as the server renders it), or a dash. */
export function timeTag(ts, { seconds = false } = {}) {
  if (ts === null || ts === undefined) return el("span", { class: "muted", text: "—" });
  const node = el("time", {
    class: "ts",
    datetime: new Date(Number(ts) * 1000).toISOString(),
    title: formatTime(ts, { seconds: true }),
    dataset: { ts: String(ts) },
    text: formatTime(ts, { seconds }),
  });
  const rel = el("span", { class: "rel", text: relativeTime(ts) });
  const wrap = document.createDocumentFragment();
  wrap.append(node, rel);
  return wrap;
}

let reasons = null;

/** A journal reason in the page's language (table from web/reasons.py), else as it is. */
export function reasonText(reason) {
  if (reasons === null) {
    reasons = [];
    const node = document.getElementById("pc-reasons");
    try {
      for (const [source, key] of node ? JSON.parse(node.textContent) : []) {
        reasons.push([new RegExp(`^(?:${source})$`), key]);
      }
    } catch {
      reasons = [];
    }
  }
  const text = String(reason ?? "");
  for (const [pattern, key] of reasons) {
    const match = pattern.exec(text);
    if (match) {
      const vars = { ...(match.groups || {}) };
      if (vars.kind !== undefined) vars.kind = tr(`jkind.${vars.kind}`);
      return tr(key, vars);
    }
  }
  return text;
}

/** A short stand-in for an unnamed session (mirrors core/umo.py short_id). */
export function shortUmo(umo) {
  const parts = String(umo).split(":");
  let id = parts.length >= 3 ? parts.slice(2).join(":") : String(umo);
  if (id.startsWith("webchat!")) id = id.split("!").pop().slice(0, 8);
  const chars = Array.from(id);
  return chars.length > 12 ? `${chars.slice(0, 12).join("")}…` : id || String(umo);
}

/** Put `text` on the clipboard (the old way where the page is not a secure context). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // http on a LAN address: no Clipboard API
  }
  const area = el("textarea", { class: "visually-hidden", readonly: true });
  area.value = text;
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** A session's "enabled" badge (served / paused / off), as the templates render it. */
export function enabledBadge(view) {
  if (view.paused) return el("span", { class: "badge badge-warn", text: tr("phase.paused") });
  if (view.served) return el("span", { class: "badge badge-ok", text: tr("sessions.state.served") });
  return el("span", { class: "badge", text: tr("phase.off") });
}

/** A session's phase badge ("writing" while a message is being written). */
export function phaseBadge(view) {
  if (view.writing) return el("span", { class: "badge badge-accent", text: tr("phase.writing") });
  return el("span", { class: `badge phase-${view.phase}`, text: tr(`phase.${view.phase}`) });
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Short-lived message in the corner; errors stay until dismissed. */
export function toast(message, kind = "info", { timeout = kind === "error" ? 0 : 4000 } = {}) {
  const region = document.getElementById("toasts");
  if (!region) return null;
  const close = el("button", {
    class: "toast-close icon-btn",
    type: "button",
    "aria-label": tr("toast.close"),
    title: tr("toast.close"),
    text: "×",
  });
  const node = el(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", { class: "toast-text", text: message }),
    close,
  );
  const remove = () => node.remove();
  close.addEventListener("click", remove);
  region.append(node);
  while (region.children.length > 5) region.firstElementChild.remove();
  if (timeout > 0) setTimeout(remove, timeout);
  return node;
}

export class ApiError extends Error {
  constructor(status, code, message, errors = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

function goLogin() {
  goTo(`/login?next=${encodeURIComponent(transport.currentPath())}`);
}

/** JSON API call. Throws ApiError with a message fit for a toast; a 401 goes to the login. */
export async function api(path, { method = "GET", body, signal } = {}) {
  let response;
  try {
    response = await transport.request(path, { method, body, signal });
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new ApiError(0, "network", tr("err.network"));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.ok) return data;
  if (response.status === 401) {
    toast(tr("err.auth"), "error");
    setTimeout(goLogin, 800);
    throw new ApiError(401, "auth", tr("err.auth"));
  }
  const detail = data && typeof data.message === "string" ? data.message : "";
  const errors = data && Array.isArray(data.errors) ? data.errors : null;
  const code = data && typeof data.error === "string" ? data.error : "error";
  let message;
  if (response.status === 503) message = tr("err.unavailable", { message: reasonText(detail) });
  else if (response.status >= 500) message = tr("err.server", { status: response.status });
  else message = tr("err.generic", { message: detail || response.statusText });
  throw new ApiError(response.status, code, message, errors);
}

/** The message to show for an error thrown by `api` (or anything else). */
export function errorText(error) {
  return error instanceof ApiError ? error.message : tr("err.generic", { message: String(error) });
}

const EVENTS_BACKOFF_MIN_MS = 500;
const EVENTS_BACKOFF_MAX_MS = 8000;
const RELOADING_ATTEMPTS = 4; // failed reconnects (about 7 s) before "reloading" becomes "retrying"

/**
 * One `/ws/events` connection for the page, repaired by itself.
 * handlers.hello(status) runs on every (re)connect: refresh what the page shows there, so
 * nothing missed while disconnected stays stale. handlers.event(message) gets the rest;
 * a `gap` (this page fell behind) is turned into a hello-style refresh as well.
 */
export function connectEvents(handlers) {
  const badge = document.getElementById("events-state");
  const state = { socket: null, attempt: 0, timer: null, tick: null, retryAt: 0, link: "" };

  function show(link, vars = {}) {
    state.link = link;
    if (!badge) return;
    badge.dataset.state = link === "offline" ? "paused" : link;
    badge.textContent = tr(`events.${link}`, vars);
  }

  function schedule() {
    clearTimeout(state.timer);
    clearInterval(state.tick);
    const base = Math.min(EVENTS_BACKOFF_MAX_MS, EVENTS_BACKOFF_MIN_MS * 2 ** state.attempt);
    const delay = base * (0.8 + Math.random() * 0.4);
    state.attempt += 1;
    state.retryAt = Date.now() + delay;
    state.timer = setTimeout(open, delay);
    // "Reloading" while a reload is plausible (it takes about a second); a plugin turned
    // off or a reload that failed must not say "reloading" for ever: show the retries.
    if (state.link === "reloading" && state.attempt > RELOADING_ATTEMPTS) state.link = "";
    if (state.link !== "reloading") {
      const update = () =>
        show("reconnecting", { n: Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) });
      update();
      state.tick = setInterval(update, 500);
    }
  }

  async function checkLogin() {
    try {
      const response = await transport.request("/api/status");
      if (response.status === 401) goLogin();
    } catch {
      // Unreachable: keep retrying.
    }
  }

  function open() {
    clearTimeout(state.timer);
    clearInterval(state.tick);
    let socket;
    try {
      socket = openSocket("/ws/events");
    } catch {
      schedule();
      return;
    }
    state.socket = socket;
    if (state.link !== "reloading") show("connecting");
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "hello") {
        state.attempt = 0;
        const running = Boolean(message.status?.running);
        show(running ? "live" : "offline");
        handlers.hello?.(message.status || {});
      } else if (message.type === "gap") {
        // Only pages that refresh on a gap say so; the others show nothing that went stale.
        if (handlers.gap) {
          toast(tr("events.gap", { n: message.dropped ?? 0 }), "info");
          handlers.gap(message);
        }
      } else if (message.type === "closed") {
        show("reloading");
      } else {
        handlers.event?.(message);
      }
    });
    socket.addEventListener("close", (event) => {
      if (state.socket !== socket) return;
      state.socket = null;
      if (event.code === 1008) {
        checkLogin();
      } else if (event.code === 1012) {
        state.attempt = 0;
        show("reloading");
      }
      if (!opened) checkLogin();
      schedule();
    });
  }

  // A tab coming back or the network returning: try at once instead of waiting out a back-off.
  const retryNow = () => {
    if (state.socket === null) {
      state.attempt = 0;
      open();
    }
  };
  window.addEventListener("online", retryNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") retryNow();
  });
  open();
  return {
    get connected() {
      return state.link === "live" || state.link === "offline";
    },
  };
}

// Relative times on every page, refreshed twice a minute.
function initTimes() {
  if (!document.querySelector("time.ts[data-ts]") && !document.getElementById("pc-env")) return;
  refreshTimes();
  setInterval(() => refreshTimes(), 30000);
}

initTimes();

/** The tools a message used, readable: "search_web (120 ms), draw ✗" (as the pages'
 * tool_calls macro writes them, from web/pages/tool_calls.py's cleaned list). */
export function toolCallsText(calls) {
  if (!Array.isArray(calls)) return "";
  const shown = [];
  for (const call of calls.slice(0, 50)) {
    if (!call || typeof call !== "object" || typeof call.name !== "string") continue;
    const name = call.name.trim().slice(0, 80);
    if (!name) continue;
    const ms = typeof call.ms === "number" && call.ms >= 0 && call.ms < 1e9 ? Math.round(call.ms) : null;
    if (call.ok !== true) shown.push(tr("journal.tool_failed", { name }));
    else shown.push(ms === null ? name : tr("journal.tool_call", { name, ms }));
  }
  return shown.join(tr("journal.tool_sep"));
}
