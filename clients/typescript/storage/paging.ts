// The listings' orders and page tokens. Sessions are newest first, ties broken by id; files are in the
// order of their paths' UTF-8 bytes, and lapsed leases in that of their session ids'; a profile's versions
// are newest first. A token is the last listed position, so entries added during a walk never shift the
// pages that follow.
import type { AgentProfile } from "../src/_gen/agentruntime/v1/profile_pb.js";
import type { WorkspaceFile } from "../src/_gen/agentruntime/v1/workspace_pb.js";
import { badRequest } from "./errors.js";
import type { Session } from "./sessions.js";

export interface Cursor {
  createdUs: bigint;
  sessionId: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string; // empty on the last page
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
const DEFAULT_VERSION_PAGE_SIZE = 20;
const MAX_VERSION_PAGE_SIZE = 100;
// Sets the tokens of each listing apart from the others'; never a session token's first element, which is
// a time in digits.
type KeyTag = "file" | "lease" | "version";

export function pageSize(requested: number, byDefault = DEFAULT_PAGE_SIZE, most = MAX_PAGE_SIZE): number {
  if (requested < 0) {
    throw badRequest([{ field: "page_size", description: "must not be negative", reason: "INVALID_PAGE_SIZE" }]);
  }
  return Math.min(requested || byDefault, most);
}

/** ListAgentProfileVersions' page size: smaller pages, a profile being larger than a session record. */
export function versionPageSize(requested: number): number {
  return pageSize(requested, DEFAULT_VERSION_PAGE_SIZE, MAX_VERSION_PAGE_SIZE);
}

/** Negative when `a` is listed before `b`. */
export function newestFirst(a: Cursor, b: Cursor): number {
  if (a.createdUs !== b.createdUs) return a.createdUs > b.createdUs ? -1 : 1;
  return a.sessionId === b.sessionId ? 0 : a.sessionId > b.sessionId ? -1 : 1;
}

/** UTF-8 byte order, which JS string order (UTF-16 code units) is not beyond U+FFFF. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function sessionPage(sessions: Iterable<Session>, size: number, pageToken: string): Page<Session> {
  const after = decodeSessionToken(pageToken);
  const listed = [...sessions].sort(newestFirst);
  return cut(listed, size, (session) => !after || newestFirst(session, after) > 0, encodeSessionToken);
}

export function filePage(files: Iterable<WorkspaceFile>, size: number, pageToken: string): Page<WorkspaceFile> {
  return keyPage(files, size, pageToken, "file", (file) => file.path);
}

/** The lapsed leases' listing: their sessions, in id order. */
export function leasePage(sessions: Iterable<Session>, size: number, pageToken: string): Page<Session> {
  return keyPage(sessions, size, pageToken, "lease", (session) => session.sessionId);
}

/** A page of a profile's versions, newest first; its token is the last version listed. */
export function versionPage(versions: AgentProfile[], size: number, pageToken: string): Page<AgentProfile> {
  const after = decodeVersionToken(pageToken);
  const listed = [...versions].sort((a, b) => b.version - a.version);
  const follows = (version: AgentProfile) => after === undefined || version.version < after;
  return cut(listed, size, follows, (last) => encodeToken(["version", String(last.version)]));
}

/** A page of `items` in the byte order of their keys; its token is the last key listed. */
function keyPage<T>(items: Iterable<T>, size: number, pageToken: string, tag: KeyTag, key: (item: T) => string): Page<T> {
  const after = decodeKeyToken(tag, pageToken);
  const listed = [...items].sort((a, b) => byteOrder(key(a), key(b)));
  const follows = (item: T) => after === undefined || byteOrder(key(item), after) > 0;
  return cut(listed, size, follows, (last) => encodeToken([tag, key(last)]));
}

/** `size` of the ordered `listed`, from the first that `follows` the token's position. */
function cut<T>(listed: T[], size: number, follows: (item: T) => boolean, token: (last: T) => string): Page<T> {
  const start = listed.findIndex(follows);
  if (start < 0) return { items: [], nextPageToken: "" };
  const items = listed.slice(start, start + size);
  return { items, nextPageToken: start + size < listed.length ? token(items[size - 1]) : "" };
}

// The time is a decimal string: microseconds since 1970 can outgrow a JSON number's exact integers.
function encodeSessionToken(cursor: Cursor): string {
  return encodeToken([String(cursor.createdUs), cursor.sessionId]);
}

function decodeSessionToken(token: string): Cursor | undefined {
  if (!token) return undefined;
  const cursor = parseToken(token);
  if (Array.isArray(cursor) && cursor.length === 2) {
    const [createdUs, sessionId] = cursor;
    if (typeof createdUs === "string" && /^-?\d+$/.test(createdUs) && typeof sessionId === "string") {
      return { createdUs: BigInt(createdUs), sessionId };
    }
  }
  throw invalidToken();
}

/** The last listed key. */
function decodeKeyToken(tag: KeyTag, token: string): string | undefined {
  if (!token) return undefined;
  const cursor = parseToken(token);
  if (Array.isArray(cursor) && cursor.length === 2 && cursor[0] === tag && typeof cursor[1] === "string") {
    return cursor[1];
  }
  throw invalidToken();
}

function decodeVersionToken(token: string): number | undefined {
  const last = decodeKeyToken("version", token);
  if (last === undefined) return undefined;
  if (/^[1-9]\d{0,9}$/.test(last) && Number(last) < 2 ** 31) return Number(last);
  throw invalidToken();
}

function encodeToken(cursor: string[]): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function parseToken(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, "base64url").toString());
  } catch {
    return undefined; // not JSON: not a token of ours
  }
}

function invalidToken() {
  return badRequest([
    { field: "page_token", description: "is not a token this server issued", reason: "INVALID_PAGE_TOKEN" },
  ]);
}
