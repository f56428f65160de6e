// A tool call waiting for the caller's answer (approval_requested), shown in the conversation: Allow,
// Deny or Always allow, or, for the agent's questions, one of the answers it offers. Once
// approval_resolved arrives (or the answer is accepted) it shows the outcome and who answered.
import type { Ref } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError, type Api } from "./api";
import type { ApprovalState } from "./conversation";
import type { ApprovalDecision, ApprovalResolved, Question } from "./types";

interface Props {
  api: Api;
  sessionId: string;
  approval: ApprovalState;
}

interface Answer {
  decision: ApprovalDecision;
  message?: string;
  remember?: boolean;
  answers?: Record<string, string>;
}

export function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function formatTime(timestamp: string | undefined): string {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleTimeString();
}

export function ApprovalPanel({ api, sessionId, approval }: Props) {
  const { request } = approval;
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The answer the runtime accepted, until (or if) its approval_resolved event arrives.
  const [accepted, setAccepted] = useState<ApprovalResolved | undefined>(undefined);
  // Several questions, or one that takes several answers: the labels chosen so far, by question.
  const [chosen, setChosen] = useState<Record<string, string[]>>({});
  const outcomeRef = useRef<HTMLParagraphElement>(null);
  const answeredHereRef = useRef(false);

  const resolution = approval.resolution ?? accepted;
  const questions = request.questions ?? [];
  const asking = questions.length > 0;
  const immediate = questions.length === 1 && !questions[0].multiSelect;
  const idBase = `approval-${request.approvalId}`;

  // The buttons go once answered: keep the keyboard focus in the panel, on its outcome.
  useEffect(() => {
    if (resolution && answeredHereRef.current) outcomeRef.current?.focus();
  }, [resolution]);

  async function answer(body: Answer) {
    setBusy(true);
    setError(null);
    const trimmed = message.trim();
    const payload: Record<string, unknown> = { decision: body.decision };
    if (trimmed) payload.message = trimmed;
    if (body.remember) payload.remember = true;
    if (body.answers) payload.answers = body.answers;
    try {
      const response = await api.post<{ resolution?: ApprovalResolved }>(
        `/sessions/${encodeURIComponent(sessionId)}/approvals/${encodeURIComponent(request.approvalId)}`,
        payload,
      );
      answeredHereRef.current = true;
      setAccepted(response.resolution ?? { approvalId: request.approvalId, decision: body.decision, answeredBy: "caller" });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  function toggle(question: Question, label: string) {
    const text = question.question ?? "";
    setChosen((all) => {
      const now = all[text] ?? [];
      const next = question.multiSelect
        ? now.includes(label)
          ? now.filter((l) => l !== label)
          : [...now, label]
        : [label];
      return { ...all, [text]: next };
    });
  }

  const allChosen = questions.every((q) => (chosen[q.question ?? ""] ?? []).length > 0);
  const input = asText(request.input);
  const showInput = !asking && input && input !== "{}";

  return (
    <section
      class={`approval${resolution ? " resolved" : ""}${resolution?.decision === "APPROVAL_DECISION_DENY" ? " denied" : ""}`}
      data-testid="approval"
      aria-labelledby={`${idBase}-title`}
    >
      <p class="approval-title" id={`${idBase}-title`}>
        {asking ? "The agent asks" : "Approval needed"}: <span class="tool-name">{request.toolName}</span>
        {request.rule ? (
          <span class="approval-rule" data-testid="approval-rule">
            {" "}
            — rule <code>{request.rule}</code>
          </span>
        ) : (
          !asking && <span class="approval-rule"> — the policy's default</span>
        )}
      </p>
      {showInput && (
        <pre class="tool-input" data-testid="approval-input">
          <code>{input}</code>
        </pre>
      )}
      {asking && (
        <div class="questions">
          {questions.map((q, index) => {
            const text = q.question ?? "";
            const picked = chosen[text] ?? [];
            const answered = resolution?.answers?.[text];
            return (
              <fieldset key={index} class="question" data-testid="approval-question" disabled={!!resolution || busy}>
                <legend>
                  {q.header && <span class="question-header">{q.header}</span>}
                  <span class="question-text">{text}</span>
                </legend>
                {answered !== undefined ? (
                  <p class="question-answer">
                    Answer: <strong>{answered}</strong>
                  </p>
                ) : (
                  !resolution && (
                    <div class="question-options" role="group" aria-label={text}>
                      {(q.options ?? []).map((option) => {
                        const label = option.label ?? "";
                        const on = picked.includes(label);
                        return (
                          <button
                            key={label}
                            type="button"
                            class={`option${on ? " chosen" : ""}`}
                            data-testid="approval-option"
                            aria-pressed={immediate ? undefined : on}
                            onClick={() =>
                              immediate
                                ? void answer({ decision: "APPROVAL_DECISION_ALLOW", answers: { [text]: label } })
                                : toggle(q, label)
                            }
                          >
                            <span class="option-label">{label}</span>
                            {option.description && <span class="option-description">{option.description}</span>}
                          </button>
                        );
                      })}
                    </div>
                  )
                )}
              </fieldset>
            );
          })}
        </div>
      )}
      {resolution ? (
        <Outcome resolution={resolution} outcomeRef={outcomeRef} />
      ) : (
        <>
          <label for={`${idBase}-message`}>Message to the agent (optional)</label>
          <textarea
            id={`${idBase}-message`}
            data-testid="approval-message"
            rows={2}
            maxLength={4096}
            value={message}
            onInput={(e) => setMessage(e.currentTarget.value)}
            placeholder={asking ? "Your own words instead of an option" : "Why it is refused, or a word with an allowed call"}
          />
          <div class="approval-actions">
            {asking && !immediate && (
              <button
                type="button"
                data-testid="answer-submit"
                disabled={busy || !allChosen}
                onClick={() =>
                  void answer({
                    decision: "APPROVAL_DECISION_ALLOW",
                    answers: Object.fromEntries(Object.entries(chosen).map(([q, labels]) => [q, labels.join(", ")])),
                  })
                }
              >
                Answer
              </button>
            )}
            {!asking && (
              <>
                <button type="button" data-testid="approve" disabled={busy} onClick={() => void answer({ decision: "APPROVAL_DECISION_ALLOW" })}>
                  Allow
                </button>
                <button
                  type="button"
                  class="secondary"
                  data-testid="always-allow"
                  disabled={busy}
                  title="Allow this call (same tool and input) for the rest of the session"
                  onClick={() => void answer({ decision: "APPROVAL_DECISION_ALLOW", remember: true })}
                >
                  Always allow
                </button>
              </>
            )}
            <button type="button" class="danger" data-testid="deny" disabled={busy} onClick={() => void answer({ decision: "APPROVAL_DECISION_DENY" })}>
              Deny
            </button>
            {request.expiresAt && <span class="hint">denied unanswered at {formatTime(request.expiresAt)}</span>}
          </div>
          {error && (
            <p class="error" role="alert" data-testid="approval-error">
              {error}
            </p>
          )}
        </>
      )}
    </section>
  );
}

function Outcome({ resolution, outcomeRef }: { resolution: ApprovalResolved; outcomeRef: Ref<HTMLParagraphElement> }) {
  const allowed = resolution.decision === "APPROVAL_DECISION_ALLOW";
  return (
    <p class={`approval-outcome ${allowed ? "allowed" : "denied"}`} data-testid="approval-outcome" tabIndex={-1} ref={outcomeRef} role="status">
      <strong>{allowed ? "allowed" : "denied"}</strong> by <span class="answered-by">{resolution.answeredBy || "caller"}</span>
      {resolution.remember && " · for the rest of the session"}
      {resolution.message && <span class="outcome-message"> — “{resolution.message}”</span>}
    </p>
  );
}
