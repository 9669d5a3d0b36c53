import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const READY_TIMEOUT_MS = 2000;

export const healthRoutes: FastifyPluginAsyncZod<{ client: Client; namespace: string }> = async (
  app,
  { client, namespace },
) => {
  app.get(
    '/healthz',
    { schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        hide: true,
        response: {
          200: z.object({ status: z.literal('ready') }),
          503: z.object({ status: z.literal('unavailable'), reason: z.string() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await client.connection.withDeadline(Date.now() + READY_TIMEOUT_MS, () =>
          client.workflowService.describeNamespace({ namespace }),
        );
        return { status: 'ready' as const };
      } catch (err) {
        const reason = isNamespaceMissing(err)
          ? `namespace "${namespace}" does not exist`
          : 'Temporal cannot be reached';
        return reply.status(503).send({ status: 'unavailable' as const, reason });
      }
    },
  );
};

function isNamespaceMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 5;
}
