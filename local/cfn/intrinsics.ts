// CloudFormation's intrinsic functions, resolved against the local resources:
// what a template says becomes the names and ARNs the local cloud gave. A pure
// function of the value and a lookup of references; an intrinsic it does not
// know fails the deploy rather than reaching a resource unresolved.

/** The physical side of a stack: what `Ref` and `Fn::GetAtt` of each logical id give. */
export interface ResolveContext {
  /** Pseudo parameters: `AWS::AccountId`, `AWS::Region`, `AWS::Partition`, `AWS::URLSuffix`, `AWS::StackName`, … */
  readonly pseudo: Readonly<Record<string, string>>;
  /** Parameters' values, by name. */
  readonly parameters?: Readonly<Record<string, string | string[]>>;
  /** `Ref` of a resource: its physical id. */
  ref(logicalId: string): string | undefined;
  /** `Fn::GetAtt` of a resource. */
  attribute(logicalId: string, attribute: string): string | undefined;
  /** Whether a condition of the template holds (`Fn::If`). */
  condition?(name: string): boolean;
}

/** The template uses something this resolver does not serve; the message names it and where. */
export class UnresolvableIntrinsic extends Error {
  override readonly name = 'UnresolvableIntrinsic';
}

/** Marks a property `Fn::If` removed with `AWS::NoValue`. */
const NO_VALUE = Symbol('AWS::NoValue');

function lookupRef(name: string, ctx: ResolveContext, where: string): string | string[] | typeof NO_VALUE {
  if (name === 'AWS::NoValue') return NO_VALUE;
  if (name in ctx.pseudo) return ctx.pseudo[name]!;
  if (ctx.parameters && name in ctx.parameters) return ctx.parameters[name]!;
  const physical = ctx.ref(name);
  if (physical === undefined) throw new UnresolvableIntrinsic(`${where}: Ref to ${name}, which is neither a pseudo parameter, a parameter nor a resource`);
  return physical;
}

function getAtt(args: unknown, ctx: ResolveContext, where: string): string {
  const [logicalId, attribute] = typeof args === 'string' ? splitOnce(args, '.') : (resolveValue(args, ctx, where) as [string, string]);
  const value = ctx.attribute(logicalId, attribute);
  if (value === undefined) throw new UnresolvableIntrinsic(`${where}: Fn::GetAtt ${logicalId}.${attribute} is not known locally`);
  return value;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** `${Name}`, `${Logical.Attr}` and `${!Literal}` in an Fn::Sub string. */
function substitute(template: string, variables: Readonly<Record<string, unknown>>, ctx: ResolveContext, where: string): string {
  return template.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in variables) return String(variables[name]);
    if (name.includes('.') && !name.startsWith('AWS::')) return getAtt(name, ctx, where);
    const value = lookupRef(name, ctx, where);
    if (value === NO_VALUE || Array.isArray(value)) throw new UnresolvableIntrinsic(`${where}: Fn::Sub cannot place ${whole}`);
    return value;
  });
}

function asString(value: unknown, fn: string, where: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnresolvableIntrinsic(`${where}: ${fn} expects a string, got ${JSON.stringify(value)}`);
}

function asList(value: unknown, fn: string, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new UnresolvableIntrinsic(`${where}: ${fn} expects a list, got ${JSON.stringify(value)}`);
}

function intrinsic(name: string, args: unknown, ctx: ResolveContext, where: string): unknown {
  switch (name) {
    case 'Ref':
      return lookupRef(asString(args, 'Ref', where), ctx, where);
    case 'Fn::GetAtt':
      return getAtt(args, ctx, where);
    case 'Fn::Join': {
      const [separator, items] = asList(args, name, where);
      return asList(resolveValue(items, ctx, where), name, where)
        .map((item) => asString(item, name, where))
        .join(asString(separator, name, where));
    }
    case 'Fn::Sub': {
      if (typeof args === 'string') return substitute(args, {}, ctx, where);
      const [template, variables] = asList(args, name, where);
      return substitute(asString(template, name, where), (resolveValue(variables, ctx, where) ?? {}) as Record<string, unknown>, ctx, where);
    }
    case 'Fn::Select': {
      const [index, list] = asList(resolveValue(args, ctx, where), name, where);
      const items = asList(list, name, where);
      const at = Number(index);
      if (!Number.isInteger(at) || at < 0 || at >= items.length) throw new UnresolvableIntrinsic(`${where}: Fn::Select index ${String(index)} is outside a list of ${items.length}`);
      return items[at];
    }
    case 'Fn::Split': {
      const [separator, text] = asList(args, name, where);
      return asString(resolveValue(text, ctx, where), name, where).split(asString(separator, name, where));
    }
    case 'Fn::If': {
      const [condition, whenTrue, whenFalse] = asList(args, name, where);
      if (!ctx.condition) throw new UnresolvableIntrinsic(`${where}: Fn::If without conditions`);
      return resolveInner(ctx.condition(asString(condition, name, where)) ? whenTrue : whenFalse, ctx, where);
    }
    default:
      throw new UnresolvableIntrinsic(`${where}: ${name} is not served by the local deploy`);
  }
}

/**
 * `value` with every intrinsic replaced by what it gives; properties (and list
 * items) that resolve to `AWS::NoValue` disappear, as in CloudFormation.
 * `where` names the place in errors, e.g. `Certpipe/MyFunction.Properties`.
 */
export function resolveValue(value: unknown, ctx: ResolveContext, where = 'template'): unknown {
  const resolved = resolveInner(value, ctx, where);
  return resolved === NO_VALUE ? undefined : resolved;
}

function resolveInner(value: unknown, ctx: ResolveContext, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveInner(v, ctx, where)).filter((v) => v !== NO_VALUE);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, args] = entries[0]!;
    if (key === 'Ref' || key.startsWith('Fn::')) return intrinsic(key, args, ctx, where);
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of entries) {
    const r = resolveInner(v, ctx, `${where}.${key}`);
    if (r !== NO_VALUE) out[key] = r;
  }
  return out;
}

/** Condition names → whether they hold, from a template's `Conditions` (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition). */
export function evaluateConditions(conditions: Readonly<Record<string, unknown>>, ctx: Omit<ResolveContext, 'condition'>): (name: string) => boolean {
  const memo = new Map<string, boolean>();
  const evaluate = (expr: unknown, where: string): boolean => {
    if (typeof expr === 'boolean') return expr;
    const [[fn, args] = ['', undefined]] = Object.entries((expr ?? {}) as Record<string, unknown>);
    const withConditions: ResolveContext = { ...ctx, condition: holds };
    switch (fn) {
      case 'Fn::Equals': {
        const [a, b] = asList(resolveValue(args, withConditions, where), fn, where);
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !evaluate(asList(args, fn, where)[0], where);
      case 'Fn::And':
        return asList(args, fn, where).every((e) => evaluate(e, where));
      case 'Fn::Or':
        return asList(args, fn, where).some((e) => evaluate(e, where));
      case 'Condition':
        return holds(asString(args, fn, where));
      default:
        throw new UnresolvableIntrinsic(`${where}: condition function ${fn || JSON.stringify(expr)} is not served by the local deploy`);
    }
  };
  function holds(name: string): boolean {
    if (!memo.has(name)) {
      if (!(name in conditions)) throw new UnresolvableIntrinsic(`Conditions: no condition ${name}`);
      memo.set(name, evaluate(conditions[name], `Conditions.${name}`));
    }
    return memo.get(name)!;
  }
  return holds;
}
