import type { RpcStatus } from "./types";

// A refused call: the HTTP status and the google.rpc.Status the runtime answered with.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  static async from(response: Response): Promise<ApiError> {
    let message = `${response.status} ${response.statusText}`.trim();
    let reason: string | undefined;
    try {
      const body = (await response.json()) as RpcStatus;
      if (body.message) message = body.message;
      reason = body.details?.find((d) => d.reason)?.reason;
    } catch {
      // not JSON: keep the status line
    }
    return new ApiError(response.status, message, reason);
  }
}

export function authHeaders(key: string): Record<string, string> {
  return { Authorization: `Bearer ${key}` };
}

export interface Api {
  key: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
}

// Calls on the page's own origin with the key; a 401 also tells onUnauthorized (the key was revoked).
export function createApi(key: string, onUnauthorized: () => void): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...authHeaders(key), Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    if (!response.ok) {
      const error = await ApiError.from(response);
      if (response.status === 401) onUnauthorized();
      throw error;
    }
    return (await response.json()) as T;
  }
  return {
    key,
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
    del: (path) => call("DELETE", path),
  };
}

// Checks a key with the cheapest call that needs one.
export async function checkKey(key: string): Promise<void> {
  const response = await fetch("/sessions?pageSize=1", { headers: authHeaders(key), cache: "no-store" });
  if (!response.ok) throw await ApiError.from(response);
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.reason ? `${error.message} (${error.reason})` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
