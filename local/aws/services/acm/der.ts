// A minimal DER reader: just enough to pull the X.509 fields node's X509Certificate
// does not expose (version, signature algorithm, key usage bits, SAN entries).
// Node has already parsed the certificate, so malformed input here is a bug signal.

export interface DerNode {
  /** The identifier octet (class, constructed bit and tag number in one byte). */
  readonly tag: number;
  /** Content octets. */
  readonly value: Buffer;
}

/** Reads the TLV that starts at `offset`; returns it with the offset just past it. */
export function readTlv(buf: Buffer, offset = 0): { node: DerNode; next: number } {
  if (offset + 2 > buf.length) throw new Error('DER: truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not supported');
  let length = buf[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > buf.length) throw new Error('DER: bad length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[start + i]!;
    start += octets;
  }
  const end = start + length;
  if (end > buf.length) throw new Error('DER: truncated value');
  return { node: { tag, value: buf.subarray(start, end) }, next: end };
}

/** The children of a constructed node. */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let offset = 0;
  while (offset < node.value.length) {
    const { node: child, next } = readTlv(node.value, offset);
    out.push(child);
    offset = next;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER's content octets. */
export function decodeOid(value: Buffer): string {
  const arcs: number[] = [];
  let current = 0;
  for (const byte of value) {
    current = current * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(current);
      current = 0;
    }
  }
  const first = arcs.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

/** Tag of a context-specific field `[n]`, constructed or primitive. */
export const contextTag = (n: number, constructed: boolean) => 0x80 | (constructed ? 0x20 : 0) | n;
