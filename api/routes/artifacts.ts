import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ArtifactService } from '../services/artifact-service.js';

const ArtifactParams = z.object({ id: z.string().min(1).max(255), name: z.string().min(1).max(128) });

export const artifactRoutes: FastifyPluginAsyncZod<{ artifacts: ArtifactService }> = async (app, { artifacts }) => {
  app.get(
    '/v1/jobs/:id/artifacts/:name',
    {
      schema: {
        summary: 'Download a file the job stored with ctx.artifact, with its content type',
        params: ArtifactParams,
      },
    },
    async (request, reply) => {
      const file = await artifacts.open(request.params.id, request.params.name);
      return (
        reply
          .type(file.contentType)
          .header('content-length', file.size)
          .header('content-disposition', `inline; filename="${file.name}"`)
          // A handler's HTML must not run as a page of the API's origin.
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', 'sandbox')
          .send(file.stream)
      );
    },
  );
};
