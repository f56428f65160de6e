import assert from "node:assert/strict";
import { equals } from "@bufbuild/protobuf";
import { SessionEventSchema, type SessionEvent } from "../src/index.js";

/** The events up to and including the `turns`-th turn_completed; leaving the loop ends the stream. */
export async function untilTurnCompleted(events: AsyncIterable<SessionEvent>, turns = 1): Promise<SessionEvent[]> {
  const seen: SessionEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    if (event.payload.case === "turnCompleted" && --turns === 0) {
      break;
    }
  }
  return seen;
}

/** 1n, 2n, ... count: the sequences of a session's events read from the start. */
export function dense(count: number): bigint[] {
  return Array.from({ length: count }, (_, index) => BigInt(index + 1));
}

/** The same events, field for field, in the same order. */
export function assertSameEvents(actual: SessionEvent[], expected: SessionEvent[]): void {
  assert.deepEqual(actual.map((event) => event.sequence), expected.map((event) => event.sequence));
  actual.forEach((event, index) => {
    assert.ok(equals(SessionEventSchema, event, expected[index]!), `event ${event.sequence} is the same both times`);
  });
}
