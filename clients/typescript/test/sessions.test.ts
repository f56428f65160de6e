import assert from "node:assert/strict";
import { test } from "node:test";
import { Code } from "@connectrpc/connect";
import { apiErrorOf, SessionView } from "../src/index.js";
import { connect, thrownBy } from "./live-runtime.js";

test("a session is created, read, listed and deleted", async () => {
  const client = connect();
  const created = await client.createSession({
    agentProfileRef: "default",
    architecture: "anthropic",
    name: "from TypeScript",
    metadata: { caller: "node", attempt: 1 },
  });
  assert.match(created.sessionId, /^[0-9a-f-]{36}$/);
  assert.equal(created.agentProfileRef, "default");
  assert.equal(created.architecture, "anthropic");

  const fetched = await client.getSession({ sessionId: created.sessionId, view: SessionView.FULL });
  assert.equal(fetched.sessionId, created.sessionId);
  assert.equal(fetched.name, "from TypeScript");
  assert.deepEqual(fetched.metadata, { caller: "node", attempt: 1 });
  assert.ok(fetched.createdAt && fetched.createdAt.seconds > 0n, "createdAt is a Timestamp with bigint seconds");

  const listed = await client.listSessions({ pageSize: 1000 });
  assert.ok(listed.sessions.some((session) => session.sessionId === created.sessionId));

  const deleted = await client.deleteSession({ sessionId: created.sessionId, purge: true });
  assert.equal(deleted.sessionId, created.sessionId);
  assert.equal(deleted.purged, true);
  const gone = apiErrorOf(await thrownBy(() => client.getSession({ sessionId: created.sessionId })));
  assert.equal(gone.code, Code.NotFound);
  assert.equal(gone.reason, "SESSION_NOT_FOUND");
});

test("the agent profiles are listed", async () => {
  const { profiles } = await connect().listAgentProfiles({});
  const ids = profiles.map((profile) => profile.id);
  assert.ok(ids.includes("default"), `"default" is among ${ids.join(", ")}`);
  const profile = await connect().getAgentProfile({ agentProfileId: "default" });
  assert.equal(profile.id, "default");
});
