// Builds a session's main conversation from its event stream: blocks keyed by id (start, deltas,
// updates, complete), turn boundaries and errors, in the order they first appear. Events at or below
// the last sequence applied are ignored, so a resumed stream never shows anything twice.
import type { ApprovalRequested, ApprovalResolved, Block, SessionEvent } from "./types";

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

export type Item =
  | { type: "block"; key: string }
  | { type: "approval"; key: string; approvalId: string }
  | { type: "turn-end"; key: string; outcome: string; message?: string }
  | { type: "error"; key: string; message: string; code?: string };

const shortEnum = (value: string | undefined, prefix: string) =>
  value && value.startsWith(prefix) ? value.slice(prefix.length) : (value ?? "");

export class ConversationModel {
  lastSequence = 0;
  items: Item[] = [];
  // Block instances by item key. A block id is normally unique, but an id seen again after its block
  // completed (a scripted model repeating its tool_use ids, say) starts a new instance, not an edit.
  blocks = new Map<string, BlockState>();
  private current = new Map<string, string>();
  runningTurn: string | null = null;
  status = "";
  // Approvals by id, and those shown under a block, by the block's item key (the others are items).
  approvals = new Map<string, ApprovalState>();
  approvalsUnder = new Map<string, string[]>();

  apply(event: SessionEvent): boolean {
    const sequence = Number(event.sequence);
    if (!Number.isFinite(sequence) || sequence <= this.lastSequence) return false;
    this.lastSequence = sequence;
    const main = (event.conversationId || MAIN) === MAIN;
    // Approvals of any conversation (a subagent's call waits too): under the call's block when it is shown.
    if (event.approvalRequested) {
      this.request(event.approvalRequested, main);
      return true;
    }
    if (event.approvalResolved) {
      const state = this.approvals.get(event.approvalResolved.approvalId);
      if (state) state.resolution = event.approvalResolved;
      return true;
    }
    if (!main) return true;

    if (event.messageAccepted) {
      // Shown at once when it runs now; a queued one shows when its turn starts (its block_start).
      const { userMessage, queued } = event.messageAccepted;
      if (userMessage && !queued) this.start(userMessage, true, sequence);
    } else if (event.blockStart) this.start(event.blockStart.block, false, sequence);
    else if (event.blockDelta) this.delta(event.blockDelta.blockId, event.blockDelta.delta ?? "", event.blockDelta.kind);
    else if (event.blockUpdate) this.replace(event.blockUpdate.blockId, event.blockUpdate.block, false, sequence);
    else if (event.blockComplete) this.replace(event.blockComplete.blockId, event.blockComplete.block, true, sequence);
    else if (event.turnStarted) this.runningTurn = event.turnStarted.turnId;
    else if (event.turnCompleted) {
      const { turnId, outcome, message } = event.turnCompleted;
      if (this.runningTurn === turnId || this.runningTurn === null) this.runningTurn = null;
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
    } else if (event.status) this.status = event.status.message ?? "";
    return true;
  }

  // Approvals not yet answered, oldest first.
  get pendingApprovals(): ApprovalState[] {
    return [...this.approvals.values()].filter((a) => !a.resolution);
  }

  private request(request: ApprovalRequested, main: boolean): void {
    if (!request.approvalId || this.approvals.has(request.approvalId)) return;
    this.approvals.set(request.approvalId, { request });
    const blockKey = main && request.toolUseBlockId ? this.current.get(request.toolUseBlockId) : undefined;
    if (blockKey !== undefined) {
      this.approvalsUnder.set(blockKey, [...(this.approvalsUnder.get(blockKey) ?? []), request.approvalId]);
    } else {
      this.items.push({ type: "approval", key: `approval-${request.approvalId}`, approvalId: request.approvalId });
    }
  }

  private state(blockId: string): BlockState | undefined {
    const key = this.current.get(blockId);
    return key === undefined ? undefined : this.blocks.get(key);
  }

  private add(block: Block, accepted: boolean, complete: boolean, sequence: number): void {
    const key = this.current.has(block.id) ? `${block.id}#${sequence}` : block.id;
    this.current.set(block.id, key);
    this.blocks.set(key, { block, accepted, inputJson: "", complete });
    this.items.push({ type: "block", key });
  }

  private start(block: Block, accepted: boolean, sequence: number): void {
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
