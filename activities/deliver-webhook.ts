import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import type { JobView } from '../contracts/job.js';
import {
  WebhookFailureTypes,
  webhookMessageId,
  type DeliverWebhookInput,
  type WebhookDeliveryResult,
} from '../contracts/webhook.js';
import { redactUrl } from '../contracts/redact-url.js';
import { forbiddenAddress, hostOf, parseAllowList, webhookUrlProblem } from '../contracts/webhook-url.js';

export interface WebhookActivityDeps {
  /** Waits for a job's run to close. */
  client: Client;
  /** The view of one run of a job, exactly as `GET /v1/jobs/:id` shows it (the read model's `JobReader.viewOfRun`). */
  viewOf(jobId: string, runId: string): Promise<JobView>;
  /** `whsec_<base64>` (GPUFLOW_WEBHOOK_SECRET). Without it every delivery fails at once, unretried. */
  secret?: string;
  /** Hosts and networks that may be private (GPUFLOW_WEBHOOK_ALLOW_PRIVATE). @defaultValue none */
  allowPrivate?: readonly string[];
  /** Longest one request may take, answer included, ms. @defaultValue 10000 */
  requestTimeoutMs?: number;
  /** Resolves a host name to every address it has. @defaultValue `dns.lookup` with `all: true` */
  resolveHost?: (host: string) => Promise<LookupAddress[]>;
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;

const resolveAll = (host: string): Promise<LookupAddress[]> => lookup(host, { all: true, verbatim: true });

/** The orchestrator's webhook delivery: light work (one HTTP request), run on the control task queue. */
export function createWebhookActivities(deps: WebhookActivityDeps) {
  const signer = deps.secret ? new Webhook(deps.secret) : undefined;
  const allow = parseAllowList(deps.allowPrivate ?? []);
  const resolveHost = deps.resolveHost ?? resolveAll;
  const requestTimeoutMs = deps.requestTimeoutMs ?? 10_000;

  return {
    /**
     * Waits until the run has closed, then POSTs its view, signed per Standard Webhooks. Throws (and is retried)
     * on a network error or an answer other than 2xx; a forbidden address or a missing secret is not retried.
     */
    async deliverWebhook({ jobId, runId, url }: DeliverWebhookInput): Promise<WebhookDeliveryResult> {
      if (!signer) {
        throw ApplicationFailure.nonRetryable(
          'GPUFLOW_WEBHOOK_SECRET is not set on the orchestrator: webhooks cannot be signed',
          WebhookFailureTypes.notConfigured,
        );
      }
      // Checked again here: the allow list of the orchestrator may be narrower than the API's.
      const problem = webhookUrlProblem(url, allow);
      if (problem)
        throw ApplicationFailure.nonRetryable(`webhook ${redactUrl(url)}: ${problem}`, WebhookFailureTypes.forbidden);
      const { cancellationSignal } = Context.current();
      await waitForRunEnd(deps.client, jobId, runId, cancellationSignal);
      const body = JSON.stringify(await deps.viewOf(jobId, runId));

      // Resolved right before connecting, and the connection goes to the addresses checked: a DNS answer that
      // changes between the check and the request (DNS rebinding) cannot lead inside.
      const target = new URL(url);
      const addresses = await checkedAddresses(hostOf(target), allow, resolveHost);
      const id = webhookMessageId(jobId, runId);
      const now = new Date();
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'gpuflow-webhook',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signer.sign(id, now, body),
      };
      const signal = AbortSignal.any([cancellationSignal, AbortSignal.timeout(requestTimeoutMs)]);
      let status: number;
      try {
        status = await post(target, addresses, headers, body, signal);
      } catch (err) {
        throw ApplicationFailure.retryable(
          `webhook ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`,
          WebhookFailureTypes.rejected,
        );
      }
      if (status < 200 || status > 299) {
        throw ApplicationFailure.retryable(
          `webhook ${redactUrl(url)} answered ${status}`,
          WebhookFailureTypes.rejected,
        );
      }
      return { delivered: true, status };
    },
  };
}

/** Resolves when the run has closed, however it ended. */
async function waitForRunEnd(client: Client, jobId: string, runId: string, signal: AbortSignal): Promise<void> {
  const run = client.workflow.getHandle(jobId, runId, { followRuns: false });
  try {
    // A long poll: the server answers when the run closes (runJob starts the delivery right before it does).
    await client.withAbortSignal(signal, () => run.result());
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
  }
}

/** Every address of the host, unless one of them is private and not allowed. */
async function checkedAddresses(
  host: string,
  allow: ReturnType<typeof parseAllowList>,
  resolveHost: (host: string) => Promise<LookupAddress[]>,
): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  try {
    addresses = await resolveHost(host);
  } catch (err) {
    throw ApplicationFailure.retryable(`cannot resolve ${host}: ${String(err)}`, WebhookFailureTypes.rejected);
  }
  if (addresses.length === 0) {
    throw ApplicationFailure.retryable(`${host} has no address`, WebhookFailureTypes.rejected);
  }
  for (const { address } of addresses) {
    const problem = forbiddenAddress(host, address, allow);
    if (problem) {
      throw ApplicationFailure.nonRetryable(
        `webhook host ${host} resolves to ${problem}`,
        WebhookFailureTypes.forbidden,
      );
    }
  }
  return addresses;
}

/** POSTs `body` to `url`, connecting only to `addresses`; resolves with the answer's status once it is read. */
function post(
  url: URL,
  addresses: LookupAddress[],
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<number> {
  // The host name stays in the URL (Host header, TLS SNI and certificate check); only its lookup is pinned.
  const pinned: LookupFunction = (_host, options, callback) => {
    const [first] = addresses;
    if (options.all) callback(null, addresses);
    else if (first) callback(null, first.address, first.family);
    else callback(new Error('no address'), '', 0);
  };
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinned,
        signal,
      },
      (res: http.IncomingMessage) => {
        res.on('error', reject);
        res.on('end', () => resolve(res.statusCode ?? 0));
        // The receiver's answer body is not used; reading it lets the request finish (within the timeout).
        res.resume();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
