// Login page: POST /api/login as JSON, a translated message for every failure, then `next`.
const { tr, safeNext } = await import(document.getElementById("common-js").src);

const form = document.getElementById("login-form");
const input = document.getElementById("password");
const button = document.getElementById("login-btn");
const errorBox = document.getElementById("login-error");
const toggle = document.getElementById("toggle-password");

let busy = false;
let lockedUntil = 0;
let countdown = null;

function target() {
  const fromUrl = new URLSearchParams(window.location.search).get("next");
  return safeNext(fromUrl ?? form.dataset.next ?? "/overview");
}

function showError(message) {
  errorBox.textContent = message;
  input.setAttribute("aria-invalid", "true");
}

function clearError() {
  errorBox.textContent = "";
  input.removeAttribute("aria-invalid");
}

function setBusy(value) {
  busy = value;
  button.disabled = value || Date.now() < lockedUntil;
  button.textContent = tr(value ? "login.busy" : "login.submit");
  form.setAttribute("aria-busy", String(value));
}

function startLockout(seconds) {
  lockedUntil = Date.now() + seconds * 1000;
  clearInterval(countdown);
  const tick = () => {
    const left = Math.ceil((lockedUntil - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(countdown);
      countdown = null;
      clearError();
      button.disabled = busy;
      return;
    }
    showError(tr("login.err.rate_limited", { n: left }));
    button.disabled = true;
  };
  tick();
  countdown = setInterval(tick, 1000);
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

async function submit(event) {
  event.preventDefault();
  if (busy || Date.now() < lockedUntil) return;
  if (input.value.length === 0) {
    showError(tr("login.err.empty"));
    input.focus();
    return;
  }
  clearError();
  setBusy(true);
  let response;
  try {
    response = await fetch("/api/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ password: input.value }),
    });
  } catch {
    setBusy(false);
    showError(tr("login.err.network"));
    return;
  }
  if (response.ok) {
    window.location.assign(target());
    return;
  }
  const body = await readJson(response);
  setBusy(false);
  if (response.status === 429) {
    const header = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    const seconds = Number.isFinite(header) ? header : Number(body.retry_after) || 60;
    startLockout(Math.max(1, seconds));
  } else if (response.status === 401) {
    showError(tr("login.err.bad_password"));
  } else if (response.status === 400 || response.status === 422) {
    showError(tr("login.err.bad_request"));
  } else {
    showError(tr("login.err.server", { status: response.status }));
  }
  input.focus();
  input.select();
}

toggle.addEventListener("click", () => {
  const show = input.type === "password";
  input.type = show ? "text" : "password";
  toggle.setAttribute("aria-pressed", String(show));
  toggle.textContent = tr(show ? "login.hide" : "login.show");
  input.focus();
});

input.addEventListener("input", () => {
  if (Date.now() >= lockedUntil) clearError();
});

form.addEventListener("submit", submit);

document.documentElement.dataset.pageReady = "1";
