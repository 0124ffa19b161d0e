// The panel's one contact with the network and the address bar, on its own port: fetch,
// WebSocket, location. The page in AstrBot's dashboard loads views/panel/bridge_transport.js
// under the same id ("transport-js") instead: same exports, through AstrBot's bridge. Page
// scripts reach it only through common.js, so no view is written twice.

/** Who draws the theme switch: false here (the panel's own toggle), true in the dashboard. */
export const hostOwnsTheme = false;

/** fetch() with the panel's cookie; `body` is sent as JSON. Resolves to a Response. */
export function request(path, { method = "GET", body, signal, redirect } = {}) {
  const init = { method, credentials: "same-origin", signal, headers: {} };
  if (redirect) init.redirect = redirect;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

/** A WebSocket to one of the panel's /ws/ paths ("/ws/logs?level=INFO"). */
export function openSocket(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(`${scheme}//${window.location.host}${path}`);
}

/** Open another page of the panel. */
export function goTo(path) {
  window.location.assign(path);
}

/** Show this page again from the server. */
export function reloadPage() {
  window.location.reload();
}

/** Record the page's state (filters, sort) in the address, without loading it. */
export function replaceUrl(url) {
  history.replaceState(null, "", url);
}

/** Path and query of the page shown ("/sessions?page=2"). */
export function currentPath() {
  return `${window.location.pathname}${window.location.search}`;
}
