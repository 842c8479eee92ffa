// The part of CloudWatch metric math that certpipe's alarms use: numbers, metric
// ids, + - * /, comparisons (1 or 0), parentheses, FILL(series, value) and
// IF(condition, a, b). Anything else is refused with the function or token it
// met, so an alarm the local cloud cannot evaluate faithfully fails at
// PutMetricAlarm instead of sitting silently OK.
//
// A time series is one value (or a gap) per evaluation period; an operation on
// two series yields a value only where both have one, as in CloudWatch.

export type Series = readonly (number | undefined)[];
type Value = number | Series;

export class MetricMathError extends Error {
  override readonly name = 'MetricMathError';
}

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'id'; id: string }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'negate'; operand: Node }
  | { kind: 'call'; fn: 'FILL' | 'IF'; args: Node[] };

const FUNCTIONS = { FILL: 2, IF: 3 } as const;
const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|[-+*/(),<>]))/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    if (/^\s*$/.test(expression.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(expression);
    if (!m) throw new MetricMathError(`Unsupported metric math at "${expression.slice(at, at + 20)}"`);
    tokens.push(m[1] ?? m[2] ?? m[3]!);
  }
  return tokens;
}

// Precedence, loosest first: comparisons, then + -, then * /.
const LEVELS = [['>', '<', '>=', '<=', '==', '!='], ['+', '-'], ['*', '/']];

/** Parses an expression; throws MetricMathError on anything outside the supported subset. */
export function parseExpression(expression: string): Node {
  const tokens = tokenize(expression);
  let i = 0;
  const expect = (token: string) => {
    if (tokens[i] !== token) throw new MetricMathError(`Expected "${token}" in metric math, found "${tokens[i] ?? 'end'}"`);
    i++;
  };
  const level = (n: number): Node => {
    if (n === LEVELS.length) return unary();
    let left = level(n + 1);
    while (i < tokens.length && LEVELS[n]!.includes(tokens[i]!)) {
      const op = tokens[i++]!;
      left = { kind: 'binary', op, left, right: level(n + 1) };
    }
    return left;
  };
  const unary = (): Node => {
    if (tokens[i] === '-') {
      i++;
      return { kind: 'negate', operand: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const token = tokens[i++];
    if (token === undefined) throw new MetricMathError('Metric math ends early');
    if (token === '(') {
      const inner = level(0);
      expect(')');
      return inner;
    }
    if (/^\d/.test(token)) return { kind: 'number', value: Number(token) };
    if (/^[A-Za-z_]/.test(token)) {
      if (tokens[i] !== '(') return { kind: 'id', id: token };
      const fn = token.toUpperCase();
      if (!(fn in FUNCTIONS)) throw new MetricMathError(`The local CloudWatch does not evaluate metric math function ${token}`);
      i++;
      const args: Node[] = [level(0)];
      while (tokens[i] === ',') {
        i++;
        args.push(level(0));
      }
      expect(')');
      const arity = FUNCTIONS[fn as keyof typeof FUNCTIONS];
      if (args.length !== arity) throw new MetricMathError(`${fn} takes ${arity} arguments, got ${args.length}`);
      return { kind: 'call', fn: fn as 'FILL' | 'IF', args };
    }
    throw new MetricMathError(`Unexpected "${token}" in metric math`);
  };
  const node = level(0);
  if (i < tokens.length) throw new MetricMathError(`Unexpected "${tokens[i]}" in metric math`);
  return node;
}

/** The metric ids an expression reads. */
export function referencedIds(node: Node): string[] {
  switch (node.kind) {
    case 'id':
      return [node.id];
    case 'binary':
      return [...referencedIds(node.left), ...referencedIds(node.right)];
    case 'negate':
      return referencedIds(node.operand);
    case 'call':
      return node.args.flatMap(referencedIds);
    default:
      return [];
  }
}

const ARITHMETIC: Record<string, (a: number, b: number) => number | undefined> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  // CloudWatch leaves out a point whose division is by zero.
  '/': (a, b) => (b === 0 ? undefined : a / b),
  '>': (a, b) => Number(a > b),
  '<': (a, b) => Number(a < b),
  '>=': (a, b) => Number(a >= b),
  '<=': (a, b) => Number(a <= b),
  '==': (a, b) => Number(a === b),
  '!=': (a, b) => Number(a !== b),
};

/** Evaluates over `slots` periods; `series` gives each referenced id's values. */
export function evaluateExpression(node: Node, series: ReadonlyMap<string, Series>, slots: number): Series {
  const at = (v: Value, k: number) => (typeof v === 'number' ? v : v[k]);
  const pointwise = (values: Value[], f: (...xs: number[]) => number | undefined): Value => {
    if (values.every((v) => typeof v === 'number')) return f(...(values as number[])) ?? Number.NaN;
    return Array.from({ length: slots }, (_, k) => {
      const xs = values.map((v) => at(v, k));
      return xs.every((x) => x !== undefined) ? f(...(xs as number[])) : undefined;
    });
  };
  const run = (n: Node): Value => {
    switch (n.kind) {
      case 'number':
        return n.value;
      case 'id': {
        const s = series.get(n.id);
        if (!s) throw new MetricMathError(`Metric math names ${n.id}, which no metric of the alarm has as its Id`);
        return s;
      }
      case 'negate':
        return pointwise([run(n.operand)], (a) => -a);
      case 'binary':
        return pointwise([run(n.left), run(n.right)], ARITHMETIC[n.op]!);
      case 'call': {
        if (n.fn === 'FILL') {
          const [source, fill] = [run(n.args[0]!), run(n.args[1]!)];
          if (typeof fill !== 'number') throw new MetricMathError('FILL takes a number as its fill value here');
          if (typeof source === 'number') return source;
          return source.map((v) => v ?? fill);
        }
        // Only the branch taken needs a value: IF(total > 0, x / total, 0) has none for x / 0, and needs none.
        const [cond, a, b] = n.args.map(run) as [Value, Value, Value];
        const pick = (c: number | undefined, k: number) => (c === undefined ? undefined : at(c !== 0 ? a : b, k));
        if (typeof cond === 'number' && typeof a === 'number' && typeof b === 'number') return cond !== 0 ? a : b;
        return Array.from({ length: slots }, (_, k) => pick(at(cond, k), k));
      }
    }
  };
  const result = run(node);
  return typeof result === 'number' ? Array.from({ length: slots }, () => result) : result;
}
