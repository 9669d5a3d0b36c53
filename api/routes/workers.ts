import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { WorkersSchema } from '../../contracts/workers.js';
import type { WorkerList } from '../services/worker-list.js';

/** The operator's list of worker processes: admin only (it names hosts of every tenant). */
export const workerRoutes: FastifyPluginAsyncZod<{ workers: WorkerList }> = async (app, { workers }) => {
  app.get(
    '/v1/workers',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Every worker process: job types, capacity, jobs running, last heartbeat, draining or lost',
        description:
          "Native workers come from Temporal's own worker heartbeats (ListWorkers); Temporal keeps a worker about " +
          '5 minutes after its last heartbeat, so a lost one stays listed that long. `runner` entries are the HTTP ' +
          'runners the gateway of the answering replica has seen. Answers are reused for 2 s.',
        response: { 200: WorkersSchema },
      },
    },
    async () => workers.list(),
  );
};
