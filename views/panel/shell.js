// The page in AstrBot's dashboard: shows the panel's own pages, not copies of them.
//
// Each page is what the own-port panel renders (asked through our backend route, in the
// dashboard's language); the shell keeps its <main>, nav and data blocks, inlines its
// stylesheets (the sandbox has no cookie to fetch them with) and runs the same page scripts
// (static/js/*.js, as blob: modules under their usual ids) with views/panel/bridge_transport.js
// as "transport-js", so common.js's api() and connectEvents() go through AstrBot's bridge.
//
// Moving to another page reloads this frame (window.name carries the path): every page
// starts clean, with no socket or timer of the previous one left running.

import * as transport from "./bridge_transport.js";

const bridge = window.AstrBotPluginView;
const STATE_PREFIX = "proactive-chat:";
const START_PATH = "/overview";
const TEXTS = {
  zh: {
    loading: "正在加载…",
    failed: "无法加载此页面（{detail}）。请刷新重试。",
    reloading: "插件正在重新加载，稍后自动重试…",
    login: "AstrBot 的登录已过期：请重新登录控制台。",
  },
  en: {
    loading: "Loading…",
    failed: "This page could not be loaded ({detail}). Refresh to try again.",
    reloading: "The plugin is reloading; retrying shortly…",
    login: "Your AstrBot login has expired: log in to the dashboard again.",
  },
};

function langOf(locale) {
  return String(locale || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

function readState() {
  try {
    if (window.name.startsWith(STATE_PREFIX)) return JSON.parse(window.name.slice(STATE_PREFIX.length));
  } catch {
    // A name of someone else's: start at the overview.
  }
  return {};
}

function localPath(value) {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//")) return null;
  const url = new URL(value, "http://panel.invalid");
  return `${url.pathname}${url.search}`;
}

let shown = localPath(readState().path) || START_PATH;
let lang = "en";

function remember(path) {
  shown = path;
  window.name = STATE_PREFIX + JSON.stringify({ path });
}

function go(path) {
  const target = localPath(path);
  if (!target) return;
  remember(target);
  transport.closeAll();
  window.location.reload();
}

function status(key, detail = "") {
  let node = document.getElementById("pc-shell-state");
  if (!node) {
    node = document.createElement("p");
    node.id = "pc-shell-state";
    node.className = "pc-shell-state";
    document.body.replaceChildren(node);
  }
  node.dataset.state = key === "loading" ? "loading" : "error";
  node.textContent = TEXTS[lang][key].replace("{detail}", detail);
}

async function text(path) {
  const answer = await transport.call("GET", path);
  if (!answer || answer.code !== 200) throw new Error(`${path}: ${answer ? answer.code : "offline"}`);
  return answer.type === "json" ? JSON.stringify(answer.body) : answer.body;
}

function moduleUrl(code) {
  return URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
}

/** The panel's page at `path`, following its redirects (the own panel's "/" goes to /overview). */
async function fetchPage(path) {
  for (let hop = 0; hop < 4; hop += 1) {
    const answer = await transport.call("GET", path);
    if (answer === null) throw new Error(transport.failure() || "offline");
    if (answer.code >= 300 && answer.code < 400 && answer.location) {
      path = localPath(answer.location) || START_PATH;
      continue;
    }
    if (answer.code === 503 && answer.body?.error === "reloading") return { reloading: true };
    if (answer.type !== "text") throw new Error(String(answer.code));
    return { path, html: answer.body };
  }
  throw new Error("redirects");
}

async function mount(doc) {
  document.documentElement.lang = doc.documentElement.lang;
  document.title = doc.title;
  const sheets = [...doc.head.querySelectorAll('link[rel="stylesheet"][href]')];
  const styles = await Promise.all(sheets.map((link) => text(link.getAttribute("href"))));
  const scripts = [...doc.querySelectorAll('script[type="module"][src]')];
  const urls = new Map();
  await Promise.all(
    scripts.map(async (script) => {
      const src = script.getAttribute("src");
      if (script.id === "transport-js") urls.set(src, new URL("./bridge_transport.js", import.meta.url).href);
      else urls.set(src, moduleUrl(await text(src)));
    }),
  );
  // Module URLs a page keeps in data attributes (session.js imports schema_form.js so).
  for (const node of doc.querySelectorAll("[data-schema-form]")) {
    const src = node.dataset.schemaForm;
    if (!urls.has(src)) urls.set(src, moduleUrl(await text(src)));
    node.dataset.schemaForm = urls.get(src);
  }
  const head = document.head;
  for (const css of styles) {
    const style = document.createElement("style");
    style.textContent = css;
    head.append(style);
  }
  for (const block of doc.head.querySelectorAll('script[type="application/json"][id]')) {
    head.append(document.importNode(block, true));
  }
  document.body.className = doc.body.className;
  document.body.replaceChildren(...[...doc.body.childNodes].map((node) => document.importNode(node, true)));
  for (const script of scripts) {
    const node = document.createElement("script");
    node.type = "module";
    if (script.id) node.id = script.id;
    node.src = urls.get(script.getAttribute("src"));
    head.append(node);
  }
}

async function download(path) {
  const answer = await transport.call("GET", path);
  if (!answer || answer.code !== 200) return;
  const body = answer.type === "json" ? JSON.stringify(answer.body, null, 2) : answer.body;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([body], { type: "application/octet-stream" }));
  const name = new URL(path, "http://panel.invalid").pathname.split("/").pop() || "export";
  link.download = answer.type === "json" ? `${name}.json` : name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}

// Links and GET forms of the panel's pages open in this frame, through the shell. The page
// scripts' own handlers run first (on the element); only what they left to the browser is here.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const link = event.target.closest?.("a[href]");
  const path = link && localPath(link.getAttribute("href"));
  if (!path) return;
  event.preventDefault();
  if (path.startsWith("/api/")) download(path);
  else go(path);
});

document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) return;
  const form = event.target;
  if ((form.getAttribute("method") || "get").toLowerCase() !== "get") return;
  event.preventDefault();
  const params = new URLSearchParams(new FormData(form, event.submitter));
  const action = localPath(form.getAttribute("action") || shown.split("?")[0]) || shown;
  go(`${action.split("?")[0]}?${params}`);
});

/** The dashboard's own context: the one the SDK script carries was fixed when the frame's
 * address was issued (its language may be stale); the parent posts the current one. */
function dashboardContext(initial) {
  return new Promise((resolve) => {
    let calls = 0;
    bridge.onContext((next) => {
      calls += 1;
      if (calls > 1 || initial === null) resolve(next);
    });
    setTimeout(() => resolve(bridge.getContext() || initial || {}), 1000);
  });
}

async function start() {
  const initial = await Promise.race([
    bridge.ready(),
    new Promise((resolve) => setTimeout(() => resolve(null), 1000)),
  ]);
  const context = await dashboardContext(initial);
  lang = langOf(context.locale);
  status("loading");
  transport.configure({
    pluginName: context.pluginName || "astrbot_plugin_proactive_chat",
    lang,
    goTo: (path) => {
      if (String(path).startsWith("/login")) status("login");
      else go(path);
    },
    replaceUrl: (url) => {
      const next = new URL(url, `http://panel.invalid${shown}`);
      remember(`${next.pathname}${next.search}`);
    },
    currentPath: () => shown,
  });
  // The dashboard's language switch re-renders the page in the other language; its theme
  // switch needs nothing here (the bridge sets data-theme, the panel's CSS follows it).
  bridge.onContext((next) => {
    if (langOf(next?.locale) !== lang) go(shown);
  });
  for (let attempt = 0; ; attempt += 1) {
    let page;
    try {
      page = await fetchPage(shown);
    } catch (error) {
      status("failed", String(error?.message || error));
      return;
    }
    if (!page.reloading) {
      remember(page.path);
      await mount(new DOMParser().parseFromString(page.html, "text/html"));
      return;
    }
    status("reloading");
    await new Promise((resolve) => setTimeout(resolve, Math.min(8000, 500 * 2 ** attempt)));
  }
}

start().catch((error) => status("failed", String(error?.message || error)));
