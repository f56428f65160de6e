// The PersistenceAdapter service: checks each request, then reads or changes the sessions, the agent
// profiles or the environments. Every handler answers only after durable(), so nothing is acknowledged, or
// shown, before it is on disk.
import { create, toBinary } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { EnvironmentSchema } from "../src/_gen/agentruntime/v1/environment_pb.js";
import { SessionEventSchema, type SessionEvent } from "../src/_gen/agentruntime/v1/events_pb.js";
import {
  PersistenceAdapter,
  SessionRecordSchema,
  type SessionRecord,
  type UpdateSessionRecordRequest,
} from "../src/_gen/agentruntime/v1/persistence_pb.js";
import { AgentProfileSchema } from "../src/_gen/agentruntime/v1/profile_pb.js";
import { WorkspaceFileSchema, type WorkspaceFile } from "../src/_gen/agentruntime/v1/workspace_pb.js";
import type { AgentProfiles } from "./agent_profiles.js";
import type { Environments } from "./environments.js";
import { badRequest, requireFields, type Violation } from "./errors.js";
import type { Journal } from "./journal.js";
import { acquiring, held, releasing, renewing, type Lease } from "./leases.js";
import { filePage, leasePage, pageSize, sessionPage, versionPageSize } from "./paging.js";
import type { Session, Sessions } from "./sessions.js";

const DEFAULT_EVENT_LIMIT = 256;
const MAX_EVENT_LIMIT = 1000;
const MAX_EVENT_PAGE_BYTES = 4 * 1024 * 1024;
// The fields UpdateSessionRecord may change: mask path -> field.
const UPDATABLE = {
  name: "name",
  session_options: "sessionOptions",
  last_activity: "lastActivity",
  metadata: "metadata",
  archived_at: "archivedAt",
  usage: "usage",
} as const;
type Updatable = keyof typeof UPDATABLE;

/** The paths to change: "*" is all of them; no paths are the fields set in the request (AIP-134). */
function maskPaths({ session, updateMask }: UpdateSessionRecordRequest): Updatable[] {
  const paths = updateMask?.paths ?? [];
  if (paths.length === 1 && paths[0] === "*") return Object.keys(UPDATABLE) as Updatable[];
  if (!paths.length) {
    return (Object.keys(UPDATABLE) as Updatable[]).filter((path) => session?.[UPDATABLE[path]]);
  }
  const unknown = paths.filter((path) => !Object.hasOwn(UPDATABLE, path));
  if (unknown.length) {
    const allowed = Object.keys(UPDATABLE).join(", ");
    throw badRequest(
      unknown.map((path) => ({
        field: "update_mask",
        description: `'${path}' is not one of ${allowed}`,
        reason: "INVALID_UPDATE_MASK",
      })),
    );
  }
  return paths as Updatable[];
}

/** LoadSession's answer: subagents' transcripts in a stable order, by id. */
function loaded(session: Session) {
  const byKey = <T>(entries: Iterable<[string, T]>) => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const transcripts = byKey(session.transcripts);
  return {
    session: session.record,
    rawTranscript: session.transcripts.get("") ?? "",
    subagents: transcripts.filter(([id]) => id).map(([subagentId, rawTranscript]) => ({ subagentId, rawTranscript })),
  };
}

function leaseMessage(sessionId: string, lease: Lease, nowUs: bigint) {
  const expiresAt = { seconds: lease.expiresUs / 1_000_000n, nanos: Number(lease.expiresUs % 1_000_000n) * 1000 };
  const { replicaId, address, generation, released } = lease;
  return { sessionId, replicaId, address, generation, expiresAt, held: held(lease, nowUs), released };
}

/** A file as listed or saved: the content only costs bandwidth. */
function described(file: WorkspaceFile): WorkspaceFile {
  return { ...file, content: new Uint8Array() };
}

// Events never change once appended, so each is measured once.
const eventBytes = new WeakMap<SessionEvent, number>();
function serializedSize(event: SessionEvent): number {
  let size = eventBytes.get(event);
  if (size === undefined) eventBytes.set(event, (size = toBinary(SessionEventSchema, event).length));
  return size;
}

/** The leading `events` that fit in MAX_EVENT_PAGE_BYTES, so a page fits a message; the first always goes. */
function withinPageBytes(events: SessionEvent[]): SessionEvent[] {
  let total = 0;
  let count = 0;
  for (const event of events) {
    total += serializedSize(event);
    if (count && total > MAX_EVENT_PAGE_BYTES) break;
    count++;
  }
  return events.slice(0, count);
}

/** What the service reads and changes; all of it is kept in the one journal. */
export interface Stores {
  journal: Journal;
  sessions: Sessions;
  profiles: AgentProfiles;
  environments: Environments;
}

export function persistenceAdapter({
  journal,
  sessions,
  profiles,
  environments,
}: Stores): ServiceImpl<typeof PersistenceAdapter> {
  // Resolves to `value` once everything done so far is on disk.
  const durable = async <T>(value: T): Promise<T> => {
    await journal.durable();
    return value;
  };

  return {
    listAllSessions({ pageSize: requested, pageToken }) {
      const { items, nextPageToken } = sessionPage(sessions.all(), pageSize(requested), pageToken);
      return durable({ sessions: items.map((session) => session.record), nextPageToken });
    },

    loadSession({ sessionId }) {
      requireFields({ session_id: sessionId });
      return durable(loaded(sessions.get(sessionId)));
    },

    listSessionFiles({ sessionId, pageSize: requested, pageToken }) {
      requireFields({ session_id: sessionId });
      const size = pageSize(requested);
      const { items, nextPageToken } = filePage(sessions.get(sessionId).files.values(), size, pageToken);
      return durable({ files: items.map(described), nextPageToken });
    },

    getSessionFile({ sessionId, path }) {
      requireFields({ session_id: sessionId, path });
      return durable(sessions.getFile(sessionId, path));
    },

    getSessionRecord({ sessionId }) {
      requireFields({ session_id: sessionId });
      return durable(sessions.get(sessionId).record);
    },

    createSessionRecord({ session = create(SessionRecordSchema), workspaceFiles }) {
      requireFields({ "session.session_id": session.sessionId });
      requireFields(Object.fromEntries(workspaceFiles.map((file, i) => [`workspace_files[${i}].path`, file.path])));
      sessions.create(session, workspaceFiles);
      return durable({ session });
    },

    updateSessionRecord(request) {
      requireFields({ session_id: request.sessionId });
      const paths = maskPaths(request);
      const { session: given = create(SessionRecordSchema) } = request;
      // A copy with the named fields replaced whole; a field the request leaves unset is cleared.
      sessions.fence(request.sessionId, request.leaseGeneration);
      const record: SessionRecord = { ...sessions.get(request.sessionId).record };
      for (const path of paths) Object.assign(record, { [UPDATABLE[path]]: given[UPDATABLE[path]] });
      sessions.update(record);
      return durable({ session: record });
    },

    saveTranscript({ sessionId, subagentId, rawTranscript, leaseGeneration }) {
      requireFields({ session_id: sessionId });
      sessions.fence(sessionId, leaseGeneration);
      sessions.saveTranscript(sessionId, subagentId, rawTranscript);
      return durable({});
    },

    saveWorkspaceFile({ sessionId, file = create(WorkspaceFileSchema), leaseGeneration }) {
      requireFields({ session_id: sessionId, "file.path": file.path });
      sessions.fence(sessionId, leaseGeneration);
      return durable({ file: described(sessions.saveFile(sessionId, file)) });
    },

    deleteSessionFile({ sessionId, path, leaseGeneration }) {
      requireFields({ session_id: sessionId, path });
      sessions.fence(sessionId, leaseGeneration);
      return durable({ deleted: sessions.deleteFile(sessionId, path) });
    },

    changeSessionFiles({ sessionId, saved, deleted, leaseGeneration }) {
      // Every check comes before the change, so a bad file leaves the session as it was.
      const paths = Object.fromEntries(saved.map((file, i) => [`saved[${i}].path`, file.path]));
      requireFields({ session_id: sessionId, ...paths });
      sessions.fence(sessionId, leaseGeneration);
      return durable({ saved: sessions.changeFiles(sessionId, saved, deleted).map(described) });
    },

    listAgentProfiles({ includeArchived }) {
      return durable({ profiles: profiles.summaries(includeArchived) });
    },

    loadAgentProfile({ agentProfileId, version }) {
      requireFields({ agent_profile_id: agentProfileId });
      return durable(profiles.load(agentProfileId, version));
    },

    saveAgentProfile({ profile = create(AgentProfileSchema) }) {
      requireFields({ "profile.id": profile.id });
      return durable(profiles.save(profile));
    },

    markAgentProfileArchived({ agentProfileId, archivedAt }) {
      requireFields({ agent_profile_id: agentProfileId, archived_at: archivedAt });
      return durable(profiles.archive(agentProfileId, archivedAt!));
    },

    listAgentProfileVersions({ agentProfileId, pageSize: requested, pageToken }) {
      requireFields({ agent_profile_id: agentProfileId });
      const { items, nextPageToken } = profiles.versions(agentProfileId, versionPageSize(requested), pageToken);
      return durable({ versions: items, nextPageToken });
    },

    createEnvironmentRecord({ environment = create(EnvironmentSchema) }) {
      requireFields({ "environment.environment_id": environment.environmentId });
      environments.create(environment);
      return durable(environment);
    },

    getEnvironmentRecord({ environmentId }) {
      requireFields({ environment_id: environmentId });
      return durable(environments.get(environmentId));
    },

    updateEnvironmentRecord({ environment = create(EnvironmentSchema) }) {
      requireFields({ "environment.environment_id": environment.environmentId });
      environments.update(environment);
      return durable(environment);
    },

    listEnvironmentRecords() {
      return durable({ environments: environments.all() });
    },

    deleteEnvironmentRecord({ environmentId }) {
      requireFields({ environment_id: environmentId });
      return durable({ deleted: environments.delete(environmentId) });
    },

    appendEvents({ sessionId, expectedLastSequence, events, leaseGeneration }) {
      requireFields({ session_id: sessionId });
      sessions.fence(sessionId, leaseGeneration);
      return durable({ lastSequence: sessions.append(sessionId, expectedLastSequence, events) });
    },

    readEvents({ sessionId, afterSequence, limit }) {
      requireFields({ session_id: sessionId });
      const negative: Violation[] = Object.entries({ after_sequence: afterSequence, limit })
        .filter(([, value]) => value < 0)
        .map(([field]) => ({ field, description: "must not be negative", reason: "NEGATIVE_NUMBER" }));
      if (negative.length) throw badRequest(negative);
      const { events } = sessions.get(sessionId);
      const from = afterSequence < events.length ? Number(afterSequence) : events.length;
      const count = Math.min(limit || DEFAULT_EVENT_LIMIT, MAX_EVENT_LIMIT);
      const page = withinPageBytes(events.slice(from, from + count));
      return durable({ events: page, lastSequence: BigInt(events.length) });
    },

    deleteSessionRecord({ sessionId }) {
      requireFields({ session_id: sessionId });
      sessions.delete(sessionId);
      return durable({});
    },

    acquireSessionLease({ sessionId, replicaId, address, ttl }) {
      requireFields({ session_id: sessionId });
      const change = acquiring(sessionId, replicaId, address, ttl);
      return durable(leaseMessage(sessionId, ...sessions.changeLease(sessionId, change)));
    },

    renewSessionLease({ sessionId, replicaId, generation, ttl }) {
      requireFields({ session_id: sessionId });
      const change = renewing(sessionId, replicaId, generation, ttl);
      return durable(leaseMessage(sessionId, ...sessions.changeLease(sessionId, change)));
    },

    releaseSessionLease({ sessionId, replicaId, generation }) {
      requireFields({ session_id: sessionId, replica_id: replicaId });
      const [lease, nowUs] = sessions.changeLease(sessionId, releasing(replicaId, generation));
      const mine = lease.replicaId === replicaId && lease.generation === generation;
      return durable({ released: mine && !held(lease, nowUs) });
    },

    getSessionLease({ sessionId }) {
      requireFields({ session_id: sessionId });
      return durable(leaseMessage(sessionId, ...sessions.changeLease(sessionId, (lease) => lease)));
    },

    listLapsedSessionLeases({ pageSize: requested, pageToken }) {
      const size = pageSize(requested);
      const [lapsed, nowUs] = sessions.lapsed();
      const { items, nextPageToken } = leasePage(lapsed, size, pageToken);
      const leases = items.map(({ sessionId, lease }) => leaseMessage(sessionId, lease, nowUs));
      return durable({ leases, nextPageToken });
    },
  };
}
