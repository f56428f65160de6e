// The environments, kept as given, in the journal beside the sessions.
import type { Environment } from "../src/_gen/agentruntime/v1/environment_pb.js";
import { encode, isEnvironmentChange, type Change, type EnvironmentChange } from "./changes.js";
import { environmentExists, environmentNotFound } from "./errors.js";
import type { Journal } from "./journal.js";
import { micros } from "./sessions.js";

/** Negative when `a` is listed before `b`: newest first, ties broken by id, descending (as sessions). */
function newestFirst(a: Environment, b: Environment): number {
  const [aUs, bUs] = [micros(a.createdAt), micros(b.createdAt)];
  if (aUs !== bUs) return aUs > bUs ? -1 : 1;
  return a.environmentId === b.environmentId ? 0 : a.environmentId > b.environmentId ? -1 : 1;
}

/** As Sessions: each operation checks and applies its change at once and queues its line; callers answer
 * once the journal's durable() resolves. Environments are replaced, never changed in place. */
export class Environments {
  private readonly environments = new Map<string, Environment>();

  constructor(private readonly journal: Journal, replayed: Change[]) {
    for (const change of replayed) if (isEnvironmentChange(change)) this.apply(change);
  }

  /** Every environment, newest first. */
  all(): Environment[] {
    return [...this.environments.values()].sort(newestFirst);
  }

  get(environmentId: string): Environment {
    const environment = this.environments.get(environmentId);
    if (!environment) throw environmentNotFound(environmentId);
    return environment;
  }

  create(environment: Environment): void {
    if (this.environments.has(environment.environmentId)) throw environmentExists(environment.environmentId);
    this.commit({ op: "createEnvironment", environment });
  }

  /** Replaces the stored environment with `environment`, whole. */
  update(environment: Environment): void {
    this.get(environment.environmentId);
    this.commit({ op: "updateEnvironment", environment });
  }

  /** Whether there was one to delete. */
  delete(environmentId: string): boolean {
    if (!this.environments.has(environmentId)) return false;
    this.commit({ op: "deleteEnvironment", environmentId });
    return true;
  }

  private commit(change: EnvironmentChange): void {
    this.apply(change);
    this.journal.add(encode(change));
  }

  private apply(change: EnvironmentChange): void {
    switch (change.op) {
      case "createEnvironment":
      case "updateEnvironment":
        this.environments.set(change.environment.environmentId, change.environment);
        return;
      case "deleteEnvironment":
        this.environments.delete(change.environmentId);
        return;
      default:
        throw new Error(`unknown change in the journal: ${JSON.stringify(change)}`);
    }
  }
}
