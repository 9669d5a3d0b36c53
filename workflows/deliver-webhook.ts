import {
  CancellationScope,
  ParentClosePolicy,
  isCancellation,
  log,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/deliver-webhook.js';
import {
  WebhookFailureTypes,
  webhookWorkflowId,
  type DeliverWebhookInput,
  type WebhookDeliveryResult,
} from '../contracts/webhook.js';

/**
 * Tries, with backoff, to POST a job run's end to its webhook. `runJob` starts it as an abandoned child at its
 * very end, so the job's status is final before delivery begins and nothing here can change it. Runs on the
 * control task queue, like its activity: about 10 tries over 4 minutes, then it gives up and says so in the log.
 */
export async function deliverWebhook(delivery: DeliverWebhookInput): Promise<WebhookDeliveryResult> {
  const { deliverWebhook: post } = proxyActivities<WebhookActivities>({
    // One try: waiting for the job's run to close (a moment), then a request of at most 10 s.
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: 10,
      nonRetryableErrorTypes: [WebhookFailureTypes.forbidden, WebhookFailureTypes.notConfigured],
    },
  });
  try {
    return await post(delivery);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    const error = cause instanceof Error ? cause.message : String(cause);
    log.warn('webhook not delivered, giving up', { ...delivery, error });
    return { delivered: false, error };
  }
}

/**
 * Called by `runJob` on every way out, once the job's status is final: starts `deliverWebhook` for this run as a
 * child the job does not wait for (ABANDON: it outlives the job's workflow). Never throws, and is not cancellable:
 * a cancelled job delivers too, and a failure to start is logged while the job ends exactly as it would have.
 */
export async function startWebhookDelivery(jobId: string, url: string | undefined): Promise<void> {
  if (url === undefined) return;
  const { runId, taskQueue } = workflowInfo();
  await CancellationScope.nonCancellable(async () => {
    try {
      await startChild(deliverWebhook, {
        workflowId: webhookWorkflowId(jobId, runId),
        taskQueue,
        args: [{ jobId, runId, url }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      log.error('could not start the webhook delivery', { jobId, url, error: String(err) });
    }
  });
}
