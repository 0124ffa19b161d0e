// Help page: server-rendered; this only keeps the live badge current and marks the page ready.
const { connectEvents } = await import(document.getElementById("common-js").src);

connectEvents({});
document.documentElement.dataset.pageReady = "1";
