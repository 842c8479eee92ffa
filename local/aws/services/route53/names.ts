// Domain names as Route 53 stores and returns them: lower-case, a trailing dot,
// and every character other than a-z 0-9 - _ written as a three-digit octal
// escape (so `*` comes back as `\052`), plus the order Route 53 lists them in.

const PLAIN = /^[a-z0-9_-]$/;

/** Why a name was refused; callers turn it into the error code of their operation. */
export class InvalidNameError extends Error {
  override readonly name = 'InvalidNameError';
}

function decodeLabel(label: string): string {
  return label.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function encodeLabel(decoded: string): string {
  let out = '';
  for (const ch of decoded.toLowerCase()) {
    const code = ch.codePointAt(0)!;
    if (code > 0xff) throw new InvalidNameError(`Non-ASCII character in ${JSON.stringify(decoded)}`);
    out += PLAIN.test(ch) ? ch : `\\${code.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** `Example.COM` → `example.com.`, `*.example.com` → `\052.example.com.`; throws InvalidNameError. */
export function normalizeName(input: string): string {
  const trimmed = input.trim();
  if (trimmed === '' || trimmed === '.') throw new InvalidNameError('The name is empty');
  const body = trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
  const labels = body.split('.');
  let wireLength = 1;
  const encoded = labels.map((label) => {
    if (label === '') throw new InvalidNameError(`Empty label in ${input}`);
    const decoded = decodeLabel(label);
    if (decoded.length > 63) throw new InvalidNameError(`Label ${label} is longer than 63 characters`);
    wireLength += decoded.length + 1;
    return encodeLabel(decoded);
  });
  if (wireLength > 255) throw new InvalidNameError(`${input} is longer than 255 bytes`);
  return `${encoded.join('.')}.`;
}

/** Route 53 form → the plain text a DNS library writes into a packet (`\052` → `*`), without the trailing dot. */
export function presentationName(normalized: string): string {
  return decodeLabel(normalized.endsWith('.') ? normalized.slice(0, -1) : normalized);
}

export function labelsOf(normalized: string): string[] {
  return normalized.slice(0, -1).split('.');
}

/** True when `name` is `zone` itself or below it (both normalized). */
export function isWithin(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The parent name, or undefined for a top-level label. */
export function parentOf(normalized: string): string | undefined {
  const dot = normalized.indexOf('.');
  return dot < 0 || dot === normalized.length - 1 ? undefined : normalized.slice(dot + 1);
}

// Labels are compared one by one from the root (com, example, www), so a name
// sorts right before its children and children stay together. \u0001 separates
// labels and \u0000 ends the name: both sort below every character a label holds.
const LABEL_SEPARATOR = '\u0001';
const NAME_END = '\u0000';

/** Key giving Route 53's list order: name with labels reversed, then type. */
export function recordSortKey(normalized: string, type: string): string {
  return `${reversedLabels(normalized)}${NAME_END}${type}`;
}

function reversedLabels(normalized: string): string {
  return labelsOf(normalized).reverse().join(LABEL_SEPARATOR);
}

/** Every record key strictly below `normalized` starts with this, and no other key does. */
export function descendantPrefix(normalized: string): string {
  return reversedLabels(normalized) + LABEL_SEPARATOR;
}

/** Key giving ListHostedZonesByName's order: name with labels reversed, then zone id. */
export function zoneSortKey(normalized: string, zoneId: string): string {
  return `${reversedLabels(normalized)}${NAME_END}${zoneId}`;
}
