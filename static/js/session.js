// Session detail: actions, the live header, the effective settings, the override editor
// (static/js/schema_form.js) and the session's recent journal. The server renders the first
// view; this script keeps it current from /ws/events and the API.
// One piece (over 400 lines): the actions, live header and journal share the session's view
// state; the Serve box, the promise row and the next days already live in their own modules.
const {
  tr,
  el,
  api,
  toast,
  errorText,
  timeTag,
  connectEvents,
  reasonText,
  enabledBadge,
  phaseBadge,
  toolCallsText,
  reloadPage,
} = await import(document.getElementById("common-js").src);
const { serveSwitch, serveWhy, serveNext, wireSwitches } = await import(
  document.getElementById("serve-js").src
);
const { renderPromise, wirePromiseCancel } = await import(
  document.getElementById("session-promise-js").src
);

const JOURNAL_LIMIT = 20;
const JOURNAL_KEEP = 50;

const $ = (id) => document.getElementById(id);
const data = JSON.parse($("session-data").textContent);
const umo = data.umo;
const base = `/api/sessions/${encodeURIComponent(umo)}`;

// ---------- formatting (as web/page_session.py does on the server) ----------

function showValue(value, choices = null) {
  if (choices && typeof value === "string" && Object.hasOwn(choices, value)) {
    return `${choices[value]} (${value})`;
  }
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return tr(value ? "common.yes" : "common.no");
  if (Array.isArray(value)) return value.length ? value.join(", ") : tr("session.empty_value");
  if (typeof value === "object") {
    return Object.keys(value).length ? JSON.stringify(value) : tr("session.empty_value");
  }
  if (value === "") return tr("session.empty_value");
  return String(value);
}

function choicesOf(key) {
  const options = data.options || {};
  return Object.hasOwn(options, key) ? options[key] : null;
}

function flatten(value, prefix = "", out = {}) {
  for (const [key, item] of Object.entries(value || {})) {
    const path = `${prefix}${key}`;
    if (item && typeof item === "object" && !Array.isArray(item) && Object.keys(item).length) {
      flatten(item, `${path}.`, out);
    } else out[path] = item;
  }
  return out;
}

// ---------- header and actions ----------

// Why an action makes no sense now (the button is disabled with this as its title), or "".
function whyNot(action, view) {
  if (action === "trigger") return view.writing ? tr("session.why.writing") : "";
  if (action === "reschedule") return view.paused ? tr("session.why.paused") : "";
  if (action === "pause") return view.paused ? tr("session.why.already_paused") : "";
  if (action === "resume") return view.paused ? "" : tr("session.why.not_paused");
  if (action === "cancel") {
    const planned = view.writing || view.phase === "planned" || view.phase === "silence";
    return planned ? "" : tr("session.why.nothing");
  }
  return "";
}

const actionButtons = [...document.querySelectorAll("#session-head [data-action]")];
const labels = new Map(actionButtons.map((b) => [b, b.textContent]));

function renderActions(view) {
  for (const button of actionButtons) {
    if (button.getAttribute("aria-busy") === "true") continue;
    const why = whyNot(button.dataset.action, view);
    button.disabled = Boolean(why);
    button.title = why || labels.get(button);
  }
  let hint = "";
  if (view.paused) hint = tr("session.why.paused");
  else if (view.writing) hint = tr("session.why.writing");
  else if (!view.served && view.serve?.why === "kind_off") {
    hint = tr("serve.why.kind_off", { kind: tr(`serve.kind.${view.kind}`), group: view.serve.group });
  } else if (!view.served) hint = tr("session.why.not_served");
  $("actions-hint").textContent = hint;
}

let view = data.view;

function renderHead(next) {
  view = next;
  const name = $("session-name");
  if (next.name) name.textContent = next.name;
  else name.replaceChildren(el("span", { class: "muted", text: tr("sessions.unnamed") }));
  $("session-phase").replaceChildren(phaseBadge(next));
  $("session-enabled").replaceChildren(enabledBadge(next));
  $("session-next").replaceChildren(timeTag(next.next_at));
  $("session-last-user").replaceChildren(timeTag(next.last_user_at));
  $("session-last-bot").replaceChildren(timeTag(next.last_bot_at));
  $("session-sent").textContent = String(next.sent_total);
  const cap = next.max_unanswered;
  $("session-unanswered").replaceChildren(
    `${next.unanswered} / ${cap || "∞"}`,
    cap ? "" : el("span", { class: "muted", text: ` (${tr("sessions.no_cap")})` }),
  );
  renderServe(next);
  renderActions(next);
  renderPromise(next);
}

// The Serve box at the top: the switch, why the chat is (not) served, what happens next.
function renderServe(next) {
  const box = $("serve-box");
  if (!box) return;
  const hadFocus = box.contains(document.activeElement);
  box.querySelector(".serve-switch")?.replaceWith(...serveSwitch(next, { big: true }));
  $("serve-why").replaceChildren(...serveWhy(next));
  $("serve-next").replaceChildren(...serveNext(next));
  $("serve-next").hidden = !next.served;
  if (hadFocus) box.querySelector("input[data-serve]")?.focus();
}

async function refreshHead() {
  try {
    const fresh = await api(base);
    const overrideMoved = fresh.has_override !== view.has_override;
    renderHead(fresh);
    if (overrideMoved) loadOverride();
  } catch (error) {
    if (error.status === 503) showBanner(error.message);
  }
}

// "Send now" returns at once; the outcome comes later as a journal entry. Until it does
// (or OUTCOME_WAIT_MS passed) the entry is turned into a toast, failures with what to do.
const OUTCOME_WAIT_MS = 5 * 60 * 1000;
const FAILED_KINDS = new Set([
  "platform_skipped",
  "send_failed",
  "no_provider",
  "llm_failed",
  "llm_empty",
]);
let awaitingOutcome = 0; // Date.now() of the "send now" whose outcome is awaited, or 0

function reportOutcome(entry) {
  if (!awaitingOutcome) return;
  if (Date.now() - awaitingOutcome > OUTCOME_WAIT_MS) {
    awaitingOutcome = 0;
    return;
  }
  const reason = reasonText(entry.reason);
  if (entry.kind === "sent") toast(tr("session.outcome.sent"), "ok");
  else if (entry.kind === "cancelled") toast(tr("session.outcome.cancelled", { reason }), "info");
  else if (entry.kind === "declined") toast(tr("session.outcome.declined"), "info");
  else if (FAILED_KINDS.has(entry.kind)) {
    const failed = tr("session.outcome.failed", { reason });
    toast(`${failed} ${tr(`session.fix.${entry.kind}`)}`, "error");
  } else return;
  awaitingOutcome = 0;
}

async function act(button) {
  const action = button.dataset.action;
  if (button.getAttribute("aria-busy") === "true") return;
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  // Set before the request: the outcome may arrive over /ws/events before the response.
  if (action === "trigger") awaitingOutcome = Date.now();
  try {
    const result = await api(`${base}/${action}`, { method: "POST" });
    if (action === "trigger") refreshHead();
    else renderHead(result);
    toast(tr(`session.done.${action}`), "ok");
  } catch (error) {
    // 409: the state moved under us (paused, already writing): say what to do, then show it.
    if (action === "trigger") awaitingOutcome = 0;
    let message = errorText(error);
    if (error.status === 409 && action === "trigger") message = tr("session.why.writing");
    else if (error.status === 409 && action === "reschedule") message = tr("session.why.paused");
    else if (error.status === 503) showBanner(error.message);
    toast(message, "error");
    refreshHead();
  } finally {
    button.removeAttribute("aria-busy");
    renderActions(view);
  }
}

function showBanner(text) {
  $("engine-problem").textContent = text;
  $("engine-banner").hidden = false;
}

async function copyUmo() {
  try {
    await navigator.clipboard.writeText(umo);
    toast(tr("session.copied"), "ok");
    return;
  } catch {
    // Not a secure context (http on a LAN address): select it and try the old way.
  }
  const range = document.createRange();
  range.selectNodeContents($("session-umo"));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  toast(tr(copied ? "session.copied" : "session.copy_failed"), copied ? "ok" : "error");
}

// ---------- effective settings ----------

let current = data.override; // {global, override, effective}

function renderEffective(view) {
  current = view;
  const effective = flatten(view.effective);
  const shared = flatten(view.global);
  const own = Object.keys(flatten(view.override));
  const rows = [];
  let count = 0;
  for (const [key, value] of Object.entries(effective)) {
    const overridden = own.some((k) => k === key || k.startsWith(`${key}.`));
    if (overridden) count += 1;
    const label = data.labels[key];
    rows.push(
      el(
        "tr",
        { dataset: { key }, class: overridden ? "overridden" : null },
        el(
          "td",
          {},
          el(
            "span",
            { class: "key mono" },
            key,
            overridden
              ? el("span", { class: "badge badge-accent", text: tr("session.overridden") })
              : null,
          ),
          label ? el("span", { class: "key-label", text: label }) : null,
        ),
        el("td", { class: "value" }, el("div", { class: "value-box", text: showValue(value, choicesOf(key)) })),
        el(
          "td",
          { class: "value muted" },
          overridden ? el("div", { class: "value-box", text: showValue(shared[key], choicesOf(key)) }) : null,
        ),
      ),
    );
  }
  $("effective-config").replaceChildren(...rows);
  $("effective-summary").textContent = count
    ? tr("session.n_overridden", { n: count })
    : tr("session.uses_global");
  $("override-reset").disabled = Object.keys(view.override || {}).length === 0;
}

// ---------- override editor ----------

let editor = null;
let schemaForm = null;

function dirty() {
  return editor !== null && !schemaForm.sameValue(editor.value(), current.override || {});
}

function renderDiff() {
  const box = $("override-diff");
  const changes = editor ? editor.changed() : [];
  $("override-save").disabled = !dirty();
  if (!changes.length) {
    box.replaceChildren(tr("session.diff_none"));
    return;
  }
  const list = el(
    "ul",
    {},
    changes.map((change) =>
      el(
        "li",
        { dataset: { path: change.path } },
        el("span", { class: "mono", text: change.path }),
        change.label ? ` (${change.label})` : "",
        ": ",
        el("span", { class: "diff-from", text: schemaForm.shortValue(change.from) }),
        " → ",
        el("span", { class: "diff-to", text: schemaForm.shortValue(change.to) }),
      ),
    ),
  );
  box.replaceChildren(tr("session.diff_some", { n: changes.length }), list);
}

function applyOverride(result, { keepEdits = false } = {}) {
  renderEffective(result);
  if (editor && !keepEdits) {
    editor.clearErrors();
    editor.setValues(result.override || {}, result.global || {});
  }
  renderDiff();
}

async function loadOverride() {
  try {
    const result = await api(`${base}/override`);
    applyOverride(result, { keepEdits: dirty() });
  } catch (error) {
    if (error.status === 503) showBanner(error.message);
  }
}

async function save(event) {
  event.preventDefault();
  if (!editor) return;
  const local = editor.check();
  if (local.length) {
    editor.showErrors(local);
    toast(tr("session.override_invalid"), "error");
    return;
  }
  const button = $("override-save");
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    const result = await api(`${base}/override`, { method: "PUT", body: editor.value() });
    applyOverride(result);
    toast(tr("session.override_saved"), "ok");
  } catch (error) {
    if (error.errors?.length) {
      editor.showErrors(schemaForm.parseErrors(error.errors));
      toast(tr("session.override_invalid"), "error");
    } else toast(errorText(error), "error");
  } finally {
    button.removeAttribute("aria-busy");
    renderDiff();
  }
}

async function resetOverride() {
  if (!window.confirm(tr("session.override_reset_confirm"))) return;
  const button = $("override-reset");
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    const result = await api(`${base}/override`, { method: "DELETE" });
    applyOverride(result);
    toast(tr("session.override_reset_done"), "ok");
  } catch (error) {
    toast(errorText(error), "error");
  } finally {
    button.removeAttribute("aria-busy");
    renderEffective(current);
  }
}

async function startEditor() {
  const container = $("override-editor");
  try {
    const url = container.dataset.schemaForm;
    if (!url) throw new Error("static/js/schema_form.js is missing");
    // The schema in the page's language (the plugin's AstrBot i18n files).
    const schemaUrl = `/api/config/schema?lang=${encodeURIComponent(data.lang)}`;
    const [module, schema] = await Promise.all([import(url), api(schemaUrl)]);
    schemaForm = module;
    editor = module.renderSchemaForm(container, {
      schema: schema?.[data.group]?.items ?? {},
      values: current.override || {},
      reference: current.global || {},
      namePrefix: "override",
      skip: ["session_list"],
      mode: "override",
      lang: data.lang,
      onChange: renderDiff,
    });
    renderDiff();
  } catch (error) {
    container.replaceChildren(
      el("p", {
        class: "banner",
        text: tr("session.editor_missing", { message: error?.message || String(error) }),
      }),
    );
  }
}

// ---------- journal ----------

const journalList = $("session-journal"); // null on the pages without a session
const seen = new Set();

function journalItem(entry) {
  const text = typeof entry.detail?.text === "string" ? entry.detail.text : "";
  return el(
    "li",
    { dataset: { kind: entry.kind, id: String(entry.id ?? "") } },
    el("span", { class: `badge jkind-${entry.kind}`, text: tr(`jkind.${entry.kind}`) }),
    el("span", { class: "j-reason", text: reasonText(entry.reason) }),
    text ? el("p", { class: "j-text", text }) : null,
    writingLine(entry),
    el("span", { class: "j-when" }, timeTag(entry.at, { seconds: true })),
  );
}

// Which model wrote a sent message, the tools it called, its picture (as the page does).
function writingLine(entry) {
  const d = entry.detail || {};
  if (entry.kind !== "sent" || d.model === undefined) return null;
  let line = `${d.provider || ""}${d.model ? ` (${d.model})` : ""}`;
  const calls = toolCallsText(d.tools);
  if (calls) line += ` · ${tr("journal.detail.tools")}: ${calls}`;
  const picture = d.picture && d.picture.ref ? d.picture : null;
  if (picture) line += ` · ${tr("journal.detail.picture")}`;
  const thumb = picture && typeof picture.thumb === "string" ? picture.thumb : "";
  return el(
    "p",
    { class: "j-writing" },
    line,
    thumb.startsWith("data:image/jpeg;base64,")
      ? [" ", el("img", { class: "jr-thumb", src: thumb, alt: "", width: 48, height: 48 })]
      : null,
  );
}

function addJournal(entry) {
  const id = String(entry.id ?? "");
  if (id && seen.has(id)) return;
  if (id) seen.add(id);
  const item = journalItem(entry);
  item.classList.add("j-new");
  journalList.prepend(item);
  while (journalList.children.length > JOURNAL_KEEP) {
    seen.delete(journalList.lastElementChild.dataset.id);
    journalList.lastElementChild.remove();
  }
  $("session-journal-empty").hidden = true;
}

async function loadJournal() {
  try {
    const page = await api(`/api/journal?umo=${encodeURIComponent(umo)}&limit=${JOURNAL_LIMIT}`);
    seen.clear();
    for (const entry of page.items) seen.add(String(entry.id ?? ""));
    journalList.replaceChildren(...page.items.map(journalItem));
    $("session-journal-empty").hidden = page.items.length > 0;
  } catch {
    // The list keeps what it has; the next hello tries again.
  }
}

// ---------- wiring ----------

function startDetail() {
  for (const li of journalList.querySelectorAll("li[data-id]")) seen.add(li.dataset.id);
  for (const button of actionButtons) button.addEventListener("click", () => act(button));
  $("copy-umo").addEventListener("click", copyUmo);
  wirePromiseCancel(base, renderHead, refreshHead);
  $("override-form").addEventListener("submit", save);
  $("override-reset").addEventListener("click", resetOverride);
  wireSwitches($("serve-box"), (fresh) => {
    const overrideMoved = fresh.has_override !== view.has_override;
    renderHead(fresh);
    if (overrideMoved) loadOverride();
  });
  renderActions(view);
  connectEvents({
    hello(status) {
      if (!status.running) {
        showBanner(tr("common.unavailable", { problem: reasonText(status.engine_problem || "") }));
        return;
      }
      $("engine-banner").hidden = true;
      refreshHead();
      loadOverride();
      loadJournal();
    },
    gap() {
      refreshHead();
      loadJournal();
    },
    event(message) {
      if (message.type === "session" && message.session?.umo === umo) {
        const overrideMoved = message.session.has_override !== view.has_override;
        renderHead(message.session);
        if (overrideMoved) loadOverride();
      } else if (message.type === "journal" && message.entry?.umo === umo) {
        addJournal(message.entry);
        reportOutcome(message.entry);
      } else if (message.type === "sessions_changed") {
        refreshHead();
      }
    },
  });
  return startEditor();
}

// Nothing to show yet (unknown session, no engine): wait for it, then show the real page.
function startWaiting() {
  connectEvents({
    hello(status) {
      if (data.mode === "no_engine" && status.running) reloadPage();
    },
    event(message) {
      if (data.mode === "not_found" && message.session?.umo === umo) reloadPage();
    },
  });
}

if (data.mode === "ok") await startDetail();
else startWaiting();
document.documentElement.dataset.pageReady = "1";
