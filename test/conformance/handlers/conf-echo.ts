import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineJob } from '../../../sdk/index.js';
import { confType } from './suffix.js';

/** Echoes `text`; of `blob` (a large input) it returns only the length and SHA-256. */
export default defineJob({
  type: confType('conf-echo'),
  input: z.object({ text: z.string(), blob: z.string().default('') }),
  handler({ text, blob }) {
    return { text, blobLength: blob.length, blobSha256: createHash('sha256').update(blob).digest('hex') };
  },
});
