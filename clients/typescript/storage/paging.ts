// ListAllSessions' order and page tokens: newest first, ties broken by id, and a token that is the last
// listed position, so sessions created during a walk never shift the pages that follow.
import { badRequest } from "./errors.js";
import type { Session } from "./sessions.js";

export interface Cursor {
  createdUs: bigint;
  sessionId: string;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

export function pageSize(requested: number): number {
  if (requested < 0) {
    throw badRequest([{ field: "page_size", description: "must not be negative", reason: "INVALID_PAGE_SIZE" }]);
  }
  return Math.min(requested || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
}

/** Negative when `a` is listed before `b`. */
export function newestFirst(a: Cursor, b: Cursor): number {
  if (a.createdUs !== b.createdUs) return a.createdUs > b.createdUs ? -1 : 1;
  return a.sessionId === b.sessionId ? 0 : a.sessionId > b.sessionId ? -1 : 1;
}

export function page(sessions: Iterable<Session>, size: number, after: Cursor | undefined): Session[] {
  const listed = [...sessions].sort(newestFirst);
  const start = after ? listed.findIndex((session) => newestFirst(session, after) > 0) : 0;
  return start < 0 ? [] : listed.slice(start, start + size);
}

// The time is a decimal string: microseconds since 1970 can outgrow a JSON number's exact integers.
export function encodeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([String(cursor.createdUs), cursor.sessionId])).toString("base64url");
}

export function decodeToken(token: string): Cursor | undefined {
  if (!token) return undefined;
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(token, "base64url").toString());
  } catch {
    cursor = undefined; // not JSON: not a token of ours
  }
  if (Array.isArray(cursor) && cursor.length === 2) {
    const [createdUs, sessionId] = cursor;
    if (typeof createdUs === "string" && /^-?\d+$/.test(createdUs) && typeof sessionId === "string") {
      return { createdUs: BigInt(createdUs), sessionId };
    }
  }
  throw badRequest([
    { field: "page_token", description: "is not a token this server issued", reason: "INVALID_PAGE_TOKEN" },
  ]);
}
