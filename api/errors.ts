import createError from '@fastify/error';

/**
 * Every error the API answers with, by stable code. Bodies keep Fastify's shape:
 * `{ statusCode, code, error, message }`.
 */
export const Errors = {
  Validation: createError('GPUFLOW_ERR_VALIDATION', '%s', 400),
  BadJson: createError('GPUFLOW_ERR_BAD_JSON', 'the body is not valid JSON: %s', 400),
  UnsupportedMediaType: createError('GPUFLOW_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json', 415),
  PayloadTooLarge: createError('GPUFLOW_ERR_PAYLOAD_TOO_LARGE', 'the body is larger than %d bytes', 413),
  Unauthorized: createError('GPUFLOW_ERR_UNAUTHORIZED', 'send a valid API key as "Authorization: Bearer <key>"', 401),
  Forbidden: createError<'GPUFLOW_ERR_FORBIDDEN', 403, [string]>(
    'GPUFLOW_ERR_FORBIDDEN',
    'this route needs an API key with the %s role',
    403,
  ),
  JobNotFound: createError<'GPUFLOW_ERR_JOB_NOT_FOUND', 404, [string]>(
    'GPUFLOW_ERR_JOB_NOT_FOUND',
    'no job with id "%s"',
    404,
  ),
  JobNotRetryable: createError<'GPUFLOW_ERR_JOB_NOT_RETRYABLE', 409, [string, string]>(
    'GPUFLOW_ERR_JOB_NOT_RETRYABLE',
    'job "%s" is %s: only FAILED, TIMED_OUT or CANCELLED jobs can be retried',
    409,
  ),
  IdempotencyMismatch: createError<'GPUFLOW_ERR_IDEMPOTENCY_MISMATCH', 409, [string]>(
    'GPUFLOW_ERR_IDEMPOTENCY_MISMATCH',
    'idempotency key already used for job "%s" with a different type or input: use a new key for a new job',
    409,
  ),
  WebhookNotConfigured: createError(
    'GPUFLOW_ERR_WEBHOOK_NOT_CONFIGURED',
    'webhooks are not enabled on this server: it needs a signing secret in GPUFLOW_WEBHOOK_SECRET',
    400,
  ),
  WebhookForbidden: createError<'GPUFLOW_ERR_WEBHOOK_FORBIDDEN', 400, [string]>(
    'GPUFLOW_ERR_WEBHOOK_FORBIDDEN',
    'webhook: %s',
    400,
  ),
  ArtifactNotFound: createError<'GPUFLOW_ERR_ARTIFACT_NOT_FOUND', 404, [string, string]>(
    'GPUFLOW_ERR_ARTIFACT_NOT_FOUND',
    'job "%s" has no artifact "%s"',
    404,
  ),
  EndpointNotFound: createError<'GPUFLOW_ERR_ENDPOINT_NOT_FOUND', 404, [string]>(
    'GPUFLOW_ERR_ENDPOINT_NOT_FOUND',
    'no endpoint "%s": a RunPod endpoint id is a gpuflow job type (a-z first, then a-z, 0-9 and "-")',
    404,
  ),
  UndecodablePayload: createError<'GPUFLOW_ERR_UNDECODABLE_PAYLOAD', 400, [string]>(
    'GPUFLOW_ERR_UNDECODABLE_PAYLOAD',
    'a payload cannot be decoded here: %s',
    400,
  ),
  RateLimited: createError<'GPUFLOW_ERR_RATE_LIMITED', 429, [number, string, number]>(
    'GPUFLOW_ERR_RATE_LIMITED',
    'rate limited: at most %d requests per %s for this key; retry in %d s',
    429,
  ),
  TooManyJobs: createError<'GPUFLOW_ERR_TOO_MANY_JOBS', 429, [string, number, number]>(
    'GPUFLOW_ERR_TOO_MANY_JOBS',
    'tenant "%s" may have at most %d jobs queued or running at once and has %d: wait for some to end',
    429,
  ),
  FieldTooLarge: createError<'GPUFLOW_ERR_FIELD_TOO_LARGE', 413, [string, number, number]>(
    'GPUFLOW_ERR_FIELD_TOO_LARGE',
    '%s is %d bytes, over the limit of %d bytes',
    413,
  ),
  /** A Runpack runner's claim or report on a job it does not hold (another runner has it, or the attempt ended). */
  NotYourJob: createError<'GPUFLOW_ERR_NOT_YOUR_JOB', 409, [string]>('GPUFLOW_ERR_NOT_YOUR_JOB', '%s', 409),
  RunnerJobNotFound: createError<'GPUFLOW_ERR_RUNNER_JOB_NOT_FOUND', 404, [string]>(
    'GPUFLOW_ERR_RUNNER_JOB_NOT_FOUND',
    'no job "%s" is held for runners here: list jobs/available for the ids to claim',
    404,
  ),
  RouteNotFound: createError('GPUFLOW_ERR_ROUTE_NOT_FOUND', 'no route %s %s', 404),
  TemporalUnavailable: createError(
    'GPUFLOW_ERR_TEMPORAL_UNAVAILABLE',
    'the job store (Temporal) cannot be reached; try again',
    503,
  ),
  SearchAttributesMissing: createError(
    'GPUFLOW_ERR_TEMPORAL_NOT_SET_UP',
    'the Temporal namespace lacks the search attributes JobType and JobStatus: start `gpuflow orchestrator` once (it registers them) or register them as Keyword',
    503,
  ),
  Internal: createError('GPUFLOW_ERR_INTERNAL', 'internal error', 500),
} as const;
