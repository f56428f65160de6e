// A session's workspace: its files (live, from the WorkspaceModel the session's stream feeds) and the
// one chosen, as highlighted text or, for binary content, a download.
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { describeError, type Api } from "./api";
import { highlight } from "./markdown";
import type { ListWorkspaceFilesResponse, WorkspaceFile } from "./types";
import { asUtf8, decodeBase64, encodePath, formatSize, languageOf, type WorkspaceModel } from "./workspace";

// Past this, text shows without highlighting (highlight.js is slow on very large files).
const HIGHLIGHT_LIMIT = 256 * 1024;

interface Props {
  api: Api;
  sessionId: string;
  model: WorkspaceModel;
  // Bumped by the session view whenever an event changed the model.
  version: number;
}

export function WorkspaceView({ api, sessionId, model }: Props) {
  const [, setLoads] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    model.beginLoad();
    const files: WorkspaceFile[] = [];
    try {
      let token = "";
      do {
        const query = `pageSize=1000${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`;
        const page = await api.get<ListWorkspaceFilesResponse>(`/sessions/${encodeURIComponent(sessionId)}/files?${query}`);
        files.push(...(page.files ?? []));
        token = page.nextPageToken ?? "";
      } while (token);
      model.finishLoad(files);
    } catch (e) {
      model.failLoad();
      setError(describeError(e));
    } finally {
      setLoading(false);
      setLoads((n) => n + 1);
    }
  }, [api, sessionId, model]);

  useEffect(() => {
    if (!model.loaded) void load();
  }, [model, load]);

  const files = model.sorted;
  const current = selected ? model.files.get(selected) : undefined;

  return (
    <div class="workspace" data-testid="workspace">
      <div class="file-list-pane">
        <div class="pane-head">
          <h3 id="files-heading">Files</h3>
          <button type="button" class="secondary small" data-testid="files-refresh" onClick={() => void load()} disabled={loading}>
            Refresh
          </button>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {loading && !model.loaded && <p class="hint">Loading…</p>}
        <ul class="file-list" aria-labelledby="files-heading" data-testid="file-list">
          {files.map((file) => {
            const slash = file.path.lastIndexOf("/");
            return (
              <li key={file.path}>
                <button
                  type="button"
                  class={`file-entry${file.path === selected ? " selected" : ""}`}
                  data-testid="file-entry"
                  aria-current={file.path === selected ? "true" : undefined}
                  title={`${file.path} · ${formatSize(file.size)}`}
                  onClick={() => setSelected(file.path)}
                >
                  {slash >= 0 && <span class="file-dir">{file.path.slice(0, slash + 1)}</span>}
                  <span class="file-name">{file.path.slice(slash + 1)}</span>
                </button>
              </li>
            );
          })}
          {model.loaded && files.length === 0 && <li class="empty">No files yet.</li>}
        </ul>
      </div>
      <div class="file-pane">
        {selected ? (
          <FileView api={api} sessionId={sessionId} path={selected} file={current} />
        ) : (
          <p class="placeholder">Choose a file to see it.</p>
        )}
      </div>
    </div>
  );
}

type Loaded =
  | { kind: "text"; text: string; file: WorkspaceFile }
  | { kind: "binary"; url: string; file: WorkspaceFile }
  | { kind: "error"; message: string };

// The chosen file's content, loaded again when its sha256 changes (a file event said so).
function FileView({ api, sessionId, path, file }: { api: Api; sessionId: string; path: string; file?: WorkspaceFile }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const deleted = file === undefined;
  const sha = file?.sha256;

  useEffect(() => {
    if (deleted) return undefined;
    let stale = false;
    let url: string | null = null;
    api
      .get<WorkspaceFile>(`/sessions/${encodeURIComponent(sessionId)}/files/${encodePath(path)}`)
      .then((answer) => {
        if (stale) return;
        const bytes = decodeBase64(answer.content ?? "");
        const text = asUtf8(bytes);
        if (text !== null) {
          setLoaded({ kind: "text", text, file: answer });
        } else {
          url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/octet-stream" }));
          setLoaded({ kind: "binary", url, file: answer });
        }
      })
      .catch((e: unknown) => {
        if (!stale) setLoaded({ kind: "error", message: describeError(e) });
      });
    return () => {
      stale = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, sessionId, path, sha, deleted]);

  const html = useMemo(() => {
    if (loaded?.kind !== "text") return "";
    return highlight(loaded.text, loaded.text.length <= HIGHLIGHT_LIMIT ? languageOf(path) : undefined);
  }, [loaded, path]);

  const name = path.slice(path.lastIndexOf("/") + 1);
  const shown = loaded && loaded.kind !== "error" ? loaded.file : file;
  return (
    <section class="file-view" aria-labelledby="file-title">
      <header class="pane-head">
        <h3 id="file-title" data-testid="file-path">{path}</h3>
        {shown && <span class="hint">{formatSize(shown.size)}{shown.modifiedTime ? ` · ${new Date(shown.modifiedTime).toLocaleString()}` : ""}</span>}
      </header>
      {deleted && (
        <p class="error" role="status" data-testid="file-deleted">
          This file was deleted.
        </p>
      )}
      {!loaded && !deleted && <p class="hint">Loading…</p>}
      {loaded?.kind === "error" && (
        <p class="error" role="alert">
          {loaded.message}
        </p>
      )}
      {!deleted && loaded?.kind === "text" && (
        <pre class="file-viewer" data-testid="file-viewer" tabIndex={0} aria-label={`Content of ${path}`}>
          <code class={`hljs${languageOf(path) ? ` language-${languageOf(path)}` : ""}`} dangerouslySetInnerHTML={{ __html: html }} />
        </pre>
      )}
      {!deleted && loaded?.kind === "binary" && (
        <p class="binary-file">
          Binary content ({formatSize(loaded.file.size)}).{" "}
          <a href={loaded.url} download={name} data-testid="file-download">
            Download {name}
          </a>
        </p>
      )}
    </section>
  );
}
