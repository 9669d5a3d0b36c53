import { describe, expect, it } from 'vitest';
import { EnvError, loadEnv } from '../../config/env.js';
import { SubmitJobSchema } from '../../contracts/job.js';
import {
  allowEntryProblem,
  forbiddenAddress,
  nonPublicRange,
  parseAllowList,
  webhookUrlProblem,
} from '../../contracts/webhook-url.js';

const none = parseAllowList([]);
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('webhook URL policy', () => {
  it('calls public unicast addresses public and names every other range', () => {
    expect(nonPublicRange('93.184.216.34')).toBeUndefined();
    expect(nonPublicRange('2606:2800:220:1:248:1893:25c8:1946')).toBeUndefined();
    expect(nonPublicRange('127.0.0.1')).toBe('loopback');
    expect(nonPublicRange('::1')).toBe('loopback');
    expect(nonPublicRange('10.1.2.3')).toBe('private');
    expect(nonPublicRange('172.16.0.1')).toBe('private');
    expect(nonPublicRange('192.168.1.1')).toBe('private');
    expect(nonPublicRange('169.254.169.254')).toBe('cloud metadata');
    expect(nonPublicRange('169.254.1.1')).toBe('link-local');
    expect(nonPublicRange('fe80::1')).toBe('link-local');
    expect(nonPublicRange('fd00:ec2::254')).toBe('unique-local');
    expect(nonPublicRange('0.0.0.0')).toBe('unspecified');
    expect(nonPublicRange('100.64.0.1')).toBe('carrier-grade NAT');
    // An IPv4 address in IPv6 clothing is judged as the IPv4 address it is.
    expect(nonPublicRange('::ffff:127.0.0.1')).toBe('loopback');
    expect(nonPublicRange('::ffff:8.8.8.8')).toBeUndefined();
    // Prefixes that embed an IPv4 address could lead inside: judged by the address they embed.
    expect(nonPublicRange('2002:7f00:1::1')).toBe('loopback');
  });

  it('refuses URLs that are not http(s), and private literal addresses unless allowed', () => {
    expect(webhookUrlProblem('https://hooks.example.com/gpuflow', none)).toBeUndefined();
    expect(webhookUrlProblem('http://93.184.216.34:8080/x', none)).toBeUndefined();
    expect(webhookUrlProblem('ftp://example.com/', none)).toBe('only http and https URLs are allowed');
    expect(webhookUrlProblem('file:///etc/passwd', none)).toBe('only http and https URLs are allowed');
    expect(webhookUrlProblem('not a url', none)).toBe('not a valid URL');
    expect(webhookUrlProblem('http://10.0.0.5/hook', none)).toMatch(/^10\.0\.0\.5 is a private address not allowed/);
    expect(webhookUrlProblem('http://169.254.169.254/latest/meta-data', none)).toMatch(/cloud metadata/);
    expect(webhookUrlProblem('http://[::1]:3000/', none)).toMatch(/^::1 is a loopback address/);
    expect(webhookUrlProblem('http://[::ffff:7f00:1]/', none)).toMatch(/^127\.0\.0\.1 is a loopback address/);
    // WHATWG URL parsing normalizes the odd spellings of an address before it is judged.
    expect(webhookUrlProblem('http://2130706433/', none)).toMatch(/^127\.0\.0\.1 is a loopback/);
    expect(webhookUrlProblem('http://0x7f.1/', none)).toMatch(/^127\.0\.0\.1 is a loopback/);
    expect(webhookUrlProblem('http://localhost:8080/', none)).toMatch(/^localhost is a loopback/);
    expect(webhookUrlProblem('http://api.LOCALHOST./', none)).toMatch(/^api\.localhost is a loopback/);
  });

  it('allows private addresses by network or by host name', () => {
    const allow = parseAllowList(['10.0.0.0/8', '::1/128', 'hooks.internal', 'localhost', '192.168.1.7']);
    expect(webhookUrlProblem('http://10.200.0.1/', allow)).toBeUndefined();
    expect(webhookUrlProblem('http://[::1]/', allow)).toBeUndefined();
    expect(webhookUrlProblem('http://localhost/', allow)).toBeUndefined();
    expect(webhookUrlProblem('http://192.168.1.7/', allow)).toBeUndefined();
    expect(webhookUrlProblem('http://192.168.1.8/', allow)).toMatch(/private/);
    expect(webhookUrlProblem('http://127.0.0.1/', allow)).toMatch(/loopback/);
    // At delivery: a host name that is allowed may resolve anywhere; any other host is judged by its addresses.
    expect(forbiddenAddress('hooks.internal', '172.16.5.5', allow)).toBeUndefined();
    expect(forbiddenAddress('HOOKS.internal.', '172.16.5.5', allow)).toBeUndefined();
    expect(forbiddenAddress('evil.example.com', '172.16.5.5', allow)).toMatch(/^172\.16\.5\.5 is a private/);
    expect(forbiddenAddress('evil.example.com', '::ffff:10.1.1.1', allow)).toBeUndefined();
    expect(forbiddenAddress('evil.example.com', '8.8.8.8', none)).toBeUndefined();
    expect(parseAllowList(['::ffff:10.0.0.0/104']).networks[0]?.[1]).toBe(8);
  });

  // Every way of writing an IPv4 address inside an IPv6 literal that can route to it, as a URL host.
  it.each([
    ['[::127.0.0.1]', /^::7f00:1 \(127\.0\.0\.1\) is a loopback address/],
    ['[::7f00:1]', /\(127\.0\.0\.1\) is a loopback/],
    ['[::10.0.0.1]', /\(10\.0\.0\.1\) is a private/],
    ['[::169.254.169.254]', /cloud metadata/],
    ['[::ffff:127.0.0.1]', /^127\.0\.0\.1 is a loopback/],
    ['[::ffff:7f00:1]', /^127\.0\.0\.1 is a loopback/],
    ['[::ffff:a9fe:101]', /^169\.254\.1\.1 is a link-local/],
    ['[::ffff:c0a8:101]', /^192\.168\.1\.1 is a private/],
    ['[::ffff:0:127.0.0.1]', /\(127\.0\.0\.1\) is a loopback/],
    ['[64:ff9b::127.0.0.1]', /\(127\.0\.0\.1\) is a loopback/],
    ['[64:ff9b::a00:1]', /\(10\.0\.0\.1\) is a private/],
    ['[2002:7f00:1::]', /\(127\.0\.0\.1\) is a loopback/],
    ['[2002:c0a8:101::1]', /\(192\.168\.1\.1\) is a private/],
    ['[2001:0:4136:e378:8000:63bf:80ff:fffe]', /\(127\.0\.0\.1\) is a loopback/],
    ['[::]', /^:: is a unspecified/],
    ['[::1]', /^::1 is a loopback/],
  ])('refuses %s', (host, problem) => {
    expect(webhookUrlProblem(`http://${host}:8080/hook`, none)).toMatch(problem);
    expect(webhookUrlProblem(`http://${host}:8080/hook`, parseAllowList(['hooks.example.com']))).toMatch(problem);
  });

  it('lets an embedded private address through when its IPv4 network is allowed, and judges public ones as before', () => {
    const allow = parseAllowList(['127.0.0.0/8', '10.0.0.0/8']);
    for (const host of ['[::127.0.0.1]', '[::ffff:7f00:1]', '[64:ff9b::a00:1]', '[2002:7f00:1::]']) {
      expect(webhookUrlProblem(`http://${host}/`, allow), host).toBeUndefined();
    }
    expect(webhookUrlProblem('http://[::ffff:c0a8:101]/', allow)).toMatch(/private/);
    expect(forbiddenAddress('evil.example.com', '::7f00:1', none)).toMatch(/loopback/);
    expect(nonPublicRange('::ffff:8.8.8.8')).toBeUndefined();
    expect(nonPublicRange('::808:808')).toBeUndefined();
    // A transition prefix to a public address still counts as non-public, as it did.
    expect(nonPublicRange('64:ff9b::808:808')).toMatch(/reserved/);
    expect(nonPublicRange('2002:808:808::')).toMatch(/reserved|6to4/);
  });

  it('checks the entries of the allow list', () => {
    expect(allowEntryProblem('10.0.0.0/8')).toBeUndefined();
    expect(allowEntryProblem('fd00::/8')).toBeUndefined();
    expect(allowEntryProblem('hooks.internal')).toBeUndefined();
    expect(allowEntryProblem('10.0.0.0/33')).toMatch(/not a valid CIDR/);
    expect(allowEntryProblem('hooks.internal:8080')).toMatch(/neither/);
    expect(() => parseAllowList(['a b'])).toThrow(/neither a host name/);
  });
});

describe('the webhook field of a submission', () => {
  const body = (webhook: unknown) => ({ type: 'echo', input: null, webhook });

  it('takes an http(s) URL of at most 2048 characters', () => {
    expect(SubmitJobSchema.parse(body('https://example.com/h')).webhook).toBe('https://example.com/h');
    expect(SubmitJobSchema.parse({ type: 'echo', input: null }).webhook).toBeUndefined();
    expect(SubmitJobSchema.safeParse(body('ftp://example.com/')).error?.issues[0]?.message).toBe(
      'must be an http or https URL',
    );
    expect(SubmitJobSchema.safeParse(body('example.com')).success).toBe(false);
    expect(SubmitJobSchema.safeParse(body(`https://example.com/${'a'.repeat(2028)}`)).success).toBe(true);
    expect(SubmitJobSchema.safeParse(body(`https://example.com/${'a'.repeat(2029)}`)).success).toBe(false);
  });
});

describe('webhook settings in the environment', () => {
  it('are off by default', () => {
    const env = loadEnv({});
    expect(env.GPUFLOW_WEBHOOK_SECRET).toBeUndefined();
    expect(env.GPUFLOW_WEBHOOK_ALLOW_PRIVATE).toEqual([]);
  });

  it('take a whsec_ secret and a list of hosts and networks', () => {
    const env = loadEnv({ GPUFLOW_WEBHOOK_SECRET: SECRET, GPUFLOW_WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/8, hooks.lan' });
    expect(env.GPUFLOW_WEBHOOK_SECRET).toBe(SECRET);
    expect(env.GPUFLOW_WEBHOOK_ALLOW_PRIVATE).toEqual(['10.0.0.0/8', 'hooks.lan']);
  });

  it('name a bad secret and a bad allow list entry', () => {
    for (const secret of ['hunter2', SECRET.slice('whsec_'.length), 'whsec_c2hvcnQ=', 'whsec_not*base64']) {
      let error: unknown;
      try {
        loadEnv({ GPUFLOW_WEBHOOK_SECRET: secret, GPUFLOW_WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/99' });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(EnvError);
      const problems = (error as EnvError).problems.join('\n');
      expect(problems).toMatch(/^GPUFLOW_WEBHOOK_SECRET: must be whsec_ followed by the base64/m);
      expect(problems).toMatch(/^GPUFLOW_WEBHOOK_ALLOW_PRIVATE: "10\.0\.0\.0\/99" is not a valid CIDR/m);
    }
  });
});
