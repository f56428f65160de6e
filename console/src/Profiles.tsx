// The agent profiles: the list (GET /agent-profiles) and the one chosen in full (GET /agent-profiles/{id}).
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { describeError, type Api } from "./api";
import type { AgentProfile, Profile } from "./types";

const shortEnum = (value: string | undefined, prefix: string) =>
  (value && value.startsWith(prefix) ? value.slice(prefix.length) : (value ?? "")).toLowerCase();

export function ProfilesView({ api, onBack }: { api: Api; onBack: () => void }) {
  const [profiles, setProfiles] = useState<Profile[] | null>(null);
  const [includeArchived, setIncludeArchived] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    let stale = false;
    api
      .get<{ profiles?: Profile[] }>(`/agent-profiles${includeArchived ? "?includeArchived=true" : ""}`)
      .then((answer) => {
        if (stale) return;
        setProfiles(answer.profiles ?? []);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!stale) setError(describeError(e));
      });
    return () => {
      stale = true;
    };
  }, [api, includeArchived]);

  return (
    <section class="profiles" data-testid="profiles" aria-labelledby="profiles-title">
      <header class="session-header">
        <div>
          <h2 id="profiles-title">Agent profiles</h2>
          <p class="session-meta">What each agent is: its prompt, tools, permissions and servers.</p>
        </div>
        <button type="button" class="secondary" data-testid="profiles-back" onClick={onBack}>
          ← Back to sessions
        </button>
      </header>
      <div class="profiles-body">
        <div class="profile-list-pane">
          <label class="checkbox">
            <input type="checkbox" checked={includeArchived} onChange={(e) => setIncludeArchived(e.currentTarget.checked)} />
            Include archived
          </label>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          {profiles === null && !error && <p class="hint">Loading…</p>}
          <ul class="profile-list" data-testid="profile-list" aria-label="Profiles">
            {(profiles ?? []).map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  class={`session-row${p.id === selected ? " selected" : ""}`}
                  data-testid="profile-entry"
                  aria-current={p.id === selected ? "true" : undefined}
                  onClick={() => setSelected(p.id)}
                >
                  <span class="session-name">{p.name || p.id}</span>
                  <span class="session-meta">
                    {p.id} · v{p.version ?? 1}
                    {p.builtIn ? " · built in" : ""}
                    {p.archivedAt ? " · archived" : ""}
                  </span>
                </button>
              </li>
            ))}
            {profiles?.length === 0 && <li class="empty">No profiles.</li>}
          </ul>
        </div>
        <div class="profile-pane">
          {selected ? <ProfileDetails key={selected} api={api} id={selected} /> : <p class="placeholder">Choose a profile to see it.</p>}
        </div>
      </div>
    </section>
  );
}

function ProfileDetails({ api, id }: { api: Api; id: string }) {
  const [profile, setProfile] = useState<AgentProfile | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api
      .get<AgentProfile>(`/agent-profiles/${encodeURIComponent(id)}`)
      .then(setProfile)
      .catch((e: unknown) => setError(describeError(e)));
  }, [api, id]);

  if (error) {
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  }
  if (!profile) return <p class="hint">Loading…</p>;

  const rules = profile.permissions?.rules ?? [];
  const clientTools = profile.clientTools ?? [];
  const bundled = profile.bundledMCPs ?? [];
  const external = profile.externalMCPs ?? [];
  return (
    <article class="profile-details" data-testid="profile-details" aria-labelledby="profile-name">
      <h3 id="profile-name" data-testid="profile-name">
        {profile.name || profile.id}
      </h3>
      {profile.description && <p class="profile-description">{profile.description}</p>}
      <dl class="facts">
        <Fact term="Id">
          <code>{profile.id}</code>
        </Fact>
        <Fact term="Version">{String(profile.version ?? 1)}</Fact>
        <Fact term="Built in">{profile.builtIn ? "yes (read-only, from the profiles directory)" : "no (stored)"}</Fact>
        <Fact term="Model">{profile.model || "the architecture's default"}</Fact>
        {profile.archivedAt && <Fact term="Archived">{new Date(profile.archivedAt).toLocaleString()}</Fact>}
        {profile.updatedAt && <Fact term="Updated">{new Date(profile.updatedAt).toLocaleString()}</Fact>}
        {!!profile.maxBudgetUsd && <Fact term="Budget per turn">${profile.maxBudgetUsd}</Fact>}
        <Fact term="Tools">
          {profile.tools?.length ? (
            <ul class="chips" data-testid="profile-tools">
              {profile.tools.map((t) => (
                <li key={t}>
                  <code>{t}</code>
                </li>
              ))}
            </ul>
          ) : (
            "none listed"
          )}
        </Fact>
        {!!profile.network?.allowedHosts?.length && <Fact term="Network">{profile.network.allowedHosts.join(", ")}</Fact>}
      </dl>

      <h4>System prompt</h4>
      {profile.systemPrompt ? (
        <pre class="plain-pre" data-testid="profile-system-prompt">
          {profile.systemPrompt}
        </pre>
      ) : (
        <p class="hint">None: the architecture's own prompt only.</p>
      )}

      <h4>Permissions</h4>
      <p class="hint">
        Calls no rule matches: <strong>{shortEnum(profile.permissions?.defaultAction, "PERMISSION_ACTION_") || "allow"}</strong>
      </p>
      {rules.length > 0 ? (
        <table class="rules" data-testid="profile-rules">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r, i) => (
              <tr key={i}>
                <td>
                  <code>{r.rule}</code>
                </td>
                <td class={`action-${shortEnum(r.action, "PERMISSION_ACTION_")}`}>{shortEnum(r.action, "PERMISSION_ACTION_")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="hint">No rules: every call runs.</p>
      )}

      <h4>Client tools</h4>
      {clientTools.length > 0 ? (
        <ul class="detail-list" data-testid="profile-client-tools">
          {clientTools.map((t) => (
            <li key={t.name}>
              <code>{t.name}</code>
              {t.description && ` — ${t.description}`}
              {t.inputSchema !== undefined && (
                <details>
                  <summary>Input schema</summary>
                  <pre>
                    <code>{JSON.stringify(t.inputSchema, null, 2)}</code>
                  </pre>
                </details>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p class="hint">None.</p>
      )}

      <h4>MCP servers</h4>
      {bundled.length + external.length > 0 ? (
        <ul class="detail-list" data-testid="profile-mcp-servers">
          {bundled.map((m) => (
            <li key={`b-${m.name}`}>
              <code>{m.name}</code> (bundled{m.localProjectPath ? `, ${m.localProjectPath}` : ""})
              {m.description && ` — ${m.description}`}
              {m.startCommand && <div class="hint">starts with <code>{m.startCommand}</code></div>}
            </li>
          ))}
          {external.map((m) => (
            <li key={`e-${m.name}`}>
              <code>{m.name}</code> ({m.type || "stdio"})
              {m.url && (
                <>
                  {" "}
                  <code>{m.url}</code>
                </>
              )}
              {m.command && (
                <>
                  {" "}
                  <code>{[m.command, ...(m.args ?? [])].join(" ")}</code>
                </>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p class="hint">None.</p>
      )}

      <Described title="Subagents" items={profile.subagents} />
      <Described title="Skills" items={profile.skills} />
      {!!profile.commands?.length && (
        <>
          <h4>Commands</h4>
          <ul class="chips">
            {profile.commands.map((c) => (
              <li key={c.name}>
                <code>/{c.name}</code>
              </li>
            ))}
          </ul>
        </>
      )}
    </article>
  );
}

// Named things with an optional description (subagents, skills), under a heading; nothing when none.
function Described({ title, items }: { title: string; items?: { name?: string; description?: string }[] }) {
  if (!items?.length) return null;
  return (
    <>
      <h4>{title}</h4>
      <ul class="detail-list">
        {items.map((item) => (
          <li key={item.name}>
            <code>{item.name}</code>
            {item.description && ` — ${item.description}`}
          </li>
        ))}
      </ul>
    </>
  );
}

function Fact({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}
