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
 * The IPv4 address an IPv6 address carries, by the forms that can route to it: IPv4-compatible (`::a.b.c.d`,
 * which the URL parser writes `::7f00:1`), IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`),
 * NAT64's well-known prefix (`64:ff9b::a.b.c.d`), 6to4 (`2002:AABB:CCDD::`) and Teredo's client (`2001:0::`, the
 * last 32 bits inverted). Undefined for any other address, `::` and `::1` included (they are IPv6's own).
 */
export function embeddedIpv4(ip: string): ipaddrModule.IPv4 | undefined {
  const address = ipaddr.parse(ip);
  if (address.kind() === 'ipv4') return undefined;
  const p = (address as ipaddrModule.IPv6).parts;
  const v4 = (high: number, low: number): ipaddrModule.IPv4 =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const zero = (from: number, to: number): boolean => p.slice(from, to).every((part) => part === 0);
  const [p1 = 0, p2 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0] = [p[1], p[2], p[4], p[5], p[6], p[7]];
  if (zero(0, 6) && (p6 !== 0 || p7 > 1)) return v4(p6, p7);
  if (zero(0, 5) && p5 === 0xffff) return v4(p6, p7);
  if (zero(0, 4) && p4 === 0xffff && p5 === 0) return v4(p6, p7);
  if (p[0] === 0x64 && p1 === 0xff9b && zero(2, 6)) return v4(p6, p7);
  if (p[0] === 0x2002) return v4(p1, p2);
  if (p[0] === 0x2001 && p1 === 0) return v4(~p6 & 0xffff, ~p7 & 0xffff);
  return undefined;
}

/**
 * What kind of non-public address this is (`loopback`, `private`, `link-local`, `cloud metadata`, ...), or
 * undefined for a public unicast address. An IPv6 address that carries an IPv4 one (`embeddedIpv4`) is judged by
 * the IPv4 address when that one is not public; otherwise everything that ipaddr.js does not call plain `unicast`
 * counts as non-public, the IPv6 prefixes that embed an IPv4 address (6to4, Teredo, NAT64) included.
 */
export function nonPublicRange(ip: string): string | undefined {
  const inner = embeddedIpv4(ip);
  const innerRange = inner && rangeOf(inner);
  if (innerRange !== undefined) return innerRange;
  return rangeOf(ipaddr.process(ip));
}

function rangeOf(address: Address): string | undefined {
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
  const inner = embeddedIpv4(ip);
  const candidates = inner ? [address, inner] : [address];
  const allowed = allow.networks.some(([net, bits]) =>
    candidates.some((candidate) => net.kind() === candidate.kind() && candidate.match(net, bits)),
  );
  if (allowed) return undefined;
  const what =
    inner && inner.toString() !== address.toString()
      ? `${address.toString()} (${inner.toString()})`
      : address.toString();
  return `${what} is a ${range} address${NOT_ALLOWED}`;
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
