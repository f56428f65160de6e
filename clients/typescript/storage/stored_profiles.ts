// The agent profiles saved through the API, every version kept, in the journal beside the sessions. Being
// archived belongs to the profile, not to a version: each version is kept without it, and an answer carries
// the profile's.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { equals } from "@bufbuild/protobuf";
import { AgentProfileSchema, type AgentProfile } from "../src/_gen/agentruntime/v1/profile_pb.js";
import { encode, isProfileChange, type Change, type ProfileChange } from "./changes.js";
import { profileExists, profileNotFound, profileVersionNotFound, versionMismatch } from "./errors.js";
import type { Journal } from "./journal.js";

export interface StoredProfile {
  versions: AgentProfile[]; // versions[i] is version i + 1, each without archivedAt
  archivedAt: Timestamp | undefined;
}

/** As Sessions: each operation checks and applies its change at once and queues its line; callers answer
 * once the journal's durable() resolves. Entries are replaced, never changed in place. */
export class StoredProfiles {
  private readonly profiles = new Map<string, StoredProfile>();

  constructor(private readonly journal: Journal, replayed: Change[]) {
    for (const change of replayed) if (isProfileChange(change)) this.apply(change);
  }

  all(): Iterable<[string, StoredProfile]> {
    return this.profiles.entries();
  }

  has(profileId: string): boolean {
    return this.profiles.has(profileId);
  }

  get(profileId: string): StoredProfile {
    const profile = this.profiles.get(profileId);
    if (!profile) throw profileNotFound(profileId);
    return profile;
  }

  /** The version (0: the latest), with the profile's archivedAt. */
  load(profileId: string, version: number): AgentProfile {
    const stored = this.get(profileId);
    const found = stored.versions[(version || stored.versions.length) - 1];
    if (!found) throw profileVersionNotFound(profileId, version);
    return withArchived(found, stored);
  }

  /** Every version, oldest first, each with the profile's archivedAt. */
  versions(profileId: string): AgentProfile[] {
    const stored = this.get(profileId);
    return stored.versions.map((version) => withArchived(version, stored));
  }

  /** Stores `profile` as its id's next version, which its version must be; that version as stored. */
  save(profile: AgentProfile): AgentProfile {
    const stored = this.profiles.get(profile.id);
    const latest = stored?.versions.length ?? 0;
    const given = { ...profile, builtIn: false, archivedAt: undefined };
    // The latest version given again as it is stored: a call retried after its answer was lost.
    if (stored && profile.version === latest && equals(AgentProfileSchema, stored.versions[latest - 1]!, given)) {
      return this.load(profile.id, latest);
    }
    if (profile.version === 1 && stored) throw profileExists(profile.id);
    if (profile.version > 1 && !stored) throw profileNotFound(profile.id);
    if (profile.version !== latest + 1) throw versionMismatch(profile.id, profile.version, latest);
    this.commit({ op: "saveProfile", profile: given });
    return this.load(profile.id, profile.version);
  }

  /** Archives the profile at `archivedAt` unless it was archived before; its latest version. */
  archive(profileId: string, archivedAt: Timestamp): AgentProfile {
    if (!this.get(profileId).archivedAt) this.commit({ op: "archiveProfile", profileId, archivedAt });
    return this.load(profileId, 0);
  }

  private commit(change: ProfileChange): void {
    this.apply(change);
    this.journal.add(encode(change));
  }

  private apply(change: ProfileChange): void {
    switch (change.op) {
      case "saveProfile": {
        const { id } = change.profile;
        const stored = this.profiles.get(id);
        const versions = [...(stored?.versions ?? []), change.profile];
        this.profiles.set(id, { versions, archivedAt: stored?.archivedAt });
        return;
      }
      case "archiveProfile":
        this.profiles.set(change.profileId, { ...this.get(change.profileId), archivedAt: change.archivedAt });
        return;
      default:
        throw new Error(`unknown change in the journal: ${JSON.stringify(change)}`);
    }
  }
}

function withArchived(version: AgentProfile, { archivedAt }: StoredProfile): AgentProfile {
  return { ...version, archivedAt };
}
