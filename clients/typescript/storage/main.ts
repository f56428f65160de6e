// agent-runtime's storage as a TypeScript program: the PersistenceAdapter gRPC service (Connect-ES, over
// HTTP/2 without TLS) on a JSON-lines journal of sessions, stored agent profiles and environments, with
// built-in agent profiles from a directory.
//   node --import tsx storage/main.ts --file PATH --address HOST:PORT --profiles-dir DIR
import { createServer } from "node:http2";
import { unlinkSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { PersistenceAdapter } from "../src/_gen/agentruntime/v1/persistence_pb.js";
import { AgentProfiles } from "./agent_profiles.js";
import { decode } from "./changes.js";
import { Environments } from "./environments.js";
import { addHealth } from "./health.js";
import { Journal, readLines } from "./journal.js";
import { ProfileDirectory } from "./profiles.js";
import { persistenceAdapter } from "./service.js";
import { Sessions } from "./sessions.js";
import { StoredProfiles } from "./stored_profiles.js";

const { values: options } = parseArgs({
  options: {
    file: { type: "string" },
    address: { type: "string", default: "127.0.0.1:50052" },
    "profiles-dir": { type: "string", default: "profiles" },
  },
});
if (!options.file) {
  console.error("usage: main.ts --file PATH [--address HOST:PORT | unix:PATH] [--profiles-dir DIR]");
  process.exit(2);
}

const replayed = readLines(options.file).map(decode);
const journal = await Journal.open(options.file);
const stores = {
  journal,
  sessions: new Sessions(journal, replayed),
  profiles: new AgentProfiles(new ProfileDirectory(options["profiles-dir"]), new StoredProfiles(journal, replayed)),
  environments: new Environments(journal, replayed),
};

const routes = (router: ConnectRouter) => {
  router.service(PersistenceAdapter, persistenceAdapter(stores));
  addHealth(router, [PersistenceAdapter.typeName]);
};
const server = createServer(connectNodeAdapter({ routes }));

const address = options.address;
if (address.startsWith("unix:")) {
  const path = address.slice("unix:".length);
  try {
    unlinkSync(path); // a socket left by a killed server would refuse the bind
  } catch {}
  server.listen(path, () => console.log(`agent-runtime storage listening on ${address}`));
} else {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  server.listen(Number(address.slice(colon + 1)), host, () => {
    const { address: bound, port } = server.address() as AddressInfo;
    console.log(`agent-runtime storage listening on ${bound.includes(":") ? `[${bound}]` : bound}:${port}`);
  });
}

// Everything acknowledged is on disk already; stopping only waits for writes under way.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, async () => {
    server.close();
    await journal.close();
    process.exit(0);
  });
}
