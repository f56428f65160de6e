// The changes the journal records, and their line format: JSON with each protobuf message in its binary
// form (base64), which keeps even fields this build does not know of.
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { SessionEventSchema, type SessionEvent } from "../src/_gen/agentruntime/v1/events_pb.js";
import { SessionRecordSchema, type SessionRecord } from "../src/_gen/agentruntime/v1/persistence_pb.js";
import { WorkspaceFileSchema, type WorkspaceFile } from "../src/_gen/agentruntime/v1/workspace_pb.js";
import type { Lease } from "./leases.js";

export type Change =
  | { op: "create"; record: SessionRecord; files: WorkspaceFile[] }
  | { op: "update"; record: SessionRecord }
  | { op: "transcript"; sessionId: string; subagentId: string; text: string }
  | { op: "saveFile"; sessionId: string; file: WorkspaceFile }
  | { op: "deleteFile"; sessionId: string; path: string }
  // Saves, then deletes: one line, so a crash keeps all of the change or none of it.
  | { op: "changeFiles"; sessionId: string; saved: WorkspaceFile[]; deleted: string[] }
  | { op: "append"; sessionId: string; events: SessionEvent[] }
  | { op: "delete"; sessionId: string }
  | { op: "lease"; sessionId: string; lease: Lease };

const pack = <D extends DescMessage>(schema: D, message: MessageShape<D>): string =>
  Buffer.from(toBinary(schema, message)).toString("base64");
const unpack = <D extends DescMessage>(schema: D, text: string): MessageShape<D> =>
  fromBinary(schema, Buffer.from(text, "base64"));

export function encode(change: Change): string {
  switch (change.op) {
    case "create":
      return JSON.stringify({
        ...change,
        record: pack(SessionRecordSchema, change.record),
        files: change.files.map((file) => pack(WorkspaceFileSchema, file)),
      });
    case "update":
      return JSON.stringify({ ...change, record: pack(SessionRecordSchema, change.record) });
    case "saveFile":
      return JSON.stringify({ ...change, file: pack(WorkspaceFileSchema, change.file) });
    case "changeFiles":
      return JSON.stringify({ ...change, saved: change.saved.map((file) => pack(WorkspaceFileSchema, file)) });
    case "append":
      return JSON.stringify({ ...change, events: change.events.map((event) => pack(SessionEventSchema, event)) });
    case "lease": // bigints as decimal strings
      return JSON.stringify({
        ...change,
        lease: { ...change.lease, generation: String(change.lease.generation), expiresUs: String(change.lease.expiresUs) },
      });
    default:
      return JSON.stringify(change);
  }
}

export function decode(line: string): Change {
  const change = JSON.parse(line);
  switch (change.op) {
    case "create":
      return {
        ...change,
        record: unpack(SessionRecordSchema, change.record),
        files: change.files.map((file: string) => unpack(WorkspaceFileSchema, file)),
      };
    case "update":
      return { ...change, record: unpack(SessionRecordSchema, change.record) };
    case "saveFile":
      return { ...change, file: unpack(WorkspaceFileSchema, change.file) };
    case "changeFiles":
      return { ...change, saved: change.saved.map((file: string) => unpack(WorkspaceFileSchema, file)) };
    case "append":
      return { ...change, events: change.events.map((event: string) => unpack(SessionEventSchema, event)) };
    case "lease": {
      // A journal written before leases carried `released` has none: false.
      const { generation, expiresUs, released = false } = change.lease;
      return {
        ...change,
        lease: { ...change.lease, generation: BigInt(generation), expiresUs: BigInt(expiresUs), released },
      };
    }
    default:
      return change;
  }
}
