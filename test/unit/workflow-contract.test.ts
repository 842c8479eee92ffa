// One contract, checked where it is written: every Task in the ASL is a function
// with a file of its own name and a state contract, and every metric an alarm or
// the dashboard reads is one the functions emit (the AcmeRequests alarm once read
// a metric nothing wrote).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../infra/functions.js';
import { METRIC } from '../../functions/lib/workflow/metrics.js';
import { STATE_CONTRACT } from '../../functions/lib/workflow/states.js';
import { renderDefinition, TASK_FUNCTIONS } from '../../statemachines/definition.js';

type State = { Type: string; Resource?: string; ItemProcessor?: { States: Record<string, State> } };
const definition = JSON.parse(renderDefinition({ maxConcurrency: 5, propagationWaitSeconds: 10, executionTimeoutSeconds: 21600 })) as {
  States: Record<string, State>;
};
const allStates = (states: Record<string, State>): [string, State][] =>
  Object.entries(states).flatMap(([n, s]) => [[n, s] as [string, State], ...(s.ItemProcessor ? allStates(s.ItemProcessor.States) : [])]);
/** The function each Task state runs, from its Resource `${<Name>FunctionArn}`. */
const taskFunctions = allStates(definition.States)
  .filter(([, s]) => s.Type === 'Task')
  .map(([state, s]) => [state, /^\$\{(\w+)FunctionArn\}$/.exec(s.Resource ?? '')?.[1]] as const);

const root = fileURLToPath(new URL('../../', import.meta.url));
function sources(dir: string): string {
  return readdirSync(dir)
    .map((f) => join(dir, f))
    .map((p) => (statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? readFileSync(p, 'utf8') : ''))
    .join('\n');
}

describe('the workflow contract', () => {
  it.each(taskFunctions)('Task %s runs a known function with a handler file and a state contract', (state, fn) => {
    expect(fn, `${state}'s Resource`).toBeDefined();
    expect(TASK_FUNCTIONS).toContain(fn);
    expect(Object.keys(STATE_CONTRACT)).toContain(fn);
    expect(existsSync(join(root, 'functions', `${fn}.ts`))).toBe(true);
  });

  it('every function, contract and handler file is used by a Task (nothing left over)', () => {
    const used = new Set(taskFunctions.map(([, fn]) => fn));
    expect([...TASK_FUNCTIONS].sort()).toEqual([...used].sort());
    expect(Object.keys(STATE_CONTRACT).sort()).toEqual([...used].sort());
    expect(FUNCTIONS.map((f) => f.name).sort()).toEqual([...used].sort());
    const handlerFiles = readdirSync(join(root, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
    expect(handlerFiles.sort()).toEqual([...used].sort());
  });

  it.each(TASK_FUNCTIONS)('functions/%s.ts validates its state through stepHandler with its own name', (fn) => {
    expect(readFileSync(join(root, 'functions', `${fn}.ts`), 'utf8')).toContain(`stepHandler('${fn}'`);
  });

  const functionsCode = sources(join(root, 'functions'));
  const infraCode = sources(join(root, 'infra'));
  it.each(Object.entries(METRIC))('metric %s is emitted by the functions through the METRIC names, never a literal', (key, name) => {
    expect(functionsCode).toMatch(new RegExp(`METRIC\\.${key}\\b`));
    // A literal name outside workflow/metrics.ts is a second copy of the contract.
    const literal = new RegExp(`['"\`]${name}['"\`]`, 'g');
    expect(functionsCode.replace(readFileSync(join(root, 'functions/lib/workflow/metrics.ts'), 'utf8'), '').match(literal)).toBeNull();
    // In infra, a metric is named by metricName or inside a SEARCH expression; an alarm's construct id may share the name.
    expect(infraCode.match(new RegExp(`(metricName:\\s*|MetricName=\\\\?")['"]?${name}\\b`, 'g'))).toBeNull();
  });

  it('every metric an alarm or the dashboard reads is one the functions emit', () => {
    const read = [...infraCode.matchAll(/METRIC\.(\w+)/g)].map((m) => m[1]!);
    expect(read.length).toBeGreaterThan(0);
    for (const key of read) expect(Object.keys(METRIC)).toContain(key);
  });
});
