import { randomUUID } from 'node:crypto';

/** A Runpack runner as `/api/admin/runners` lists it. */
export interface RunpackRunner {
  runner_id: string;
  name: string;
  capabilities: string[];
  tenant: string;
  status: 'active' | 'inactive';
  registered_at: string;
  last_seen_at: string;
  current_jobs: number;
}

interface Entry {
  name: string;
  capabilities: string[];
  tenant: string;
  registeredMs: number;
  lastSeenMs: number;
}

/**
 * The Runpack runners this replica has heard from. In memory: after an API restart a runner is still accepted
 * with the id it had (an unknown `X-Runner-ID` is recorded as it comes), so runners keep working across restarts.
 */
export class RunpackRunners {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly activeMs: number) {}

  register(name: string, capabilities: string[], tenant: string): string {
    const id = `runner-${randomUUID()}`;
    const now = Date.now();
    this.entries.set(id, { name, capabilities, tenant, registeredMs: now, lastSeenMs: now });
    return id;
  }

  /** Records a request of `id` (a runner registered before a restart is recorded under its id as name). */
  touch(id: string, tenant: string, types: readonly string[] = []): void {
    const now = Date.now();
    const entry = this.entries.get(id) ?? { name: id, capabilities: [], tenant, registeredMs: now, lastSeenMs: now };
    entry.lastSeenMs = now;
    for (const type of types) if (!entry.capabilities.includes(type)) entry.capabilities.push(type);
    this.entries.set(id, entry);
  }

  /** Every runner of `tenant` (undefined: all), active when heard from within the heartbeat threshold. */
  list(tenant: string | undefined, jobsOf: (id: string) => number): RunpackRunner[] {
    const now = Date.now();
    return [...this.entries.entries()]
      .filter(([, entry]) => tenant === undefined || entry.tenant === tenant)
      .map(([id, entry]) => ({
        runner_id: id,
        name: entry.name,
        capabilities: entry.capabilities,
        tenant: entry.tenant,
        status: now - entry.lastSeenMs <= this.activeMs ? 'active' : 'inactive',
        registered_at: new Date(entry.registeredMs).toISOString(),
        last_seen_at: new Date(entry.lastSeenMs).toISOString(),
        current_jobs: jobsOf(id),
      }));
  }
}
