import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobReader } from '../../jobs/job-reader.js';
import { jobLogPage } from '../../jobs/job-logs.js';
import { JobLogsQuerySchema, JobLogsResponseSchema } from '../../contracts/job-logs.js';
import type { BlobStore } from '../../storage/blob-store.js';

const JobParams = z.object({ id: z.string().min(1).max(255) });

/** `GET /v1/jobs/:id/logs`: a job's console output from the blob store (tenant-scoped like every `:id` route). */
export const logRoutes: FastifyPluginAsyncZod<{ reader: JobReader; blobs: BlobStore | undefined }> = async (
  app,
  { reader, blobs },
) => {
  app.get(
    '/v1/jobs/:id/logs',
    {
      schema: {
        summary:
          'A job’s log: every attempt’s ctx.log lines (and a failed attempt’s stack trace), bounded per attempt, ' +
          'kept after the job ended; ?after=<n> skips the lines the caller has (poll with next until done)',
        params: JobParams,
        querystring: JobLogsQuerySchema,
        response: { 200: JobLogsResponseSchema },
      },
    },
    async (request) => {
      // The view first: a job seen final has its whole log written (workers write it before reporting the end).
      const { view } = await reader.current(request.params.id);
      return jobLogPage(blobs, request.params.id, view, request.query.after);
    },
  );
};
