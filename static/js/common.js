// Shared by every page: translated strings, safe redirects, theme toggle, logout.
// Page scripts import this module through the exact URL of <script id="common-js"> so the
// browser keeps one instance and the content-hashed URL keeps caches honest.

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
  const text = Object.hasOwn(strings, key) ? strings[key] : key;
  return text.replace(/\{(\w+)\}/g, (match, name) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : match,
  );
}

/** `value` if it is a path on this site, else `fallback` (mirrors web/pages.py safe_next). */
export function safeNext(value, fallback = "/logs") {
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
      await fetch("/api/logout", { method: "POST", credentials: "same-origin" });
    } catch {
      // Offline: the login page is still the right place to go.
    }
    window.location.assign("/login");
  });
}

initTheme();
initLogout();
