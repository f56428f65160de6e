// The seed's wire of a live agent-runtime, as the seed's React client used it: fetch for its /api routes
// and the real socket.io-client for its events. Run by tests/integration/seed_wire/test_socket_io.py, which
// scripts the runtime's fake model: a turn that writes a file, then answers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { io, type Socket } from "socket.io-client";

const baseURL = required("AGENT_RUNTIME_HTTP_URL");
const apiKey = required("AGENT_RUNTIME_API_KEY");
const reply = required("AGENT_RUNTIME_TEST_REPLY");
const written = required("AGENT_RUNTIME_TEST_FILE");

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `set ${name} to run these tests against a live agent-runtime`);
  return value;
}

type Payload = Record<string, any>;
type Block = { id: string; type: string; content?: unknown; [key: string]: unknown };

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const answer = await fetch(`${baseURL}/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: answer.status, json: await answer.json() };
}

function connect(auth: Record<string, string> = { token: apiKey }): Socket {
  return io(baseURL, { path: "/socket.io", auth, reconnectionDelay: 100, reconnectionDelayMax: 200 });
}

function join(socket: Socket, sessionId: string, options?: { afterSequence: number }): Promise<Payload> {
  return new Promise((resolve) => {
    if (options) socket.emit("session:join", sessionId, options, resolve);
    else socket.emit("session:join", sessionId, resolve);
  });
}

/** What the seed's reducer keeps of a conversation: a buffer per conversationId that block_start opens,
 * deltas append to and block_complete replaces by the final block. */
class Conversation {
  readonly blocks: Block[] = [];
  readonly streaming = new Map<string, { blockId: string; text: string }>();
  readonly sequences: number[] = [];

  follow(socket: Socket): void {
    socket.onAny((_name: string, event: Payload) => {
      if (typeof event?.sequence === "number") this.sequences.push(event.sequence);
    });
    socket.on("session:block:start", (event: Payload) => {
      this.streaming.set(event.conversationId, { blockId: event.block.id, text: "" });
    });
    socket.on("session:block:delta", (event: Payload) => {
      const buffer = this.streaming.get(event.conversationId);
      assert.ok(buffer && buffer.blockId === event.blockId, "a delta belongs to the block its buffer opened");
      buffer.text += event.delta;
    });
    socket.on("session:block:complete", (event: Payload) => {
      const buffer = this.streaming.get(event.conversationId);
      if (buffer && buffer.blockId === event.blockId && event.block.type === "assistant_text") {
        assert.equal(buffer.text, event.block.content, "the deltas add up to the complete text");
      }
      this.streaming.delete(event.conversationId);
      if (event.conversationId === "main") this.blocks.push(event.block);
    });
  }
}

function until(socket: Socket, name: string, test: (event: Payload) => boolean = () => true): Promise<Payload> {
  return new Promise((resolve) => {
    const check = (event: Payload) => {
      if (!test(event)) return;
      socket.off(name, check);
      resolve(event);
    };
    socket.on(name, check);
  });
}

test("a turn streams to a joined socket as the seed's events, and adds up to the stored session", async () => {
  const created = await api("POST", "/sessions", { agentProfileRef: "default", architecture: "anthropic" });
  assert.equal(created.status, 201);
  const { sessionId } = created.json;
  const socket = connect();
  const conversation = new Conversation();
  conversation.follow(socket);
  const status = until(socket, "session:status");
  assert.deepEqual(await join(socket, sessionId), { success: true });
  assert.equal((await status).sessionId, sessionId);
  const file = until(socket, "session:file:created");
  const ended = until(socket, "session:turn:completed");

  const sent = await api("POST", `/sessions/${sessionId}/messages`, { content: "Write the note, then say hi" });
  assert.deepEqual(sent, { status: 200, json: { success: true, sessionId } });
  const created_file = await file;
  await ended;
  socket.close();

  assert.equal(created_file.file.path, written);
  assert.equal(typeof created_file.file.content, "string");
  const stored = await api("GET", `/sessions/${sessionId}`);
  assert.deepEqual(
    conversation.blocks.map((block) => [block.id, block.type, block.content]),
    stored.json.blocks.map((block: Block) => [block.id, block.type, block.content]),
  );
  assert.equal(conversation.blocks[0]?.type, "user_message", "the message sent is a block of the stream too");
  assert.equal(conversation.blocks.at(-1)?.content, reply);
  assert.ok(stored.json.workspaceFiles.some((entry: Payload) => entry.path === written));
});

test("a socket whose transport drops mid-turn rejoins after the last sequence it saw and misses nothing", async () => {
  const { json } = await api("POST", "/sessions", { agentProfileRef: "default", architecture: "anthropic" });
  const { sessionId } = json;
  const socket = connect();
  const conversation = new Conversation();
  conversation.follow(socket);
  assert.deepEqual(await join(socket, sessionId), { success: true });
  let dropped = false;
  socket.on("connect", () => {
    if (!dropped) return;
    void join(socket, sessionId, { afterSequence: conversation.sequences.at(-1) ?? 0 });
  });
  socket.on("session:block:start", () => {
    if (dropped) return;
    dropped = true;
    socket.io.engine.close(); // the transport goes; the client reconnects by itself
  });
  const ended = until(socket, "session:turn:completed");

  await api("POST", `/sessions/${sessionId}/messages`, { content: "Write the note, then say hi" });
  await ended;
  socket.close();

  assert.ok(dropped, "the transport dropped");
  const { sequences } = conversation;
  const ordered = sequences.every((sequence, index) => index === 0 || sequence > sequences[index - 1]!);
  assert.ok(ordered, `in order, none twice: ${sequences}`);
  const stored = await api("GET", `/sessions/${sessionId}`);
  assert.deepEqual(
    conversation.blocks.map((block) => block.id),
    stored.json.blocks.map((block: Block) => block.id),
    "every block completed, the ones of the dropped time too",
  );
});

test("a socket without the key, or with another, is refused", async () => {
  for (const auth of [{}, { token: "not-the-key" }]) {
    const socket = io(baseURL, { path: "/socket.io", auth, reconnection: false });
    const refused: Error & { data?: Payload } = await new Promise((resolve) => socket.on("connect_error", resolve));
    socket.close();
    assert.equal(refused.data?.code, "token" in auth ? "INVALID_API_KEY" : "AUTH_REQUIRED");
  }
});

test("joining an unknown session acks a failure", async () => {
  const socket = connect();
  const answer = await join(socket, "4f6c1d2e-0000-4000-8000-00000000dead");
  socket.close();
  assert.equal(answer.success, false);
  assert.match(answer.error, /does not exist/);
});

test("every socket with the key hears sessions:list when a session is created", async () => {
  const socket = connect();
  await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
  const heard = until(socket, "sessions:list");

  const { json } = await api("POST", "/sessions", { agentProfileRef: "default", architecture: "anthropic" });
  const listed = (await heard) as unknown as Payload[];
  socket.close();

  const item = listed.find((entry) => entry.sessionId === json.sessionId);
  assert.ok(item, "the new session is in the list");
  assert.deepEqual([item.type, item.agentProfileReference, item.runtime], ["anthropic", "default", { isLoaded: false, sandbox: null }]);
});
