import assert from "node:assert/strict";
import { createAgentRuntimeClient, type AgentRuntimeClient } from "../src/index.js";

// The runtime under test: the same variables the agent-runtime CLI reads.
export const address = required("AGENT_RUNTIME_GRPC_ADDRESS");
export const apiKey = required("AGENT_RUNTIME_API_KEY");
// What the model answers a message, when the runtime's model is scripted (tests/integration does so).
export const scriptedReply = process.env.AGENT_RUNTIME_TEST_REPLY;

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `set ${name} to run these tests against a live agent-runtime`);
  return value;
}

export function connect(options: { address?: string; apiKey?: string } = {}): AgentRuntimeClient {
  return createAgentRuntimeClient({ address: options.address ?? address, apiKey: options.apiKey ?? apiKey });
}

/** Runs `call` and returns what it threw; fails the test if it succeeded. */
export async function thrownBy(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  assert.fail("the call succeeded; an error was expected");
}
