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
  subagent?: { subagentId?: string; name?: string; input?: string; status?: string; output?: string };
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
