// Route 53 record sets (presentation-format values, octal-escaped names) turned
// into dns-packet answers.
import type { Answer } from 'dns-packet';
import { characterStrings, parseSoa, type RecordSet } from '../aws/services/route53/records.js';
import { presentationName } from '../aws/services/route53/names.js';

/** A host name in a value (`target.example.com.` or relative), as dns-packet writes it. */
export function hostOf(value: string): string {
  const trimmed = value.trim();
  return presentationName(trimmed.endsWith('.') ? trimmed : `${trimmed}.`);
}

/** A TXT value's character-strings, any longer than 255 bytes split so each fits its length byte. */
export function txtStrings(value: string): Buffer[] {
  let strings: Buffer[];
  try {
    strings = characterStrings(value, Infinity);
  } catch {
    strings = [Buffer.from(value, 'utf8')];
  }
  return strings.flatMap((s) => {
    if (s.length <= 255) return [s];
    const parts: Buffer[] = [];
    for (let i = 0; i < s.length; i += 255) parts.push(s.subarray(i, i + 255));
    return parts;
  });
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

/** The answers for one record set under `owner`; types dns-packet cannot write are left out. */
export function toAnswers(rs: RecordSet, owner: string, ttl = rs.ttl): Answer[] {
  const base = { name: owner, ttl, class: 'IN' as const };
  return rs.values.flatMap((value): Answer[] => {
    const fields = value.trim().split(/\s+/);
    switch (rs.type) {
      case 'A':
      case 'AAAA':
        return [{ ...base, type: rs.type, data: value.trim() }];
      case 'CNAME':
      case 'NS':
      case 'PTR':
        return [{ ...base, type: rs.type, data: hostOf(value) }];
      case 'TXT':
        return [{ ...base, type: 'TXT', data: txtStrings(value) }];
      case 'MX':
        return [{ ...base, type: 'MX', data: { preference: Number(fields[0]), exchange: hostOf(fields[1] ?? '.') } }];
      case 'SRV':
        return [
          {
            ...base,
            type: 'SRV',
            data: { priority: Number(fields[0]), weight: Number(fields[1]), port: Number(fields[2]), target: hostOf(fields[3] ?? '.') },
          },
        ];
      case 'CAA': {
        const match = /^(\d+)\s+(\S+)\s+(.*)$/.exec(value.trim());
        if (!match) return [];
        return [{ ...base, type: 'CAA', data: { flags: Number(match[1]), tag: match[2] as 'issue', value: unquote(match[3]!) } }];
      }
      case 'SOA': {
        const soa = parseSoa(value);
        return [{ ...base, type: 'SOA', data: { ...soa, mname: hostOf(soa.mname), rname: hostOf(soa.rname) } }];
      }
      default:
        return [];
    }
  });
}

/** The SOA answer for a negative response: its TTL is the smaller of the SOA's TTL and its minimum (RFC 2308). */
export function negativeSoa(soa: RecordSet, owner: string): Answer[] {
  const minimum = parseSoa(soa.values[0] ?? '').minimum;
  return toAnswers(soa, owner, Math.min(soa.ttl, minimum));
}
