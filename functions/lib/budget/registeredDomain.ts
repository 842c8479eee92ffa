// The registered domain of a DNS name, as Let's Encrypt counts it: the whole Public
// Suffix List (private domains included), from a maintained library.
import { getDomain } from 'tldts';

/** `www.example.co.uk` → `example.co.uk`; a wildcard counts for its base; a bare suffix is its own domain. */
export function registeredDomain(name: string): string {
  const host = name.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
  return getDomain(host, { allowPrivateDomains: true }) ?? host;
}
