import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isGrpcServiceError } from '@temporalio/client';
import { Errors } from '../errors.js';

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * `/input/steps` in the body → `input.steps`; query and params keep their part's name as the root, and a problem
 * with a whole part (a body that is not an object, an unknown key) is named by the part: `body: ...`.
 */
function fieldPath(context: string | undefined, instancePath: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (parts.length === 0) return context ?? '';
  return (context && context !== 'body' ? [context, ...parts] : parts).join('.');
}

/**
 * The one place errors become responses: the same shape for everything, a stable `GPUFLOW_ERR_*` code, and no
 * internals in a 5xx (those are logged with the request id instead).
 */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setNotFoundHandler((request, reply) => {
      void reply.send(new Errors.RouteNotFound(request.method, request.url.split('?')[0]));
    });

    app.setErrorHandler((err: FastifyError, request, reply) => {
      const mapped = toPublicError(err, request.routeOptions.bodyLimit);
      if (mapped.statusCode >= 500) request.log.error({ err }, 'request failed');
      // RunPod's clients read a 429 as RunPod answers it: `{ "error": "..." }` (with Retry-After, set already).
      if (mapped.statusCode === 429 && request.routeOptions.url?.startsWith('/runpod')) {
        void reply.status(429).send({ error: mapped.message });
        return;
      }
      void reply.status(mapped.statusCode).send({
        statusCode: mapped.statusCode,
        code: mapped.code,
        error: httpReason(mapped.statusCode),
        message: mapped.message,
      });
    });
  },
  { name: 'gpuflow-error-handler' },
);

function toPublicError(
  err: FastifyError,
  bodyLimitBytes: number,
): { statusCode: number; code: string; message: string } {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const message = err.validation
      .map((issue) => {
        const path = fieldPath(err.validationContext, issue.instancePath);
        return path ? `${path}: ${issue.message}` : issue.message;
      })
      .join('; ');
    return pick(new Errors.Validation(message));
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return pick(new Errors.BadJson(err.message));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return pick(new Errors.UnsupportedMediaType());
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return pick(new Errors.PayloadTooLarge(bodyLimitBytes));
  }
  // A raw gRPC error (from `client.workflowService`) has a numeric code.
  if (typeof err.code === 'string' && err.code.startsWith('GPUFLOW_ERR_') && err.statusCode) return pick(err);
  const grpcCode = grpcCodeOf(err) ?? grpcCodeOf(err.cause);
  if (grpcCode === GRPC_UNAVAILABLE || grpcCode === GRPC_DEADLINE_EXCEEDED) {
    return pick(new Errors.TemporalUnavailable());
  }
  // A real cluster's namespace before the orchestrator first ran: say how to fix it instead of a bare 500.
  if (
    grpcCode === GRPC_INVALID_ARGUMENT &&
    /search attribute/i.test(String((err.cause as Error | undefined)?.message))
  ) {
    return pick(new Errors.SearchAttributesMissing());
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return { statusCode: err.statusCode, code: 'GPUFLOW_ERR_BAD_REQUEST', message: err.message };
  }
  return pick(new Errors.Internal());
}

/** The gRPC status of a call that failed; the Temporal client often wraps it in a ServiceError's `cause`. */
function grpcCodeOf(err: unknown): number | undefined {
  return isGrpcServiceError(err) ? (err as { code: number }).code : undefined;
}

function pick(err: { statusCode?: number; code: string; message: string }) {
  return { statusCode: err.statusCode ?? 500, code: err.code, message: err.message };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
function httpReason(statusCode: number): string {
  return REASONS[statusCode] ?? (statusCode >= 500 ? 'Internal Server Error' : 'Bad Request');
}
