// Sessions list: the server renders the first page; this script pages, sorts and searches
// through /api/sessions, keeps the URL in sync, and applies live events to visible rows only.
const {
  tr,
  el,
  api,
  toast,
  errorText,
  timeTag,
  debounce,
  connectEvents,
  reasonText,
  phaseBadge,
  replaceUrl,
} = await import(document.getElementById("common-js").src);
const { serveSwitch, wireSwitches } = await import(document.getElementById("serve-js").src);

const SEARCH_DEBOUNCE_MS = 250;
const REFETCH_DEBOUNCE_MS = 300;
const KIND_TO_API = { private: "friend", group: "group" };
const SERVED_TO_API = { yes: "true", no: "false" };

const $ = (id) => document.getElementById(id);
const els = {
  form: $("sessions-filter"),
  search: $("session-search"),
  kind: $("session-kind"),
  served: $("session-served"),
  size: $("session-size"),
  body: $("sessions-table"),
  total: $("sessions-total"),
  prev: $("pager-prev"),
  next: $("pager-next"),
  info: $("pager-info"),
  banner: $("engine-banner"),
  problem: $("engine-problem"),
};

const boot = JSON.parse($("sessions-state").textContent);
const defaults = boot.defaults;
const descendingFirst = new Set(boot.descending_first);
const query = { ...boot.query };
let total = boot.total;
let pages = boot.pages;
const columnCount = document.querySelectorAll(".sessions-table thead th").length;

// umo -> <tr> of the rows on screen: a live event finds its row without scanning.
const rows = new Map();
for (const row of els.body.querySelectorAll("tr[data-umo]")) rows.set(row.dataset.umo, row);

// ---------- URLs ----------

function pageUrl() {
  const params = new URLSearchParams();
  for (const name of ["q", "kind", "served", "sort", "page", "size"]) {
    if (String(query[name]) !== String(defaults[name])) params.set(name, String(query[name]));
  }
  const text = params.toString();
  return `/sessions${text ? `?${text}` : ""}`;
}

function apiUrl() {
  const params = new URLSearchParams({ sort: query.sort, page: query.page, size: query.size });
  if (query.q) params.set("q", query.q);
  if (KIND_TO_API[query.kind]) params.set("kind", KIND_TO_API[query.kind]);
  if (SERVED_TO_API[query.served]) params.set("served", SERVED_TO_API[query.served]);
  return `/api/sessions?${params}`;
}

function nextSort(field) {
  const current = query.sort.replace(/^-/, "");
  if (field === current) return query.sort.startsWith("-") ? field : `-${field}`;
  return descendingFirst.has(field) ? `-${field}` : field;
}

// ---------- rows ----------

function unansweredCell(view) {
  const cap = view.max_unanswered;
  const title = tr("sessions.unanswered_title", {
    n: view.unanswered,
    max: cap || tr("sessions.no_cap"),
  });
  const max = cap ? String(cap) : el("span", { "aria-label": tr("sessions.no_cap"), text: "∞" });
  return el("td", { class: "num", title }, `${view.unanswered} / `, max);
}

function rowFor(view) {
  const name = view.name
    ? view.name
    : el("span", { class: "muted", text: tr("sessions.unnamed") });
  return el(
    "tr",
    { dataset: { umo: view.umo } },
    el(
      "td",
      { class: "cell-name" },
      el("a", { class: "session-link", href: `/session?umo=${encodeURIComponent(view.umo)}` }, name),
      view.has_override
        ? el("span", { class: "badge badge-accent", text: tr("sessions.has_override") })
        : null,
      el("div", { class: "mono muted session-umo", text: view.umo }),
    ),
    el("td", { text: view.platform }),
    el("td", { text: tr(view.kind === "friend" ? "kind.private" : "kind.group") }),
    el("td", { class: "cell-serve" }, serveSwitch(view)),
    el("td", {}, phaseBadge(view)),
    el("td", { class: "cell-next" }, timeTag(view.next_at)),
    unansweredCell(view),
    el("td", {}, timeTag(view.last_activity_at)),
  );
}

function emptyRow() {
  const filtered = query.q || query.kind !== "all" || query.served !== "all";
  return el(
    "tr",
    { class: "row-empty" },
    el("td", {
      class: "table-empty",
      colspan: columnCount,
      text: tr(filtered ? "sessions.no_match" : "sessions.empty"),
    }),
  );
}

function render(items) {
  // A refresh must not throw the keyboard focus out of the table.
  const focused = els.body.contains(document.activeElement)
    ? document.activeElement.closest("tr[data-umo]")?.dataset.umo
    : null;
  rows.clear();
  const fresh = items.map((view) => {
    const row = rowFor(view);
    rows.set(view.umo, row);
    return row;
  });
  els.body.replaceChildren(...(fresh.length ? fresh : [emptyRow()]));
  if (focused) rows.get(focused)?.querySelector("a")?.focus();
}

function renderChrome() {
  els.total.textContent = tr("sessions.total", { n: total });
  els.info.textContent = tr("common.page", { page: query.page, pages, total });
  els.prev.disabled = query.page <= 1;
  els.next.disabled = query.page >= pages;
  els.prev.value = String(query.page - 1);
  els.next.value = String(query.page + 1);
  const field = query.sort.replace(/^-/, "");
  for (const th of document.querySelectorAll("th[data-sort]")) {
    const mine = th.dataset.sort === field;
    th.setAttribute(
      "aria-sort",
      mine ? (query.sort.startsWith("-") ? "descending" : "ascending") : "none",
    );
    const button = th.querySelector("button");
    if (button) button.value = nextSort(th.dataset.sort);
  }
  els.form.querySelector('input[name="sort"]').value = query.sort;
}

// ---------- loading ----------

function showBanner(text) {
  els.problem.textContent = text;
  els.banner.hidden = false;
}

let controller = null;
let generation = 0;

async function load() {
  controller?.abort();
  controller = new AbortController();
  const mine = ++generation;
  els.body.setAttribute("aria-busy", "true");
  replaceUrl(pageUrl());
  try {
    const data = await api(apiUrl(), { signal: controller.signal });
    if (mine !== generation) return;
    const last = Math.max(1, Math.ceil(data.total / query.size));
    if (query.page > last) {
      // The list got shorter under us: show its last page instead of an empty one.
      query.page = last;
      load();
      return;
    }
    total = data.total;
    pages = last;
    render(data.items);
    renderChrome();
    els.banner.hidden = true;
  } catch (error) {
    if (error?.name === "AbortError" || mine !== generation) return;
    if (error.status === 503) showBanner(error.message);
    else toast(errorText(error), "error");
  } finally {
    if (mine === generation) els.body.setAttribute("aria-busy", "false");
  }
}

const refetchSoon = debounce(load, REFETCH_DEBOUNCE_MS);

function readControls() {
  query.q = els.search.value.trim();
  query.kind = els.kind.value;
  query.served = els.served.value;
  query.size = Number(els.size.value) || defaults.size;
}

// ---------- wiring ----------

// Every control of the no-JS version is a submit button of the form (sort headers and the
// pager included, through form="sessions-filter"): one handler reads what was pressed.
els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const button = event.submitter;
  if (button?.name === "sort") {
    query.sort = button.value;
    query.page = 1;
  } else if (button?.name === "page") {
    query.page = Math.max(1, Number(button.value) || 1);
  } else {
    readControls();
    query.page = 1;
  }
  load();
});

const searchSoon = debounce(() => {
  if (els.search.value.trim() === query.q) return;
  readControls();
  query.page = 1;
  load();
}, SEARCH_DEBOUNCE_MS);
els.search.addEventListener("input", searchSoon);

for (const select of [els.kind, els.served, els.size]) {
  select.addEventListener("change", () => {
    readControls();
    query.page = 1;
    load();
  });
}

// A switched row shows its new state at once (the live event follows).
function replaceRow(view) {
  const old = rows.get(view.umo);
  if (!old) return;
  const row = rowFor(view);
  const hadFocus = old.contains(document.activeElement);
  old.replaceWith(row);
  rows.set(view.umo, row);
  if (hadFocus) row.querySelector("input[data-serve]")?.focus();
}
wireSwitches(els.body, replaceRow);

connectEvents({
  hello(status) {
    if (status.running) {
      els.banner.hidden = true;
      refetchSoon();
    } else {
      showBanner(tr("common.unavailable", { problem: reasonText(status.engine_problem || "") }));
    }
  },
  gap() {
    refetchSoon();
  },
  event(message) {
    if (message.type === "session" && message.session) {
      const old = rows.get(message.session.umo);
      if (!old) return;
      const row = rowFor(message.session);
      const hadFocus = old.contains(document.activeElement);
      old.replaceWith(row);
      rows.set(message.session.umo, row);
      row.classList.add("row-flash");
      if (hadFocus) row.querySelector("a")?.focus();
    } else if (message.type === "sessions_changed") {
      refetchSoon();
    }
  },
});

renderChrome();
document.documentElement.dataset.pageReady = "1";
