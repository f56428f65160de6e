// Server-sent events over fetch(), so the stream can carry the Authorization header (EventSource
// cannot). readSse reads one connection; follow() reconnects with backoff until its signal aborts.
import { ApiError } from "./api";

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface ReadOptions {
  headers?: Record<string, string>;
  signal: AbortSignal;
  onOpen?: () => void;
  onEvent: (event: SseEvent) => void;
}

// Parses the text/event-stream format line by line: "field: value", a blank line ends an event,
// a line starting with ":" is a comment (keep-alive).
export class SseParser {
  private buffer = "";
  private id: string | undefined;
  private event = "";
  private data: string[] = [];

  constructor(private readonly emit: (event: SseEvent) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const newline = this.buffer.indexOf("\n", start);
      if (newline < 0) break;
      let line = this.buffer.slice(start, newline);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      this.line(line);
      start = newline + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0) {
        this.emit({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
      }
      this.id = undefined;
      this.event = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
  }
}

// Reads one stream until it ends (resolves) or fails (rejects; an ApiError when the answer is not 2xx).
export async function readSse(url: string, options: ReadOptions): Promise<void> {
  const response = await fetch(url, {
    headers: { Accept: "text/event-stream", ...options.headers },
    signal: options.signal,
    cache: "no-store",
  });
  if (!response.ok) throw await ApiError.from(response);
  if (!response.body) throw new Error("the stream has no body");
  options.onOpen?.();
  const parser = new SseParser(options.onEvent);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.push(value);
    }
  } finally {
    reader.releaseLock();
  }
}

export type StreamState = "connecting" | "open" | "reconnecting" | "stopped";

export interface FollowOptions extends Omit<ReadOptions, "onOpen"> {
  // Called before each connection: the URL to open (a resume cursor can change between them).
  url: () => string;
  onState?: (state: StreamState, error?: unknown) => void;
  // Whether to try again after this failure; default: yes unless the answer was a 4xx.
  retry?: (error: unknown) => boolean;
  minDelayMs?: number;
  maxDelayMs?: number;
}

// Thrown by an onEvent handler to end the stream for good (e.g. a final error event not worth retrying).
export class StreamStopped extends Error {}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

function defaultRetry(error: unknown): boolean {
  if (error instanceof StreamStopped) return false;
  return !(error instanceof ApiError && error.status >= 400 && error.status < 500);
}

// Keeps a stream open: after it ends or drops, waits (0.5 s doubling to 5 s; back to 0.5 s once a
// connection opens) and opens it again, until the signal aborts or retry() says no.
export async function follow(options: FollowOptions): Promise<void> {
  const min = options.minDelayMs ?? 500;
  const max = options.maxDelayMs ?? 5000;
  const retry = options.retry ?? defaultRetry;
  let delay = min;
  let first = true;
  while (!options.signal.aborted) {
    options.onState?.(first ? "connecting" : "reconnecting");
    first = false;
    let failure: unknown = new Error("the stream ended");
    try {
      await readSse(options.url(), {
        headers: options.headers,
        signal: options.signal,
        onEvent: options.onEvent,
        onOpen: () => {
          delay = min;
          options.onState?.("open");
        },
      });
    } catch (error) {
      failure = error;
    }
    if (options.signal.aborted) return;
    if (!retry(failure)) {
      options.onState?.("stopped", failure);
      return;
    }
    options.onState?.("reconnecting", failure);
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, max);
  }
}
