// The errors every PersistenceAdapter server sends: a gRPC code with a google.rpc.ErrorInfo (and, for
// bad input, a BadRequest) in grpc-status-details-bin. The runtime passes the reason on to its callers.
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "../src/_gen/google/rpc/error_details_pb.js";

const DOMAIN = "agent-runtime";

export interface Violation {
  field: string;
  description: string;
  reason: string;
}

export function apiError(
  code: Code,
  reason: string,
  message: string,
  metadata: Record<string, string> = {},
  violations: Violation[] = [],
): ConnectError {
  const info = { desc: ErrorInfoSchema, value: { reason, domain: DOMAIN, metadata } };
  const details = violations.length
    ? [info, { desc: BadRequestSchema, value: { fieldViolations: violations } }]
    : [info];
  return new ConnectError(message, code, undefined, details);
}

/** INVALID_ARGUMENT naming every violation; the first one's reason is the ErrorInfo reason. */
export function badRequest(violations: Violation[]): ConnectError {
  const summary = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return apiError(Code.InvalidArgument, violations[0].reason, summary, {}, violations);
}

/** Throws INVALID_ARGUMENT if any of the named values is empty: an empty string, or an unset message. */
export function requireFields(values: Record<string, string | object | undefined>): void {
  const missing = Object.entries(values)
    .filter(([, value]) => !value)
    .map(([field]) => ({ field, description: "is required", reason: "REQUIRED_FIELD" }));
  if (missing.length) throw badRequest(missing);
}

export function sessionNotFound(sessionId: string): ConnectError {
  return apiError(Code.NotFound, "SESSION_NOT_FOUND", `session '${sessionId}' does not exist`, {
    session_id: sessionId,
  });
}

export function fileNotFound(sessionId: string, path: string): ConnectError {
  return apiError(Code.NotFound, "FILE_NOT_FOUND", `file '${path}' is not stored in session '${sessionId}'`, {
    session_id: sessionId,
    path,
  });
}

export function sessionExists(sessionId: string): ConnectError {
  return apiError(Code.AlreadyExists, "SESSION_ALREADY_EXISTS", `session '${sessionId}' already exists`, {
    session_id: sessionId,
  });
}

export function sequenceMismatch(message: string, last: bigint): ConnectError {
  return apiError(Code.Aborted, "SEQUENCE_MISMATCH", message, { last_sequence: String(last) });
}

export function profileNotFound(profileId: string): ConnectError {
  return apiError(Code.NotFound, "PROFILE_NOT_FOUND", `agent profile '${profileId}' does not exist`, {
    agent_profile_id: profileId,
  });
}

export function profileVersionNotFound(profileId: string, version: number): ConnectError {
  const message = `agent profile '${profileId}' has no version ${version}`;
  return apiError(Code.NotFound, "PROFILE_VERSION_NOT_FOUND", message, {
    agent_profile_id: profileId,
    version: String(version),
  });
}

export function profileExists(profileId: string): ConnectError {
  return apiError(Code.AlreadyExists, "PROFILE_ALREADY_EXISTS", `agent profile '${profileId}' already exists`, {
    agent_profile_id: profileId,
  });
}

export function profileReadOnly(profileId: string): ConnectError {
  const message = `agent profile '${profileId}' is built in (from the profiles directory): it cannot be changed`;
  return apiError(Code.FailedPrecondition, "PROFILE_READ_ONLY", message, { agent_profile_id: profileId });
}

export function versionMismatch(profileId: string, given: number, latest: number): ConnectError {
  const message = `agent profile '${profileId}': version ${given} given, the next version is ${latest + 1}`;
  return apiError(Code.Aborted, "VERSION_MISMATCH", message, {
    agent_profile_id: profileId,
    latest_version: String(latest),
  });
}

/** INVALID_ARGUMENT unless `version` is at least `least`. */
export function checkVersion(field: string, version: number, least: number): void {
  if (version < least) {
    throw badRequest([{ field, description: `must be at least ${least}`, reason: "INVALID_VERSION" }]);
  }
}

export function environmentNotFound(environmentId: string): ConnectError {
  const message = `environment '${environmentId}' does not exist`;
  return apiError(Code.NotFound, "ENVIRONMENT_NOT_FOUND", message, { environment_id: environmentId });
}

export function environmentExists(environmentId: string): ConnectError {
  const message = `environment '${environmentId}' already exists`;
  return apiError(Code.AlreadyExists, "ENVIRONMENT_ALREADY_EXISTS", message, { environment_id: environmentId });
}
