// EventBridge event patterns, as far as certpipe's rules use them: exact
// values, `prefix`, `suffix`, `anything-but` and `exists`. A pattern with any
// other operator is refused at PutRule, so a rule the local cloud accepts is
// one it matches the way EventBridge does.

type Matcher = string | number | boolean | null | Record<string, unknown>;

const OPERATORS = new Set(['prefix', 'suffix', 'anything-but', 'exists']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why EventBridge would refuse this pattern (InvalidEventPatternException), or undefined when it is one we match. */
export function patternProblem(pattern: unknown, at = ''): string | undefined {
  if (!isObject(pattern)) return `Event pattern${at ? ` at ${at}` : ''} must be a JSON object`;
  for (const [key, value] of Object.entries(pattern)) {
    const here = at ? `${at}.${key}` : key;
    if (key.startsWith('$')) return `Operator ${key} at ${here} is not supported by the local EventBridge`;
    if (Array.isArray(value)) {
      if (value.length === 0) return `Empty array at ${here}`;
      for (const m of value) {
        if (!isObject(m)) continue;
        const ops = Object.keys(m);
        if (ops.length !== 1 || !OPERATORS.has(ops[0]!)) return `Unsupported matcher ${JSON.stringify(m)} at ${here}`;
      }
    } else if (isObject(value)) {
      const nested = patternProblem(value, here);
      if (nested) return nested;
    } else {
      return `Match value at ${here} must be an array or an object`;
    }
  }
  return undefined;
}

function leafMatches(matcher: Matcher, value: unknown, present: boolean): boolean {
  if (!isObject(matcher)) return present && value === matcher;
  const [op, arg] = Object.entries(matcher)[0]!;
  switch (op) {
    case 'exists':
      return present === arg;
    case 'prefix':
      return typeof value === 'string' && value.startsWith(String(arg));
    case 'suffix':
      return typeof value === 'string' && value.endsWith(String(arg));
    case 'anything-but': {
      if (!present) return false;
      if (isObject(arg) && 'prefix' in arg) return !(typeof value === 'string' && value.startsWith(String(arg.prefix)));
      return !(Array.isArray(arg) ? arg : [arg]).includes(value);
    }
    default:
      return false;
  }
}

/**
 * Whether `event` matches `pattern`. Arrays in the event are flattened as
 * EventBridge does: a field matches when any of its elements does.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const holders = (Array.isArray(event) ? event : [event]).filter(isObject);
    const present = holders.some((h) => key in h);
    const values = holders.flatMap((h) => (key in h ? (Array.isArray(h[key]) ? (h[key] as unknown[]) : [h[key]]) : []));
    if (isObject(expected)) return values.some((v) => matchesPattern(expected, v));
    const matchers = expected as Matcher[];
    if (values.length === 0) return matchers.some((m) => leafMatches(m, undefined, false));
    return matchers.some((m) => values.some((v) => leafMatches(m, v, present)));
  });
}
