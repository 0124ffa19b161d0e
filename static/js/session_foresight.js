// The session page's preview, draft and forward view (static/js/foresight.js).
const { initSessionForesight } = await import(document.getElementById("foresight-js").src);
const data = JSON.parse(document.getElementById("session-data").textContent);
initSessionForesight(data.umo);
