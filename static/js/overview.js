// Overview page: status cards, the next planned messages and messages per day, kept live.
//
// The server renders the first view from the same body as GET /api/stats/overview
// (#overview-state). Then: `journal` events of counted kinds bump today's numbers at once
// (and a refetch of /api/stats/daily a moment later corrects any race); `session`,
// `sessions_changed` and `hello` refetch the status, at most once a second.
const {
  tr,
  el,
  api,
  toast,
  errorText,
  formatTime,
  timeTag,
  connectEvents,
  reasonText,
  shortUmo,
} = await import(document.getElementById("common-js").src);

const SVG_NS = "http://www.w3.org/2000/svg";
const STATUS_MIN_INTERVAL_MS = 1000;
const DAILY_DELAY_MS = 2000;
const DAY_CHECK_MS = 30000;
const COUNTED = new Set(["sent", "answered", "capped"]);
const STATUS_EVENTS = new Set(["session", "sessions_changed"]);

const $ = (id) => document.getElementById(id);
const initial = JSON.parse($("overview-state").textContent);
const layout = initial.layout;
const state = {
  overview: initial.overview,
  days: Array.isArray(initial.overview.days) ? initial.overview.days : null,
  chartDays: Number(initial.chart_days) || 30,
  statsError: initial.overview.stats_error || null,
  failing: false, // a refresh failed and was reported; report the next failure only after a success
};

// ---------- dates (AstrBot's zone) ----------

function todayKey() {
  return formatTime(Date.now() / 1000, { dateOnly: true });
}

function shiftDate(key, days) {
  const [y, m, d] = key.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Make `key` the last day of the series (midnight passed): older days drop off the front. */
function rollTo(key) {
  const last = state.days?.at(-1);
  if (!last || key <= last.date) return;
  const known = new Map(state.days.map((day) => [day.date, day]));
  const keys = [key];
  while (keys.length < state.chartDays) keys.unshift(shiftDate(keys[0], -1));
  state.days = keys.map((k) => known.get(k) || { date: k, sent: 0, answered: 0, capped: 0 });
}

// ---------- the chart ----------

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

/** Same as nice_top in web/page_overview.py. */
function niceTop(peak, ticks) {
  if (peak <= ticks) return ticks;
  const raw = peak / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 3, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return step * ticks;
}

const round = (value) => Math.round(value * 100) / 100;

/** The chart's content, drawn as web/page_overview.py chart_view draws it. */
function chartNodes(days) {
  const L = layout;
  const plotW = L.width - L.left - L.right;
  const plotH = L.height - L.top - L.bottom;
  const base = L.top + plotH;
  const slot = plotW / days.length;
  const barW = Math.max(1, slot * L.bar);
  const gap = slot * L.gap;
  const top = niceTop(Math.max(...days.map((d) => Math.max(d.sent, d.answered))), L.ticks);
  const height = (value) => (value / top) * plotH;
  const totals = { sent: 0, answered: 0, capped: 0, peak: 0 };
  for (const day of days) {
    totals.sent += day.sent;
    totals.answered += day.answered;
    totals.capped += day.capped;
    totals.peak = Math.max(totals.peak, day.sent);
  }
  const grid = svg("g", { class: "chart-grid" });
  for (let k = 0; k <= L.ticks; k += 1) {
    const y = round(base - (plotH * k) / L.ticks);
    grid.append(
      svg("line", { x1: L.left, x2: L.width - L.right, y1: y, y2: y }),
      svg("text", {
        class: "chart-axis",
        x: L.left - 6,
        y: y + 4,
        "text-anchor": "end",
        text: (top / L.ticks) * k,
      }),
    );
  }
  const groups = svg("g", { class: "chart-days" });
  days.forEach((day, index) => {
    const center = L.left + slot * index + slot / 2;
    const bar = (series, x) => {
      const h = height(day[series]);
      return svg(
        "rect",
        {
          class: `bar bar-${series}`,
          "data-day": day.date,
          "data-series": series,
          "data-value": day[series],
          x: round(x),
          y: round(base - h),
          width: round(barW),
          height: round(h),
        },
        svg("title", {
          text: tr(`overview.chart.tip_${series}`, { date: day.date, n: day[series] }),
        }),
      );
    };
    const label =
      (days.length - 1 - index) % L.label_every === 0
        ? svg("text", {
            class: "chart-axis",
            x: round(center),
            y: base + 17,
            "text-anchor": "middle",
            text: day.date.slice(5),
          })
        : null;
    groups.append(
      svg(
        "g",
        { "data-day": day.date },
        svg(
          "rect",
          {
            class: "chart-hit",
            x: round(L.left + slot * index),
            y: L.top,
            width: round(slot),
            height: plotH,
          },
          svg("title", { text: tr("overview.chart.tip_day", day) }),
        ),
        bar("sent", center - gap / 2 - barW),
        bar("answered", center + gap / 2),
        label,
      ),
    );
  });
  const heading = tr("overview.chart.heading", { days: days.length });
  const summary = tr("overview.chart.summary", { days: days.length, ...totals });
  return [
    svg("title", { id: "chart-title", text: heading }),
    svg("desc", { id: "chart-desc", text: summary }),
    grid,
    groups,
    svg("line", { class: "chart-baseline", x1: L.left, x2: L.width - L.right, y1: base, y2: base }),
  ];
}

function renderChart() {
  const chart = $("chart");
  const problem = $("chart-problem");
  const numbers = document.querySelector(".chart-numbers");
  if (!state.days || state.days.length === 0) {
    chart.hidden = true;
    numbers.hidden = true;
    problem.hidden = false;
    problem.textContent = state.statsError
      ? tr("overview.stats_error", { error: state.statsError })
      : tr("overview.chart.unavailable");
    return;
  }
  chart.setAttribute("viewBox", `0 0 ${layout.width} ${layout.height}`);
  chart.setAttribute("aria-labelledby", "chart-title chart-desc");
  chart.dataset.days = String(state.days.length);
  chart.replaceChildren(...chartNodes(state.days));
  const firstDraw = chart.hidden || !chart.dataset.drawn;
  chart.hidden = false;
  chart.dataset.drawn = "1";
  // On a phone the chart scrolls sideways: start with the latest days in view.
  if (firstDraw) chart.parentElement.scrollLeft = chart.parentElement.scrollWidth;
  numbers.hidden = false;
  problem.hidden = true;
  $("chart-table").replaceChildren(
    ...state.days
      .slice()
      .reverse()
      .map((day) =>
        el(
          "tr",
          { dataset: { day: day.date } },
          el("th", { scope: "row", text: day.date }),
          el("td", { class: "num", text: day.sent }),
          el("td", { class: "num", text: day.answered }),
          el("td", { class: "num", text: day.capped }),
        ),
      ),
  );
}

// ---------- cards, banners, timeline ----------

function setText(id, text) {
  const node = $(id);
  if (node && node.textContent !== text) node.textContent = text;
}

function showBanner(id, textId, text) {
  $(id).hidden = !text;
  if (text && textId) setText(textId, text);
}

function today() {
  const last = state.days?.at(-1);
  if (last && last.date === todayKey()) return last;
  const fromStatus = state.overview.today;
  if (fromStatus && fromStatus.date === todayKey()) return fromStatus;
  return state.overview.running && !state.statsError
    ? { sent: 0, answered: 0, capped: 0 }
    : null;
}

/** `key`'s text in <p id=parentId> with its count in <span id=spanId> ("1 cap", "2 caps"). */
function countIn(parentId, key, spanId, n) {
  const parent = $(parentId);
  if (!parent) return;
  const one = `${key}.one`;
  const chosen = String(n) === "1" && tr(one) !== one ? one : key;
  const [before, after = ""] = tr(chosen, { n: "\u0000" }).split("\u0000");
  parent.replaceChildren(before, el("span", { id: spanId, text: String(n) }), after);
}

function renderToday() {
  const day = today();
  setText("stat-sent-today", day ? String(day.sent) : "—");
  countIn("stat-answered-line", "overview.card.answered_today", "stat-answered-today", day ? day.answered : "—");
  countIn("stat-capped-today", "overview.card.capped_today", "stat-capped", day ? day.capped : "—");
}

/** The earliest plan (the timeline's first item): when, and for whom. */
function renderNext() {
  const first = (state.overview.timeline || [])[0];
  $("stat-next").replaceChildren(first ? timeTag(first.at) : tr("overview.card.next_none"));
  $("stat-next-who").replaceChildren(
    first
      ? el("a", {
          href: `/session?umo=${encodeURIComponent(first.umo)}`,
          text: first.name || shortUmo(first.umo),
        })
      : "",
  );
}

function providerText(provider) {
  if (provider.state === "ok") {
    return `${provider.id || "?"}${provider.model ? ` · ${provider.model}` : ""}`;
  }
  return tr(provider.state === "none" ? "overview.provider.none" : "overview.provider.unknown");
}

function renderCards() {
  const ov = state.overview;
  const running = Boolean(ov.running);
  showBanner("engine-banner", "engine-problem", running ? "" : ov.engine_problem_text || "");
  $("ready-banner").hidden = !running || Boolean(ov.ready);
  showBanner(
    "store-banner",
    "store-problem",
    ov.store_error ? tr("overview.store_error", { error: ov.store_error }) : "",
  );
  $("provider-banner").hidden = ov.provider?.state !== "none";

  setText("stat-served", running ? String(ov.sessions_served) : "—");
  setText("stat-known", running ? tr("overview.card.served_of", { known: ov.sessions_known }) : "");
  const busy = $("stat-busy");
  busy.hidden = !(ov.writing || ov.queued);
  if (!busy.hidden) {
    setText("stat-busy", tr("overview.card.busy", { writing: ov.writing, queued: ov.queued }));
  }
  setText("stat-waiting", running ? String(ov.waiting_for_reply ?? 0) : "—");
  setText("stat-capped-now", running ? tr("overview.card.capped_now", { n: ov.capped }) : "");
  $("stat-capped-now").hidden = !running || !ov.capped;
  $("start-banner").hidden = !running || ov.sessions_served > 0;
  const provider = ov.provider || { state: "unknown" };
  const node = $("stat-provider");
  node.dataset.state = provider.state;
  if (provider.detail) node.title = provider.detail;
  else node.removeAttribute("title");
  setText("stat-provider", providerText(provider));
  setText(
    "stat-versions",
    tr("overview.versions", { version: ov.version, astrbot: ov.astrbot_version }),
  );
  renderToday();
  renderNext();
}

function timelineItem(item) {
  const kind = tr(item.kind === "group" ? "kind.group" : "kind.private");
  return el(
    "li",
    { class: "timeline-item", dataset: { umo: item.umo } },
    el("span", { class: "timeline-when" }, timeTag(item.at)),
    el(
      "span",
      { class: "timeline-who" },
      el("a", {
        class: "timeline-link",
        href: `/session?umo=${encodeURIComponent(item.umo)}`,
        text: item.name || item.umo,
        title: item.umo,
      }),
      " ",
      el("span", { class: "badge", text: kind }),
    ),
  );
}

function renderTimeline() {
  const items = state.overview.timeline || [];
  $("timeline").replaceChildren(...items.map(timelineItem));
  const empty = $("timeline-empty");
  empty.hidden = items.length > 0;
  if (!empty.hidden) {
    setText(
      "timeline-empty",
      tr(state.overview.running ? "overview.timeline.empty" : "overview.timeline.offline"),
    );
  }
}

function renderAll() {
  renderCards();
  renderTimeline();
  renderChart();
}

// ---------- refreshing ----------

function reportFailure(error) {
  if (error?.name === "AbortError") return;
  if (error?.status === 503) {
    // The engine went away: say so in the banner, not in a toast.
    state.overview = { ...state.overview, running: false, engine_problem_text: error.message };
    renderCards();
    renderTimeline();
    return;
  }
  if (error?.status === 0 || error?.status === 401) return; // the events badge / login say it
  if (!state.failing) toast(errorText(error), "error");
  state.failing = true;
}

/** Apply today's counts from the status to the chart's last day (the server knows best). */
function applyToday(day) {
  if (!day || !state.days) return;
  rollTo(day.date);
  const last = state.days.at(-1);
  if (last.date === day.date) {
    last.sent = day.sent;
    last.answered = day.answered;
    last.capped = day.capped;
  }
}

const status = { timer: null, busy: false, again: false, lastAt: 0 };

function scheduleStatus({ now = false } = {}) {
  if (now) {
    clearTimeout(status.timer);
    status.timer = null;
    status.lastAt = 0;
  }
  if (status.timer !== null) return;
  const wait = Math.max(0, status.lastAt + STATUS_MIN_INTERVAL_MS - Date.now());
  status.timer = setTimeout(runStatus, wait);
}

async function runStatus() {
  status.timer = null;
  if (status.busy) {
    status.again = true;
    return;
  }
  status.busy = true;
  status.lastAt = Date.now();
  try {
    const body = await api("/api/stats/overview");
    state.overview = body;
    state.statsError = body.stats_error || null;
    state.failing = false;
    applyToday(body.today);
    renderAll();
  } catch (error) {
    reportFailure(error);
  } finally {
    status.busy = false;
    if (status.again) {
      status.again = false;
      scheduleStatus();
    }
  }
}

const daily = { timer: null, seq: 0 };

function scheduleDaily(delay = DAILY_DELAY_MS) {
  clearTimeout(daily.timer);
  daily.timer = setTimeout(runDaily, delay);
}

async function runDaily() {
  daily.timer = null;
  const seq = ++daily.seq;
  try {
    const body = await api(`/api/stats/daily?days=${state.chartDays}`);
    if (seq !== daily.seq) return; // a newer request was sent meanwhile
    state.days = body.days;
    state.statsError = null;
    state.failing = false;
    renderChart();
    renderToday();
  } catch (error) {
    if (seq !== daily.seq) return;
    if (error?.status === 503 && error.code === "store_unavailable") {
      state.statsError = error.message;
      renderChart();
      return;
    }
    reportFailure(error);
  }
}

function onJournal(entry) {
  if (!entry || !COUNTED.has(entry.kind)) return;
  if (state.days) {
    const key = formatTime(entry.at, { dateOnly: true });
    rollTo(key);
    const day = state.days.find((d) => d.date === key);
    if (day) {
      day[entry.kind] += 1;
      renderChart();
      renderToday();
    }
  }
  scheduleDaily();
}

function onHello(hello) {
  if (!hello.running) {
    const problem = hello.engine_problem || "";
    state.overview = {
      ...state.overview,
      running: false,
      engine_problem_text: tr("common.unavailable", { problem: reasonText(problem) }),
      timeline: [],
    };
    renderCards();
    renderTimeline();
    return;
  }
  scheduleStatus({ now: true });
  scheduleDaily(0);
}

/** Midnight in AstrBot's zone: a new empty day appears, and the server is asked again. */
function checkDay() {
  const key = todayKey();
  if (state.days && state.days.at(-1)?.date < key) {
    rollTo(key);
    renderChart();
    renderToday();
    scheduleDaily(0);
  }
}

// The server rendered the banner text; keep it when the first render comes from JS.
state.overview.engine_problem_text = $("engine-problem").textContent;
renderAll();
connectEvents({
  hello: onHello,
  gap: () => {
    scheduleStatus({ now: true });
    scheduleDaily(0);
  },
  event(message) {
    if (message.type === "journal") onJournal(message.entry);
    else if (STATUS_EVENTS.has(message.type)) scheduleStatus();
  },
});
setInterval(checkDay, DAY_CHECK_MS);
document.documentElement.dataset.pageReady = "1";
