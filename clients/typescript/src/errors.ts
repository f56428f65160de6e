import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { BadRequestSchema, ErrorInfoSchema } from "./_gen/google/rpc/error_details_pb.js";

export interface FieldViolation {
  field: string;
  description: string;
  reason: string;
}

/** What a caller branches on: the status code, the runtime's stable reason, and any bad fields. */
export interface ApiError {
  code: Code;
  /** ErrorInfo.reason, such as "SESSION_NOT_FOUND"; the code's name ("UNAVAILABLE") when the error has none. */
  reason: string;
  /** ErrorInfo.domain: "agent-runtime" for the runtime's own errors, "" for transport failures. */
  domain: string;
  message: string;
  metadata: Record<string, string>;
  fieldViolations: FieldViolation[];
}

/** Reads the google.rpc details the runtime sends in grpc-status-details-bin; accepts any thrown value. */
export function apiErrorOf(thrown: unknown): ApiError {
  const error = ConnectError.from(thrown);
  const [info] = error.findDetails(ErrorInfoSchema);
  const fieldViolations = error
    .findDetails(BadRequestSchema)
    .flatMap((bad) => bad.fieldViolations)
    .map(({ field, description, reason }) => ({ field, description, reason }));
  return {
    code: error.code,
    // The same fallback as the Python client, so both sides log the same reason for a bare status.
    reason: info?.reason || codeToString(error.code).toUpperCase(),
    domain: info?.domain ?? "",
    message: error.rawMessage,
    metadata: { ...info?.metadata },
    fieldViolations,
  };
}
