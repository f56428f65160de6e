// The changes the journal records, and their line format: JSON with each protobuf message in its binary
// form (base64), which keeps even fields this build does not know of. Sessions, stored profiles and
// environments share the one journal; each replays the changes it owns.
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { EnvironmentSchema, type Environment } from "../src/_gen/agentruntime/v1/environment_pb.js";
import { SessionEventSchema, type SessionEvent } from "../src/_gen/agentruntime/v1/events_pb.js";
import { SessionRecordSchema, type SessionRecord } from "../src/_gen/agentruntime/v1/persistence_pb.js";
import { AgentProfileSchema, type AgentProfile } from "../src/_gen/agentruntime/v1/profile_pb.js";
import { WorkspaceFileSchema, type WorkspaceFile } from "../src/_gen/agentruntime/v1/workspace_pb.js";
import type { Lease } from "./leases.js";

export type SessionChange =
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

export type ProfileChange =
  | { op: "saveProfile"; profile: AgentProfile } // a stored profile's next version
  | { op: "archiveProfile"; profileId: string; archivedAt: Timestamp };

export type EnvironmentChange =
  | { op: "createEnvironment"; environment: Environment }
  | { op: "updateEnvironment"; environment: Environment }
  | { op: "deleteEnvironment"; environmentId: string };

export type Change = SessionChange | ProfileChange | EnvironmentChange;

// Every op, by owner: a line with any other op is not one this build wrote.
const OWNERS: Record<Change["op"], "session" | "profile" | "environment"> = {
  create: "session",
  update: "session",
  transcript: "session",
  saveFile: "session",
  deleteFile: "session",
  changeFiles: "session",
  append: "session",
  delete: "session",
  lease: "session",
  saveProfile: "profile",
  archiveProfile: "profile",
  createEnvironment: "environment",
  updateEnvironment: "environment",
  deleteEnvironment: "environment",
};

export const isSessionChange = (change: Change): change is SessionChange => OWNERS[change.op] === "session";
export const isProfileChange = (change: Change): change is ProfileChange => OWNERS[change.op] === "profile";
export const isEnvironmentChange = (change: Change): change is EnvironmentChange =>
  OWNERS[change.op] === "environment";

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
    case "saveProfile":
      return JSON.stringify({ ...change, profile: pack(AgentProfileSchema, change.profile) });
    case "archiveProfile":
      return JSON.stringify({ ...change, archivedAt: pack(TimestampSchema, change.archivedAt) });
    case "createEnvironment":
    case "updateEnvironment":
      return JSON.stringify({ ...change, environment: pack(EnvironmentSchema, change.environment) });
    default:
      return JSON.stringify(change);
  }
}

export function decode(line: string): Change {
  const change = JSON.parse(line);
  if (!Object.hasOwn(OWNERS, change?.op)) throw new Error(`unknown change in the journal: ${line}`);
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
    case "saveProfile":
      return { ...change, profile: unpack(AgentProfileSchema, change.profile) };
    case "archiveProfile":
      return { ...change, archivedAt: unpack(TimestampSchema, change.archivedAt) };
    case "createEnvironment":
    case "updateEnvironment":
      return { ...change, environment: unpack(EnvironmentSchema, change.environment) };
    default:
      return change;
  }
}
