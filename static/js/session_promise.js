// Session page: the bot's pending promise (the sentence it said and when it fires) and its
// "Cancel promise" button (POST /api/sessions/{umo}/promise/cancel; the plan is drawn again).
const { tr, api, toast, errorText, timeTag } = await import(
  document.getElementById("common-js").src
);

const $ = (id) => document.getElementById(id);

/** Show the view's promise, or hide the row when there is none. */
export function renderPromise(view) {
  const row = $("session-promise-row");
  if (!row) return;
  const promise = view.promise;
  row.hidden = !promise;
  if (!promise) return;
  $("session-promise-sentence").textContent = promise.sentence || "";
  $("session-promise-at").replaceChildren(timeTag(promise.at));
}

/** Wire the button: ``base`` is the session's API path, ``onView`` gets the new view. */
export function wirePromiseCancel(base, onView, onFailure) {
  const button = $("promise-cancel");
  if (!button) return;
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    try {
      onView(await api(`${base}/promise/cancel`, { method: "POST" }));
      toast(tr("session.done.promise_cancel"), "ok");
    } catch (error) {
      toast(errorText(error), "error");
      onFailure();
    } finally {
      button.removeAttribute("aria-busy");
      button.disabled = false;
    }
  });
}
