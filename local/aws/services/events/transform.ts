// What a rule target receives: the event itself, a constant `Input`, or an
// `InputTransformer` (InputPathsMap of JSONPaths into the event, InputTemplate
// with `<name>` placeholders). As in EventBridge, a placeholder inside a JSON
// string takes the value's text; one outside takes the value as JSON (null
// when the path is absent).

export interface TargetInput {
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: { readonly InputPathsMap?: Record<string, string>; readonly InputTemplate: string };
}

/** The value at a simple JSONPath (`$`, `$.a.b`, `$.a[0].b`), or undefined. */
export function valueAtPath(event: unknown, path: string): unknown {
  if (path === '$') return event;
  const steps = path.replace(/^\$\.?/, '').match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let at: unknown = event;
  for (const step of steps) {
    if (at === null || typeof at !== 'object') return undefined;
    at = step.startsWith('[') ? (at as unknown[])[Number(step.slice(1, -1))] : (at as Record<string, unknown>)[step];
  }
  return at;
}

function renderTemplate(template: string, values: Readonly<Record<string, unknown>>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    const placeholder = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (placeholder && placeholder[1]! in values) {
      const value = values[placeholder[1]!];
      if (inString) out += value === undefined ? '' : typeof value === 'string' ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value);
      else out += value === undefined ? 'null' : JSON.stringify(value);
      i += placeholder[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** The text delivered to a target for `event`. */
export function targetPayload(target: TargetInput, event: Record<string, unknown>): string {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined) return JSON.stringify(valueAtPath(event, target.InputPath) ?? null);
  if (target.InputTransformer) {
    const paths = target.InputTransformer.InputPathsMap ?? {};
    const values = Object.fromEntries(Object.entries(paths).map(([name, path]) => [name, valueAtPath(event, path)]));
    return renderTemplate(target.InputTransformer.InputTemplate, values);
  }
  return JSON.stringify(event);
}
