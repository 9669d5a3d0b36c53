import { z } from 'zod';

/** A Temporal payload in protobuf's JSON form: metadata values and data are base64. */
export const CodecPayloadSchema = z.object({
  metadata: z.record(z.string(), z.base64()).optional(),
  data: z.base64().optional(),
});

/** Body and answer of the remote codec endpoints (Temporal's codec server protocol, used by the Web UI and CLI). */
export const CodecPayloadsSchema = z.object({ payloads: z.array(CodecPayloadSchema).max(1000) });
export type CodecPayloads = z.output<typeof CodecPayloadsSchema>;
