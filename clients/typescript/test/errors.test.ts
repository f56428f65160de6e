import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { Code } from "@connectrpc/connect";
import { apiErrorOf, followSessionEvents } from "../src/index.js";
import { connect, thrownBy } from "./live-runtime.js";

test("an unknown session is NOT_FOUND with reason SESSION_NOT_FOUND", async () => {
  const error = apiErrorOf(await thrownBy(() => connect().getSession({ sessionId: randomUUID() })));
  assert.equal(error.code, Code.NotFound);
  assert.equal(error.reason, "SESSION_NOT_FOUND");
  assert.equal(error.domain, "agent-runtime");
  assert.deepEqual(error.fieldViolations, []);
});

test("a wrong API key is UNAUTHENTICATED with reason API_KEY_INVALID, on unary calls and streams", async () => {
  const client = connect({ apiKey: "not-the-key" });
  const unary = apiErrorOf(await thrownBy(() => client.listSessions({})));
  assert.equal(unary.code, Code.Unauthenticated);
  assert.equal(unary.reason, "API_KEY_INVALID");
  const streamed = apiErrorOf(
    await thrownBy(async () => {
      for await (const _ of followSessionEvents(client, randomUUID())) {
        assert.fail("no event is sent without the key");
      }
    }),
  );
  assert.equal(streamed.code, Code.Unauthenticated, "refused at once, not retried");
  assert.equal(streamed.reason, "API_KEY_INVALID");
});

test("bad input is INVALID_ARGUMENT naming the field and why", async () => {
  const error = apiErrorOf(
    await thrownBy(() => connect().createSession({ agentProfileRef: "default", architecture: "opencode" })),
  );
  assert.equal(error.code, Code.InvalidArgument);
  assert.equal(error.reason, "INVALID_ARCHITECTURE");
  assert.equal(error.fieldViolations.length, 1);
  assert.equal(error.fieldViolations[0]?.field, "architecture");
  assert.equal(error.fieldViolations[0]?.reason, "INVALID_ARCHITECTURE");
  assert.match(error.fieldViolations[0]?.description ?? "", /opencode/);
});

test("a stream's bad cursor is INVALID_ARGUMENT, and following an unknown session fails at once", async () => {
  const client = connect();
  const { sessionId } = await client.createSession({ agentProfileRef: "default", architecture: "anthropic" });
  const negative = apiErrorOf(
    await thrownBy(async () => {
      for await (const _ of followSessionEvents(client, sessionId, { afterSequence: -1n })) {
        assert.fail("no event before a negative cursor");
      }
    }),
  );
  assert.equal(negative.code, Code.InvalidArgument);
  assert.deepEqual(
    negative.fieldViolations.map(({ field, reason }) => ({ field, reason })),
    [{ field: "after_sequence", reason: "NEGATIVE_NUMBER" }],
  );

  const unknown = apiErrorOf(
    await thrownBy(async () => {
      for await (const _ of followSessionEvents(client, randomUUID())) {
        assert.fail("an unknown session has no events");
      }
    }),
  );
  assert.equal(unknown.code, Code.NotFound);
  assert.equal(unknown.reason, "SESSION_NOT_FOUND");
});
