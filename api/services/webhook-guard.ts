import { parseAllowList, webhookUrlProblem } from '../../contracts/webhook-url.js';
import { Errors } from '../errors.js';

/** Webhooks as the API accepts them on submit. */
export interface WebhookSettings {
  /** Hosts and networks that may be private (GPUFLOW_WEBHOOK_ALLOW_PRIVATE). @defaultValue none */
  allowPrivate?: readonly string[];
}

/**
 * Checks a submission's webhook before its job starts: webhooks must be enabled (a signing secret is configured),
 * and the URL must not point at a private address written out in it (host names are checked when sending).
 * @param settings absent when webhooks are not enabled.
 */
export function createWebhookGuard(settings: WebhookSettings | undefined): (url: string) => void {
  const allow = parseAllowList(settings?.allowPrivate ?? []);
  return (url) => {
    if (!settings) throw new Errors.WebhookNotConfigured();
    const problem = webhookUrlProblem(url, allow);
    if (problem) throw new Errors.WebhookForbidden(problem);
  };
}
