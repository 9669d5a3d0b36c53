import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { DEFAULT_TENANT } from '../../contracts/tenant.js';
import { TenantKey } from '../../protocol/search-attributes.js';
import { Errors } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route parameter that names a job: the job must belong to the caller's tenant, else the route answers 404
     * as for a job that does not exist. `false`: the route's `:id` is not a job id (say why where it is set).
     * @defaultValue 'id' when the route has an `:id` parameter
     */
    jobParam?: string | false;
  }
}

/** The tenant a job belongs to, or undefined when there is no such job (the route then answers its own 404). */
export async function tenantOfJob(client: Client, jobId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(jobId).describe();
    // Jobs started before tenants existed carry no Tenant attribute: they are the default tenant's.
    return description.typedSearchAttributes.get(TenantKey) ?? DEFAULT_TENANT;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * A tenant sees its own jobs only. Every route with a job parameter (an `:id`, whatever face registers it) checks,
 * before its handler runs, that the job belongs to the caller's tenant; a job of another tenant is answered with
 * the same 404 as a job that does not exist, so nobody learns whether it does. Admin keys see every tenant's jobs.
 * Routes that create or list jobs scope themselves (ids are per tenant: see `jobIdFor`; listings filter on the
 * `Tenant` search attribute).
 */
export const tenantScopePlugin = fp(
  async (app: FastifyInstance, options: { client: Client; temporalTimeoutMs: number }) => {
    const { client, temporalTimeoutMs } = options;
    app.addHook('onRoute', (route: RouteOptions) => {
      const declared = route.config?.jobParam;
      const param = declared ?? (/\/:id(\/|$)/.test(route.url) ? 'id' : false);
      if (param === false) return;
      const check = async (request: FastifyRequest): Promise<void> => {
        if (request.apiRole === 'admin') return;
        const jobId = (request.params as Record<string, unknown>)[param];
        if (typeof jobId !== 'string') return;
        const tenant = await client.withDeadline(Date.now() + temporalTimeoutMs, () => tenantOfJob(client, jobId));
        if (tenant !== undefined && tenant !== request.apiTenant) throw new Errors.JobNotFound(jobId);
      };
      route.preHandler = [check, ...[route.preHandler ?? []].flat()];
    });
  },
  { name: 'gpuflow-tenant-scope', dependencies: ['gpuflow-auth'] },
);
