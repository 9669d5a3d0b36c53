import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { FastifyBaseLogger } from 'fastify';
import type { BlobStore } from '../../storage/blob-store.js';

/** What the gateway needs of its API process. */
export interface GatewayOptions {
  client: Client;
  /**
   * The API process's own connection for the per-type Temporal workers, or how to make it: asked when the first
   * runner of a type polls, so that an API no runner uses never loads the worker SDK nor opens this connection.
   */
  connection: NativeConnection | (() => Promise<NativeConnection>);
  namespace: string;
  /** The codecs of every gpuflow process (payload encryption): the gateway's workers decode tasks with them. */
  dataConverter?: DataConverter;
  blobs?: BlobStore;
  /** @defaultValue 262144 */
  payloadThresholdBytes?: number;
  log: FastifyBaseLogger;
  /** How long a job-take or job-stop is held before a 204, ms (under the runpod SDK's 90 s). @defaultValue 30000 */
  holdMs?: number;
  /** Identity of the gateway's Temporal workers. @defaultValue `gateway-<hostname>-<pid>` */
  identity?: string;
  /** Told of every attempt's gateway time: hand-out (task start to job written) and done (post to completion). */
  onTiming?: (timing: { id: string; handOutMs: number; doneMs: number }) => void;
}
