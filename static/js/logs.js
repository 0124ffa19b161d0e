// Live log page: one WebSocket to /ws/logs, filters applied by the server, nothing shown twice.
//
// Sequence rule: `lastSeq` is the last seq received under the current filters. A reconnect after
// a drop sends `since=lastSeq` (the server sends seq > since); any line with seq <= lastSeq is
// ignored. A filter change clears the view and reconnects without `since`.
// One piece (over 400 lines): the sequence rule above ties the socket, the filters and the
// list together; split, each part would have to re-check it.
const { tr, formatTime, openSocket, goTo, rawRequest } = await import(
  document.getElementById("common-js").src
);

const MAX_ROWS = 5000;
const MAX_PENDING = 5000;
const SEARCH_DEBOUNCE_MS = 300;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5000;
const AUTH_PROBE_AFTER = 3;
const FOLLOW_SLACK_PX = 24;
const LOGIN_URL = "/login?next=/logs";
const LEVELS = new Set(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]);

const $ = (id) => document.getElementById(id);
const els = {
  filters: $("filters"),
  level: $("level"),
  scope: $("scope"),
  search: $("search"),
  pause: $("pause"),
  follow: $("follow"),
  clear: $("clear"),
  download: $("download"),
  conn: $("conn-state"),
  count: $("line-count"),
  pending: $("pending-count"),
  log: $("log"),
  jump: $("jump-latest"),
};

const numberFormat = new Intl.NumberFormat(document.documentElement.lang || undefined);

const state = {
  socket: null,
  generation: 0, // bumped on every (re)connect; events of older sockets are ignored
  link: "connecting", // connecting | live | reconnecting | reloading | auth
  lastSeq: null,
  sentSince: null,
  stream: null,
  filterKey: "",
  attempt: 0,
  failedOpens: 0,
  retryTimer: null,
  retryAt: 0,
  tickTimer: null,
  searchTimer: null,
  paused: false,
  pending: [],
  pendingLines: 0,
  pendingDropped: 0,
  following: true,
};

// Entries currently in #log, in the same order as its children.
const shown = [];
let shownLines = 0;

// ---------- formatting ----------

const pad = (n, width = 2) => String(n).padStart(width, "0");

// In AstrBot's time zone, like every other page (common.js formatTime), not the browser's.
function clock(date) {
  const full = formatTime(date.getTime() / 1000, { seconds: true }); // "YYYY-MM-DD HH:MM:SS"
  return `${full.slice(11)}.${pad(date.getMilliseconds(), 3)}`;
}

function day(date) {
  return formatTime(date.getTime() / 1000, { dateOnly: true });
}

function toEntry(line) {
  const level = String(line.level ?? "INFO").toUpperCase();
  return {
    kind: "line",
    seq: line.seq,
    date: new Date(Number(line.time) * 1000),
    level,
    text: String(line.text ?? ""),
    plugin: Boolean(line.plugin),
  };
}

function markerEntry(reason, text, missed = 0) {
  return { kind: "marker", reason, text, missed };
}

// ---------- rendering (textContent only: log text may contain markup) ----------

function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  node.textContent = text;
  return node;
}

function makeRow(entry, showPluginTag) {
  const row = document.createElement("div");
  if (entry.kind === "marker") {
    row.className = "row marker";
    row.dataset.marker = entry.reason;
    row.textContent = entry.text;
    return row;
  }
  row.className = `row lvl-${LEVELS.has(entry.level) ? entry.level : "INFO"}`;
  row.dataset.seq = String(entry.seq);
  row.dataset.level = entry.level;
  const valid = !Number.isNaN(entry.date.getTime());
  const ts = span("ts", valid ? clock(entry.date) : "--:--:--.---");
  if (valid) ts.title = `${day(entry.date)} ${clock(entry.date)}`;
  const msg = span("msg", "");
  if (showPluginTag && entry.plugin) msg.append(span("tag", tr("logs.plugin_tag")));
  msg.append(document.createTextNode(entry.text));
  row.append(ts, span("lv", entry.level), msg);
  return row;
}

function trimRows() {
  const excess = shown.length - MAX_ROWS;
  if (excess <= 0) return;
  for (const entry of shown.splice(0, excess)) {
    if (entry.kind === "line") shownLines -= 1;
  }
  const range = document.createRange();
  range.setStartBefore(els.log.firstChild);
  range.setEndAfter(els.log.children[excess - 1]);
  range.deleteContents();
}

function render(entries) {
  if (entries.length === 0) return;
  const visible = entries.length > MAX_ROWS ? entries.slice(-MAX_ROWS) : entries;
  const showPluginTag = els.scope.value === "all";
  const fragment = document.createDocumentFragment();
  for (const entry of visible) {
    fragment.append(makeRow(entry, showPluginTag));
    shown.push(entry);
    if (entry.kind === "line") shownLines += 1;
  }
  els.log.append(fragment);
  trimRows();
  updateCounters();
  if (state.following) scrollToBottom();
  else els.jump.hidden = false;
}

function clearView() {
  els.log.replaceChildren();
  shown.length = 0;
  shownLines = 0;
  state.pending = [];
  state.pendingLines = 0;
  state.pendingDropped = 0;
  updateCounters();
}

function updateCounters() {
  els.count.textContent = tr("logs.count", { n: numberFormat.format(shownLines) });
  els.pending.hidden = !state.paused;
  els.pending.textContent = tr("logs.pending", { n: numberFormat.format(state.pendingLines) });
}

// ---------- incoming entries: shown now, or held while paused ----------

function hold(entries) {
  for (const entry of entries) {
    state.pending.push(entry);
    if (entry.kind === "line") state.pendingLines += 1;
  }
  const excess = state.pending.length - MAX_PENDING;
  if (excess > 0) {
    for (const entry of state.pending.splice(0, excess)) {
      if (entry.kind === "line") {
        state.pendingLines -= 1;
        state.pendingDropped += 1;
      } else {
        state.pendingDropped += entry.missed;
      }
    }
  }
  updateCounters();
}

function accept(entries) {
  if (state.paused) hold(entries);
  else render(entries);
}

function onLines(lines) {
  if (!Array.isArray(lines)) return;
  const fresh = [];
  for (const line of lines) {
    if (!line || !Number.isInteger(line.seq)) continue;
    if (state.lastSeq !== null && line.seq <= state.lastSeq) continue;
    state.lastSeq = line.seq;
    fresh.push(toEntry(line));
  }
  accept(fresh);
}

function onGap(missed) {
  const n = Math.max(0, Number(missed) || 0);
  if (n > 0) accept([markerEntry("gap", tr("logs.gap", { n: numberFormat.format(n) }), n)]);
}

function onHello(hello) {
  state.attempt = 0;
  state.failedOpens = 0;
  const stream = hello.stream ?? null;
  // The seq numbering restarted (a new log buffer after a reload): `since` means nothing now.
  const restarted =
    state.sentSince !== null &&
    !hello.resumed &&
    ((stream !== null && state.stream !== null && stream !== state.stream) ||
      (Number.isInteger(hello.next_seq) && hello.next_seq <= state.sentSince));
  if (restarted) {
    state.lastSeq = null;
    accept([markerEntry("restart", tr("logs.restarted"))]);
  }
  state.stream = stream;
  setLink("live");
}

// ---------- connection ----------

function filters() {
  const params = new URLSearchParams({ level: els.level.value, scope: els.scope.value });
  const query = els.search.value.trim();
  if (query) params.set("q", query);
  return params;
}

function setLink(link) {
  state.link = link;
  showConnState();
}

function showConnState() {
  let key = state.link;
  let text;
  if (key === "live" && state.paused) key = "paused";
  if (key === "reconnecting") {
    const seconds = Math.max(1, Math.ceil((state.retryAt - Date.now()) / 1000));
    text = tr("conn.reconnecting", { n: seconds });
  } else {
    text = tr(`conn.${key}`);
  }
  els.conn.dataset.state = key;
  if (els.conn.textContent !== text) els.conn.textContent = text;
}

function clearRetry() {
  clearTimeout(state.retryTimer);
  clearInterval(state.tickTimer);
  state.retryTimer = null;
  state.tickTimer = null;
}

function dropSocket() {
  state.generation += 1;
  const socket = state.socket;
  state.socket = null;
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
}

function connect() {
  clearRetry();
  dropSocket();
  const generation = state.generation;
  const params = filters();
  state.filterKey = params.toString();
  state.sentSince = state.lastSeq;
  if (state.lastSeq !== null) params.set("since", String(state.lastSeq));
  let opened = false;
  let socket;
  try {
    socket = openSocket(`/ws/logs?${params}`);
  } catch {
    scheduleReconnect();
    return;
  }
  state.socket = socket;
  if (state.link !== "reloading") setLink("connecting");
  socket.addEventListener("open", () => {
    opened = true;
  });
  socket.addEventListener("message", (event) => {
    if (generation !== state.generation) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "hello") onHello(message);
    else if (message.type === "lines") onLines(message.lines);
    else if (message.type === "gap") onGap(message.missed);
  });
  socket.addEventListener("close", (event) => {
    if (generation !== state.generation) return;
    state.socket = null;
    onClose(event.code, opened);
  });
}

function onClose(code, opened) {
  if (code === 1008) {
    // Only leave when the page route agrees: following a 1008 blindly could loop between
    // /login (which sends a logged-in browser back here) and this page.
    setLink("auth");
    probeLogin();
  } else if (code === 1012) {
    state.attempt = 0;
    setLink("reloading");
  }
  state.failedOpens = opened ? 0 : state.failedOpens + 1;
  if (code !== 1008 && state.failedOpens >= AUTH_PROBE_AFTER) probeLogin();
  scheduleReconnect();
}

// Are we still logged in? The page route redirects when we are not. Also catches a refused
// handshake, which a browser reports as 1006, indistinguishable from a network error.
async function probeLogin() {
  try {
    const response = await rawRequest("/logs", { redirect: "manual" });
    if (response.type === "opaqueredirect") {
      clearRetry();
      dropSocket();
      setLink("auth");
      goTo(LOGIN_URL);
    }
  } catch {
    // Server unreachable: keep retrying.
  }
}

function scheduleReconnect() {
  clearRetry();
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** state.attempt);
  const delay = Math.min(BACKOFF_MAX_MS, base * (0.8 + Math.random() * 0.4));
  state.attempt += 1;
  state.retryAt = Date.now() + delay;
  state.retryTimer = setTimeout(connect, delay);
  if (state.link !== "reloading" && state.link !== "auth") {
    setLink("reconnecting");
    state.tickTimer = setInterval(showConnState, 250);
  }
}

function restartWithFilters() {
  clearTimeout(state.searchTimer);
  if (filters().toString() === state.filterKey) return;
  state.lastSeq = null;
  state.stream = null;
  state.attempt = 0;
  clearView();
  setFollowing(true);
  setLink("connecting");
  connect();
}

// ---------- follow tail ----------

function scrollToBottom() {
  els.log.scrollTop = els.log.scrollHeight;
}

function atBottom() {
  const log = els.log;
  return log.scrollHeight - log.scrollTop - log.clientHeight <= FOLLOW_SLACK_PX;
}

function setFollowing(on) {
  state.following = on;
  els.follow.setAttribute("aria-pressed", String(on));
  els.jump.hidden = on || shown.length === 0;
  if (on) scrollToBottom();
}

// ---------- controls ----------

function setPaused(paused) {
  state.paused = paused;
  els.pause.setAttribute("aria-pressed", String(paused));
  els.pause.querySelector(".btn-label").textContent = tr(paused ? "logs.resume" : "logs.pause");
  if (!paused) {
    const held = state.pending;
    const dropped = state.pendingDropped;
    state.pending = [];
    state.pendingLines = 0;
    state.pendingDropped = 0;
    if (dropped > 0) {
      held.unshift(
        markerEntry("pause", tr("logs.gap_pause", { n: numberFormat.format(dropped) }), dropped),
      );
    }
    render(held);
  }
  updateCounters();
  showConnState();
}

function download() {
  const lines = shown.map((entry) =>
    entry.kind === "marker"
      ? `--- ${entry.text} ---`
      : `${day(entry.date)} ${clock(entry.date)} ${entry.level.padEnd(8)} ${entry.text}`,
  );
  const blob = new Blob([lines.join("\n") + (lines.length ? "\n" : "")], {
    type: "text/plain;charset=utf-8",
  });
  const now = new Date();
  const stamp = formatTime(now.getTime() / 1000, { seconds: true }).replaceAll(/[-:]/g, "").replace(" ", "-");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `proactive-chat-${stamp}.log`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 5000);
}

els.filters.addEventListener("submit", (event) => {
  event.preventDefault();
  restartWithFilters();
});
els.level.addEventListener("change", restartWithFilters);
els.scope.addEventListener("change", restartWithFilters);
els.search.addEventListener("input", () => {
  clearTimeout(state.searchTimer);
  state.searchTimer = setTimeout(restartWithFilters, SEARCH_DEBOUNCE_MS);
});
els.pause.addEventListener("click", () => setPaused(!state.paused));
els.follow.addEventListener("click", () => setFollowing(!state.following));
els.jump.addEventListener("click", () => {
  setFollowing(true);
  els.log.focus();
});
els.clear.addEventListener("click", () => {
  clearView();
  setFollowing(true);
});
els.download.addEventListener("click", download);
els.log.addEventListener("scroll", () => {
  const bottom = atBottom();
  if (bottom !== state.following) setFollowing(bottom);
});

window.addEventListener("online", () => {
  if (state.retryTimer !== null) connect();
});
window.addEventListener("pagehide", () => {
  clearRetry();
  dropSocket();
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) connect();
});

updateCounters();
connect();

document.documentElement.dataset.pageReady = "1";
