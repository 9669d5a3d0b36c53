/** What stands in for a redacted part of a URL. */
export const REDACTED = '[redacted]';

/**
 * A URL as logs and failure messages may show it: credentials, query string and fragment replaced by
 * `[redacted]` (webhook receivers commonly carry their secret in the query: `?token=...`). A string that is no URL
 * is redacted whole, since nothing tells which part of it is secret.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `[unparseable URL ${REDACTED}]`;
  }
  const credentials = parsed.username || parsed.password ? `${REDACTED}@` : '';
  const query = parsed.search ? `?${REDACTED}` : '';
  const fragment = parsed.hash ? `#${REDACTED}` : '';
  // `http://host:9000` stays as written, not `http://host:9000/`.
  const bare = parsed.pathname === '/' && !/^[^:]+:\/\/[^/?#]*\//.test(String(url));
  return `${parsed.protocol}//${credentials}${parsed.host}${bare ? '' : parsed.pathname}${query}${fragment}`;
}
