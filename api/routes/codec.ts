import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CodecPayloadsSchema, type CodecPayloads } from '../../contracts/codec.js';
import { Errors } from '../errors.js';

/** Where Temporal's Web UI (or `temporal --codec-endpoint`) is pointed: it POSTs to `<endpoint>/encode|decode`. */
export const CODEC_ENDPOINT = '/v1/codec';

const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';

/**
 * Temporal's remote codec protocol, so that the Web UI shows decrypted payloads to an operator: the API's own
 * codecs (GPUFLOW_ENCRYPTION_KEYS) applied to the payloads posted. Admin role only: whoever may call it reads
 * every job's input and output. CORS answers the listed UI origins only; the browser sends the key with
 * the UI's "pass access token" setting or a proxy in front adds it.
 */
export const codecRoutes: FastifyPluginAsyncZod<{
  codecs: readonly PayloadCodec[];
  corsOrigins: readonly string[];
}> = async (app, { codecs, corsOrigins }) => {
  const allowCors = (request: FastifyRequest, reply: FastifyReply): void => {
    const origin = request.headers.origin;
    if (!origin || !corsOrigins.includes(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'Origin');
  };
  // Runs after auth (preflights carry no key and are let through there): the role check spares the preflight.
  app.addHook('onRequest', async (request, reply) => {
    allowCors(request, reply);
    if (request.method !== 'OPTIONS' && request.apiRole !== 'admin') throw new Errors.Forbidden('admin');
  });

  for (const direction of ['encode', 'decode'] as const) {
    const url = `${CODEC_ENDPOINT}/${direction}`;
    app.options(url, { schema: { hide: true } }, async (_request, reply) => {
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('access-control-allow-headers', ALLOWED_HEADERS);
      reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    });
    app.post(
      url,
      {
        schema: {
          summary: `Temporal remote codec: ${direction} payloads (admin)`,
          description:
            "For the Temporal Web UI's codec server setting (endpoint `<api>/v1/codec`): applies the encryption " +
            'codec of GPUFLOW_ENCRYPTION_KEYS. Payloads are in protobuf JSON form (base64 metadata values and data).',
          body: CodecPayloadsSchema,
          response: { 200: CodecPayloadsSchema },
        },
      },
      async (request) => {
        const payloads = request.body.payloads.map(fromJson);
        try {
          return { payloads: (await apply(codecs, direction, payloads)).map(toJson) };
        } catch (err) {
          throw new Errors.UndecodablePayload(err instanceof Error ? err.message : String(err));
        }
      },
    );
  }
};

async function apply(codecs: readonly PayloadCodec[], direction: 'encode' | 'decode', payloads: Payload[]) {
  let result = payloads;
  const ordered = direction === 'encode' ? codecs : [...codecs].reverse();
  for (const codec of ordered) result = await codec[direction](result);
  return result;
}

function fromJson(payload: CodecPayloads['payloads'][number]): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): CodecPayloads['payloads'][number] {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}
