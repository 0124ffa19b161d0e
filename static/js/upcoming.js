// The Upcoming page: the forward view of every served session, a page at a time
// (GET /api/forecast; rendering shared with the session page in foresight.js).
const { tr, el, api, errorText, timeTag, shortUmo, connectEvents } = await import(
  document.getElementById("common-js").src
);
const { forecastBlock, reasonsText } = await import(document.getElementById("foresight-js").src);

const root = document.getElementById("upcoming");
const list = document.getElementById("upcoming-list");
const days = Number(root.dataset.days || 7);
const size = Number(root.dataset.size || 20);
let page = 1;

function sessionRow(view) {
  const href = `/session?umo=${encodeURIComponent(view.umo)}`;
  const name = view.name || shortUmo(view.umo);
  const first = view.speaks?.[0];
  const tail = view.gaps?.length ? view.gaps[view.gaps.length - 1] : null;
  const summary = el(
    "summary",
    { class: "fs-row" },
    el("a", { href, class: "fs-name", text: name }),
    el("span", { class: "badge", text: tr(view.kind === "group" ? "kind.group" : "kind.private") }),
    el("span", { class: "fs-next" }, first ? timeTag(first.at) : el("span", { class: "muted", text: "—" })),
    el("span", { class: "muted", text: tr("fs.up.count", { n: view.speaks.length }) }),
    tail ? el("span", { class: "fs-reasons", text: tr("fs.up.until", { reasons: reasonsText(tail.reasons) }) }) : null,
  );
  return el("li", { dataset: { umo: view.umo } }, el("details", { class: "fs-details" }, summary, forecastBlock(view, days)));
}

async function load() {
  list.setAttribute("aria-busy", "true");
  try {
    const data = await api(`/api/forecast?days=${days}&page=${page}&size=${size}`);
    const pages = Math.max(1, Math.ceil(data.total / size));
    list.replaceChildren(...data.items.map(sessionRow));
    if (!data.items.length) list.append(el("li", { class: "muted", text: tr("fs.up.empty") }));
    document.getElementById("upcoming-page").textContent = tr("fs.up.page", {
      page,
      pages,
      total: data.total,
    });
    document.getElementById("upcoming-prev").disabled = page <= 1;
    document.getElementById("upcoming-next").disabled = page >= pages;
  } catch (error) {
    list.replaceChildren(el("li", { class: "banner banner-danger", text: errorText(error) }));
  } finally {
    list.removeAttribute("aria-busy");
  }
}

document.getElementById("upcoming-prev").addEventListener("click", () => {
  page = Math.max(1, page - 1);
  load();
});
document.getElementById("upcoming-next").addEventListener("click", () => {
  page += 1;
  load();
});
await load();
let connected = false;
connectEvents({
  hello() {
    if (connected) load(); // back after a disconnect: plans may have changed meanwhile
    connected = true;
  },
  event() {},
});
document.documentElement.dataset.pageReady = "1";
