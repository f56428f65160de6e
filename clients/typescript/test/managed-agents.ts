// The Managed Agents API of a live agent-runtime, driven by the official @anthropic-ai/sdk, unmodified:
// create a session, send a message, stream until idle, list the events. Run by
// tests/integration/managed_agents/test_typescript_sdk.py, which scripts the runtime's fake model.
import assert from "node:assert/strict";
import { test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";

const baseURL = required("AGENT_RUNTIME_HTTP_URL");
const apiKey = required("AGENT_RUNTIME_API_KEY");
const reply = required("AGENT_RUNTIME_TEST_REPLY");

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `set ${name} to run these tests against a live agent-runtime`);
  return value;
}

const client = new Anthropic({ baseURL, apiKey, maxRetries: 0 });

test("a session streams a turn until idle, and lists the same events", async () => {
  const session = await client.beta.sessions.create({
    agent: "default",
    environment_id: "default",
    metadata: { architecture: "anthropic" },
  });
  assert.equal(session.status, "idle");
  const stream = await client.beta.sessions.events.stream(session.id);
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: "user.message", content: [{ type: "text", text: "Hello from TypeScript" }] }],
  });
  const seen = [];
  for await (const event of stream) {
    seen.push(event);
    if (event.type === "session.status_idle") break;
  }
  assert.deepEqual(
    seen.map((event) => event.type),
    ["user.message", "session.status_running", "agent.message", "session.status_idle"],
  );
  const said = seen[2];
  assert.ok(said?.type === "agent.message" && said.content[0]?.type === "text");
  assert.equal(said.content[0].text, reply);

  const listed = [];
  for await (const event of client.beta.sessions.events.list(session.id, { limit: 2 })) listed.push(event);
  assert.deepEqual(
    listed.map((event) => event.id),
    seen.map((event) => ("id" in event ? event.id : "")), // a stream may also carry deltas, which have none
  );
});

test("an unknown session is the SDK's NotFoundError", async () => {
  await assert.rejects(client.beta.sessions.retrieve("4f6c1d2e-0000-4000-8000-00000000dead"), Anthropic.NotFoundError);
});
