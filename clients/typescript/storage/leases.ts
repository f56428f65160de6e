// What the lease operations decide, as the Python storage servers do (agent_runtime/storage/leases.py):
// each runs on the session's lease at this server's time. A generation only grows, so a write fenced with
// an older one can be told from the holder's; a session never leased has generation 0.
import { Code } from "@connectrpc/connect";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { apiError, badRequest } from "./errors.js";

export interface Lease {
  replicaId: string;
  address: string;
  generation: bigint;
  expiresUs: bigint;
  released: boolean; // by its holder, rather than left to expire; a new holder or a renewal clears it
}

export const NEVER_LEASED: Lease = { replicaId: "", address: "", generation: 0n, expiresUs: 0n, released: false };
export type LeaseChange = (lease: Lease, nowUs: bigint) => Lease;

const MAX_TTL_US = 3600n * 1_000_000n;
const MAX_REPLICA_ID_LENGTH = 128;

export const held = (lease: Lease, nowUs: bigint): boolean => lease.generation > 0n && lease.expiresUs > nowUs;

/** Whether it expired without being released: its holder stopped renewing it. */
export const lapsed = (lease: Lease, nowUs: bigint): boolean =>
  lease.generation > 0n && !lease.released && lease.expiresUs <= nowUs;

export function acquiring(sessionId: string, replicaId: string, address: string, ttl?: Duration): LeaseChange {
  const ttlUs = checkedTtl(ttl);
  checkReplicaId(replicaId);
  return (lease, nowUs) => {
    if (held(lease, nowUs) && lease.replicaId !== replicaId) {
      throw apiError(
        Code.FailedPrecondition,
        "LEASE_HELD",
        `session '${sessionId}' is leased to replica '${lease.replicaId}' until it renews or expires`,
        { session_id: sessionId, replica_id: lease.replicaId, address: lease.address, expires_us: String(lease.expiresUs) },
      );
    }
    const generation = held(lease, nowUs) ? lease.generation : lease.generation + 1n;
    return { replicaId, address, generation, expiresUs: nowUs + ttlUs, released: false };
  };
}

export function renewing(sessionId: string, replicaId: string, generation: bigint, ttl?: Duration): LeaseChange {
  const ttlUs = checkedTtl(ttl);
  checkReplicaId(replicaId);
  return (lease, nowUs) => {
    if (lease.replicaId !== replicaId || lease.generation !== generation) {
      throw leaseLost(sessionId, generation, lease.generation);
    }
    return { ...lease, expiresUs: nowUs + ttlUs, released: false };
  };
}

export function releasing(replicaId: string, generation: bigint): LeaseChange {
  return (lease, nowUs) =>
    lease.replicaId === replicaId && lease.generation === generation && held(lease, nowUs)
      ? { ...lease, expiresUs: nowUs, released: true }
      : lease;
}

/** A write fenced with `fence` (0: not fenced) may land on a session whose lease generation is `generation`. */
export function checkFence(sessionId: string, generation: bigint, fence: bigint): void {
  if (fence && fence !== generation) throw leaseLost(sessionId, fence, generation);
}

function leaseLost(sessionId: string, given: bigint, current: bigint) {
  return apiError(
    Code.FailedPrecondition,
    "LEASE_LOST",
    `session '${sessionId}': lease generation ${given} is not the session's (it is ${current})`,
    { session_id: sessionId, generation: String(current) },
  );
}

function checkedTtl(ttl?: Duration): bigint {
  const ttlUs = ttl ? ttl.seconds * 1_000_000n + BigInt(Math.trunc(ttl.nanos / 1000)) : 0n;
  if (ttlUs <= 0n || ttlUs > MAX_TTL_US) {
    throw badRequest([{ field: "ttl", description: "must be more than 0 and at most 3600s", reason: "INVALID_TTL" }]);
  }
  return ttlUs;
}

function checkReplicaId(replicaId: string): void {
  if (!replicaId) throw badRequest([{ field: "replica_id", description: "is required", reason: "REQUIRED_FIELD" }]);
  if (replicaId.length > MAX_REPLICA_ID_LENGTH) {
    throw badRequest([
      { field: "replica_id", description: `must be at most ${MAX_REPLICA_ID_LENGTH} characters`, reason: "FIELD_TOO_LONG" },
    ]);
  }
}
