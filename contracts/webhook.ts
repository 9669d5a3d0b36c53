/** Argument of the `deliverWebhook` workflow and activity: one delivery of one run's end. */
export interface DeliverWebhookInput {
  jobId: string;
  /** The run whose end is delivered: a retry or resubmission starts a newer run under the same job id. */
  runId: string;
  url: string;
}

/** What the `deliverWebhook` workflow ends with: delivery never fails the job, and never fails this workflow. */
export interface WebhookDeliveryResult {
  delivered: boolean;
  /** HTTP status of the answer that ended the delivery (2xx when delivered). */
  status?: number;
  /** Why the delivery was given up, when it was. */
  error?: string;
}

/** Failure types of the `deliverWebhook` activity. */
export const WebhookFailureTypes = {
  /** The URL or an address its host resolves to is private and not allowed: never retried. */
  forbidden: 'WebhookForbidden',
  /** The orchestrator has no GPUFLOW_WEBHOOK_SECRET: never retried. */
  notConfigured: 'WebhookNotConfigured',
  /** The receiver answered something other than 2xx, or could not be reached: retried. */
  rejected: 'WebhookRejected',
} as const;

/** `webhook-id` of a delivery: the same on every try, so a receiver can drop duplicates. */
export function webhookMessageId(jobId: string, runId: string): string {
  return `${jobId}.${runId}`;
}

/** Workflow id of a run's webhook delivery. */
export function webhookWorkflowId(jobId: string, runId: string): string {
  return `${jobId}.webhook.${runId}`;
}
