// Journal page. The server renders the filters and the first page; this script pages on
// with before_id ("load more"), prepends the entries /ws/events announces that match the
// filter, and refetches the first page on every (re)connect so nothing missed stays missing.
// The filter it applies is the server's, resolved to epoch seconds on #journal-table.
// One piece (over 400 lines): paging, live rows and filters share the same list state.
const {
  tr,
  el,
  api,
  toast,
  errorText,
  connectEvents,
  timeTag,
  reasonText,
  shortUmo,
  copyText,
  toolCallsText,
} = await import(document.getElementById("common-js").src);
const { copyIcon, markReplaced, attachSessionPicker } = await import(
  document.getElementById("journal-rows-js").src
);

const $ = (id) => document.getElementById(id);
const form = $("journal-filters");
const range = $("jf-range");
const since = $("jf-since");
const until = $("jf-until");
const table = $("journal-table");
const tbody = table.tBodies[0];
const more = $("journal-more");
const totalChip = $("journal-total");
const empty = $("journal-empty");

let env = {};
try {
  env = JSON.parse($("journal-env")?.textContent || "{}");
} catch {
  env = {};
}
const PAGE_SIZE = env.pageSize || 50;
const MAX_ROWS = env.maxRows || 500;
const severity = env.severity || {};
const timeKeys = new Set(env.timeKeys || []);
const textKeys = new Set(env.textKeys || []);
const labelled = new Set(env.labelled || []);
const NAME_FETCHES = 3; // session names looked up at once

function numberOrNull(text) {
  if (text === undefined || text === null || text === "") return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

const filter = {
  umo: table.dataset.umo || "",
  kinds: table.dataset.kinds ? new Set(table.dataset.kinds.split(",")) : null,
  since: numberOrNull(table.dataset.since),
  until: numberOrNull(table.dataset.until),
};
const live = table.dataset.live === "1";
const state = {
  total: numberOrNull(totalChip?.dataset.total),
  cap: MAX_ROWS,
  loading: false,
  refreshing: false,
  again: false,
};
const shown = new Set(); // ids of the rows in the table
const names = new Map(); // umo -> name ("" none, null being looked up)
const wantedNames = [];
let nameFetches = 0;

// --- rows -------------------------------------------------------------------------------

function clip(text, size) {
  const chars = Array.from(text); // code points, as the server counts
  return chars.length <= size ? text : `${chars.slice(0, size).join("")}…`;
}

function detailList(detail) {
  if (!detail || typeof detail !== "object") return null;
  const keys = [
    ...Object.keys(detail).filter((k) => textKeys.has(k)),
    ...Object.keys(detail).filter((k) => !textKeys.has(k)),
  ];
  const items = [];
  for (const key of keys) {
    const value = detail[key];
    if (value === null || value === undefined || value === "") continue;
    let shownValue;
    if (timeKeys.has(key) && typeof value === "number") {
      shownValue = timeTag(value);
    } else if (textKeys.has(key) && typeof value === "string") {
      const preview = clip(value, env.textPreview || 120);
      shownValue =
        preview === value
          ? el("span", { class: "jr-text", text: value })
          : el(
              "details",
              { class: "jr-text" },
              el("summary", { title: tr("journal.full_text"), text: preview }),
              el("div", { class: "jr-full", text: value }),
            );
    } else if (key === "tools" && toolCallsText(value)) {
      shownValue = el("span", { class: "jr-value jr-tools", text: toolCallsText(value) });
    } else if (key === "picture" && value && typeof value === "object") {
      // as the page does: the thumbnail as an image, the rest as a value
      const { thumb, ...rest } = value;
      const text = clip(JSON.stringify(rest), env.valueMax || 300);
      const shown = typeof thumb === "string" && thumb.startsWith(env.thumbPrefix);
      shownValue = [
        shown
          ? el("img", { class: "jr-thumb", src: thumb, alt: tr("journal.detail.picture"), width: 48, height: 48 })
          : null,
        el("span", { class: "jr-value", text }),
      ];
    } else {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      shownValue = el("span", { class: "jr-value", text: clip(text, env.valueMax || 300) });
    }
    const label = labelled.has(key) ? tr(`journal.detail.${key}`) : key;
    items.push(
      el("div", { class: "jr-d", dataset: { key } }, el("dt", { text: label }), el("dd", {}, shownValue)),
    );
  }
  return items.length ? el("dl", { class: "jr-detail" }, items) : null;
}

/** The session's name (a short id when it has none), the full id behind a copy button. */
function sessionCell(umo) {
  if (!umo) return [el("span", { class: "muted", text: tr("journal.engine_wide") })];
  const name = names.get(umo) || "";
  const link = el("a", {
    class: "jr-name",
    href: `/session?umo=${encodeURIComponent(umo)}`,
    text: name || shortUmo(umo),
    dataset: name ? { named: "1" } : {},
  });
  const label = tr("journal.copy_id", { umo });
  const copy = el(
    "button",
    { class: "btn btn-ghost jr-copy", type: "button", title: label, "aria-label": label },
    copyIcon(),
  );
  copy.dataset.copy = umo;
  return [link, copy];
}

function renderRow(entry) {
  const level = severity[entry.kind];
  return el(
    "tr",
    { dataset: { id: String(entry.id), kind: entry.kind, umo: entry.umo || "" } },
    el("td", { class: "jr-time" }, timeTag(entry.at, { seconds: true })),
    el("td", { class: "jr-session" }, sessionCell(entry.umo)),
    el(
      "td",
      { class: "jr-kind" },
      el("span", { class: level ? `badge badge-${level}` : "badge", text: tr(`jkind.${entry.kind}`) }),
    ),
    el(
      "td",
      { class: "jr-reason" },
      el("div", { class: "jr-reason-text", text: reasonText(entry.reason) }),
      detailList(entry.detail),
    ),
  );
}

function firstId() {
  const row = tbody.rows[0];
  return row ? Number(row.dataset.id) : null;
}

function lastId() {
  const row = tbody.rows[tbody.rows.length - 1];
  return row ? Number(row.dataset.id) : null;
}

function hasMore() {
  return !more.hidden;
}

function setMore(visible) {
  more.hidden = !visible;
}

function setTotal(total) {
  state.total = total;
  if (totalChip && typeof total === "number") {
    totalChip.dataset.total = String(total);
    totalChip.textContent = tr("journal.total", { n: total });
  }
}

function updateEmpty() {
  empty.hidden = tbody.rows.length > 0;
}

function append(entry) {
  if (shown.has(entry.id)) return;
  shown.add(entry.id);
  tbody.append(renderRow(entry));
  wantName(entry.umo);
}

/** Put `entry` where its id belongs (newest first); false when shown already or older
 * than every row while older pages are still to load ("load more" brings it). */
function insert(entry, highlight) {
  const id = Number(entry.id);
  if (!Number.isFinite(id) || shown.has(id)) return false;
  let before = null;
  for (const row of tbody.rows) {
    if (Number(row.dataset.id) < id) {
      before = row;
      break;
    }
  }
  if (before === null && tbody.rows.length > 0 && hasMore()) return false;
  const row = renderRow(entry);
  if (highlight) row.classList.add("jr-new");
  tbody.insertBefore(row, before);
  shown.add(id);
  wantName(entry.umo);
  return true;
}

/** Keep a long-open page light: drop the oldest rows beyond the cap ("load more" returns them). */
function trim() {
  while (tbody.rows.length > state.cap) {
    const row = tbody.rows[tbody.rows.length - 1];
    shown.delete(Number(row.dataset.id));
    row.remove();
    setMore(true);
  }
}

// --- session names -------------------------------------------------------------------------

function setName(umo, name) {
  const before = names.get(umo);
  names.set(umo, name);
  if ((before || "") === name) return;
  for (const row of tbody.querySelectorAll(`tr[data-umo="${CSS.escape(umo)}"]`)) {
    row.cells[1]?.replaceChildren(...sessionCell(umo));
  }
}

function wantName(umo) {
  if (!umo || names.has(umo)) return;
  names.set(umo, null);
  wantedNames.push(umo);
  pumpNames();
}

function pumpNames() {
  while (nameFetches < NAME_FETCHES && wantedNames.length > 0) {
    const umo = wantedNames.shift();
    nameFetches += 1;
    api(`/api/sessions/${encodeURIComponent(umo)}`)
      .then((view) => setName(umo, typeof view?.name === "string" ? view.name : ""))
      .catch(() => names.set(umo, "")) // unknown session or engine down: the UMO stays
      .finally(() => {
        nameFetches -= 1;
        pumpNames();
      });
  }
}

for (const row of tbody.rows) {
  shown.add(Number(row.dataset.id));
  const umo = row.dataset.umo;
  if (umo && !names.has(umo)) {
    const link = row.querySelector(".jr-name");
    names.set(umo, link?.dataset.named === "1" ? link.textContent : "");
  }
}

// --- the API -------------------------------------------------------------------------------

function query(extra = {}) {
  const params = new URLSearchParams();
  if (filter.umo) params.set("umo", filter.umo);
  if (filter.kinds) params.set("kind", [...filter.kinds].join(","));
  if (filter.since !== null) params.set("since", String(filter.since));
  if (filter.until !== null) params.set("until", String(filter.until));
  for (const [key, value] of Object.entries(extra)) params.set(key, String(value));
  return `/api/journal?${params}`;
}

async function loadMore() {
  if (state.loading) return;
  const beforeId = lastId() ?? numberOrNull(table.dataset.nextBeforeId);
  if (beforeId === null) return;
  state.loading = true;
  more.setAttribute("aria-busy", "true");
  more.textContent = tr("journal.loading");
  try {
    const page = await api(query({ before_id: beforeId, limit: PAGE_SIZE }));
    for (const item of page.items || []) append(item);
    setMore(page.next_before_id !== null && page.next_before_id !== undefined);
    state.cap = Math.max(MAX_ROWS, tbody.rows.length);
    updateEmpty();
    markReplaced(tbody);
  } catch (error) {
    toast(errorText(error), "error");
  } finally {
    state.loading = false;
    more.removeAttribute("aria-busy");
    more.textContent = tr("journal.more");
  }
}

/** Bring the top of the table up to date (on connect, reconnect and after a gap). */
async function refreshHead() {
  if (!live) return;
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    do {
      state.again = false;
      merge(await api(query({ limit: PAGE_SIZE })));
    } while (state.again);
  } catch (error) {
    toast(errorText(error), "error");
  } finally {
    state.refreshing = false;
  }
}

function merge(page) {
  const items = page.items || [];
  const top = firstId();
  const moreAfter = page.next_before_id !== null && page.next_before_id !== undefined;
  const oldest = items.length ? Number(items[items.length - 1].id) : null;
  if (top === null || (moreAfter && oldest !== null && oldest > top)) {
    // Nothing shown yet, or more than a page came meanwhile: show this page afresh.
    tbody.replaceChildren();
    shown.clear();
    for (const item of items) append(item);
    setMore(moreAfter);
    state.cap = MAX_ROWS;
  } else {
    for (const item of items) insert(item, Number(item.id) > top);
    trim();
  }
  if (typeof page.total === "number") setTotal(page.total);
  updateEmpty();
  markReplaced(tbody);
}

function matches(entry) {
  if (filter.umo && entry.umo !== filter.umo) return false;
  if (filter.kinds && !filter.kinds.has(entry.kind)) return false;
  if (filter.since !== null && entry.at < filter.since) return false;
  if (filter.until !== null && entry.at >= filter.until) return false;
  return true;
}

function onEvent(message) {
  if (message.type === "journal" && live && message.entry && matches(message.entry)) {
    if (insert(message.entry, true)) {
      if (state.total !== null) setTotal(state.total + 1);
      trim();
      updateEmpty();
      markReplaced(tbody);
    }
  } else if (message.type === "session" && message.session?.umo) {
    const { umo, name } = message.session;
    if (names.has(umo) && typeof name === "string") setName(umo, name);
  }
}

// --- the filter form ---------------------------------------------------------------------

function showCustom() {
  if (range.value === "custom" || since.value || until.value) delete form.dataset.rangeHidden;
  else form.dataset.rangeHidden = "1";
}

range.addEventListener("change", () => {
  if (range.value === "custom") {
    showCustom();
    since.focus();
    return;
  }
  since.value = "";
  until.value = "";
  form.requestSubmit();
});
$("jf-kind").addEventListener("change", () => form.requestSubmit());
for (const input of [since, until]) {
  input.addEventListener("change", () => {
    if (input.value) range.value = "custom";
  });
}

// Leave empty fields out of the URL (the form data is taken before the timeout runs).
form.addEventListener("submit", () => {
  const blank = [...form.querySelectorAll("input")].filter((input) => !input.value);
  for (const input of blank) input.disabled = true;
  setTimeout(() => blank.forEach((input) => (input.disabled = false)), 0);
});

more.addEventListener("click", (event) => {
  event.preventDefault();
  loadMore();
});

// --- copying ids, the session picker, hiding replaced plans ------------------------------

tbody.addEventListener("click", async (event) => {
  const button = event.target.closest?.(".jr-copy");
  if (!button) return;
  const copied = await copyText(button.dataset.copy || "");
  toast(tr(copied ? "session.copied" : "session.copy_failed"), copied ? "ok" : "error");
});

attachSessionPicker($("jf-umo"), $("jf-sessions"));

const hideReplaced = $("journal-hide-replaced");
hideReplaced.addEventListener("change", () => {
  table.dataset.hideReplaced = hideReplaced.checked ? "1" : "0";
});

markReplaced(tbody);
showCustom();
connectEvents({ hello: refreshHead, gap: refreshHead, event: onEvent });
document.documentElement.dataset.pageReady = "1";
