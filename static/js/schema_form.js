// A form generated from one group of _conf_schema.json ("items" of friend_settings, ...).
// Used by the Config page (reference = the schema's defaults) and by the per-session override
// editor (mode "override", reference = the global values). DOM built with el(): no innerHTML.
//
// Field types: object (fieldset), bool (checkbox), int (number), string (text, or a select when
// the field has "options"), text (textarea), list (textarea, one item per line). "condition"
// ({sibling: value}) hides a field while the sibling has another value, as AstrBot does.
// Texts (description, hint, labels) come already in the page's language: the server puts in
// those of the plugin's AstrBot i18n files (web/config_texts.py).
// The server is the authority on values; the range check here only saves a round trip.
const { tr, el } = await import(document.getElementById("common-js").src);

const usedIds = new Set();
// Names the server gives the whole body, not a field ("settings: 1 is not an object").
const WHOLE_BODY = new Set(["settings", "config", "body"]);
let formCount = 0;

/**
 * The API's error strings -> [{path, message}].
 * `namePrefix` is how the server names the group in its messages: "friend_settings" for
 * PUT /api/config (core/engine_config.py validate_config_update: "friend_settings.a.b: ...");
 * "" for an override (validate_override: "a.b: ..."). List items ("x.session_list[3]: ...")
 * map to the list with "#4: " before the message. Anything else gets path "".
 */
export function parseErrors(errors, namePrefix = "") {
  const out = [];
  for (const raw of Array.isArray(errors) ? errors : []) {
    const text = String(raw);
    const cut = text.indexOf(": ");
    const head = cut > 0 ? text.slice(0, cut) : "";
    let message = cut > 0 ? text.slice(cut + 2) : text;
    let path = null;
    if (head && /^[\w.[\]]+$/.test(head) && !WHOLE_BODY.has(head)) {
      if (!namePrefix) path = head;
      else if (head.startsWith(`${namePrefix}.`)) path = head.slice(namePrefix.length + 1);
    }
    if (path === null) {
      out.push({ path: "", message: text });
      continue;
    }
    const item = /^(.*)\[(\d+)\]$/.exec(path);
    if (item) {
      path = item[1];
      message = `#${Number(item[2]) + 1}: ${message}`;
    }
    out.push({ path, message });
  }
  return out;
}

// --- values ------------------------------------------------------------------------------

function getPath(obj, path) {
  let node = obj;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function setPath(obj, path, value) {
  const keys = path.split(".");
  let node = obj;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== "object") node[key] = {};
    node = node[key];
  }
  node[keys[keys.length - 1]] = value;
}

export function sameValue(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
    return true;
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
  }
  return false;
}

/** The schema's defaults of a group, nested like the config. */
export function schemaDefaults(schema) {
  const out = {};
  for (const [key, field] of Object.entries(schema || {})) {
    if (field?.type === "object") out[key] = schemaDefaults(field.items);
    else if (field && Object.hasOwn(field, "default")) out[key] = structuredClone(field.default);
  }
  return out;
}

/** "1-10080" and the like, or null. Lists and objects keep their JSON form, shortened. */
function shortText(value, max = 48) {
  let text;
  if (value === undefined) text = "—";
  else if (typeof value === "string") text = value === "" ? "\u201c\u201d" : value;
  else if (Array.isArray(value)) text = value.length > 3 ? `[${value.length}]` : value.join(", ");
  else text = JSON.stringify(value);
  text = text.replace(/\s+/g, " ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export { shortText as shortValue };

function safeId(base) {
  const clean = String(base).replace(/[^A-Za-z0-9_-]/g, "_").replace(/^[^A-Za-z]/, "f$&");
  let id = clean;
  let n = 2;
  while (usedIds.has(id) || document.getElementById(id)) {
    id = `${clean}-${n}`;
    n += 1;
  }
  usedIds.add(id);
  return id;
}

function listToText(items) {
  // One item per line; an item that is itself a line break is written as the two
  // characters \n (split_words may hold "\n").
  return (Array.isArray(items) ? items : []).map((item) => (item === "\n" ? "\\n" : item)).join("\n");
}

function textToList(text) {
  const out = [];
  for (const line of text.split("\n")) {
    const item = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (!item.trim()) continue;
    out.push(item === "\\n" ? "\n" : item);
  }
  return out;
}

// --- one field ------------------------------------------------------------------------

class Field {
  constructor(form, path, spec) {
    this.form = form;
    this.path = path;
    this.spec = spec;
    this.type = spec.type;
    this.name = form.namePrefix ? `${form.namePrefix}.${path}` : path;
    this.id = safeId(`sf${form.serial}-${path}`);
    this.label = String(spec.description || path.split(".").pop());
    this.cache = { text: null, list: [] };
    this.overridden = true;
    this.build();
  }

  build() {
    const { spec, id } = this;
    const describedBy = [];
    let hint = null;
    if (spec.hint) {
      hint = el("p", { class: "hint sf-hint", id: `${id}-hint`, text: String(spec.hint) });
      describedBy.push(hint.id);
    }
    this.error = el("p", {
      class: "field-error",
      id: `${id}-error`,
      dataset: { errorFor: this.name },
      "aria-live": "polite",
    });
    this.describedBy = describedBy.join(" ");
    this.input = this.makeInput();
    if (this.describedBy) this.input.setAttribute("aria-describedby", this.describedBy);
    this.input.addEventListener(this.type === "bool" || this.input.tagName === "SELECT" ? "change" : "input", () =>
      this.form.edited(this),
    );
    if (this.type === "int") this.input.addEventListener("change", () => this.checkLocal(true));

    this.badge = el("span", { class: "badge badge-accent sf-badge", text: this.form.texts.changed, hidden: true });
    this.reset = el("button", {
      class: "btn btn-ghost sf-reset",
      type: "button",
      hidden: true,
      text: this.form.texts.reset,
    });
    this.reset.addEventListener("click", () => this.resetToReference());

    const head = el("div", { class: "sf-head" });
    if (this.type === "bool") {
      head.append(
        el("label", { class: "check sf-label", for: id }, this.input, el("span", { text: this.label })),
      );
    } else {
      head.append(el("label", { class: "label sf-label", for: id, text: this.label }));
    }
    if (this.form.mode === "override") {
      this.toggle = el("input", { type: "checkbox", id: `${id}-ovr`, class: "sf-override-input" });
      this.toggle.addEventListener("change", () => this.setOverridden(this.toggle.checked, true));
      head.append(
        el(
          "label",
          { class: "check sf-override", for: this.toggle.id },
          this.toggle,
          el("span", { text: this.form.texts.override }),
        ),
      );
    }
    // "Not default" and its reset sit under the input, so a marked field's input stays level
    // with its neighbours' (beside a long label they wrapped and pushed it down).
    this.marks = el("div", { class: "sf-marks", hidden: true }, this.badge, this.reset);

    const wide = this.type === "text" || this.type === "list";
    this.node = el(
      "div",
      { class: `sf-field sf-type-${this.type}${wide ? " sf-wide" : ""}`, dataset: { path: this.path } },
      head,
      this.type === "bool" ? null : this.input,
      this.marks,
      hint,
      this.error,
    );
  }

  makeInput() {
    const { spec, id, name } = this;
    if (this.type === "bool") return el("input", { type: "checkbox", id, name });
    if (this.type === "int") {
      const range = this.range();
      return el("input", {
        type: "number",
        class: "input sf-number",
        id,
        name,
        step: 1,
        inputmode: "numeric",
        min: range.min,
        max: range.max,
      });
    }
    if (this.type === "text") {
      return el("textarea", { class: "input textarea sf-textarea", id, name, rows: 8, spellcheck: "false" });
    }
    if (this.type === "list") {
      return el("textarea", {
        class: "input textarea mono sf-list",
        id,
        name,
        rows: 4,
        spellcheck: "false",
        autocomplete: "off",
        wrap: "off",
      });
    }
    if (Array.isArray(spec.options) && spec.options.length) {
      const select = el("select", { class: "input select", id, name });
      spec.options.forEach((option, index) => {
        const label = Array.isArray(spec.labels) ? spec.labels[index] : null;
        const text = label ? `${label} (${option})` : String(option);
        select.append(el("option", { value: String(option), text }));
      });
      return select;
    }
    return el("input", { type: "text", class: "input", id, name, autocomplete: "off", spellcheck: "false" });
  }

  range() {
    const { spec } = this;
    const min = spec.min ?? spec.slider?.min;
    const max = spec.max ?? spec.slider?.max;
    return { min: Number.isFinite(min) ? min : null, max: Number.isFinite(max) ? max : null };
  }

  read() {
    const input = this.input;
    if (this.type === "bool") return input.checked;
    if (this.type === "int") {
      const text = input.value.trim();
      // An invalid entry reads as "" in a number input; the server (or checkLocal) says why.
      if (text === "" || !/^[+-]?\d+$/.test(text)) return text;
      const number = Number(text);
      return Number.isSafeInteger(number) ? number : text;
    }
    if (this.type === "list") {
      if (this.cache.text !== input.value) {
        this.cache = { text: input.value, list: textToList(input.value) };
      }
      return this.cache.list.slice();
    }
    return input.value;
  }

  write(value) {
    const input = this.input;
    if (this.type === "bool") input.checked = Boolean(value);
    else if (this.type === "list") {
      const text = listToText(value);
      input.value = text;
      this.cache = { text: null, list: [] };
      input.rows = Math.min(12, Math.max(3, (Array.isArray(value) ? value.length : 0) + 1));
    } else if (input.tagName === "SELECT") {
      const text = value === undefined || value === null ? "" : String(value);
      if (![...input.options].some((option) => option.value === text)) {
        input.append(el("option", { value: text, text })); // keep a value we do not know
      }
      input.value = text;
    } else input.value = value === undefined || value === null ? "" : String(value);
  }

  referenceValue() {
    return getPath(this.form.reference, this.path);
  }

  isChanged() {
    return this.overridden && !sameValue(this.read(), this.referenceValue());
  }

  refresh() {
    const changed = this.isChanged();
    this.node.classList.toggle("is-changed", changed);
    this.node.classList.toggle("is-overridden", this.form.mode === "override" && this.overridden);
    this.badge.hidden = !changed;
    this.reset.hidden = this.form.mode === "override" ? !this.overridden : !changed;
    this.marks.hidden = this.badge.hidden && this.reset.hidden;
    if (changed || this.form.mode === "override") {
      const ref = shortText(this.referenceValue());
      this.reset.title = this.form.texts.resetTo(ref);
      this.reset.setAttribute("aria-label", `${this.form.texts.reset}: ${this.label} (${this.form.texts.resetTo(ref)})`);
    }
  }

  setOverridden(on, byUser) {
    this.overridden = on;
    if (this.toggle) this.toggle.checked = on;
    this.input.disabled = !on;
    if (!on) this.write(this.referenceValue());
    this.refresh();
    if (byUser) {
      if (on) this.input.focus();
      this.form.edited(this);
    }
  }

  resetToReference() {
    if (this.form.mode === "override") this.setOverridden(false, true);
    else {
      this.write(this.referenceValue());
      this.setError("");
      this.form.edited(this);
    }
    (this.form.mode === "override" ? this.toggle : this.input).focus();
  }

  /** A message when the value is clearly wrong here (not a whole number, out of range). */
  localProblem() {
    if (this.type !== "int" || !this.overridden) return "";
    const value = this.read();
    const { min, max } = this.range();
    if (typeof value !== "number") return this.form.texts.notInteger;
    if ((min !== null && value < min) || (max !== null && value > max)) {
      return this.form.texts.range(min ?? "…", max ?? "…");
    }
    return "";
  }

  checkLocal(show) {
    const problem = this.localProblem();
    if (show) this.setError(problem);
    return problem;
  }

  setError(message) {
    this.error.textContent = message || "";
    if (message) {
      this.input.setAttribute("aria-invalid", "true");
      this.input.setAttribute("aria-describedby", `${this.describedBy} ${this.error.id}`.trim());
      this.node.classList.add("has-error");
      this.node.hidden = false;
    } else {
      this.input.removeAttribute("aria-invalid");
      if (this.describedBy) this.input.setAttribute("aria-describedby", this.describedBy);
      else this.input.removeAttribute("aria-describedby");
      this.node.classList.remove("has-error");
    }
  }
}

// --- the form -------------------------------------------------------------------------

function defaultTexts() {
  return {
    changed: tr("form.changed"),
    reset: tr("common.reset"),
    override: tr("form.override"),
    notInteger: tr("form.not_integer"),
    resetTo: (value) => tr("form.reset_to", { value }),
    range: (min, max) => tr("form.range", { min, max }),
  };
}

export function renderSchemaForm(
  container,
  {
    schema,
    values,
    reference,
    namePrefix = "",
    skip = [],
    mode = "full",
    lang = "zh",
    onChange,
    texts = {},
  } = {},
) {
  formCount += 1;
  const form = {
    serial: formCount,
    namePrefix,
    mode,
    lang,
    texts: { ...defaultTexts(), ...texts },
    reference: structuredClone(reference ?? {}),
    fields: [],
    byPath: new Map(),
    groups: new Map(),
    edited(field) {
      if (field) {
        if (field.error.textContent && !field.localProblem()) field.setError("");
        field.refresh();
      }
      applyConditions();
      onChange?.(api);
    },
  };
  const skipped = new Set(skip);
  const formError = el("div", { class: "field-error sf-form-error", role: "alert", dataset: { errorFor: namePrefix } });
  const root = el("div", { class: `sf-form sf-mode-${mode}` }, formError);

  function build(items, parentPath, parentNode) {
    const grid = el("div", { class: "sf-fields" });
    for (const [key, spec] of Object.entries(items || {})) {
      const path = parentPath ? `${parentPath}.${key}` : key;
      if (skipped.has(path) || !spec || typeof spec !== "object") continue;
      if (spec.type === "object") {
        const legendText = String(spec.description || key);
        const error = el("p", {
          class: "field-error",
          id: safeId(`sf${form.serial}-${path}-error`),
          dataset: { errorFor: namePrefix ? `${namePrefix}.${path}` : path },
        });
        const fieldset = el(
          "fieldset",
          { class: "sf-group", dataset: { path } },
          el("legend", { class: "sf-legend", text: legendText }),
          spec.hint ? el("p", { class: "hint sf-hint", text: String(spec.hint) }) : null,
          error,
        );
        form.groups.set(path, { node: fieldset, error, items: spec.items || {} });
        build(spec.items, path, fieldset);
        grid.append(fieldset);
        continue;
      }
      const field = new Field(form, path, spec);
      form.fields.push(field);
      form.byPath.set(path, field);
      grid.append(field.node);
    }
    parentNode.append(grid);
  }

  function applyConditions() {
    for (const field of form.fields) {
      const condition = field.spec.condition;
      if (!condition || typeof condition !== "object") continue;
      const parent = field.path.includes(".") ? field.path.slice(0, field.path.lastIndexOf(".")) : "";
      const met = Object.entries(condition).every(([key, expected]) => {
        const other = form.byPath.get(parent ? `${parent}.${key}` : key);
        return !other || sameValue(other.read(), expected);
      });
      field.node.hidden = !met && !field.error.textContent;
      field.node.classList.toggle("sf-inactive", !met);
    }
  }

  function setValues(newValues, newReference) {
    if (newReference !== undefined) form.reference = structuredClone(newReference ?? {});
    const source = newValues ?? {};
    for (const field of form.fields) {
      if (mode === "override") {
        const own = getPath(source, field.path);
        field.overridden = own !== undefined;
        field.write(own !== undefined ? own : field.referenceValue());
        field.setOverridden(field.overridden, false);
      } else {
        const own = getPath(source, field.path);
        field.write(own !== undefined ? own : field.referenceValue());
        field.refresh();
      }
    }
    applyConditions();
  }

  function value() {
    const out = {};
    for (const field of form.fields) {
      if (mode === "override" && !field.overridden) continue;
      setPath(out, field.path, field.read());
    }
    return out;
  }

  function changed() {
    const out = [];
    for (const field of form.fields) {
      if (!field.isChanged()) continue;
      out.push({ path: field.path, from: field.referenceValue(), to: field.read(), label: field.label });
    }
    return out;
  }

  function clearErrors() {
    formError.textContent = "";
    for (const field of form.fields) field.setError("");
    for (const group of form.groups.values()) group.error.textContent = "";
    applyConditions();
  }

  /** The field an error belongs to: the path itself, or for "a.b: min_x ... max_y" the named child. */
  function target(path, message) {
    if (form.byPath.has(path)) return form.byPath.get(path);
    const group = form.groups.get(path);
    if (group) {
      const first = /^(\w+)/.exec(message)?.[1];
      if (first && Object.hasOwn(group.items, first)) {
        return form.byPath.get(`${path}.${first}`) || group;
      }
      return group;
    }
    return null;
  }

  function showErrors(list) {
    clearErrors();
    const general = [];
    let first = null;
    const byTarget = new Map();
    for (const { path, message } of Array.isArray(list) ? list : []) {
      const where = path ? target(path, message) : null;
      if (!where) {
        general.push(path ? `${path}: ${message}` : message);
        continue;
      }
      const messages = byTarget.get(where) || [];
      messages.push(message);
      byTarget.set(where, messages);
    }
    for (const [where, messages] of byTarget) {
      const text = messages.join(" · ");
      if (where instanceof Field) {
        where.setError(text);
        if (!first || position(where.node, first.node) < 0) first = where;
      } else {
        where.error.textContent = text;
      }
    }
    formError.textContent = general.join("\n");
    applyConditions();
    if (first) {
      first.node.hidden = false;
      for (let at = first.node.closest("details"); at; at = at.parentElement?.closest("details")) at.open = true;
      (first.input.disabled && first.toggle ? first.toggle : first.input).focus();
    } else if (general.length || byTarget.size) {
      formError.scrollIntoView?.({ block: "nearest" });
    }
    return general;
  }

  function position(a, b) {
    // Negative when a comes before b in the document.
    return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
  }

  /** Client-side problems ([{path, message}]): not whole numbers, out of range. Shown inline. */
  function check() {
    const problems = [];
    for (const field of form.fields) {
      const message = field.localProblem();
      if (message) problems.push({ path: field.path, message });
    }
    return problems;
  }

  build(schema, "", root);
  container.replaceChildren(root);
  const api = {
    value,
    changed,
    showErrors,
    clearErrors,
    setValues,
    check,
    field: (path) => form.byPath.get(path)?.input ?? null,
    element: root,
  };
  setValues(values, undefined);
  return api;
}
