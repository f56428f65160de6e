// A session's page: its header (status, usage, unload and delete), the conversation and workspace tabs
// and the composer, all fed by the session's event stream, resumed after the last sequence it applied.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, authHeaders, describeError, type Api } from "./api";
import { ApprovalPanel } from "./Approval";
import { Items, type ExtraRenderers } from "./Blocks";
import { ConversationModel, shortEnum, type UsageTotals } from "./conversation";
import { follow, StreamStopped, type StreamState } from "./sse";
import { ToolCallPanel } from "./ToolCall";
import type { RpcStatus, Session, SessionEvent } from "./types";
import { WorkspaceModel } from "./workspace";
import { WorkspaceView } from "./Workspace";

type Tab = "conversation" | "workspace";
const TABS: { id: Tab; label: string }[] = [
  { id: "conversation", label: "Conversation" },
  { id: "workspace", label: "Workspace" },
];

// gRPC codes a stream's final `error` event may carry that a reconnect cannot fix.
const FINAL_CODES = new Set([3, 5, 7, 9, 11, 16]); // INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, OUT_OF_RANGE, UNAUTHENTICATED

interface Props {
  api: Api;
  sessionId: string;
  session?: Session;
  onDeleted: () => void;
}

export function ConversationView({ api, sessionId, session, onDeleted }: Props) {
  // One pair of models for the view's life: the parent keys the view by session, so another session
  // mounts a new view with new, empty models.
  const [model] = useState(() => new ConversationModel());
  const [workspace] = useState(() => new WorkspaceModel());
  const [version, setVersion] = useState(0);
  const [tab, setTab] = useState<Tab>("conversation");
  const [streamState, setStreamState] = useState<StreamState>("connecting");
  const [streamError, setStreamError] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const [actionError, setActionError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const endRef = useRef<HTMLDivElement>(null);
  const stickToEndRef = useRef(true);

  // The stream: from the start of the log on opening, then after the last sequence applied on each
  // reconnection, so the conversation is rebuilt whole and nothing shows twice.
  useEffect(() => {
    const controller = new AbortController();
    let frame = 0;
    const rerender = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setVersion((v) => v + 1);
      });
    };
    const base = `/sessions/${encodeURIComponent(sessionId)}/events`;
    void follow({
      url: () => (model.lastSequence > 0 ? `${base}?afterSequence=${model.lastSequence}` : base),
      headers: authHeaders(api.key),
      signal: controller.signal,
      onState: (state, error) => {
        setStreamState(state);
        if (state === "open") setStreamError(null);
        else if (error && !(error instanceof Error && error.message === "the stream ended")) setStreamError(describeError(error));
      },
      onEvent: (event) => {
        if (event.id === undefined && event.event === "error") {
          // The stream's last word: a google.rpc.Status (the runtime shutting down, a lagging stream...).
          const status = JSON.parse(event.data) as RpcStatus;
          setStreamError(status.message ?? "the stream failed");
          if (status.code !== undefined && FINAL_CODES.has(status.code)) throw new StreamStopped(status.message);
          return;
        }
        const parsed = JSON.parse(event.data) as SessionEvent;
        if (model.apply(parsed)) {
          workspace.apply(parsed);
          rerender();
        }
      },
    });
    return () => {
      controller.abort();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [api, sessionId, model, workspace]);

  useEffect(() => {
    if (stickToEndRef.current && tab === "conversation") endRef.current?.scrollIntoView({ block: "end" });
  });

  async function send(event?: Event) {
    event?.preventDefault();
    const content = message.trim();
    if (!content) return;
    setSending(true);
    setActionError(null);
    try {
      await api.post(`/sessions/${encodeURIComponent(sessionId)}/message`, { content });
      setMessage("");
      stickToEndRef.current = true;
    } catch (e) {
      setActionError(describeError(e));
    } finally {
      setSending(false);
    }
  }

  async function interrupt() {
    setActionError(null);
    try {
      await api.post(`/sessions/${encodeURIComponent(sessionId)}/interrupt`, {});
    } catch (e) {
      setActionError(describeError(e));
    }
  }

  // DeleteSession without purge: the sandbox ends, storage keeps everything.
  async function unload() {
    setActionError(null);
    try {
      await api.del(`/sessions/${encodeURIComponent(sessionId)}`);
    } catch (e) {
      setActionError(describeError(e));
    }
  }

  async function remove() {
    const label = session?.name || sessionId;
    if (!confirm(`Delete session “${label}” and everything stored for it? This cannot be undone.`)) return;
    setActionError(null);
    try {
      await api.del(`/sessions/${encodeURIComponent(sessionId)}?purge=true`);
      onDeleted();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) onDeleted();
      else setActionError(describeError(e));
    }
  }

  const running = model.runningTurn !== null;
  const waiting = model.pendingApprovals.length;

  // Tabs as WAI-ARIA describes them: arrow keys, Home and End move between them.
  function tabKey(event: KeyboardEvent) {
    const index = TABS.findIndex((t) => t.id === tab);
    let next = index;
    if (event.key === "ArrowRight") next = (index + 1) % TABS.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + TABS.length) % TABS.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = TABS.length - 1;
    else return;
    event.preventDefault();
    setTab(TABS[next].id);
    document.getElementById(`tab-${TABS[next].id}`)?.focus();
  }

  const approvalPanel = (approvalId: string) => {
    const approval = model.approvals.get(approvalId);
    return approval ? <ApprovalPanel key={approvalId} api={api} sessionId={sessionId} approval={approval} /> : null;
  };
  const toolCallPanel = (callId: string) => {
    const toolCall = model.toolCalls.get(callId);
    return toolCall ? <ToolCallPanel key={callId} api={api} sessionId={sessionId} toolCall={toolCall} /> : null;
  };
  const renderExtra: ExtraRenderers = { approval: approvalPanel, toolCall: toolCallPanel };
  const sandbox = model.sandbox.status
    ? model.sandbox
    : { status: shortEnum(session?.runtime?.sandbox?.status, "SANDBOX_STATUS_"), message: session?.runtime?.sandbox?.statusMessage ?? "" };
  return (
    <section class="session" aria-labelledby="session-title">
      <header class="session-header">
        <div>
          <h2 id="session-title" data-testid="session-title">{session?.name || sessionId}</h2>
          <p class="session-meta">
            {session ? `${session.architecture} · ${session.agentProfileRef}` : ""}
            {session?.sessionOptions?.model ? ` · ${session.sessionOptions.model}` : ""}
            {" · "}
            <span class={`stream-state ${streamState}`} data-testid="stream-status">
              {streamState === "open" ? "live" : streamState}
            </span>
            <SandboxStatus status={sandbox.status} message={sandbox.message} />
          </p>
          {model.usage.reported && <UsageLine usage={model.usage} />}
        </div>
        <div class="session-actions">
          <button
            type="button"
            class="secondary"
            data-testid="unload-session"
            title="End the sandbox and free its memory: the session stays stored and goes on in a new sandbox at its next message"
            onClick={() => void unload()}
          >
            Unload
          </button>
          <button type="button" class="danger" data-testid="delete-session" onClick={() => void remove()}>
            Delete
          </button>
        </div>
      </header>
      {streamError && <p class="error" role="status">{streamError}</p>}
      <div class="tabs" role="tablist" aria-label="Session views" onKeyDown={tabKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            class="tab"
            data-testid={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
          >
            {t.label}
            {t.id === "conversation" && waiting > 0 && (
              <span class="badge" data-testid="approvals-waiting" title="approvals waiting">
                {waiting} waiting
              </span>
            )}
          </button>
        ))}
      </div>
      <div
        id="panel-workspace"
        class="tab-panel workspace-panel"
        role="tabpanel"
        aria-labelledby="tab-workspace"
        hidden={tab !== "workspace"}
      >
        {tab === "workspace" || workspace.loaded ? (
          <WorkspaceView api={api} sessionId={sessionId} model={workspace} version={version} />
        ) : null}
      </div>
      <div
        id="panel-conversation"
        class="tab-panel conversation-panel"
        role="tabpanel"
        aria-labelledby="tab-conversation"
        hidden={tab !== "conversation"}
      >
      <div
        class="conversation"
        data-testid="conversation"
        aria-live="polite"
        onScroll={(e) => {
          const el = e.currentTarget;
          stickToEndRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        <Items model={model} conversation={model} renderExtra={renderExtra} />
        {running && (
          <div class="turn-running" data-testid="turn-running" role="status">
            <span class="spinner" aria-hidden="true" /> running{model.status ? ` — ${model.status}` : "…"}
          </div>
        )}
        {model.queue.map((queued, index) => (
          <div key={`queued-${queued.turnId}`} class="block user-message queued" data-testid="queued-message">
            <p class="who">
              Queued <span class="queue-position" data-testid="queue-position">#{index + 1}</span>
            </p>
            <div class="plain">{queued.block.userMessage?.content}</div>
          </div>
        ))}
        <div ref={endRef} />
      </div>
      <form class="composer" onSubmit={(e) => void send(e)}>
        <label for="message" class="visually-hidden">
          Message
        </label>
        <textarea
          id="message"
          data-testid="message"
          rows={3}
          placeholder="Message the agent (Ctrl+Enter sends)"
          value={message}
          onInput={(e) => setMessage(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void send(e);
          }}
        />
        <div class="composer-actions">
          <button type="submit" data-testid="send" disabled={sending || !message.trim()}>
            Send
          </button>
          <button type="button" class="secondary" data-testid="interrupt" onClick={() => void interrupt()} disabled={!running}>
            Interrupt
          </button>
        </div>
        {actionError && (
          <p class="error" role="alert" data-testid="action-error">
            {actionError}
          </p>
        )}
      </form>
      </div>
    </section>
  );
}

// The session's sandbox while it starts, or when it is not well; a small "ready" once it is.
function SandboxStatus({ status, message }: { status: string; message: string }) {
  if (!status || status === "UNSPECIFIED") return null;
  const lower = status.toLowerCase();
  // An ended sandbox is the usual end of an unload or an idle timeout (a dead one is replaced at the
  // next message, and its error shows in the conversation): only an unhealthy one is a warning.
  const warn = status === "UNHEALTHY";
  const text = status === "READY" ? "sandbox ready" : `sandbox ${lower}${message ? `: ${message}` : ""}`;
  return (
    <>
      {" · "}
      <span
        class={`sandbox-status sandbox-${lower}${warn ? " warning" : ""}`}
        data-testid="sandbox-status"
        data-status={lower}
        role={warn ? "alert" : "status"}
      >
        {status === "STARTING" && <span class="spinner" aria-hidden="true" />}
        {warn && <span aria-hidden="true">⚠ </span>}
        {text}
      </span>
    </>
  );
}

// Tokens and cost of the session so far, summed over its metadata_update events.
function UsageLine({ usage }: { usage: UsageTotals }) {
  const cache =
    usage.cacheReadTokens || usage.cacheWriteTokens
      ? ` · cache read ${usage.cacheReadTokens}, written ${usage.cacheWriteTokens}`
      : "";
  return (
    <p class="session-meta usage" data-testid="usage" title={usage.model ? `model ${usage.model}` : undefined}>
      <span data-testid="usage-input">{usage.inputTokens}</span> input ·{" "}
      <span data-testid="usage-output">{usage.outputTokens}</span> output tokens{cache}
      {/* Only Claude Code reports a cost; the other architectures' tokens have no price here. */}
      {usage.costUsd > 0 && (
        <>
          {" · "}
          <span data-testid="usage-cost">${usage.costUsd.toFixed(4)}</span>
        </>
      )}
    </p>
  );
}
