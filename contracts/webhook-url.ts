import * as ipaddrModule from 'ipaddr.js';

// A CommonJS package typed with `export =`: Node's ESM loader sees only its default export, TypeScript (without
// allowSyntheticDefaultImports) only the namespace. This works under both.
const ipaddr = (ipaddrModule as { default?: typeof ipaddrModule }).default ?? ipaddrModule;

type Address = ipaddrModule.IPv4 | ipaddrModule.IPv6;

/**
 * Where webhooks may go although it is not on the public internet (`GPUFLOW_WEBHOOK_ALLOW_PRIVATE`): host names
 * (any address they resolve to is allowed) and networks (CIDR, or a single address).
 */
export interface PrivateAllowList {
  hosts: ReadonlySet<string>;
  networks: readonly [Address, number][];
}

const NOT_ALLOWED = ' not allowed by GPUFLOW_WEBHOOK_ALLOW_PRIVATE';

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

/** Why an entry of the allow list is not a host name, an address or a CIDR; undefined when it is fine. */
export function allowEntryProblem(entry: string): string | undefined {
  if (entry.includes('/')) return ipaddr.isValidCIDR(entry) ? undefined : `"${entry}" is not a valid CIDR`;
  if (isIpLiteral(entry) || HOSTNAME.test(entry)) return undefined;
  return `"${entry}" is neither a host name, an IP address nor a CIDR`;
}

/** @throws Error on an entry that `allowEntryProblem` refuses. */
export function parseAllowList(entries: readonly string[]): PrivateAllowList {
  const hosts = new Set<string>();
  const networks: [Address, number][] = [];
  for (const entry of entries) {
    const problem = allowEntryProblem(entry);
    if (problem) throw new Error(problem);
    if (entry.includes('/')) networks.push(unmapped(ipaddr.parseCIDR(entry)));
    else if (isIpLiteral(entry)) {
      const address = ipaddr.process(entry);
      networks.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else hosts.add(normalizeHost(entry));
  }
  return { hosts, networks };
}

/**
 * What kind of non-public address this is (`loopback`, `private`, `link-local`, `cloud metadata`, ...), or
 * undefined for a public unicast address. Everything that ipaddr.js does not call plain `unicast` counts as
 * non-public, IPv6 prefixes that embed an IPv4 address (6to4, Teredo, NAT64) included: they could lead inside.
 */
export function nonPublicRange(ip: string): string | undefined {
  const address = ipaddr.process(ip);
  const range = address.range();
  if (range === 'unicast') return undefined;
  if (address.toString() === '169.254.169.254') return 'cloud metadata';
  return RANGE_NAMES[range] ?? `reserved (${range})`;
}

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  unspecified: 'unspecified',
  carrierGradeNat: 'carrier-grade NAT',
  multicast: 'multicast',
  broadcast: 'broadcast',
};

/**
 * Why a webhook may not go to this address of `host`: its non-public range, unless the host or a network around
 * the address is allowed. Undefined when it may.
 */
export function forbiddenAddress(host: string, ip: string, allow: PrivateAllowList): string | undefined {
  const range = nonPublicRange(ip);
  if (range === undefined || allow.hosts.has(normalizeHost(host))) return undefined;
  const address = ipaddr.process(ip);
  const allowed = allow.networks.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits));
  return allowed ? undefined : `${address.toString()} is a ${range} address${NOT_ALLOWED}`;
}

/**
 * Why a webhook URL is refused before any DNS lookup: not http(s), or a literal IP address (or `localhost`) that
 * is not public and not allowed. A host name passes here; its addresses are checked when the webhook is sent.
 */
export function webhookUrlProblem(url: string, allow: PrivateAllowList): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'only http and https URLs are allowed';
  const host = hostOf(parsed);
  if (isIpLiteral(host)) return forbiddenAddress(host, host, allow);
  // RFC 6761: localhost and its subdomains resolve to loopback, whatever DNS says.
  const name = normalizeHost(host);
  if ((name === 'localhost' || name.endsWith('.localhost')) && !allow.hosts.has(name)) {
    return `${name} is a loopback address${NOT_ALLOWED}`;
  }
  return undefined;
}

/** The host of a URL as a resolver or `isIpLiteral` takes it: IPv6 without its brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** An IP address written out (four-part decimal IPv4 or IPv6), as opposed to a host name. */
export function isIpLiteral(host: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host);
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/** `::ffff:10.0.0.0/104` allows what `10.0.0.0/8` does: addresses are compared unmapped. */
function unmapped([address, bits]: [Address, number]): [Address, number] {
  if (address.kind() === 'ipv6' && (address as ipaddrModule.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(address as ipaddrModule.IPv6).toIPv4Address(), bits - 96];
  }
  return [address, bits];
}
