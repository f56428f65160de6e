// Agent profiles from a directory, one YAML or JSON file a profile, as the built-in Python servers read them:
// field names as in the proto or in its JSON (agentMDFile, bundledMCPs, externalMCPs...), the id from the
// file's `id` or else its name, and a default workspace file's `content` as text or `contentBase64` as bytes.
// These are the built-in profiles: read-only, each at version 1.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import { parse as parseYaml } from "yaml";
import { AgentProfileSchema, type AgentProfile } from "../src/_gen/agentruntime/v1/profile_pb.js";

const SUFFIXES = [".yaml", ".yml", ".json"];

export function parseProfile(name: string, text: string): AgentProfile {
  const document = extname(name) === ".json" ? JSON.parse(text) : parseYaml(text);
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new Error("expected a mapping at the top level");
  }
  document.id ??= name.slice(0, -extname(name).length);
  const files = document.defaultWorkspaceFiles ?? document.default_workspace_files;
  for (const entry of Array.isArray(files) ? files : []) {
    // Bytes are base64 in protobuf's JSON; a profile writes text as text.
    if (typeof entry?.contentBase64 === "string") {
      entry.content = entry.contentBase64;
      delete entry.contentBase64;
    } else if (typeof entry?.content === "string") {
      entry.content = Buffer.from(entry.content).toString("base64");
    }
  }
  return fromJson(AgentProfileSchema, document as JsonObject);
}

/** The directory's profiles, read again whenever a profile file changes (so edits need no restart). */
export class ProfileDirectory {
  private read: { stamp: string; profiles: Map<string, AgentProfile> } | undefined;

  constructor(private readonly directory: string) {}

  all(): Map<string, AgentProfile> {
    const files = this.files();
    const stamp = JSON.stringify(
      files.map((name) => {
        const { mtimeMs, size } = statSync(join(this.directory, name));
        return [name, mtimeMs, size];
      }),
    );
    if (this.read?.stamp !== stamp) this.read = { stamp, profiles: this.parseAll(files) };
    return this.read.profiles;
  }

  /** The built-in profile of that id, if there is one. */
  get(profileId: string): AgentProfile | undefined {
    return this.all().get(profileId);
  }

  private files(): string[] {
    try {
      return readdirSync(this.directory)
        .filter((name) => SUFFIXES.includes(extname(name)))
        .sort();
    } catch {
      return []; // no directory, no profiles
    }
  }

  private parseAll(files: string[]): Map<string, AgentProfile> {
    const profiles = new Map<string, AgentProfile>();
    for (const name of files) {
      try {
        const profile = parseProfile(name, readFileSync(join(this.directory, name), "utf8"));
        if (profiles.has(profile.id)) throw new Error(`id '${profile.id}' is taken by another file`);
        profiles.set(profile.id, { ...profile, version: 1, builtIn: true });
      } catch (error) {
        console.error(`agent-runtime storage: skipping agent profile ${name}: ${(error as Error).message}`);
      }
    }
    return profiles;
  }
}
