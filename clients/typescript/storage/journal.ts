// An append-only file of JSON lines, one change a line. Replaying it from the top rebuilds the state, so a
// restart keeps everything; a change is acknowledged only once its line is on disk (fdatasync).
import { closeSync, fsyncSync, openSync, readFileSync, truncateSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/** The lines written so far. A last line without its newline is a write cut short by a crash: it was never
 * acknowledged, so it is cut off before anything is appended after it. */
export function readLines(path: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const end = bytes.lastIndexOf("\n") + 1;
  if (end < bytes.length) truncateSync(path, end);
  return bytes.subarray(0, end).toString("utf8").split("\n").slice(0, -1);
}

export class Journal {
  private queued: string[] = [];
  private next: Promise<void> | undefined; // the write that will take the queued lines
  private last: Promise<void> = Promise.resolve();

  private constructor(private readonly file: FileHandle) {}

  static async open(path: string): Promise<Journal> {
    const file = await open(path, "a");
    // A new file's name must reach the disk too, or a crash could lose the whole file.
    const directory = openSync(dirname(path), "r");
    fsyncSync(directory);
    closeSync(directory);
    return new Journal(file);
  }

  /** Queues a line; durable() writes it. */
  add(line: string): void {
    this.queued.push(line + "\n");
  }

  /** Resolves once every line added so far is on disk. Lines added while a write is under way go
   * together in the next one, so concurrent callers share one fdatasync. */
  durable(): Promise<void> {
    if (this.queued.length && !this.next) {
      this.next = this.last.then(() => this.write());
      this.last = this.next;
    }
    return this.last;
  }

  private async write(): Promise<void> {
    const text = this.queued.join("");
    this.queued = [];
    this.next = undefined;
    try {
      await this.file.appendFile(text);
      await this.file.datasync();
    } catch (error) {
      // Memory is now ahead of the disk; only a restart, replaying the file, tells the truth again.
      console.error("agent-runtime storage: cannot write the journal:", error);
      process.exit(1);
    }
  }

  async close(): Promise<void> {
    await this.durable();
    await this.file.close();
  }
}
