// The coordinator's HTTP API as the page uses it (docs/service.md): same origin, JSON bodies.
// Calls that need a credential (docs/security.md) get 401 without one: the page then asks for the
// token in a dialog, keeps it for the tab (sessionStorage) and sends it as a bearer token.

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const TOKEN_KEY = "wafersim-token";

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

function storeToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // A page without storage asks again next time.
  }
}

// Shows the token dialog (index.html's #token-dialog) with the service's reason; resolves to the
// token typed, or "" when the user gives up.
function askToken(reason) {
  const dialog = document.getElementById("token-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve("");
  const input = dialog.querySelector("input");
  dialog.querySelector("[data-testid=token-reason]").textContent = reason;
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? input.value.trim() : ""), { once: true });
    dialog.showModal();
    input.focus();
  });
}

async function send(path, method, body, token) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { response, parsed };
}

function errorOf(response, parsed) {
  const message = parsed?.error?.message ?? (typeof parsed === "string" ? parsed : `HTTP ${response.status}`);
  return new HttpError(response.status, message);
}

// GET or POST; resolves to the parsed body, rejects with HttpError (the service's own message).
export async function api(path, { method = "GET", body } = {}) {
  let token = storedToken();
  for (;;) {
    const { response, parsed } = await send(path, method, body, token);
    if (response.ok) return parsed;
    const error = errorOf(response, parsed);
    if (response.status !== 401) throw error;
    storeToken("");
    token = await askToken(error.message);
    if (!token) throw error;
    storeToken(token);
  }
}

export const ENDED = new Set(["SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT"]);
