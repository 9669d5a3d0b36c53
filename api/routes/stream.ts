import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { StreamPollResponseSchema, StreamQuerySchema } from '../../contracts/job.js';
import type { JobStreams } from '../services/job-stream.js';

const JobParams = z.object({ id: z.string().min(1).max(255) });

export const streamRoutes: FastifyPluginAsyncZod<{ streams: JobStreams }> = async (app, { streams }) => {
  app.get(
    '/v1/jobs/:id/stream',
    {
      // Manual: `?after` asks for JSON polling, its absence for Server-Sent Events, whatever the Accept header.
      sse: { kind: 'manual' },
      schema: {
        summary:
          'A streaming job’s chunks: Server-Sent Events (`progress`, `chunk`, `status`, then `done` with the final ' +
          'view; a late client gets the chunks so far first), or with ?after=<seq> JSON polling',
        params: JobParams,
        querystring: StreamQuerySchema,
        response: { 200: StreamPollResponseSchema },
      },
    },
    async (request, reply) => {
      if (request.query.after !== undefined) return streams.poll(request.params.id, request.query.after);
      // A reconnecting EventSource resumes after the last chunk it got (chunk events carry their seq as id).
      const after = Number(reply.sse.lastEventId ?? 0) || 0;
      const gone = new AbortController();
      reply.sse.onClose(() => gone.abort());
      await reply.sse.send(await streams.open(request.params.id, after, gone.signal));
      reply.sse.close();
      return reply;
    },
  );
};
