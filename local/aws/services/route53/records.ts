// Resource record sets and the checks Route 53 makes on their values, with the
// messages it answers in InvalidChangeBatch. Also parses the character-strings
// of TXT values, which the DNS server needs to put them on the wire.
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidNameError, normalizeName } from './names.js';

export interface RecordSet {
  /** Normalized (lower-case, trailing dot, octal escapes). */
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  /** Values exactly as Route 53 returns them, e.g. `"token"` for TXT. */
  readonly values: readonly string[];
}

/** The RRType enum of the Route 53 API. */
export const RECORD_TYPES = [
  'SOA', 'A', 'TXT', 'NS', 'CNAME', 'MX', 'NAPTR', 'PTR', 'SRV', 'SPF', 'AAAA', 'CAA', 'DS', 'TLSA', 'SSHFP', 'SVCB', 'HTTPS',
] as const;

/** Route 53's defaults for a new zone's SOA record. */
export const SOA_TTL = 900;
export const NS_TTL = 172_800;

export function soaValue(nameserver: string): string {
  return `${withDot(nameserver)} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`;
}

export function withDot(host: string): string {
  return host.endsWith('.') ? host : `${host}.`;
}

export function sameRecordSet(a: RecordSet | null | undefined, b: RecordSet | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  if (a.name !== b.name || a.type !== b.type || a.ttl !== b.ttl || a.values.length !== b.values.length) return false;
  const left = [...a.values].sort();
  const right = [...b.values].sort();
  return left.every((v, i) => v === right[i]);
}

export class CharacterStringError extends Error {
  constructor(readonly problem: 'InvalidCharacterString' | 'CharacterStringTooLong') {
    super(problem);
  }
}

/**
 * Splits a TXT/SPF value (`"a" "b\"c"`) into its character-strings as bytes.
 * Route 53 accepts `\"`, `\\` and three-digit octal escapes inside the quotes.
 */
export function characterStrings(value: string, maxLength = 255): Buffer[] {
  const strings: Buffer[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  skipSpace();
  if (i >= value.length) throw new CharacterStringError('InvalidCharacterString');
  while (i < value.length) {
    if (value[i] !== '"') throw new CharacterStringError('InvalidCharacterString');
    i++;
    const bytes: number[] = [];
    let closed = false;
    while (i < value.length) {
      const ch = value[i]!;
      if (ch === '"') {
        closed = true;
        i++;
        break;
      }
      if (ch === '\\') {
        const octal = /^[0-7]{3}/.exec(value.slice(i + 1, i + 4));
        if (octal) {
          bytes.push(parseInt(octal[0], 8) & 0xff);
          i += 4;
          continue;
        }
        if (i + 1 >= value.length) throw new CharacterStringError('InvalidCharacterString');
        bytes.push(...Buffer.from(value[i + 1]!, 'utf8'));
        i += 2;
        continue;
      }
      bytes.push(...Buffer.from(ch, 'utf8'));
      i++;
    }
    if (!closed) throw new CharacterStringError('InvalidCharacterString');
    if (bytes.length > maxLength) throw new CharacterStringError('CharacterStringTooLong');
    strings.push(Buffer.from(bytes));
    const before = i;
    skipSpace();
    if (i < value.length && i === before) throw new CharacterStringError('InvalidCharacterString');
  }
  return strings;
}

const fatal = (problem: string, value: string) =>
  `Invalid Resource Record: 'FATAL problem: ${problem} encountered with '${value}''`;

function hostProblem(value: string): string | undefined {
  try {
    normalizeName(value);
    return undefined;
  } catch (err) {
    if (err instanceof InvalidNameError) return fatal('DomainLabelEmpty (Domain label is empty)', value);
    throw err;
  }
}

const UINT16 = /^(?:\d{1,5})$/;
const isUint16 = (s: string | undefined) => s !== undefined && UINT16.test(s) && Number(s) <= 65_535;
const isUint32 = (s: string | undefined) => s !== undefined && /^\d{1,10}$/.test(s) && Number(s) <= 4_294_967_295;

/** The InvalidChangeBatch message for one bad value, or undefined when Route 53 accepts it. */
export function valueProblem(type: string, value: string): string | undefined {
  const fields = value.trim().split(/\s+/);
  switch (type) {
    case 'A':
      return isIPv4(value) ? undefined : fatal('ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)', value);
    case 'AAAA':
      return isIPv6(value) ? undefined : fatal('AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)', value);
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return hostProblem(value);
    case 'TXT':
    case 'SPF':
      try {
        characterStrings(value);
        return undefined;
      } catch (err) {
        if (!(err instanceof CharacterStringError)) throw err;
        return err.problem === 'CharacterStringTooLong'
          ? fatal('CharacterStringTooLong (Value is too long)', value)
          : fatal('InvalidCharacterString (Value should be enclosed in quotation marks)', value);
      }
    case 'MX':
      return fields.length === 2 && isUint16(fields[0]) && !hostProblem(fields[1]!)
        ? undefined
        : fatal('MXRRDATANotTwoFields (MX RDATA must have exactly two fields)', value);
    case 'SRV':
      return fields.length === 4 && fields.slice(0, 3).every(isUint16) && !hostProblem(fields[3]!)
        ? undefined
        : fatal('SRVRRDATANotFourFields (SRV RDATA must have exactly four fields)', value);
    case 'CAA': {
      const caa = /^(\d{1,3})\s+([A-Za-z0-9]+)\s+(".*")$/.exec(value.trim());
      return caa && Number(caa[1]) <= 255 ? undefined : fatal('CAARRDATAInvalid (CAA RDATA is not valid)', value);
    }
    case 'SOA':
      return fields.length === 7 && !hostProblem(fields[0]!) && !hostProblem(fields[1]!) && fields.slice(2).every(isUint32)
        ? undefined
        : fatal('SOARRDATANotSevenFields (SOA RDATA must have exactly seven fields)', value);
    default:
      return value.trim() === '' ? fatal('EmptyRDATA (RDATA is empty)', value) : undefined;
  }
}

export interface SoaFields {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export function parseSoa(value: string): SoaFields {
  const [mname = '', rname = '', ...numbers] = value.trim().split(/\s+/);
  const [serial = 1, refresh = 7200, retry = 900, expire = 1_209_600, minimum = 86_400] = numbers.map(Number);
  return { mname, rname, serial, refresh, retry, expire, minimum };
}
