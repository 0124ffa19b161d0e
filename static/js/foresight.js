// "See it before it happens": rendering the forward view (the session page and the
// Upcoming page share it) and the session page's preview and draft. Texts come from
// web/texts/foresight.py; everything from chats and models is set as text, never HTML.
const { tr, el, api, errorText, timeTag, formatTime, reasonText } = await import(
  document.getElementById("common-js").src
);

/** The reasons of a gap, in the page's language, joined. */
export function reasonsText(reasons) {
  return (reasons || []).map((code) => tr(`fs.why.${code}`)).join(" · ");
}

/** A session's forward view (GET .../forecast): its messages, then its long gaps. */
export function forecastBlock(view, days) {
  const wrap = el("div", { class: "fs-forecast" });
  const speaks = view.speaks || [];
  if (!speaks.length) wrap.append(el("p", { class: "muted", text: tr("fs.fc.none", { n: days }) }));
  else {
    wrap.append(el("h3", { class: "fs-sub", text: tr("fs.fc.speaks") }));
    const list = el("ol", { class: "fs-speaks" });
    for (const speak of speaks) {
      list.append(
        el(
          "li",
          { dataset: { at: String(speak.at) } },
          timeTag(speak.at),
          el("span", { class: "fs-why", text: reasonText(speak.why) }),
        ),
      );
    }
    wrap.append(list);
  }
  if (view.truncated) wrap.append(el("p", { class: "muted", text: tr("fs.fc.more") }));
  const long = (view.gaps || []).filter((gap) => gap.long);
  if (long.length) {
    wrap.append(el("h3", { class: "fs-sub", text: tr("fs.fc.gaps") }));
    const list = el("ul", { class: "fs-gaps" });
    for (const gap of long) {
      const span = tr("fs.fc.gap", {
        from: formatTime(gap.from),
        to: formatTime(gap.to),
        hours: gap.hours,
      });
      list.append(
        el(
          "li",
          { dataset: { reasons: gap.reasons.join(" ") } },
          el("span", { class: "fs-span", text: span }),
          el("span", { class: "fs-reasons", text: reasonsText(gap.reasons) }),
        ),
      );
    }
    wrap.append(list);
  }
  return wrap;
}

// ---------- the session page's section ----------

function roleLabel(message, index, count) {
  if (index === count - 1 && message.role === "user") return tr("fs.role.prompt");
  const key = `fs.role.${message.role}`;
  const text = tr(key);
  return text === key ? message.role : text;
}

function contentText(content) {
  if (typeof content === "string") return content;
  return JSON.stringify(content, null, 2);
}

function previewBlock(view) {
  const wrap = el("div", { class: "fs-preview-body" });
  if (view.problem) {
    wrap.append(
      el("p", { class: "banner", text: tr("fs.preview.problem", { reason: reasonText(view.problem.reason) }) }),
    );
  }
  const facts = el("ul", { class: "fs-facts" });
  if (view.providers?.length) {
    const list = view.providers.join(" → ") + (view.model ? ` (${view.model})` : "");
    facts.append(el("li", { text: tr("fs.preview.models", { list }) }));
  }
  facts.append(
    el("li", {
      text: view.tools?.length
        ? tr("fs.preview.tools", { list: view.tools.join(", ") })
        : tr("fs.preview.no_tools"),
    }),
  );
  if (view.missing?.length) {
    facts.append(el("li", { text: tr("fs.preview.missing", { list: view.missing.join(", ") }) }));
  }
  wrap.append(facts);
  const list = el("ol", { class: "fs-messages" });
  const count = view.messages.length;
  view.messages.forEach((message, index) => {
    list.append(
      el(
        "li",
        { class: `fs-msg fs-role-${message.role}`, dataset: { role: message.role } },
        el("span", { class: "badge", text: roleLabel(message, index, count) }),
        el("pre", { class: "fs-content", text: contentText(message.content) }),
      ),
    );
  });
  wrap.append(list);
  return wrap;
}

function draftBlock(draft) {
  if (!draft.ok) {
    const text = tr("fs.draft.failed", { reason: reasonText(draft.reason) });
    const parts = [el("p", { class: "banner banner-danger", text })];
    if (draft.advice) parts.push(el("p", { class: "hint", text: draft.advice }));
    return el("div", { class: "fs-draft-body" }, parts);
  }
  const by = tr("fs.draft.by", { provider: draft.provider || "—", model: draft.model || "—" });
  return el(
    "div",
    { class: "fs-draft-body" },
    draft.declined ? el("p", { class: "banner", text: tr("fs.draft.declined") }) : null,
    el("pre", { class: "fs-content fs-draft-text", text: draft.text }),
    el("p", { class: "muted fs-draft-by", text: by }),
  );
}

async function run(button, busyKey, output, work) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = tr(busyKey);
  output.setAttribute("aria-busy", "true");
  try {
    output.replaceChildren(await work());
  } catch (error) {
    output.replaceChildren(el("p", { class: "banner banner-danger", text: errorText(error) }));
  } finally {
    button.disabled = false;
    button.textContent = label;
    output.removeAttribute("aria-busy");
  }
}

/** Wire the session page's section (templates/_session_foresight.html), if present. */
export function initSessionForesight(umo) {
  const root = document.getElementById("foresight");
  if (!root) return;
  const base = `/api/sessions/${encodeURIComponent(umo)}`;
  const days = Number(root.dataset.days || 7);
  const previewButton = document.getElementById("fs-preview-show");
  const draftButton = document.getElementById("fs-draft");
  const forecastOut = document.getElementById("fs-forecast");
  previewButton.addEventListener("click", () =>
    run(previewButton, "fs.preview.loading", document.getElementById("fs-preview"), async () => {
      const view = await api(`${base}/preview`);
      previewButton.textContent = tr("fs.preview.refresh");
      return previewBlock(view);
    }),
  );
  draftButton.addEventListener("click", () =>
    run(draftButton, "fs.draft.busy", document.getElementById("fs-draft-out"), async () =>
      draftBlock(await api(`${base}/draft`, { method: "POST" })),
    ),
  );
  const loadForecast = async () => {
    forecastOut.setAttribute("aria-busy", "true");
    try {
      forecastOut.replaceChildren(forecastBlock(await api(`${base}/forecast?days=${days}`), days));
    } catch (error) {
      forecastOut.replaceChildren(el("p", { class: "banner banner-danger", text: errorText(error) }));
    } finally {
      forecastOut.removeAttribute("aria-busy");
    }
  };
  document.getElementById("fs-forecast-refresh")?.addEventListener("click", loadForecast);
  loadForecast();
}
