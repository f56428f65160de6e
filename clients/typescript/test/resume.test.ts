import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { followSessionEvents, TurnOutcome, type SendMessageResponse, type SessionEvent } from "../src/index.js";
import { address, connect } from "./live-runtime.js";
import { TcpRelay } from "./tcp-relay.js";
import { assertSameEvents, dense, untilTurnCompleted } from "./turns.js";

const TURN_TIMEOUT_MS = 120_000;

const TITLE = "following resumes after a dropped connection, with no gap and no duplicate";

test(TITLE, { timeout: TURN_TIMEOUT_MS }, async (t) => {
  const relay = await TcpRelay.start(address);
  t.after(() => relay.close());
  const direct = connect();
  const throughRelay = connect({ address: relay.address });
  const { sessionId } = await direct.createSession({ agentProfileRef: "default", architecture: "anthropic" });
  await direct.sendMessage({ sessionId, content: "First." });

  const seen: SessionEvent[] = [];
  const resumes: { after: bigint; lastSeen: bigint | undefined }[] = [];
  let second: Promise<SendMessageResponse> | undefined;
  const following = followSessionEvents(throughRelay, sessionId, {
    retryDelayMs: 50,
    onResume: (_, after) => {
      resumes.push({ after, lastSeen: seen.at(-1)?.sequence });
      // The second turn starts only once the first stream is gone, so its events must come by the resumed one.
      second ??= direct.sendMessage({ sessionId, content: "Second." });
    },
  });
  const events = await untilTurnCompleted(
    (async function* () {
      for await (const event of following) {
        seen.push(event);
        if (seen.length === 1) {
          relay.dropConnections();
        }
        yield event;
      }
    })(),
    2,
  );

  assert.ok(resumes.length >= 1, "the follower saw the connection drop");
  assert.ok(relay.connections >= 2, "and connected again");
  for (const { after, lastSeen } of resumes) {
    assert.equal(after, lastSeen, "it resumes right after the last event it gave out");
  }
  assert.deepEqual(events.map((event) => event.sequence), dense(events.length));
  const completed = events.flatMap(({ payload }) => (payload.case === "turnCompleted" ? [payload.value] : []));
  const sent = await second;
  assert.deepEqual(
    completed.map(({ outcome }) => outcome),
    [TurnOutcome.COMPLETED, TurnOutcome.COMPLETED],
  );
  assert.equal(completed[1]?.turnId, sent?.turnId);

  // What the follower gave out is the session's log, as a fresh reader sees it.
  const stored: SessionEvent[] = [];
  for await (const response of direct.streamSessionEvents({ sessionId, afterSequence: 0n, follow: false })) {
    if (response.kind.case === "event") {
      stored.push(response.kind.value);
    }
  }
  assertSameEvents(stored.slice(0, events.length), events);
});

test("aborting the signal ends following with CANCELED, without retrying", { timeout: TURN_TIMEOUT_MS }, async () => {
  const client = connect();
  const { sessionId } = await client.createSession({ agentProfileRef: "default", architecture: "anthropic" });
  await client.sendMessage({ sessionId, content: "Hello?" });
  const controller = new AbortController();
  let resumed = false;
  const following = followSessionEvents(client, sessionId, {
    signal: controller.signal,
    onResume: () => (resumed = true),
  });
  let received = 0;
  const error = await (async () => {
    try {
      for await (const _ of following) {
        received += 1;
        controller.abort();
      }
    } catch (thrown) {
      return ConnectError.from(thrown);
    }
    assert.fail("following ended without an error");
  })();
  assert.equal(error.code, Code.Canceled);
  assert.equal(received, 1);
  assert.equal(resumed, false);
});
