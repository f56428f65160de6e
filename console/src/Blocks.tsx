// How a conversation's items look: blocks, turn ends, errors, and subagents' conversations nested under
// the call that started them; approvals and client tool calls come from the caller (ExtraRenderers).
import type { JSX } from "preact";
import { useMemo } from "preact/hooks";
import { asText } from "./Approval";
import {
  shortEnum,
  type BlockConversation,
  type BlockState,
  type ConversationModel,
  type SubagentState,
} from "./conversation";
import { renderMarkdown } from "./markdown";

export interface ExtraRenderers {
  approval: (approvalId: string) => JSX.Element | null;
  toolCall: (callId: string) => JSX.Element | null;
}

// The items of one conversation (the main one, or a subagent's under its block).
export function Items({
  model,
  conversation,
  renderExtra,
}: {
  model: ConversationModel;
  conversation: BlockConversation;
  renderExtra: ExtraRenderers;
}) {
  const subagents = model.subagentsUnder(conversation);
  const main = conversation === model;
  return (
    <>
      {conversation.items.map((item) => {
        if (item.type === "turn-end") {
          return (
            <div key={item.key} class={`turn-end outcome-${item.outcome.toLowerCase()}`} data-testid="turn-end">
              <span>turn {item.outcome.toLowerCase()}</span>
              {item.message && <span class="turn-message"> — {item.message}</span>}
            </div>
          );
        }
        if (item.type === "error") {
          return (
            <div key={item.key} class="error-block" data-testid="error-block" role="alert">
              <strong>{item.code || "Error"}</strong> {item.message}
            </div>
          );
        }
        if (item.type === "approval") return renderExtra.approval(item.approvalId);
        if (item.type === "tool-call") return renderExtra.toolCall(item.callId);
        if (item.type === "subagent") {
          // Shown here only while no block holds it.
          const sub = model.subagents.get(item.subagentId);
          if (!sub || model.anchor(sub)) return null;
          return <SubagentConversation key={item.key} model={model} sub={sub} renderExtra={renderExtra} />;
        }
        const state = conversation.blocks.get(item.key);
        if (!state) return null;
        const approvals = main ? model.approvalsUnder.get(item.key) : undefined;
        const toolCalls = main ? model.toolCallsUnder.get(item.key) : undefined;
        const nested = subagents.get(item.key);
        if (!approvals && !toolCalls && !nested) return <BlockView key={item.key} state={state} />;
        return (
          <div key={item.key} class="block-with-approvals">
            <BlockView state={state} />
            {approvals?.map(renderExtra.approval)}
            {toolCalls?.map(renderExtra.toolCall)}
            {nested?.map((sub) => (
              <SubagentConversation key={sub.itemKey} model={model} sub={sub} renderExtra={renderExtra} />
            ))}
          </div>
        );
      })}
    </>
  );
}

// A subagent's blocks, open while it runs.
function SubagentConversation({
  model,
  sub,
  renderExtra,
}: {
  model: ConversationModel;
  sub: SubagentState;
  renderExtra: ExtraRenderers;
}) {
  const running = model.subagentRunning(sub);
  const blocks = sub.conversation.items.filter((i) => i.type === "block").length;
  const status = running ? "running" : shortEnum(sub.status, "TOOL_STATUS_").toLowerCase() || "done";
  return (
    <details
      class={`subagent-conversation${running ? " running" : ""}`}
      data-testid="subagent-conversation"
      data-subagent-id={sub.id}
      open={running}
    >
      <summary>
        Subagent {sub.name || sub.id} · {status} · {blocks} {blocks === 1 ? "block" : "blocks"}
      </summary>
      <div class="subagent-blocks">
        <Items model={model} conversation={sub.conversation} renderExtra={renderExtra} />
      </div>
    </details>
  );
}

const LONG_LINES = 20;
const LONG_CHARS = 2000;

function BlockView({ state }: { state: BlockState }) {
  const { block } = state;
  if (block.userMessage) {
    return (
      <div class="block user-message" data-testid="user-message">
        <p class="who">You</p>
        <div class="plain">{block.userMessage.content}</div>
      </div>
    );
  }
  if (block.assistantText) return <AssistantText text={block.assistantText.content ?? ""} streaming={!state.complete} />;
  if (block.thinking) {
    return (
      <details class="block thinking" data-testid="thinking">
        <summary>Thinking{block.thinking.summary ? `: ${block.thinking.summary}` : ""}</summary>
        <div class="plain">{block.thinking.content}</div>
      </details>
    );
  }
  if (block.toolUse) {
    const tool = block.toolUse;
    const input = tool.input !== undefined ? asText(tool.input) : state.inputJson;
    const status = (tool.status ?? "").replace(/^TOOL_STATUS_/, "").toLowerCase();
    return (
      <div class={`block tool-use status-${status}`} data-testid="tool-use">
        <p class="tool-head">
          <span class="tool-name" data-testid="tool-name">{tool.displayName || tool.toolName}</span>
          {status && <span class="tool-status" data-testid="tool-status">{status.replace(/_/g, " ")}</span>}
        </p>
        {tool.description && <p class="hint">{tool.description}</p>}
        {input && <pre class="tool-input"><code>{input}</code></pre>}
      </div>
    );
  }
  if (block.toolResult) {
    const result = block.toolResult;
    const output = asText(result.output);
    const lines = output.split("\n");
    const long = lines.length > LONG_LINES || output.length > LONG_CHARS;
    return (
      <div class={`block tool-result${result.isError ? " is-error" : ""}`} data-testid="tool-result">
        {long ? (
          <details>
            <summary>
              {result.isError ? "Tool error" : "Tool output"} ({lines.length} lines) — {lines[0].slice(0, 80)}
            </summary>
            <pre><code>{output}</code></pre>
          </details>
        ) : (
          <>
            <p class="who">{result.isError ? "Tool error" : "Tool output"}</p>
            <pre><code>{output || "(no output)"}</code></pre>
          </>
        )}
      </div>
    );
  }
  if (block.error) {
    return (
      <div class="block error-block" data-testid="error-block" role="alert">
        <strong>{block.error.code || "Error"}</strong> {block.error.message}
      </div>
    );
  }
  if (block.subagent) {
    const sub = block.subagent;
    return (
      <div class="block subagent" data-testid="subagent">
        <p class="who">Subagent {sub.name} · {(sub.status ?? "").replace(/^TOOL_STATUS_/, "").toLowerCase()}</p>
        {sub.input && <div class="plain">{sub.input}</div>}
      </div>
    );
  }
  if (block.system) {
    return (
      <p class="block system" data-testid="system">
        {block.system.subtype}
        {block.system.message ? `: ${block.system.message}` : ""}
      </p>
    );
  }
  return null;
}

function AssistantText({ text, streaming }: { text: string; streaming: boolean }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return (
    <div
      class={`block assistant-text markdown${streaming ? " streaming" : ""}`}
      data-testid="assistant-text"
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
