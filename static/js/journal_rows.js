// Journal page helpers (journal.js): the copy button's icon, the "Replaced" marks on plans a
// newer plan replaced, and the session filter's picker fed by /api/sessions.
const { tr, el, api, shortUmo, debounce } = await import(document.getElementById("common-js").src);

const PICKER_SIZE = 25; // sessions offered by the filter's picker
// Entries that put a new plan in place of the one before, and the one that carries it out.
const NEW_PLAN = new Set(["planned", "silence_started", "retry", "auto_trigger"]);
const PLAN_END = new Set([...NEW_PLAN, "fired"]);
const SVG = "http://www.w3.org/2000/svg";

/** The copy icon of _icons.html, built without HTML parsing. */
export function copyIcon() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({
    class: "icon icon-copy", viewBox: "0 0 24 24", width: 18, height: 18, "aria-hidden": "true",
    fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round",
  })) svg.setAttribute(name, String(value)); // prettier-ignore
  const rect = document.createElementNS(SVG, "rect");
  for (const [name, value] of Object.entries({ x: 9, y: 9, width: 11, height: 11, rx: 2 })) {
    rect.setAttribute(name, String(value));
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M5 15V6a2 2 0 0 1 2-2h9");
  svg.append(rect, path);
  return svg;
}

function rowTime(row, selector) {
  const node = row.querySelector(selector);
  const value = node ? Number(node.dataset.ts) : NaN;
  return Number.isFinite(value) ? value : null;
}

/** Mark the plans a newer plan replaced before their time came (newest rows first, so
 * for each row the entry after it in time has been seen already). */
export function markReplaced(tbody) {
  const after = new Map(); // umo -> {kind, at} of the next plan-related entry in time
  for (const row of tbody.rows) {
    const { kind, umo } = row.dataset;
    if (!umo || !PLAN_END.has(kind)) continue;
    const at = rowTime(row, ".jr-time time[data-ts]");
    let replaced = false;
    if (kind === "planned") {
      const next = after.get(umo);
      const planAt = rowTime(row, '.jr-d[data-key="at"] time[data-ts]');
      replaced = !!next && NEW_PLAN.has(next.kind) && (planAt === null || next.at < planAt);
    }
    if (row.classList.contains("jr-replaced") !== replaced) {
      row.classList.toggle("jr-replaced", replaced);
      row.querySelector(".jr-replaced-badge")?.remove();
      if (replaced) {
        row.querySelector(".jr-kind")?.append(
          el("span", {
            class: "badge jr-replaced-badge",
            text: tr("journal.replaced"),
            title: tr("journal.replaced_title"),
          }),
        );
      }
    }
    after.set(umo, { kind, at });
  }
}

/** Offer the sessions matching what is typed in `input` (names or ids) in `picker`, a
 * <datalist>; the field still takes any typed id when the engine is down. */
export function attachSessionPicker(input, picker) {
  let pickerFor = null;
  const fillPicker = debounce(async () => {
    const text = input.value.trim();
    if (text === pickerFor) return;
    pickerFor = text;
    const params = new URLSearchParams({ size: PICKER_SIZE, sort: "-last_activity_at" });
    if (text) params.set("q", text);
    try {
      const page = await api(`/api/sessions?${params}`);
      if (pickerFor !== text) return;
      picker.replaceChildren(
        ...(page.items || []).map((view) =>
          el("option", { value: view.umo, label: view.name || shortUmo(view.umo) }),
        ),
      );
    } catch {
      pickerFor = null; // engine down: the field still takes a typed id
    }
  }, 200);
  input.addEventListener("focus", fillPicker);
  input.addEventListener("input", fillPicker);
}
