// Builds a session's conversations from its event stream: blocks keyed by id (start, deltas,
// updates, complete), turn boundaries and errors, in the order they first appear. Events at or below
// the last sequence applied are ignored, so a resumed stream never shows anything twice.
// The main conversation is the ConversationModel itself; each subagent's (events whose conversationId
// is not "main") is a BlockConversation of its own, shown under the block that started it.
import type {
  ApprovalRequested,
  ApprovalResolved,
  Block,
  ClientToolCall,
  ClientToolResult,
  MetadataUpdate,
  SessionEvent,
} from "./types";

export const MAIN = "main";

export interface BlockState {
  block: Block;
  // Shown from message_accepted; its block_start at turn start is the same block, not a new one.
  accepted: boolean;
  // TOOL_INPUT_JSON deltas, until the block's input arrives whole.
  inputJson: string;
  complete: boolean;
}

// A tool call waiting for (or past) a caller's answer.
export interface ApprovalState {
  request: ApprovalRequested;
  resolution?: ApprovalResolved;
}

// A client tool call waiting for (or past) the caller's result.
export interface ToolCallState {
  call: ClientToolCall;
  result?: ClientToolResult;
}

// A message accepted while another turn runs, until its own turn starts.
export interface QueuedMessage {
  turnId: string;
  block: Block;
}

// A subagent's conversation and where it hangs: under the tool_use block with its toolUseId, or the
// subagent block with its id, in the conversation it was discovered in.
export interface SubagentState {
  id: string;
  name?: string;
  toolUseId?: string;
  parent: string;
  status?: string;
  completed: boolean;
  conversation: BlockConversation;
  // Its item key in the parent conversation, shown there when no block of its own holds it.
  itemKey: string;
}

// Session-wide token counts and cost: each metadata_update reports what was not reported before.
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  model: string;
  reported: boolean;
}

export interface SandboxInfo {
  // STARTING, READY, UNHEALTHY, TERMINATED (the enum without its prefix), or "" while unknown.
  status: string;
  message: string;
}

export type Item =
  | { type: "block"; key: string }
  | { type: "approval"; key: string; approvalId: string }
  | { type: "tool-call"; key: string; callId: string }
  | { type: "subagent"; key: string; subagentId: string }
  | { type: "turn-end"; key: string; outcome: string; message?: string }
  | { type: "error"; key: string; message: string; code?: string };

export const shortEnum = (value: string | undefined, prefix: string) =>
  value && value.startsWith(prefix) ? value.slice(prefix.length) : (value ?? "");

const count = (value: string | number | undefined) => {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
};

// The blocks of one conversation, in the order they first appear.
export class BlockConversation {
  items: Item[] = [];
  // Block instances by item key. A block id is normally unique, but an id seen again after its block
  // completed (a scripted model repeating its tool_use ids, say) starts a new instance, not an edit.
  blocks = new Map<string, BlockState>();
  protected current = new Map<string, string>();
  // Item keys of the tool_use blocks by tool_use_id, and of the subagent blocks by subagent id.
  toolUseKeys = new Map<string, string>();
  subagentKeys = new Map<string, string>();

  constructor(readonly id: string) {}

  // The item key of a block id's latest instance.
  keyOf(blockId: string): string | undefined {
    return this.current.get(blockId);
  }

  applyBlock(event: SessionEvent, sequence: number): boolean {
    if (event.blockStart) this.start(event.blockStart.block, false, sequence);
    else if (event.blockDelta) this.delta(event.blockDelta.blockId, event.blockDelta.delta ?? "", event.blockDelta.kind);
    else if (event.blockUpdate) this.replace(event.blockUpdate.blockId, event.blockUpdate.block, false, sequence);
    else if (event.blockComplete) this.replace(event.blockComplete.blockId, event.blockComplete.block, true, sequence);
    else return false;
    return true;
  }

  protected state(blockId: string): BlockState | undefined {
    const key = this.current.get(blockId);
    return key === undefined ? undefined : this.blocks.get(key);
  }

  private index(key: string, block: Block): void {
    if (block.toolUse?.toolUseId) this.toolUseKeys.set(block.toolUse.toolUseId, key);
    if (block.subagent?.subagentId) this.subagentKeys.set(block.subagent.subagentId, key);
  }

  private add(block: Block, accepted: boolean, complete: boolean, sequence: number): void {
    const key = this.current.has(block.id) ? `${block.id}#${sequence}` : block.id;
    this.current.set(block.id, key);
    this.blocks.set(key, { block, accepted, inputJson: "", complete });
    this.items.push({ type: "block", key });
    this.index(key, block);
  }

  protected start(block: Block, accepted: boolean, sequence: number): void {
    const known = this.state(block.id);
    if (known && known.accepted && !accepted) {
      known.accepted = false;
      known.block = mergeBlock(known.block, block);
      return;
    }
    if (known && !known.complete) {
      known.block = mergeBlock(known.block, block);
      return;
    }
    this.add(block, accepted, accepted, sequence);
  }

  private delta(blockId: string, text: string, kind: string | undefined): void {
    const state = this.state(blockId);
    if (!state) return;
    const block = state.block;
    switch (shortEnum(kind, "DELTA_KIND_")) {
      case "TEXT":
        block.assistantText = { ...block.assistantText, content: (block.assistantText?.content ?? "") + text };
        break;
      case "THINKING":
        block.thinking = { ...block.thinking, content: (block.thinking?.content ?? "") + text };
        break;
      case "TOOL_INPUT_JSON":
        state.inputJson += text;
        break;
    }
  }

  private replace(blockId: string, block: Block, complete: boolean, sequence: number): void {
    const state = this.state(blockId);
    if (!state) {
      this.add({ ...block, id: blockId }, false, complete, sequence);
      return;
    }
    state.block = complete ? block : mergeBlock(state.block, block);
    state.complete = state.complete || complete;
    const key = this.current.get(blockId);
    if (key !== undefined) this.index(key, state.block);
  }
}

export class ConversationModel extends BlockConversation {
  lastSequence = 0;
  runningTurn: string | null = null;
  status = "";
  sandbox: SandboxInfo = { status: "", message: "" };
  usage: UsageTotals = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0,
    model: "",
    reported: false,
  };
  // Approvals by id, and those shown under a block, by the block's item key (the others are items).
  approvals = new Map<string, ApprovalState>();
  approvalsUnder = new Map<string, string[]>();
  // Client tool calls by call id, and those shown under a block, by the block's item key.
  toolCalls = new Map<string, ToolCallState>();
  toolCallsUnder = new Map<string, string[]>();
  // Messages waiting behind the running turn, in the order they run.
  queue: QueuedMessage[] = [];
  // Subagents by id (which is also their conversation's id).
  subagents = new Map<string, SubagentState>();

  constructor() {
    super(MAIN);
  }

  apply(event: SessionEvent): boolean {
    const sequence = Number(event.sequence);
    if (!Number.isFinite(sequence) || sequence <= this.lastSequence) return false;
    this.lastSequence = sequence;
    const conversationId = event.conversationId || MAIN;
    const main = conversationId === MAIN;
    // Approvals and client tool calls of any conversation (a subagent's call waits too): under the
    // call's block when it is shown in the main conversation.
    if (event.approvalRequested) {
      this.request(event.approvalRequested, main);
      return true;
    }
    if (event.approvalResolved) {
      const state = this.approvals.get(event.approvalResolved.approvalId);
      if (state) state.resolution = event.approvalResolved;
      return true;
    }
    if (event.clientToolCall) {
      this.toolCall(event.clientToolCall, main);
      return true;
    }
    if (event.clientToolResult) {
      const state = this.toolCalls.get(event.clientToolResult.callId);
      if (state) state.result = event.clientToolResult;
      return true;
    }
    if (event.metadataUpdate) {
      this.addUsage(event.metadataUpdate);
      return true;
    }
    if (event.status) {
      this.status = event.status.message ?? "";
      const sandbox = event.status.runtime?.sandbox;
      if (sandbox?.status) {
        this.sandbox = {
          status: shortEnum(sandbox.status, "SANDBOX_STATUS_"),
          message: event.status.message || sandbox.statusMessage || "",
        };
      }
      return true;
    }
    if (event.subagentDiscovered) {
      const { subagentId, name, toolUseId } = event.subagentDiscovered;
      if (subagentId) {
        const sub = this.subagent(subagentId, conversationId);
        if (name) sub.name = name;
        if (toolUseId) sub.toolUseId = toolUseId;
      }
      return true;
    }
    if (event.subagentCompleted) {
      const { subagentId, status } = event.subagentCompleted;
      if (subagentId) {
        const sub = this.subagent(subagentId, conversationId);
        sub.completed = true;
        sub.status = status;
      }
      return true;
    }
    if (!main) {
      this.subagent(conversationId, MAIN).conversation.applyBlock(event, sequence);
      return true;
    }

    if (event.messageAccepted) {
      const { userMessage, queued, queuePosition, turnId } = event.messageAccepted;
      if (!userMessage) return true;
      // Waiting behind another turn: shown as queued until its turn starts; else at once.
      if ((queued || (queuePosition ?? 0) > 0) && !this.keyOf(userMessage.id)) {
        if (!this.queue.some((q) => q.turnId === turnId)) this.queue.push({ turnId, block: userMessage });
      } else this.start(userMessage, true, sequence);
    } else if (this.applyBlock(event, sequence)) {
      // a block of the main conversation
    } else if (event.turnStarted) {
      const { turnId, userMessageBlockId } = event.turnStarted;
      this.runningTurn = turnId;
      const index = this.queue.findIndex((q) => q.turnId === turnId || (!!userMessageBlockId && q.block.id === userMessageBlockId));
      if (index >= 0) {
        // The queued message becomes the turn's user message where it shows (the end of the
        // conversation); its block_start that follows is the same block.
        const [queued] = this.queue.splice(index, 1);
        this.start(queued.block, true, sequence);
      }
    } else if (event.turnCompleted) {
      const { turnId, outcome, message } = event.turnCompleted;
      if (this.runningTurn === turnId || this.runningTurn === null) this.runningTurn = null;
      // A queued message that never ran (CANCELLED) leaves the queue.
      this.queue = this.queue.filter((q) => q.turnId !== turnId);
      this.items.push({
        type: "turn-end",
        key: `turn-end-${sequence}`,
        outcome: shortEnum(outcome, "TURN_OUTCOME_") || "UNSPECIFIED",
        message: message || undefined,
      });
    } else if (event.error) {
      this.items.push({
        type: "error",
        key: `error-${sequence}`,
        message: event.error.message ?? "error",
        code: event.error.code,
      });
    }
    return true;
  }

  // Approvals not yet answered, oldest first.
  get pendingApprovals(): ApprovalState[] {
    return [...this.approvals.values()].filter((a) => !a.resolution);
  }

  // The conversation a subagent or the main one has (created when first seen).
  conversation(id: string): BlockConversation | undefined {
    return id === MAIN ? this : this.subagents.get(id)?.conversation;
  }

  // The block a subagent's conversation shows under: its tool_use block, else its subagent block, in
  // the conversation it was discovered in (or any other).
  anchor(sub: SubagentState): { conversation: BlockConversation; key: string } | undefined {
    const parent = this.conversation(sub.parent);
    const candidates = [parent, this, ...[...this.subagents.values()].map((s) => s.conversation)];
    for (const conversation of candidates) {
      if (!conversation || conversation === sub.conversation) continue;
      const key =
        (sub.toolUseId ? conversation.toolUseKeys.get(sub.toolUseId) : undefined) ?? conversation.subagentKeys.get(sub.id);
      if (key !== undefined) return { conversation, key };
    }
    return undefined;
  }

  // The subagents shown under each block of a conversation, by the block's item key.
  subagentsUnder(conversation: BlockConversation): Map<string, SubagentState[]> {
    const under = new Map<string, SubagentState[]>();
    for (const sub of this.subagents.values()) {
      const anchor = this.anchor(sub);
      if (anchor?.conversation !== conversation) continue;
      under.set(anchor.key, [...(under.get(anchor.key) ?? []), sub]);
    }
    return under;
  }

  // Whether a subagent still runs: not completed, its block not finished, and a turn running.
  subagentRunning(sub: SubagentState): boolean {
    if (sub.completed || this.runningTurn === null) return false;
    const anchor = this.anchor(sub);
    const block = anchor ? anchor.conversation.blocks.get(anchor.key)?.block : undefined;
    const status = shortEnum(block?.subagent?.status ?? block?.toolUse?.status, "TOOL_STATUS_");
    return status !== "SUCCESS" && status !== "ERROR";
  }

  private subagent(id: string, parent: string): SubagentState {
    let sub = this.subagents.get(id);
    if (!sub) {
      const itemKey = `subagent-conversation-${id}`;
      sub = { id, parent, completed: false, conversation: new BlockConversation(id), itemKey };
      this.subagents.set(id, sub);
      (this.conversation(parent) ?? this).items.push({ type: "subagent", key: itemKey, subagentId: id });
    }
    return sub;
  }

  private addUsage(update: MetadataUpdate): void {
    const usage = update.usage ?? {};
    this.usage = {
      inputTokens: this.usage.inputTokens + count(usage.inputTokens),
      outputTokens: this.usage.outputTokens + count(usage.outputTokens),
      cacheReadTokens: this.usage.cacheReadTokens + count(usage.cacheReadTokens),
      cacheWriteTokens: this.usage.cacheWriteTokens + count(usage.cacheWriteTokens),
      costUsd: this.usage.costUsd + count(update.costUsd),
      model: update.model || this.usage.model,
      reported: true,
    };
  }

  protected start(block: Block, accepted: boolean, sequence: number): void {
    // Its block arrived before its turn_started: it is no longer waiting.
    if (this.queue.length > 0) this.queue = this.queue.filter((q) => q.block.id !== block.id);
    super.start(block, accepted, sequence);
  }

  private request(request: ApprovalRequested, main: boolean): void {
    if (!request.approvalId || this.approvals.has(request.approvalId)) return;
    this.approvals.set(request.approvalId, { request });
    const blockKey = main && request.toolUseBlockId ? this.keyOf(request.toolUseBlockId) : undefined;
    if (blockKey !== undefined) {
      this.approvalsUnder.set(blockKey, [...(this.approvalsUnder.get(blockKey) ?? []), request.approvalId]);
    } else {
      this.items.push({ type: "approval", key: `approval-${request.approvalId}`, approvalId: request.approvalId });
    }
  }

  private toolCall(call: ClientToolCall, main: boolean): void {
    if (!call.callId || this.toolCalls.has(call.callId)) return;
    this.toolCalls.set(call.callId, { call });
    const blockKey =
      main && call.toolUseBlockId
        ? this.keyOf(call.toolUseBlockId)
        : main && call.toolUseId
          ? this.toolUseKeys.get(call.toolUseId)
          : undefined;
    if (blockKey !== undefined) {
      this.toolCallsUnder.set(blockKey, [...(this.toolCallsUnder.get(blockKey) ?? []), call.callId]);
    } else {
      this.items.push({ type: "tool-call", key: `tool-call-${call.callId}`, callId: call.callId });
    }
  }
}

// An update carries the block's state; keep streamed text it may leave out.
function mergeBlock(old: Block, next: Block): Block {
  const merged: Block = { ...next };
  if (old.assistantText?.content && next.assistantText && !next.assistantText.content) {
    merged.assistantText = { ...next.assistantText, content: old.assistantText.content };
  }
  if (old.thinking?.content && next.thinking && !next.thinking.content) {
    merged.thinking = { ...next.thinking, content: old.thinking.content };
  }
  if (old.toolUse?.input !== undefined && next.toolUse && next.toolUse.input === undefined) {
    merged.toolUse = { ...next.toolUse, input: old.toolUse.input };
  }
  return merged;
}
