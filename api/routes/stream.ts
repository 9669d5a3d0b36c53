import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { StreamPollResponseSchema, StreamQuerySchema } from '../../contracts/job.js';
import type { JobStreams } from '../services/job-stream.js';

const JobParams = z.object({ id: z.string().min(1).max(255) });

/** `shutdown`: aborted when the API closes; open streams end then (an EventSource reconnects to another replica). */
export const streamRoutes: FastifyPluginAsyncZod<{ streams: JobStreams; shutdown?: AbortSignal }> = async (
  app,
  { streams, shutdown },
) => {
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
      const ends = shutdown ? AbortSignal.any([gone.signal, shutdown]) : gone.signal;
      await reply.sse.send(await streams.open(request.params.id, after, ends));
      reply.sse.close();
      return reply;
    },
  );
};
