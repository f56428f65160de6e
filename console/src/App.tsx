import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, authHeaders, checkKey, createApi, describeError, type Api } from "./api";
import { ConversationView } from "./Conversation";
import { ProfilesView } from "./Profiles";
import { follow, type StreamState } from "./sse";
import type { ListSessionsResponse, Profile, Session, SessionChange } from "./types";

const KEY_STORAGE = "agent-runtime-console.api-key";
const ARCHITECTURES = ["claude-agent-sdk", "gemini-cli", "anthropic"];
const PAGE_SIZE = 50; // sessions per page of the list

export function App() {
  const [key, setKey] = useState<string | null>(() => sessionStorage.getItem(KEY_STORAGE));
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((message?: string) => {
    sessionStorage.removeItem(KEY_STORAGE);
    setKey(null);
    setNotice(message ?? null);
  }, []);

  if (!key) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(k) => {
          sessionStorage.setItem(KEY_STORAGE, k);
          setNotice(null);
          setKey(k);
        }}
      />
    );
  }
  return <Console apiKey={key} onSignOut={signOut} />;
}

function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return;
    setBusy(true);
    setError(null);
    try {
      await checkKey(trimmed);
      onSignedIn(trimmed);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? "That key is not valid" : `Could not sign in: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="sign-in">
      <form onSubmit={(e) => void submit(e)} class="card">
        <h1>agent-runtime console</h1>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          data-testid="api-key"
          type="password"
          autocomplete="current-password"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          required
          autofocus
        />
        <p class="hint">The key the runtime printed at start (kept in its data directory as api-key). It stays in this tab only.</p>
        {error && (
          <p class="error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        )}
        <button type="submit" data-testid="sign-in" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function sessionIdFromHash(): string | null {
  const match = /^#session=([\w.-]+)$/.exec(location.hash);
  return match ? match[1] : null;
}

function Console({ apiKey, onSignOut }: { apiKey: string; onSignOut: (message?: string) => void }) {
  const api = useMemo(() => createApi(apiKey, () => onSignOut("That key is not valid any more; sign in again.")), [apiKey, onSignOut]);
  const [sessions, setSessions] = useState<Session[]>([]);
  const [nextPage, setNextPage] = useState<string | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [watchState, setWatchState] = useState<StreamState>("connecting");
  const [selected, setSelected] = useState<string | null>(sessionIdFromHash);
  const [view, setView] = useState<"sessions" | "profiles">(() => (location.hash === "#profiles" ? "profiles" : "sessions"));

  const select = useCallback((id: string | null) => {
    setSelected(id);
    setView("sessions");
    history.replaceState(null, "", id ? `#session=${id}` : location.pathname);
  }, []);

  const upsert = useCallback((session: Session, front: boolean) => {
    setSessions((list) => {
      const index = list.findIndex((s) => s.sessionId === session.sessionId);
      if (index < 0) return front ? [session, ...list] : [...list, session];
      const copy = list.slice();
      copy[index] = { ...copy[index], ...session };
      return copy;
    });
  }, []);

  // How many pages of the list are shown: a relisting reads as many again, so "Load more" sticks.
  const pagesShownRef = useRef(1);

  const listAgain = useCallback(async () => {
    try {
      const listed: Session[] = [];
      let token = "";
      for (let page = 0; page < pagesShownRef.current; page++) {
        const answer = await api.get<ListSessionsResponse>(`/sessions?pageSize=${PAGE_SIZE}&pageToken=${encodeURIComponent(token)}`);
        listed.push(...(answer.sessions ?? []));
        token = answer.nextPageToken ?? "";
        if (!token) break;
      }
      setSessions(listed);
      setNextPage(token || null);
      setListError(null);
    } catch (e) {
      setListError(describeError(e));
    }
  }, [api]);

  async function loadMore() {
    if (!nextPage) return;
    try {
      const page = await api.get<ListSessionsResponse>(`/sessions?pageSize=${PAGE_SIZE}&pageToken=${encodeURIComponent(nextPage)}`);
      for (const s of page.sessions ?? []) upsert(s, false);
      setNextPage(page.nextPageToken || null);
      pagesShownRef.current += 1;
    } catch (e) {
      setListError(describeError(e));
    }
  }

  // The list, kept live by the watch stream. The watch has no cursor, so on each (re)connection, once
  // the runtime keeps changes for this watcher (the stream is open), the pages shown are listed again;
  // the changes that arrive while that list is on its way are applied on top of it, in order, so a
  // session created meanwhile is neither missed nor overwritten by the older list.
  useEffect(() => {
    const controller = new AbortController();
    let held: SessionChange[] | null = null;
    let listing = 0;
    const apply = (change: SessionChange) => {
      const session = change.session;
      if (!session?.sessionId) return;
      if (change.kind === "SESSION_CHANGE_KIND_DELETED") {
        setSessions((list) => list.filter((s) => s.sessionId !== session.sessionId));
      } else {
        upsert(session, true);
      }
    };
    const relist = async () => {
      const mine = ++listing;
      held = [];
      await listAgain();
      if (mine !== listing) return; // a newer listing holds the changes now
      const changes = held;
      held = null;
      changes.forEach(apply);
    };
    void follow({
      url: () => "/sessions:watch",
      headers: authHeaders(apiKey),
      signal: controller.signal,
      onState: (state, error) => {
        setWatchState(state);
        if (state === "open") void relist();
        if (error instanceof ApiError && error.status === 401) onSignOut("That key is not valid any more; sign in again.");
      },
      onEvent: (event) => {
        if (event.event !== "session:list:change") return;
        const change = JSON.parse(event.data) as SessionChange;
        if (held) held.push(change);
        else apply(change);
      },
    });
    return () => controller.abort();
  }, [apiKey, listAgain, upsert, onSignOut]);

  const current = sessions.find((s) => s.sessionId === selected);

  return (
    <div class={`console${selected || view === "profiles" ? " main-first" : ""}`}>
      <header class="topbar">
        <h1>agent-runtime</h1>
        <span class={`stream-state ${watchState}`} data-testid="watch-status" title="session list stream">
          {watchState === "open" ? "live" : watchState}
        </span>
        <button
          type="button"
          class={`secondary${view === "profiles" ? " active" : ""}`}
          data-testid="profiles-button"
          aria-pressed={view === "profiles"}
          onClick={() => {
            if (view === "profiles") {
              setView("sessions");
              history.replaceState(null, "", selected ? `#session=${selected}` : location.pathname);
            } else {
              setView("profiles");
              history.replaceState(null, "", "#profiles");
            }
          }}
        >
          Profiles
        </button>
        <button type="button" class="secondary" data-testid="sign-out" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <aside class="sidebar">
        <NewSession
          api={api}
          onCreated={(session) => {
            upsert(session, true);
            select(session.sessionId);
          }}
        />
        <h2 id="sessions-heading">Sessions</h2>
        {listError && <p class="error" role="alert">{listError}</p>}
        <ul class="session-list" data-testid="session-list" aria-labelledby="sessions-heading">
          {sessions.map((s) => (
            <li key={s.sessionId}>
              <button
                type="button"
                class={`session-row${s.sessionId === selected ? " selected" : ""}`}
                data-testid="session-row"
                aria-current={s.sessionId === selected ? "true" : undefined}
                onClick={() => select(s.sessionId)}
              >
                <span class="session-name">{s.name || s.sessionId}</span>
                <span class="session-meta">
                  {s.architecture} · {s.agentProfileRef}
                  {s.runtime?.turnRunning ? " · running" : ""}
                  {s.archivedAt ? " · archived" : ""}
                </span>
              </button>
            </li>
          ))}
          {sessions.length === 0 && !listError && <li class="empty">No sessions yet.</li>}
        </ul>
        {nextPage && (
          <button type="button" class="secondary" data-testid="load-more" onClick={() => void loadMore()}>
            Load more
          </button>
        )}
      </aside>
      <main class="main">
        {view === "profiles" && <ProfilesView api={api} onBack={() => select(selected)} />}
        {/* Kept while the profiles show, so the session's stream and scroll stay as they were. */}
        <div class="main-view" hidden={view !== "sessions"}>
        {selected ? (
          <ConversationView
            key={selected}
            api={api}
            sessionId={selected}
            session={current}
            onDeleted={() => {
              setSessions((list) => list.filter((s) => s.sessionId !== selected));
              select(null);
            }}
          />
        ) : (
          <p class="placeholder">Choose a session, or create one.</p>
        )}
        </div>
      </main>
    </div>
  );
}

function NewSession({ api, onCreated }: { api: Api; onCreated: (session: Session) => void }) {
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [profile, setProfile] = useState("");
  const [architecture, setArchitecture] = useState(ARCHITECTURES[0]);
  const [model, setModel] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<{ profiles?: Profile[] }>("/agent-profiles")
      .then((answer) => {
        const list = answer.profiles ?? [];
        setProfiles(list);
        setProfile((p) => p || (list.find((x) => x.id === "default") ?? list[0])?.id || "");
      })
      .catch((e: unknown) => setError(`Could not load profiles: ${describeError(e)}`));
  }, [api]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { architecture };
    if (profile) body.agentProfileRef = profile;
    if (name.trim()) body.name = name.trim();
    if (model.trim()) body.sessionOptions = { model: model.trim() };
    try {
      const session = await api.post<Session>("/sessions/create", body);
      setName("");
      onCreated(session);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const description = profiles.find((p) => p.id === profile)?.description;
  return (
    <form class="new-session" data-testid="new-session" onSubmit={(e) => void submit(e)}>
      <h2>New session</h2>
      <label for="profile">Profile</label>
      <select id="profile" data-testid="profile" value={profile} onChange={(e) => setProfile(e.currentTarget.value)}>
        {profiles.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name || p.id}
          </option>
        ))}
      </select>
      {description && <p class="hint">{description}</p>}
      <label for="architecture">Architecture</label>
      <select
        id="architecture"
        data-testid="architecture"
        value={architecture}
        onChange={(e) => setArchitecture(e.currentTarget.value)}
      >
        {ARCHITECTURES.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
      <label for="model">Model (optional)</label>
      <input id="model" data-testid="model" value={model} onInput={(e) => setModel(e.currentTarget.value)} placeholder="architecture's default" />
      <label for="session-name">Name (optional)</label>
      <input id="session-name" data-testid="session-name" value={name} maxLength={256} onInput={(e) => setName(e.currentTarget.value)} />
      {error && (
        <p class="error" role="alert" data-testid="create-error">
          {error}
        </p>
      )}
      <button type="submit" data-testid="create-session" disabled={busy || !profile}>
        {busy ? "Creating…" : "Create session"}
      </button>
    </form>
  );
}
