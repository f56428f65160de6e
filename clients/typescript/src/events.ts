import { Code, ConnectError } from "@connectrpc/connect";
import type { SessionEvent } from "./_gen/agentruntime/v1/events_pb.js";
import type { AgentRuntimeClient } from "./client.js";

// What a broken stream looks like from here: the runtime stopping or restarting (UNAVAILABLE), the
// connection reset (connect-node reports ABORTED) or closed under the call (CANCELED, when the caller did
// not cancel), or the runtime ending a subscriber that fell behind (RESOURCE_EXHAUSTED, "resume from the
// last sequence received").
const RESUMABLE = new Set([Code.Unavailable, Code.Aborted, Code.Canceled, Code.ResourceExhausted]);

export interface FollowOptions {
  /** Start after this sequence (exclusive); 0, the default, starts at the session's first event. */
  afterSequence?: bigint;
  /** Ends the iteration (with a Canceled error) and any wait between attempts. */
  signal?: AbortSignal;
  /** Consecutive failed attempts allowed without receiving anything; default 8. */
  maxRetries?: number;
  /** The first wait before resuming, doubled on each failure up to 5 s; default 250 ms. */
  retryDelayMs?: number;
  /** Told of each break before resuming, with the cursor it resumes from. */
  onResume?: (error: ConnectError, afterSequence: bigint) => void;
}

/**
 * A session's events from `afterSequence` on, following live, as one async iterable that survives
 * dropped connections and runtime restarts: after a break it asks again from the last sequence it
 * yielded, and the runtime's log guarantees no gap and no duplicate. Heartbeats are left out. The
 * iteration ends when the session is deleted (the runtime closes the stream) or when the caller stops.
 */
export async function* followSessionEvents(
  client: AgentRuntimeClient,
  sessionId: string,
  options: FollowOptions = {},
): AsyncGenerator<SessionEvent, void, undefined> {
  const maxRetries = options.maxRetries ?? 8;
  const firstDelay = options.retryDelayMs ?? 250;
  let after = options.afterSequence ?? 0n;
  let failures = 0;
  for (;;) {
    // Connect's stream iterable has no return(): leaving the loop would not end the call, so every
    // attempt gets its own signal, aborted on the way out however the caller stops.
    const attempt = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, attempt.signal]) : attempt.signal;
    try {
      const request = { sessionId, afterSequence: after, follow: true };
      for await (const response of client.streamSessionEvents(request, { signal })) {
        failures = 0; // anything received means the runtime is reachable again
        if (response.kind.case !== "event") {
          continue; // a heartbeat only says the stream is alive
        }
        after = response.kind.value.sequence;
        yield response.kind.value;
      }
      return;
    } catch (thrown) {
      const error = ConnectError.from(thrown);
      failures += 1;
      if (options.signal?.aborted || !RESUMABLE.has(error.code) || failures > maxRetries) {
        throw error;
      }
      options.onResume?.(error, after);
    } finally {
      attempt.abort();
    }
    await pause(Math.min(firstDelay * 2 ** (failures - 1), 5000), options.signal);
  }
}

/** Waits `ms`, or less if `signal` aborts (the next attempt then fails at once as Canceled). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
