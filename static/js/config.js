// Config page: the form generated from _conf_schema.json, saved with PUT /api/config (applied
// at once, no plugin reload), compared with the defaults, kept in step with changes made
// elsewhere (another tab, AstrBot's dashboard) through /ws/events.
const { tr, el, api, toast, errorText, connectEvents } = await import(
  document.getElementById("common-js").src
);
const { renderSchemaForm, parseErrors, schemaDefaults, sameValue, shortValue } = await import(
  document.getElementById("schema-form-js").src
);

const $ = (id) => document.getElementById(id);
const GROUPS = ["friend_settings", "group_settings", "engine_settings"];

function readData() {
  try {
    return JSON.parse($("config-data")?.textContent || "null");
  } catch {
    return null;
  }
}

const data = readData();
if (!data) {
  // No config to edit (the banner says why): only the live badge.
  connectEvents({});
  document.documentElement.dataset.pageReady = "1";
} else {
  start(data);
}

/** The keys of `now` whose values differ from `before`, nested (lists compared whole). */
function diff(now, before) {
  const out = {};
  for (const [key, value] of Object.entries(now)) {
    const old = before && typeof before === "object" ? before[key] : undefined;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const sub = diff(value, old);
      if (Object.keys(sub).length) out[key] = sub;
    } else if (!sameValue(value, old)) {
      out[key] = value;
    }
  }
  return out;
}

function start({ schema, values, lang }) {
  const els = {
    form: $("config-form"),
    save: $("config-save"),
    revert: $("config-revert"),
    dirty: $("config-dirty"),
    diff: $("config-diff"),
    remote: $("config-remote"),
    remoteReload: $("config-remote-reload"),
    remoteKeep: $("config-remote-keep"),
  };
  const saveLabel = els.save.textContent;
  const state = {
    saved: structuredClone(values), // the config as the server last told us
    saving: false,
    recheck: false, // a change was announced while saving: look again afterwards
    fetchSeq: 0,
    remote: null, // a newer config waiting for "load it"
    dirty: false,
  };
  const defaults = {};
  const forms = {};
  const titles = {};

  for (const group of GROUPS) {
    const container = els.form.querySelector(`[data-group="${group}"]`);
    if (!container || !schema[group]) continue;
    defaults[group] = schemaDefaults(schema[group]);
    titles[group] = $(`config-h-${group}`)?.textContent.trim() || group;
    forms[group] = renderSchemaForm(container, {
      schema: schema[group],
      values: state.saved[group],
      reference: defaults[group],
      namePrefix: group,
      lang,
      onChange: changed,
      texts: { changed: tr("config.not_default") },
    });
  }
  const groups = Object.keys(forms);

  function pending() {
    const body = {};
    for (const group of groups) {
      const delta = diff(forms[group].value(), state.saved[group]);
      if (Object.keys(delta).length) body[group] = delta;
    }
    return body;
  }

  function showDirty() {
    state.dirty = Object.keys(pending()).length > 0;
    els.dirty.dataset.dirty = String(state.dirty);
    els.dirty.textContent = tr(state.dirty ? "config.dirty" : "config.clean");
    els.save.disabled = state.saving || !state.dirty;
    els.revert.disabled = state.saving || !state.dirty;
  }

  function showDiff() {
    const items = [];
    for (const group of groups) {
      for (const change of forms[group].changed()) items.push({ group, ...change });
    }
    if (!items.length) {
      els.diff.replaceChildren(el("p", { class: "muted", text: tr("config.diff_none") }));
      return;
    }
    const wasOpen = els.diff.querySelector("details")?.open ?? false;
    const list = el("ul", { class: "config-diff-list" });
    for (const item of items) {
      const input = forms[item.group].field(item.path);
      const text = tr("config.diff_item", {
        label: `${titles[item.group]} › ${item.label}`,
        from: shortValue(item.from),
        to: shortValue(item.to),
      });
      list.append(el("li", {}, input ? el("a", { href: `#${input.id}`, text }) : text));
    }
    els.diff.replaceChildren(
      el(
        "details",
        { open: wasOpen },
        el("summary", { text: tr("config.diff_count", { n: items.length }) }),
        list,
      ),
    );
  }

  let diffTimer = null;
  function changed() {
    showDirty();
    clearTimeout(diffTimer);
    diffTimer = setTimeout(showDiff, 120);
  }

  function load(view) {
    state.saved = Object.fromEntries(groups.map((group) => [group, view[group]]));
    for (const group of groups) {
      forms[group].clearErrors();
      forms[group].setValues(state.saved[group]);
    }
    state.remote = null;
    els.remote.hidden = true;
    showDirty();
    showDiff();
  }

  function focusFirstError() {
    const first = els.form.querySelector('[aria-invalid="true"]');
    if (first) {
      // A folded section (phones, layout.js) can neither show nor focus it.
      for (let at = first.closest("details"); at; at = at.parentElement?.closest("details")) {
        at.open = true;
      }
      first.closest(".sf-field")?.scrollIntoView({ block: "center" });
      first.focus({ preventScroll: true });
    }
  }

  /** Server errors routed to their group's form; the rest returned (shown in a toast). */
  function showServerErrors(errors) {
    const perGroup = Object.fromEntries(groups.map((group) => [group, []]));
    const general = [];
    for (const raw of errors) {
      const text = String(raw);
      const group = groups.find((g) => text.startsWith(`${g}.`) || text.startsWith(`${g}:`));
      if (group) perGroup[group].push(text);
      else general.push(text);
    }
    for (const group of groups) {
      general.push(...forms[group].showErrors(parseErrors(perGroup[group], group)));
    }
    focusFirstError();
    return general;
  }

  async function save() {
    if (state.saving) return;
    const body = pending();
    if (!Object.keys(body).length) {
      toast(tr("config.nothing_to_save"), "info");
      return;
    }
    let problems = 0;
    for (const group of groups) {
      const local = forms[group].check();
      problems += local.length;
      forms[group].showErrors(local);
    }
    if (problems) {
      focusFirstError();
      toast(tr("config.invalid", { n: problems }), "error", { timeout: 6000 });
      return;
    }
    const sent = Object.fromEntries(groups.map((group) => [group, forms[group].value()]));
    state.saving = true;
    els.save.setAttribute("aria-busy", "true");
    els.save.textContent = tr("common.saving");
    showDirty();
    try {
      const view = await api("/api/config", { method: "PUT", body });
      for (const group of groups) {
        state.saved[group] = view[group];
        forms[group].clearErrors();
        // Edits typed while the request ran stay; otherwise show the server's normalized values.
        if (sameValue(forms[group].value(), sent[group])) forms[group].setValues(view[group]);
      }
      toast(tr("common.saved"), "ok");
    } catch (error) {
      const errors = Array.isArray(error?.errors) ? error.errors : null;
      if (errors?.length) {
        const general = showServerErrors(errors);
        const n = errors.length - general.length;
        toast(general.length ? general.join("\n") : tr("config.invalid", { n }), "error", {
          timeout: 8000,
        });
      } else {
        toast(errorText(error), "error");
      }
    } finally {
      state.saving = false;
      els.save.removeAttribute("aria-busy");
      els.save.textContent = saveLabel;
      showDirty();
      showDiff();
      if (state.recheck) {
        state.recheck = false;
        checkRemote();
      }
    }
  }

  function revert() {
    for (const group of groups) {
      forms[group].clearErrors();
      forms[group].setValues(state.saved[group]);
    }
    els.remote.hidden = true;
    showDirty();
    showDiff();
  }

  /** Someone may have changed the config: take it if nothing is being edited, else ask. */
  async function checkRemote() {
    if (state.saving) {
      state.recheck = true;
      return;
    }
    const seq = ++state.fetchSeq;
    let view;
    try {
      view = await api("/api/config");
    } catch {
      return; // the badge shows the link state; the next hello tries again
    }
    if (seq !== state.fetchSeq || state.saving) {
      if (state.saving) state.recheck = true;
      return;
    }
    if (groups.every((group) => sameValue(view[group], state.saved[group]))) return;
    if (!state.dirty) {
      load(view);
      toast(tr("config.remote_loaded"), "info");
    } else {
      state.remote = view;
      els.remote.hidden = false;
    }
  }

  els.form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  els.revert.addEventListener("click", revert);
  els.remoteReload.addEventListener("click", async () => {
    let view = state.remote;
    if (!view) {
      try {
        view = await api("/api/config");
      } catch (error) {
        toast(errorText(error), "error");
        return;
      }
    }
    load(view);
    toast(tr("config.remote_loaded"), "info");
  });
  els.remoteKeep.addEventListener("click", () => {
    // Keep the edits: a save sends only what was edited here, merged over the newer config.
    els.remote.hidden = true;
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (!state.dirty) return;
    event.preventDefault();
    event.returnValue = tr("config.leave_warning");
  });

  connectEvents({
    hello: () => checkRemote(),
    gap: () => checkRemote(),
    event: (message) => {
      if (message?.type === "config") checkRemote();
    },
  });

  showDirty();
  showDiff();
  document.documentElement.dataset.pageReady = "1";
}
