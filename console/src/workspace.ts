// A session's workspace files: the listing (GET /sessions/{id}/files, every page), kept live by the
// stream's file events. Events that arrive while the listing loads are applied again on top of it, in
// order, so the tree ends as the workspace is whichever of the two saw a change first.
import type { SessionEvent, WorkspaceFile } from "./types";

export class WorkspaceModel {
  files = new Map<string, WorkspaceFile>();
  loaded = false;
  private loading: SessionEvent[] | null = null;

  // Applies a file event; false when it is not one (or the listing is not wanted yet).
  apply(event: SessionEvent): boolean {
    if (!event.fileCreated && !event.fileModified && !event.fileDeleted) return false;
    if (this.loading) {
      this.loading.push(event);
      return false;
    }
    if (!this.loaded) return false;
    this.change(event);
    return true;
  }

  beginLoad(): void {
    this.loading = [];
  }

  finishLoad(files: WorkspaceFile[]): void {
    const pending = this.loading ?? [];
    this.loading = null;
    this.files = new Map(files.map((f) => [f.path, f]));
    for (const event of pending) this.change(event);
    this.loaded = true;
  }

  failLoad(): void {
    this.loading = null;
  }

  get sorted(): WorkspaceFile[] {
    return [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private change(event: SessionEvent): void {
    const changed = event.fileCreated?.file ?? event.fileModified?.file;
    if (changed?.path) this.files.set(changed.path, { ...this.files.get(changed.path), ...changed, content: undefined });
    else if (event.fileDeleted?.path) this.files.delete(event.fileDeleted.path);
  }
}

// A path for GET /sessions/{id}/files/{path}: each segment URL-encoded, the slashes kept.
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function decodeBase64(content: string): Uint8Array {
  const binary = atob(content);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// The bytes as text when they are valid UTF-8 without NUL bytes; null for a binary file.
export function asUtf8(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

const LANGUAGES: Record<string, string> = {
  sh: "bash",
  bash: "bash",
  zsh: "bash",
  diff: "diff",
  patch: "diff",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "javascript",
  json: "json",
  jsonl: "json",
  py: "python",
  pyi: "python",
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  html: "xml",
  htm: "xml",
  xml: "xml",
  svg: "xml",
  yaml: "yaml",
  yml: "yaml",
};

// The highlight.js language for a file, by its extension; undefined: plain text.
export function languageOf(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? LANGUAGES[name.slice(dot + 1).toLowerCase()] : undefined;
}

export function formatSize(size: string | number | undefined): string {
  const n = Number(size ?? 0);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
