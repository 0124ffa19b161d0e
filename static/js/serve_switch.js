// The Serve switch (templates/_serve.html renders the same on the server): a real checkbox
// with a label in each Sessions row or card and at the top of the session page. Switching
// calls PUT /api/sessions/{umo}/served, which puts the chat on its kind's session_list in
// the plugin config (or takes it off) and answers the session view with its plan.
const { tr, el, api, toast, errorText, timeTag } = await import(
  document.getElementById("common-js").src
);

const kindName = (view) => tr(`serve.kind.${view.kind}`);
const offId = (view) => `serve-off-${encodeURIComponent(view.umo)}`;

function blocked(view) {
  return !view.served && view.serve?.why === "kind_off";
}

function configLink(view, withTitle) {
  const attrs = { id: offId(view), href: "/config", text: tr("serve.config_link") };
  if (withTitle) {
    attrs.class = "serve-config";
    attrs.title = tr("serve.why.kind_off", { kind: kindName(view), group: view.serve.group });
  }
  return el("a", attrs);
}

/** The switch; in a row also a paused badge and the link to Config when it cannot serve. */
export function serveSwitch(view, { big = false } = {}) {
  const input = el("input", {
    type: "checkbox",
    role: "switch",
    dataset: { serve: view.umo },
    "aria-label": tr("serve.switch_label", { name: view.name || view.umo }),
  });
  input.checked = Boolean(view.served);
  if (blocked(view)) {
    input.disabled = true;
    input.setAttribute("aria-describedby", offId(view));
  }
  const label = el(
    "label",
    { class: big ? "serve-switch serve-switch-big" : "serve-switch" },
    input,
    el("span", { class: "serve-text", "aria-hidden": "true", text: tr("serve.switch") }),
  );
  const parts = [label];
  if (view.paused && !big) {
    parts.push(" ", el("span", { class: "badge badge-warn", text: tr("phase.paused") }));
  }
  if (blocked(view) && !big) parts.push(" ", configLink(view, true));
  return parts;
}

/** Why the chat is served or not, and how to change it. */
export function serveWhy(view) {
  const why = view.serve?.why || "not_listed";
  const text = tr(`serve.why.${why}`, { kind: kindName(view), group: view.serve?.group || "" });
  return why === "kind_off" ? [text, " ", configLink(view, false)] : [text];
}

/** What happens next in a served chat: the plan, or why there is none. */
export function serveNext(view) {
  if (!view.served) return [];
  if (view.phase === "planned" && view.next_at != null) {
    return [tr("serve.next.planned"), " ", timeTag(view.next_at)];
  }
  if (view.phase === "silence" && view.next_at != null) {
    return [tr("serve.next.silence"), " ", timeTag(view.next_at)];
  }
  return view.why_no_plan ? [tr(`serve.next.${view.why_no_plan}`)] : [];
}

/** Switch ``umo`` on or off; the fresh session view, or null (the error was shown). */
export async function setServed(umo, served) {
  try {
    const view = await api(`/api/sessions/${encodeURIComponent(umo)}/served`, {
      method: "PUT",
      body: { served },
    });
    toast(tr(served ? "serve.done.on" : "serve.done.off"), "ok");
    return view;
  } catch (error) {
    toast(tr("serve.failed", { message: errorText(error) }), "error");
    return null;
  }
}

/** Handle every switch inside ``root`` (rows come and go): ``onView`` gets the new view. */
export function wireSwitches(root, onView) {
  root.addEventListener("change", async (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.serve) return;
    const wanted = input.checked;
    input.disabled = true;
    input.setAttribute("aria-busy", "true");
    const view = await setServed(input.dataset.serve, wanted);
    input.removeAttribute("aria-busy");
    input.disabled = false;
    if (view) onView(view);
    else input.checked = !wanted;
  });
}
