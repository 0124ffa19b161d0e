// Layout helpers every page gets (base.html loads this module once): the header's height
// for bars that stick below it, list tables as cards on a phone, sections folded on a phone.
// No page imports it: it only reads the markup (classes and data- attributes, docs/panel-pages.md).

// Sticky bars below the header (the Config page's save bar) sit at --topbar-h: the header's
// height while it is sticky, 0 where it scrolls away (phones). It wraps, so it is measured.
function initTopbarHeight() {
  const bar = document.querySelector(".topbar");
  if (!bar) return;
  const measure = () => {
    const sticky = getComputedStyle(bar).position === "sticky";
    document.documentElement.style.setProperty("--topbar-h", `${sticky ? bar.offsetHeight : 0}px`);
  };
  measure();
  if (typeof ResizeObserver === "function") new ResizeObserver(measure).observe(bar);
  window.addEventListener("resize", measure);
}

// Tables marked .table-cards become one card per row on a phone (app.css); each cell
// shows its column's name there, from data-label, set here for every row, also live ones.
function labelCells(table) {
  const names = [...(table.tHead?.rows[0]?.cells || [])].map((th) => th.textContent.trim());
  for (const body of table.tBodies) {
    for (const row of body.rows) {
      [...row.cells].forEach((cell, index) => {
        if (cell.colSpan === 1 && names[index] && !cell.dataset.label) cell.dataset.label = names[index];
      });
    }
  }
}

function initCardTables() {
  for (const table of document.querySelectorAll("table.table-cards")) {
    labelCells(table);
    new MutationObserver(() => labelCells(table)).observe(table, { childList: true, subtree: true });
  }
}

/** Open every <details> around `node`, so it can be seen and focused. */
function unfold(node) {
  for (let at = node?.closest?.("details"); at; at = at.parentElement?.closest("details")) {
    at.open = true;
  }
}

// <details data-fold-phone open>: a secondary section, open on wide screens and folded on
// phones (shorter pages); a link to something inside it opens it.
function initFolds() {
  const folds = document.querySelectorAll("details[data-fold-phone]");
  if (!folds.length) return;
  if (window.matchMedia?.("(max-width: 720px)").matches) {
    for (const fold of folds) fold.open = false;
  }
  const openFor = (hash) => {
    if (!hash || hash.length < 2) return;
    let id = hash.slice(1);
    try {
      id = decodeURIComponent(id);
    } catch {
      // keep it as written
    }
    unfold(document.getElementById(id));
  };
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest?.('a[href^="#"]');
      if (link) openFor(link.getAttribute("href"));
    },
    true,
  );
  window.addEventListener("hashchange", () => openFor(location.hash));
  openFor(location.hash);
}

initTopbarHeight();
initCardTables();
initFolds();
