// The one spelling of a DNS name the pipeline compares and writes: lower case,
// no trailing dot (Route 53's condition keys evaluate names this way too), and
// the `_acme-challenge` name a DNS-01 value lives at. Infra imports it as well.

/** Lower-case, trimmed, no trailing dot. */
export function normaliseDnsName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** `_acme-challenge.` name for a DNS name; a wildcard validates at its base name. */
export function challengeFqdn(dnsName: string): string {
  return `_acme-challenge.${normaliseDnsName(dnsName).replace(/^\*\./, '')}`;
}

/** The same set of names, whatever their case, order or trailing dots. */
export function sameDnsNames(a: readonly string[], b: readonly string[]): boolean {
  const key = (names: readonly string[]) => [...new Set(names.map(normaliseDnsName))].sort().join(',');
  return key(a) === key(b);
}
