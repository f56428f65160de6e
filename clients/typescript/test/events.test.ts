import assert from "node:assert/strict";
import { test } from "node:test";
import { DeltaKind, followSessionEvents, TurnOutcome, type SessionEvent } from "../src/index.js";
import { connect, scriptedReply } from "./live-runtime.js";
import { assertSameEvents, dense, untilTurnCompleted } from "./turns.js";

const TURN_TIMEOUT_MS = 120_000; // a first message starts a sandbox

const TITLE = "a message streams back as deltas of the assistant's text, then resumes from a cursor";

test(TITLE, { timeout: TURN_TIMEOUT_MS }, async () => {
  const client = connect();
  const { sessionId } = await client.createSession({ agentProfileRef: "default", architecture: "anthropic" });
  const sent = await client.sendMessage({ sessionId, content: "Say hello." });
  assert.equal(sent.userMessage?.kind.case, "userMessage");
  assert.equal(sent.userMessage?.kind.value.content, "Say hello.");

  const events = await untilTurnCompleted(followSessionEvents(client, sessionId));
  assert.deepEqual(events.map((event) => event.sequence), dense(events.length));
  assert.ok(events.every((event) => event.sessionId === sessionId));
  const started = events.flatMap(({ payload }) => (payload.case === "turnStarted" ? [payload.value.turnId] : []));
  assert.deepEqual(started, [sent.turnId]);
  const completed = events.at(-1)?.payload;
  assert.equal(completed?.case, "turnCompleted");
  assert.equal(completed.value.turnId, sent.turnId);
  assert.equal(completed.value.outcome, TurnOutcome.COMPLETED);

  const deltas = textDeltas(events);
  const answer = assistantText(events);
  assert.ok(deltas.length > 0, "the text arrives as block deltas before the block completes");
  assert.equal(deltas.join(""), answer, "the deltas add up to the completed block");
  if (scriptedReply !== undefined) {
    assert.equal(answer, scriptedReply);
  }

  // A cursor in the middle: exactly the later events, the same as the first time.
  const cursor = events[Math.floor(events.length / 2)]!.sequence;
  const later = events.filter((event) => event.sequence > cursor);
  const replayed: SessionEvent[] = [];
  for await (const response of client.streamSessionEvents({ sessionId, afterSequence: cursor, follow: false })) {
    if (response.kind.case === "event") {
      replayed.push(response.kind.value);
    }
  }
  assert.ok(replayed.length >= later.length);
  assert.ok(replayed.every((event) => event.sequence > cursor));
  assertSameEvents(replayed.slice(0, later.length), later);

  const followed = await untilTurnCompleted(followSessionEvents(client, sessionId, { afterSequence: cursor }));
  assertSameEvents(followed, later);
});

function textDeltas(events: SessionEvent[]): string[] {
  return events.flatMap(({ payload }) =>
    payload.case === "blockDelta" && payload.value.kind === DeltaKind.TEXT ? [payload.value.delta] : [],
  );
}

/** The content of the assistant_text blocks the turn completed. */
function assistantText(events: SessionEvent[]): string {
  return events
    .flatMap(({ payload }) => (payload.case === "blockComplete" ? [payload.value.block?.kind] : []))
    .flatMap((kind) => (kind?.case === "assistantText" ? [kind.value.content] : []))
    .join("");
}
