import { z } from 'zod';
import { AttemptFactsSchema } from './activity.js';
import type { AttemptFailed, JobInputSchemas } from './signal-definitions.js';
import { StreamBatchSchema } from './stream.js';

export * from './signal-definitions.js';
export { StreamBatchSchema };

/** The argument of `attemptStarted`. */
export const AttemptStartedSchema = AttemptFactsSchema;

/** The argument of `attemptFailed`. */
export const AttemptFailedSchema: z.ZodType<AttemptFailed> = z.object({ attempt: z.number().int().min(1) });

/** The first argument of `jobTypesSeen`. */
export const JobTypesSeenSchema = z.array(z.string());

/** The second, optional argument of `jobTypesSeen` (see `JobInputSchemas`). */
export const JobInputSchemasSchema: z.ZodType<JobInputSchemas> = z.record(
  z.string(),
  z.record(z.string(), z.unknown()),
);
