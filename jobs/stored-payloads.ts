import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { LoadedDataConverter, Payload } from '@temporalio/common';

/**
 * Payloads read raw from Temporal (history events, a pending activity's heartbeat details) are as the codecs left
 * them (encrypted, with GPUFLOW_ENCRYPTION_KEY): decoded here through the client's codecs, last applied first,
 * exactly as the SDK decodes what it reads itself.
 */
export async function decodeStoredPayload(converter: LoadedDataConverter, payload: Payload): Promise<Payload> {
  let payloads = [payload];
  for (const codec of [...converter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  const [decoded] = payloads;
  if (!decoded) throw new Error('a payload codec returned no payload');
  return decoded;
}

/** The value of a payload read raw from Temporal. */
export async function fromStoredPayload<T>(converter: LoadedDataConverter, payload: Payload): Promise<T> {
  return converter.payloadConverter.fromPayload<T>(await decodeStoredPayload(converter, payload));
}

/**
 * The description with its pending activities' heartbeat details decoded by the codecs, so that the view builder
 * reads them with the payload converter alone. `describe()` decodes the memo and search attributes itself.
 */
export async function withDecodedHeartbeats(
  description: WorkflowExecutionDescription,
  converter: LoadedDataConverter,
): Promise<WorkflowExecutionDescription> {
  if (converter.payloadCodecs.length === 0) return description;
  for (const pending of description.raw.pendingActivities ?? []) {
    const payloads = pending.heartbeatDetails?.payloads;
    if (!payloads?.length) continue;
    pending.heartbeatDetails = {
      payloads: await Promise.all(payloads.map((payload) => decodeStoredPayload(converter, payload))),
    };
  }
  return description;
}
