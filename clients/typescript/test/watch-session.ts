// Follows a session (argv[2]) and prints each event as a JSON line, saying on stderr when it resumes
// after a break: the follower tests/integration keeps running across a runtime restart.
import { toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { followSessionEvents, SessionEventSchema } from "../src/index.js";
import { connect } from "./live-runtime.js";

const sessionId = process.argv[2];
if (!sessionId) {
  throw new Error("usage: watch-session.ts SESSION_ID");
}
const following = followSessionEvents(connect(), sessionId, {
  onResume: (error, after) => console.error(`resuming after ${after}: ${Code[error.code]}`),
});
for await (const event of following) {
  process.stdout.write(`${toJsonString(SessionEventSchema, event)}\n`);
}
