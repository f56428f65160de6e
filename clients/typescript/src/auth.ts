import type { Interceptor } from "@connectrpc/connect";

/** Adds `authorization: Bearer <key>` to every call: the runtime refuses any RPC without it. */
export function bearerAuth(apiKey: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
}
