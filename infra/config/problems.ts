// Turns validation issues into "<field path>: <what is wrong> — <how to fix>".
// Messages written by the schema already carry their fix (they contain " — ");
// zod's generic ones (missing field, wrong type, unknown key, out of range) are
// reworded here, with a per-field hint where one helps.
import type { z } from 'zod';

export interface ConfigProblem {
  /** Field path like `certificates[1].dnsNames[0]`; empty for the whole file. */
  path: string;
  /** "<what is wrong> — <how to fix>". */
  message: string;
}

type Segment = PropertyKey;

/** `['certificates', 1, 'dnsNames', 0]` → `certificates[1].dnsNames[0]`; odd keys are quoted. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** What to write, by field name: used when a field is missing or of the wrong type. */
const FIELD_HINTS: Record<string, string> = {
  issuers: 'list at least one issuer, each with a name and a preset or directoryUrl',
  name: 'give it a name of lower-case letters, digits and hyphens',
  dnsNames: 'list the names, e.g. "- www.example.com"',
  hostedZones: 'list the Route 53 zones, e.g. "- name: example.com"',
  certificates: 'list the certificates to issue',
  targets: 'list targets, each with a type (acm or secretsmanager)',
  region: 'use an AWS region name like "us-east-1"',
  renewBefore: 'use a duration like "30d" or a percentage like "33%"',
  schedule: 'use "rate(12 hours)" or a "cron(...)" expression',
  maxConcurrency: 'use a whole number from 1 to 40',
  waitSeconds: 'use a whole number of seconds',
  maxAttempts: 'use a whole number',
  daysToExpiry: 'use a whole number of days',
  keyId: 'copy the EAB key id your CA gave you',
  hmacKeySecret: 'name the Secrets Manager secret holding the HMAC key',
  type: 'use "acm" or "secretsmanager"',
};

const SHAPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'a mapping (key: value lines)',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function received(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `the text ${JSON.stringify(input)}`;
  return `${typeof input} ${String(input)}`;
}

function hintFor(path: readonly Segment[]): string | undefined {
  const last = [...path].reverse().find((s) => typeof s === 'string');
  return typeof last === 'string' ? FIELD_HINTS[last] : undefined;
}

/** Known field names of the object schema at `path`, following the input through unions. */
function knownKeys(schema: z.ZodType, path: readonly Segment[], input: unknown): string[] {
  type Def = {
    type: string;
    shape?: Record<string, z.ZodType>;
    element?: z.ZodType;
    innerType?: z.ZodType;
    options?: z.ZodType[];
    discriminator?: string;
  };
  const def = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
  let current: z.ZodType | undefined = schema;
  let value: unknown = input;
  const unwrap = (): void => {
    for (;;) {
      if (!current) return;
      const d = def(current);
      if (d.innerType) current = d.innerType;
      else if (d.type === 'union' && d.options) {
        const tag = value && typeof value === 'object' ? (value as Record<string, unknown>)[d.discriminator ?? 'type'] : undefined;
        current = d.options.find((o) => {
          const lit = def(o).shape?.[d.discriminator ?? 'type'];
          return lit && (lit as unknown as { _zod: { def: { values?: unknown[] } } })._zod.def.values?.includes(tag);
        });
      } else return;
    }
  };
  unwrap();
  for (const seg of path) {
    if (!current) return [];
    const d = def(current);
    current = d.type === 'array' ? d.element : d.shape?.[String(seg)];
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[String(seg)] : undefined;
    unwrap();
  }
  return current ? Object.keys(def(current).shape ?? {}) : [];
}

/** Closest known name by edit distance, when it is close enough to be a typo. */
function closest(word: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
        prev = tmp;
      }
    }
    return row[b.length]!;
  };
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(word, c);
    if (!best || d < best.d) best = { name: c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.name : undefined;
}

/** One issue → problems (an unknown-keys issue yields one per key). */
export function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType, input: unknown): ConfigProblem[] {
  const path = issue.path;
  const at = formatPath(path);
  const hint = hintFor(path);
  const withHint = (what: string, fallback: string) => `${what} — ${hint ?? fallback}`;
  if (issue.message.includes(' — ')) return [{ path: at, message: issue.message }];
  const value = (issue as { input?: unknown }).input;

  switch (issue.code) {
    case 'invalid_type': {
      const expected = SHAPE_WORDS[issue.expected] ?? issue.expected;
      if (path.length === 0) {
        return [{ path: at, message: `the config must be a mapping with issuers:, hostedZones:, certificates:, not ${received(value)} — start from certpipe.config.yaml in the repository` }];
      }
      if (value === undefined) return [{ path: at, message: withHint('is required', `add it (${expected})`) }];
      return [{ path: at, message: withHint(`must be ${expected}, not ${received(value)}`, `write it as ${expected}`) }];
    }
    case 'unrecognized_keys': {
      const known = knownKeys(schema, path, input);
      return issue.keys.map((key) => {
        const guess = closest(key, known);
        const fix = guess ? `did you mean "${guess}"?` : `remove it; known fields: ${known.join(', ')}`;
        return { path: formatPath([...path, key]), message: `is not a known field — ${fix}` };
      });
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
      return [{ path: at, message: `is ${received(value)}, not one of the choices — use one of: ${options}` }];
    }
    case 'invalid_union': {
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options.map((o) => JSON.stringify(o)).join(' or ') : '';
      if (options) {
        const discriminator = 'discriminator' in issue ? String(issue.discriminator) : '';
        const actual = value && typeof value === 'object' ? (value as Record<string, unknown>)[discriminator] : value;
        const what = actual === undefined ? 'is required' : `is ${received(actual)}`;
        return [{ path: at, message: `${what} — use ${options}` }];
      }
      return [{ path: at, message: withHint('does not match any accepted form', 'see infra/config.schema.json') }];
    }
    case 'too_small':
    case 'too_big': {
      const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? 'at least' : 'at most';
      if (issue.origin === 'array') {
        const n = Array.isArray(value) ? value.length : '?';
        return [{ path: at, message: `has ${n} item(s) — list ${word} ${String(limit)}` }];
      }
      if (issue.origin === 'string') {
        return [{ path: at, message: `is ${issue.code === 'too_small' ? 'too short' : 'too long'} — use ${word} ${String(limit)} characters` }];
      }
      return [{ path: at, message: `is ${String(value)} — use a value of ${word} ${String(limit)}` }];
    }
    case 'invalid_format':
      return [{ path: at, message: withHint(`${received(value)} is not a valid ${issue.format}`, 'fix the format') }];
    default:
      return [{ path: at, message: withHint(issue.message, 'see infra/config.schema.json') }];
  }
}
