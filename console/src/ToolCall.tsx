// A client tool call (client_tool_call): the agent called a tool the caller runs, and the page answers
// it: the result's text, whether it is an error, Submit (POST /sessions/{id}/tool-results/{callId}).
// Once client_tool_result arrives (or the result is accepted) it shows "answered" and the form goes.
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError, type Api } from "./api";
import { asText } from "./Approval";
import type { ToolCallState } from "./conversation";
import type { ClientToolResult } from "./types";

interface Props {
  api: Api;
  sessionId: string;
  toolCall: ToolCallState;
}

function formatTime(timestamp: string | undefined): string {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleTimeString();
}

export function ToolCallPanel({ api, sessionId, toolCall }: Props) {
  const { call } = toolCall;
  const [output, setOutput] = useState("");
  const [isError, setIsError] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The result the runtime accepted, until (or if) its client_tool_result event arrives.
  const [accepted, setAccepted] = useState<ClientToolResult | undefined>(undefined);
  const outcomeRef = useRef<HTMLParagraphElement>(null);
  const answeredHereRef = useRef(false);

  const result = toolCall.result ?? accepted;
  const idBase = `tool-call-${call.callId}`;
  const input = asText(call.input);

  // The form goes once answered: keep the keyboard focus in the panel, on its outcome.
  useEffect(() => {
    if (result && answeredHereRef.current) outcomeRef.current?.focus();
  }, [result]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await api.post<{ result?: ClientToolResult }>(
        `/sessions/${encodeURIComponent(sessionId)}/tool-results/${encodeURIComponent(call.callId)}`,
        { output, isError },
      );
      answeredHereRef.current = true;
      setAccepted(response.result ?? { callId: call.callId, output, isError, answeredBy: "caller" });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const resultText = result ? asText(result.output) : "";
  return (
    <section
      class={`tool-call${result ? " answered" : ""}${result?.isError ? " is-error" : ""}`}
      data-testid="tool-call"
      aria-labelledby={`${idBase}-title`}
    >
      <p class="tool-call-title" id={`${idBase}-title`}>
        Tool call for you: <span class="tool-name" data-testid="tool-call-name">{call.toolName}</span>
      </p>
      {input && input !== "{}" && (
        <pre class="tool-input" data-testid="tool-call-input">
          <code>{input}</code>
        </pre>
      )}
      {result ? (
        <div class="tool-call-outcome" tabIndex={-1} ref={outcomeRef} role="status">
          <p>
            <strong data-testid="tool-call-outcome">answered</strong>
            {result.isError ? " (as an error)" : ""} by <span class="answered-by">{result.answeredBy || "caller"}</span>
          </p>
          {resultText && (
            <pre class="tool-call-result">
              <code>{resultText}</code>
            </pre>
          )}
        </div>
      ) : (
        <form class="tool-call-form" onSubmit={(e) => void submit(e)}>
          <label for={`${idBase}-result`}>Result</label>
          <textarea
            id={`${idBase}-result`}
            data-testid="tool-result-input"
            rows={3}
            value={output}
            onInput={(e) => setOutput(e.currentTarget.value)}
            placeholder="What the tool returned"
          />
          <div class="tool-call-actions">
            <label class="checkbox">
              <input
                type="checkbox"
                data-testid="tool-result-error"
                checked={isError}
                onChange={(e) => setIsError(e.currentTarget.checked)}
              />
              is an error
            </label>
            <button type="submit" data-testid="tool-result-submit" disabled={busy}>
              Submit
            </button>
            {call.expiresAt && <span class="hint">fails unanswered at {formatTime(call.expiresAt)}</span>}
          </div>
          {error && (
            <p class="error" role="alert" data-testid="tool-call-error">
              {error}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
