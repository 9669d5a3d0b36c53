import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createWebhookActivities } from '../../activities/deliver-webhook.js';
import { redactUrl } from '../../contracts/redact-url.js';

describe('redactUrl', () => {
  it('hides credentials, the query string and the fragment, and keeps where it points', () => {
    expect(redactUrl('https://alice:s3cret@hooks.example.com:8443/in/job?token=abc&x=1#frag')).toBe(
      'https://[redacted]@hooks.example.com:8443/in/job?[redacted]#[redacted]',
    );
    expect(redactUrl('https://hooks.example.com/in')).toBe('https://hooks.example.com/in');
    expect(redactUrl('http://127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
    expect(redactUrl('http://127.0.0.1:9000/?k=v')).toBe('http://127.0.0.1:9000/?[redacted]');
    expect(redactUrl('http://127.0.0.1:9000?k=v')).toBe('http://127.0.0.1:9000?[redacted]');
    expect(redactUrl('https://:pw@hooks.example.com/')).toBe('https://[redacted]@hooks.example.com/');
  });

  it('redacts a string that is no URL whole', () => {
    expect(redactUrl('not a url?token=abc')).not.toContain('abc');
  });
});

describe('webhook failures', () => {
  it('never carry the secret parts of the URL into the failure (and so the log and the history)', async () => {
    const activities = createWebhookActivities({
      client: {} as Client,
      viewOf: () => Promise.reject(new Error('unused')),
      secret: `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`,
    });
    const url = 'http://bob:hunter2@10.1.2.3/hook?token=topsecret';
    const failure = await new MockActivityEnvironment()
      .run(() => activities.deliverWebhook({ jobId: 'job-1', runId: 'run-1', url }))
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    expect(failure?.message).toContain('http://[redacted]@10.1.2.3/hook?[redacted]');
    expect(failure?.message).not.toMatch(/hunter2|topsecret|bob/);
  });
});
