// The parts of the API's proto3 JSON (proto/agentruntime/v1/*.proto) the console reads. int64 fields
// arrive as strings, enums by their full names.

export interface RuntimeState {
  loaded?: boolean;
  turnRunning?: boolean;
  queuedMessages?: number;
  sandbox?: { status?: string; statusMessage?: string };
}

export interface Session {
  sessionId: string;
  architecture?: string;
  agentProfileRef?: string;
  name?: string;
  sessionOptions?: { model?: string };
  createdAt?: string;
  lastActivity?: string;
  runtime?: RuntimeState;
  archivedAt?: string;
}

export interface ListSessionsResponse {
  sessions?: Session[];
  nextPageToken?: string;
}

export interface Profile {
  id: string;
  name?: string;
  description?: string;
  version?: number;
  builtIn?: boolean;
  archivedAt?: string;
}

export interface PermissionRule {
  rule?: string;
  action?: string;
}

export interface ClientTool {
  name?: string;
  description?: string;
  inputSchema?: unknown;
}

export interface BundledMcpServer {
  name?: string;
  description?: string;
  localProjectPath?: string;
  startCommand?: string;
  installCommand?: string;
}

export interface ExternalMcpServer {
  name?: string;
  type?: string;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  url?: string;
  headers?: Record<string, string>;
}

// GET /agent-profiles/{id}: the whole profile (the fields the console shows).
export interface AgentProfile extends Profile {
  systemPrompt?: string;
  agentMDFile?: string;
  skills?: { name?: string; description?: string }[];
  subagents?: { name?: string; description?: string; model?: string; tools?: string[] }[];
  commands?: { name?: string; prompt?: string }[];
  tools?: string[];
  bundledMCPs?: BundledMcpServer[];
  externalMCPs?: ExternalMcpServer[];
  npmDependencies?: string[];
  pipDependencies?: string[];
  network?: { allowedHosts?: string[] };
  maxBudgetUsd?: number;
  permissions?: { defaultAction?: string; rules?: PermissionRule[] };
  clientTools?: ClientTool[];
  model?: string;
  metadata?: Record<string, string>;
  createdAt?: string;
  updatedAt?: string;
}

export interface Block {
  id: string;
  timestamp?: string;
  userMessage?: { content?: string };
  assistantText?: { content?: string; model?: string };
  toolUse?: {
    toolName?: string;
    toolUseId?: string;
    input?: unknown;
    status?: string;
    displayName?: string;
    description?: string;
  };
  toolResult?: { toolUseId?: string; output?: unknown; isError?: boolean; duration?: string };
  thinking?: { content?: string; summary?: string };
  system?: { subtype?: string; message?: string };
  subagent?: {
    subagentId?: string;
    name?: string;
    input?: string;
    status?: string;
    output?: string;
    duration?: string;
    toolUseId?: string;
  };
  error?: { message?: string; code?: string };
}

// The data of one server-sent event of GET /sessions/{id}/events: a SessionEvent.
export interface SessionEvent {
  sessionId?: string;
  conversationId?: string;
  sequence: string;
  time?: string;
  blockStart?: { block: Block };
  blockDelta?: { blockId: string; delta?: string; kind?: string };
  blockUpdate?: { blockId: string; block: Block };
  blockComplete?: { blockId: string; block: Block };
  status?: { runtime?: RuntimeState; message?: string };
  messageAccepted?: { turnId: string; userMessage?: Block; queued?: boolean; queuePosition?: number };
  turnStarted?: { turnId: string; userMessageBlockId?: string };
  turnCompleted?: { turnId: string; outcome?: string; message?: string; messagesWaiting?: number };
  error?: { message?: string; code?: string };
  fileCreated?: { file?: WorkspaceFile };
  fileModified?: { file?: WorkspaceFile };
  fileDeleted?: { path?: string };
  approvalRequested?: ApprovalRequested;
  approvalResolved?: ApprovalResolved;
  metadataUpdate?: MetadataUpdate;
  subagentDiscovered?: { subagentId?: string; name?: string; toolUseId?: string };
  subagentCompleted?: { subagentId?: string; status?: string };
  clientToolCall?: ClientToolCall;
  clientToolResult?: ClientToolResult;
}

// Token counts (int64, so strings) of the model calls not reported before.
export interface Usage {
  inputTokens?: string;
  outputTokens?: string;
  cacheReadTokens?: string;
  cacheWriteTokens?: string;
  thinkingTokens?: string;
  totalTokens?: string;
}

export interface MetadataUpdate {
  usage?: Usage;
  costUsd?: number;
  model?: string;
}

// A tool the caller runs: answered by POST /sessions/{id}/tool-results/{callId}.
export interface ClientToolCall {
  callId: string;
  turnId?: string;
  toolUseBlockId?: string;
  toolName?: string;
  input?: unknown;
  expiresAt?: string;
  toolUseId?: string;
}

export interface ClientToolResult {
  callId: string;
  output?: unknown;
  isError?: boolean;
  answeredBy?: string;
}

// A file of a session's workspace; content (base64) only from GET /sessions/{id}/files/{path}.
export interface WorkspaceFile {
  path: string;
  content?: string;
  size?: string;
  modifiedTime?: string;
  sha256?: string;
}

export interface ListWorkspaceFilesResponse {
  files?: WorkspaceFile[];
  nextPageToken?: string;
}

export interface QuestionOption {
  label?: string;
  description?: string;
}

export interface Question {
  question?: string;
  header?: string;
  options?: QuestionOption[];
  multiSelect?: boolean;
}

export interface ApprovalRequested {
  approvalId: string;
  turnId?: string;
  toolUseBlockId?: string;
  toolName?: string;
  input?: unknown;
  rule?: string;
  questions?: Question[];
  expiresAt?: string;
  toolUseId?: string;
}

export type ApprovalDecision = "APPROVAL_DECISION_ALLOW" | "APPROVAL_DECISION_DENY" | "APPROVAL_DECISION_UNSPECIFIED";

export interface ApprovalResolved {
  approvalId: string;
  decision?: ApprovalDecision;
  message?: string;
  answeredBy?: string;
  remember?: boolean;
  updatedInput?: unknown;
  answers?: Record<string, string>;
}

// The data of one server-sent event of GET /sessions:watch (event name session:list:change).
export interface SessionChange {
  kind?: string;
  session?: Session;
}

// google.rpc.Status, as errors are answered (and as the last `error` event of a stream that fails).
export interface RpcStatus {
  code?: number;
  message?: string;
  details?: { reason?: string }[];
}
