// The public surface: a client factory, the event follower, the error reader, and the generated
// messages and service of the agentruntime.v1 contract.
export { createAgentRuntimeClient, type AgentRuntimeClient, type ClientOptions } from "./client.js";
export { bearerAuth } from "./auth.js";
export { followSessionEvents, type FollowOptions } from "./events.js";
export { apiErrorOf, type ApiError, type FieldViolation } from "./errors.js";
export * from "./_gen/agentruntime/v1/agent_runtime_pb.js";
export * from "./_gen/agentruntime/v1/blocks_pb.js";
export * from "./_gen/agentruntime/v1/events_pb.js";
export * from "./_gen/agentruntime/v1/permissions_pb.js";
export * from "./_gen/agentruntime/v1/profile_pb.js";
export * from "./_gen/agentruntime/v1/session_pb.js";
export * from "./_gen/agentruntime/v1/workspace_pb.js";
