// The panel's transport inside AstrBot's dashboard: the same exports as static/js/transport.js,
// through AstrBot's plugin-page bridge (window.AstrBotPluginView) instead of fetch/WebSocket.
// The page runs in a sandboxed iframe with an opaque origin: no cookies, no WebSocket to
// AstrBot. Requests go to our route "/<plugin>/call" (web/dashboard/bridge.py), which answers
// with the panel's own status and body; sockets become Server-Sent Events
// ("/<plugin>/stream") that end with a "close" event carrying the WebSocket close code.

const bridge = window.AstrBotPluginView;
const SOCKET_SILENCE_MS = 45000; // the server pings every 15 s: silence means the stream died
const RELOADING = /reloading|重新加载/i;

const config = {
  pluginName: "astrbot_plugin_proactive_chat",
  lang: "en",
  goTo: (path) => console.warn("no navigation set", path),
  replaceUrl: () => {},
  currentPath: () => "/overview",
};
const sockets = new Set();
let lastFailure = "";

/** Why the last call found AstrBot unreachable (the bridge's message), for the shell's notice. */
export function failure() {
  return lastFailure;
}

/** Set by views/panel/shell.js before any page script runs. */
export function configure(next) {
  Object.assign(config, next);
}

export const hostOwnsTheme = true;

// The bridge puts the plugin's name in front: "call" reaches our "/<plugin>/call" route.
function endpoint(name) {
  return name;
}

/** `{code, type, body, location}` from the panel, a 503 "reloading", or null (unreachable). */
export async function call(method, path, body) {
  try {
    return await bridge.apiPost(endpoint("call"), { method, path, body, lang: config.lang });
  } catch (error) {
    lastFailure = String(error?.message ?? error);
    if (RELOADING.test(lastFailure)) {
      return { code: 503, type: "json", body: { error: "reloading", message: "reloading" } };
    }
    return null;
  }
}

function responseOf(answer) {
  const redirect = answer.code >= 300 && answer.code < 400;
  const text = answer.type === "json" ? JSON.stringify(answer.body) : String(answer.body ?? "");
  return {
    ok: answer.code >= 200 && answer.code < 300,
    // A redirect read with {redirect: "manual"} looks like fetch's: opaque, status 0.
    status: redirect ? 0 : answer.code,
    type: redirect ? "opaqueredirect" : "basic",
    statusText: "",
    async json() {
      return answer.type === "json" ? answer.body : JSON.parse(text);
    },
    async text() {
      return text;
    },
  };
}

function aborted(signal) {
  if (signal?.aborted) throw new DOMException("The request was aborted.", "AbortError");
}

/** Like fetch() for the panel's paths: resolves to a Response-like, rejects when unreachable. */
export async function request(path, { method = "GET", body, signal } = {}) {
  aborted(signal);
  const answer = await call(method, path, body);
  aborted(signal);
  if (answer === null) throw new TypeError("The plugin's page could not reach AstrBot.");
  return responseOf(answer);
}

/** A WebSocket look-alike over the bridge's SSE: open, message and close events. */
class BridgeSocket extends EventTarget {
  constructor(url) {
    super();
    this.readyState = 0;
    this.subscription = null;
    this.silence = null;
    const at = url.indexOf("?");
    const path = at < 0 ? url : url.slice(0, at);
    const query = at < 0 ? "" : url.slice(at + 1);
    sockets.add(this);
    const handlers = {
      onMessage: (message) => this.received(message),
      onError: () => this.end(1006),
    };
    bridge
      .subscribeSSE(endpoint("stream"), handlers, { path, query, lang: config.lang })
      .then((id) => {
        this.subscription = id;
        if (this.readyState > 1) {
          bridge.unsubscribeSSE(id).catch(() => {});
          return;
        }
        this.opened();
      })
      .catch((error) => this.end(RELOADING.test(String(error?.message ?? "")) ? 1012 : 1006));
  }

  opened() {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.watch();
    this.dispatchEvent(new Event("open"));
  }

  watch() {
    clearTimeout(this.silence);
    this.silence = setTimeout(() => this.end(1006), SOCKET_SILENCE_MS);
  }

  received(message) {
    if (this.readyState > 1) return;
    this.opened();
    this.watch();
    if (message.eventType === "ping") return;
    if (message.eventType === "close") {
      this.end(Number(message.parsed?.code) || 1006);
      return;
    }
    this.dispatchEvent(new MessageEvent("message", { data: message.raw }));
  }

  send() {
    // The panel's sockets are one-way (server to page): nothing to send.
  }

  close(code = 1000) {
    this.end(code);
  }

  end(code) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    clearTimeout(this.silence);
    sockets.delete(this);
    if (this.subscription) bridge.unsubscribeSSE(this.subscription).catch(() => {});
    // Asynchronous, as a WebSocket's close event is.
    setTimeout(() => this.dispatchEvent(new CloseEvent("close", { code })), 0);
  }
}

export function openSocket(path) {
  return new BridgeSocket(path);
}

/** Ends every open socket (before the shell shows another page). */
export function closeAll() {
  for (const socket of [...sockets]) socket.close(1001);
}

export function goTo(path) {
  config.goTo(path);
}

export function reloadPage() {
  config.goTo(config.currentPath());
}

export function replaceUrl(url) {
  config.replaceUrl(url);
}

export function currentPath() {
  return config.currentPath();
}
