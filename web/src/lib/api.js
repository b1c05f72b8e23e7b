// The coordinator's HTTP API as the page uses it (docs/service.md): same origin, JSON bodies.

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// GET or POST; resolves to the parsed body, rejects with HttpError (the service's own message).
export async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
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
  if (!response.ok) {
    const message = parsed?.error?.message ?? (typeof parsed === "string" ? parsed : `HTTP ${response.status}`);
    throw new HttpError(response.status, message);
  }
  return parsed;
}

export const ENDED = new Set(["SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT"]);
