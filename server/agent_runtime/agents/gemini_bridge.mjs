// The Gemini CLI's way to ask the runtime while it runs, inside the sandbox and without a network.
//
//   node gemini-bridge.mjs run SOCKET -- gemini ARGS...   runs the CLI; its stdout lines pass through, and
//       every question put on SOCKET goes out as a line {"type": "agent_runtime_request", "id", "kind",
//       "payload"}. stdin: the first line is {"prompt": "..."} (the CLI's stdin), then {"id", "answer"} lines.
//   node gemini-bridge.mjs hook SOCKET      a BeforeTool hook: the call it is given (stdin) is asked as
//       kind "hook", and the answer is the hook's output (stdout).
//   node gemini-bridge.mjs mcp SOCKET       an MCP server on stdio: each JSON-RPC request is asked as kind
//       "mcp", and the answer is its response.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import net from "node:net";
import readline from "node:readline";

const [mode, socketPath, ...rest] = process.argv.slice(2);

function lines(stream, onLine) {
  readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

// One question over the socket; resolves with its answer.
function ask(kind, payload) {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socketPath);
    connection.on("error", reject);
    connection.write(JSON.stringify({ kind, payload }) + "\n");
    lines(connection, (line) => {
      resolve(JSON.parse(line));
      connection.end();
    });
  });
}

function run() {
  const waiting = new Map(); // request id -> the socket that asked
  let nextId = 1;
  rmSync(socketPath, { force: true });
  const server = net.createServer((connection) => {
    lines(connection, (line) => {
      const { kind, payload } = JSON.parse(line);
      const id = nextId++;
      waiting.set(id, connection);
      process.stdout.write(JSON.stringify({ type: "agent_runtime_request", id, kind, payload }) + "\n");
    });
  });
  server.listen(socketPath, () => {
    const [command, ...args] = rest.slice(rest.indexOf("--") + 1);
    const cli = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
    lines(cli.stdout, (line) => process.stdout.write(line + "\n"));
    let prompted = false;
    lines(process.stdin, (line) => {
      const message = JSON.parse(line);
      if (!prompted) {
        prompted = true;
        cli.stdin.end(message.prompt);
        return;
      }
      const connection = waiting.get(message.id);
      waiting.delete(message.id);
      connection?.write(JSON.stringify(message.answer) + "\n");
    });
    cli.on("close", (code, signal) => {
      server.close();
      process.exitCode = code ?? (signal ? 128 : 1);
      process.exit();
    });
  });
}

async function hook() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  process.stdout.write(JSON.stringify(await ask("hook", JSON.parse(input))) + "\n");
}

function mcp() {
  lines(process.stdin, async (line) => {
    const message = JSON.parse(line);
    if (message.id === undefined || message.id === null) return; // a notification
    process.stdout.write(JSON.stringify(await ask("mcp", message)) + "\n");
  });
}

({ run, hook, mcp })[mode]();
