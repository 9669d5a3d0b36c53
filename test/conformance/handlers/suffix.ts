/** `<base>-<CONF_TYPE_SUFFIX>`: the job type a conformance handler serves under (see ../worker-impl.ts). */
export function confType(base: string): string {
  const suffix = process.env.CONF_TYPE_SUFFIX;
  if (!suffix) throw new Error('conformance handlers need CONF_TYPE_SUFFIX in the environment');
  return `${base}-${suffix}`;
}
