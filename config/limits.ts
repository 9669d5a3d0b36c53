import { z } from 'zod';
import { TenantNameSchema } from '../contracts/tenant.js';

/** A budget of requests per time window. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

/** Request budgets per key: a key gets its tenant's when the tenant has one, else its role's, else none. */
export interface RateLimits {
  byRole: Readonly<Partial<Record<string, RateLimit>>>;
  byTenant: Readonly<Partial<Record<string, RateLimit>>>;
}

/** Caps on jobs in flight (queued or running) per tenant; `*` is every tenant without its own. */
export type MaxJobsInFlight = Readonly<Partial<Record<string, number>>>;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
const LIMIT = /^(\d{1,9})\/(\d{1,6})?(s|m|h)$/;
const ROLES = new Set(['submit', 'admin', 'worker', 'metrics']);

const entriesOf = (raw: string): string[] =>
  raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/** `submit=600/1m,admin=6000/1m,worker=1200/10s,tenant:acme=60/1m`: max requests per window (s, m or h). */
export const rateLimits = z
  .string()
  .default('')
  .transform((raw, ctx): RateLimits => {
    const limits: { byRole: Record<string, RateLimit>; byTenant: Record<string, RateLimit> } = {
      byRole: {},
      byTenant: {},
    };
    for (const entry of entriesOf(raw)) {
      const [scope = '', spec = ''] = entry.split('=');
      const match = LIMIT.exec(spec);
      const tenant = scope.startsWith('tenant:') ? scope.slice('tenant:'.length) : undefined;
      const scopeOk = tenant === undefined ? ROLES.has(scope) : TenantNameSchema.safeParse(tenant).success;
      const max = Number(match?.[1]);
      const windowMs = Number(match?.[2] ?? 1) * UNIT_MS[(match?.[3] ?? 's') as keyof typeof UNIT_MS];
      if (!match || !scopeOk || max < 1 || windowMs < 1000) {
        ctx.addIssue({
          code: 'custom',
          message:
            'each entry must be <submit|admin|worker|metrics|tenant:<name>>=<max>/<window>, a window such as 10s, 1m or 1h',
        });
        return z.NEVER;
      }
      if (tenant === undefined) limits.byRole[scope] = { max, windowMs };
      else limits.byTenant[tenant] = { max, windowMs };
    }
    return limits;
  });

/** `acme=20,*=500`: at most this many jobs of the tenant queued or running at once. */
export const maxJobsInFlight = z
  .string()
  .default('')
  .transform((raw, ctx): MaxJobsInFlight => {
    const caps: Record<string, number> = {};
    for (const entry of entriesOf(raw)) {
      const [tenant = '', count = ''] = entry.split('=');
      const cap = Number(count);
      if ((tenant !== '*' && !TenantNameSchema.safeParse(tenant).success) || !/^\d{1,9}$/.test(count) || cap < 1) {
        ctx.addIssue({
          code: 'custom',
          message: 'each entry must be <tenant>=<count> or *=<count>, a count of 1 or more',
        });
        return z.NEVER;
      }
      caps[tenant] = cap;
    }
    return caps;
  });

/** The limit of a key of this role and tenant, or undefined: not limited. */
export function rateLimitOf(limits: RateLimits, role: string, tenant: string): RateLimit | undefined {
  return limits.byTenant[tenant] ?? limits.byRole[role];
}
