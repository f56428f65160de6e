// The Managed Agents API of a live agent-runtime, driven by the official @anthropic-ai/sdk, unmodified:
// create an agent and an environment, a session on them, send a message, stream until idle, list the
// events. Run by
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

test("a session of a new agent in a new environment streams a turn until idle, and lists the same events", async () => {
  const agent = await client.beta.agents.create({
    name: "TypeScript's agent",
    model: "claude-haiku-4-5",
    system: "Answer briefly.",
    tools: [{ type: "agent_toolset_20260401" }],
  });
  const environment = await client.beta.environments.create({
    name: "TypeScript's environment",
    config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["example.org"] } },
  });
  assert.equal(agent.version, 1);
  assert.ok(environment.config.type === "cloud" && environment.config.networking.type === "limited");
  const session = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    metadata: { architecture: "anthropic" },
  });
  assert.equal(session.status, "idle");
  assert.deepEqual([session.agent.id, session.agent.version, session.environment_id], [agent.id, 1, environment.id]);
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
