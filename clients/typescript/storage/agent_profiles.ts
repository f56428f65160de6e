// The agent profiles this server serves: the profiles directory's (built in: read-only, version 1) and the
// stored ones (every version). A built-in profile hides a stored one of the same id, which only a file
// added to the directory later can make.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { AgentProfile, AgentProfileSummary } from "../src/_gen/agentruntime/v1/profile_pb.js";
import { checkVersion, profileExists, profileReadOnly, profileVersionNotFound } from "./errors.js";
import { byteOrder, versionPage, type Page } from "./paging.js";
import type { ProfileDirectory } from "./profiles.js";
import type { StoredProfiles } from "./stored_profiles.js";

type Summary = Omit<AgentProfileSummary, "$typeName">;

export class AgentProfiles {
  constructor(
    private readonly directory: ProfileDirectory,
    private readonly stored: StoredProfiles,
  ) {}

  /** Every built-in profile and the latest version of every stored one (archived ones only if asked), by id. */
  summaries(includeArchived: boolean): Summary[] {
    const latest = new Map(this.directory.all());
    for (const [id, { archivedAt }] of this.stored.all()) {
      if (!latest.has(id) && (includeArchived || !archivedAt)) latest.set(id, this.stored.load(id, 0));
    }
    return [...latest.values()]
      .sort((a, b) => byteOrder(a.id, b.id))
      .map(({ id, name, description, version, builtIn, archivedAt }) => ({
        id,
        name,
        description,
        version,
        builtIn,
        archivedAt,
      }));
  }

  /** The version asked for (0: the latest). */
  load(profileId: string, version: number): AgentProfile {
    checkVersion("version", version, 0);
    const builtIn = this.directory.get(profileId);
    if (!builtIn) return this.stored.load(profileId, version);
    if (version > 1) throw profileVersionNotFound(profileId, version);
    return builtIn;
  }

  /** Stores the profile's next version; a built-in profile's id is taken, and the profile read-only. */
  save(profile: AgentProfile): AgentProfile {
    checkVersion("profile.version", profile.version, 1);
    if (this.directory.get(profile.id)) {
      throw profile.version === 1 ? profileExists(profile.id) : profileReadOnly(profile.id);
    }
    return this.stored.save(profile);
  }

  archive(profileId: string, archivedAt: Timestamp): AgentProfile {
    if (this.directory.get(profileId)) throw profileReadOnly(profileId);
    return this.stored.archive(profileId, archivedAt);
  }

  /** A page of the profile's versions, newest first; a built-in profile has one. */
  versions(profileId: string, size: number, pageToken: string): Page<AgentProfile> {
    const builtIn = this.directory.get(profileId);
    return versionPage(builtIn ? [builtIn] : this.stored.versions(profileId), size, pageToken);
  }
}
