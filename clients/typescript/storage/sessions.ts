// The sessions in memory, changed only through apply(): the same code replays the journal's session changes
// at start and applies each new change before its line is written.
import { createHash } from "node:crypto";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { SessionEvent } from "../src/_gen/agentruntime/v1/events_pb.js";
import type { SessionRecord } from "../src/_gen/agentruntime/v1/persistence_pb.js";
import type { WorkspaceFile } from "../src/_gen/agentruntime/v1/workspace_pb.js";
import { encode, isSessionChange, type Change, type SessionChange } from "./changes.js";
import { fileNotFound, sequenceMismatch, sessionExists, sessionNotFound } from "./errors.js";
import type { Journal } from "./journal.js";
import { checkFence, lapsed, NEVER_LEASED, type Lease, type LeaseChange } from "./leases.js";

export interface Session {
  sessionId: string;
  createdUs: bigint; // with sessionId, the listing order
  record: SessionRecord;
  transcripts: Map<string, string>; // "" is the main transcript
  files: Map<string, WorkspaceFile>;
  events: SessionEvent[]; // events[i] has sequence i + 1
  lease: Lease;
}

/** This server's clock, the one its leases go by. */
const nowUs = (): bigint => BigInt(Date.now()) * 1000n;

export function micros(time: Timestamp | undefined): bigint {
  return time ? time.seconds * 1_000_000n + BigInt(Math.floor(time.nanos / 1000)) : 0n;
}

/** Each operation checks and applies its change at once (operations never interleave: they do not await)
 * and queues its line in the journal; callers answer once the journal's durable() resolves. Records,
 * files and transcripts are replaced, never changed in place, so an answer waiting for the disk stays as
 * it was. */
export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly journal: Journal, replayed: Change[]) {
    for (const change of replayed) if (isSessionChange(change)) this.apply(change);
  }

  all(): Iterable<Session> {
    return this.sessions.values();
  }

  get(sessionId: string): Session {
    const session = this.sessions.get(sessionId);
    if (!session) throw sessionNotFound(sessionId);
    return session;
  }

  getFile(sessionId: string, path: string): WorkspaceFile {
    const file = this.get(sessionId).files.get(path);
    if (!file) throw fileNotFound(sessionId, path);
    return file;
  }

  /** Throws LEASE_LOST unless a write fenced with `fence` (0: not fenced) may land on the session. */
  fence(sessionId: string, fence: bigint): void {
    checkFence(sessionId, this.get(sessionId).lease.generation, fence);
  }

  /** Runs `change` on the session's lease at this server's time and keeps what it returns; that lease and time. */
  changeLease(sessionId: string, change: LeaseChange): [Lease, bigint] {
    const current = this.get(sessionId).lease;
    const now = nowUs();
    const changed = change(current, now);
    if (changed !== current) this.commit({ op: "lease", sessionId, lease: changed });
    return [changed, now];
  }

  /** The sessions whose lease lapsed (expired unreleased) at this server's time, and that time. */
  lapsed(): [Session[], bigint] {
    const now = nowUs();
    return [[...this.sessions.values()].filter((session) => lapsed(session.lease, now)), now];
  }

  create(record: SessionRecord, files: WorkspaceFile[]): void {
    if (this.sessions.has(record.sessionId)) throw sessionExists(record.sessionId);
    this.commit({ op: "create", record, files: files.map(stamped) });
  }

  update(record: SessionRecord): void {
    this.get(record.sessionId);
    this.commit({ op: "update", record });
  }

  saveTranscript(sessionId: string, subagentId: string, text: string): void {
    this.get(sessionId);
    this.commit({ op: "transcript", sessionId, subagentId, text });
  }

  saveFile(sessionId: string, file: WorkspaceFile): WorkspaceFile {
    this.get(sessionId);
    const stored = stamped(file);
    this.commit({ op: "saveFile", sessionId, file: stored });
    return stored;
  }

  deleteFile(sessionId: string, path: string): boolean {
    if (!this.get(sessionId).files.has(path)) return false;
    this.commit({ op: "deleteFile", sessionId, path });
    return true;
  }

  /** Saves `saved` in order, then deletes `deleted` (stored or not), as one change; the saved files as stored. */
  changeFiles(sessionId: string, saved: WorkspaceFile[], deleted: string[]): WorkspaceFile[] {
    this.get(sessionId);
    const stored = saved.map(stamped);
    this.commit({ op: "changeFiles", sessionId, saved: stored, deleted });
    return stored;
  }

  /** Appends if the log ends at `expected` and the events number on from there; the new last sequence. */
  append(sessionId: string, expected: bigint, events: SessionEvent[]): bigint {
    const last = BigInt(this.get(sessionId).events.length);
    if (expected !== last) {
      const message = `session '${sessionId}': expected last sequence ${expected}, the log ends at ${last}`;
      throw sequenceMismatch(message, last);
    }
    events.forEach((event, index) => {
      const wanted = last + BigInt(index + 1);
      if (event.sequence !== wanted) {
        throw sequenceMismatch(`event ${index + 1} carries sequence ${event.sequence}, expected ${wanted}`, last);
      }
    });
    if (events.length) this.commit({ op: "append", sessionId, events });
    return last + BigInt(events.length);
  }

  delete(sessionId: string): void {
    this.get(sessionId);
    this.commit({ op: "delete", sessionId });
  }

  private commit(change: SessionChange): void {
    this.apply(change);
    this.journal.add(encode(change));
  }

  private apply(change: SessionChange): void {
    switch (change.op) {
      case "create":
        this.sessions.set(change.record.sessionId, {
          sessionId: change.record.sessionId,
          createdUs: micros(change.record.createdAt),
          record: change.record,
          transcripts: new Map(),
          files: new Map(change.files.map((file) => [file.path, digested(file)])),
          events: [],
          lease: NEVER_LEASED,
        });
        return;
      case "update":
        this.get(change.record.sessionId).record = change.record;
        return;
      case "transcript":
        this.get(change.sessionId).transcripts.set(change.subagentId, change.text);
        return;
      case "saveFile":
        this.get(change.sessionId).files.set(change.file.path, digested(change.file));
        return;
      case "deleteFile":
        this.get(change.sessionId).files.delete(change.path);
        return;
      case "changeFiles": {
        const { files } = this.get(change.sessionId);
        for (const file of change.saved) files.set(file.path, digested(file));
        for (const path of change.deleted) files.delete(path);
        return;
      }
      case "append":
        for (const event of change.events) this.get(change.sessionId).events.push(event);
        return;
      case "delete":
        this.sessions.delete(change.sessionId);
        return;
      case "lease":
        this.get(change.sessionId).lease = change.lease;
        return;
      default:
        throw new Error(`unknown change in the journal: ${JSON.stringify(change)}`);
    }
  }
}

/** The file as stored: its size and digest, and the time it was saved unless the caller gave one. */
function stamped(file: WorkspaceFile): WorkspaceFile {
  return {
    ...file,
    size: BigInt(file.content.length),
    sha256: sha256(file.content),
    modifiedTime: file.modifiedTime ?? timestampNow(),
  };
}

/** Journals written before files carried a digest replay without one. */
function digested(file: WorkspaceFile): WorkspaceFile {
  return file.sha256 ? file : { ...file, sha256: sha256(file.content) };
}

function sha256(content: Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}
