// Follows a session (argv[2]) until its turn ends and answers what the turn waits for as a caller would:
// every approval is allowed (a Write's content replaced by argv[3]), every client tool call returns
// {"answered_by": "typescript"}. Prints each answer's resolution as a JSON line.
import { toJsonString } from "@bufbuild/protobuf";
import {
  ApprovalDecision,
  ApprovalResolvedSchema,
  ClientToolResultSchema,
  followSessionEvents,
} from "../src/index.js";
import { connect } from "./live-runtime.js";

const [sessionId, content] = process.argv.slice(2);
if (!sessionId || content === undefined) {
  throw new Error("usage: answer-session.ts SESSION_ID CONTENT");
}
const client = connect();
const answeredBy = { answered_by: { kind: { case: "stringValue" as const, value: "typescript" } } };
for await (const event of followSessionEvents(client, sessionId)) {
  const { payload } = event;
  if (payload.case === "approvalRequested") {
    const asked = payload.value;
    const answered = await client.respondToApproval({
      sessionId,
      approvalId: asked.approvalId,
      decision: ApprovalDecision.ALLOW,
      updatedInput: { ...asked.input, content },
      responder: "typescript",
    });
    process.stdout.write(`${toJsonString(ApprovalResolvedSchema, answered.resolution!)}\n`);
  } else if (payload.case === "clientToolCall") {
    const called = payload.value;
    const answered = await client.submitToolResult({
      sessionId,
      callId: called.callId,
      output: { kind: { case: "structValue", value: { fields: answeredBy } } },
      responder: "typescript",
    });
    process.stdout.write(`${toJsonString(ClientToolResultSchema, answered.result!)}\n`);
  } else if (payload.case === "turnCompleted") {
    break;
  }
}
