// The error names are a contract between the handlers (errors.ts) and the ASL's
// Retry/Catch: a name on one side only is a retry that never happens or a branch
// that never runs. This ties both sides together.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as errors from '../../functions/lib/workflow/errors.js';
import { renderDefinition } from '../../statemachines/definition.js';

type State = { Type: string; Retry?: { ErrorEquals: string[] }[]; Catch?: { ErrorEquals: string[] }[]; ItemProcessor?: { States: Record<string, State> } };

const definition = JSON.parse(renderDefinition({ maxConcurrency: 5, propagationWaitSeconds: 10, executionTimeoutSeconds: 21600 })) as { States: Record<string, State> };

function allStates(states: Record<string, State>): [string, State][] {
  return Object.entries(states).flatMap(([name, s]) => [[name, s] as [string, State], ...(s.ItemProcessor ? allStates(s.ItemProcessor.States) : [])]);
}
const tasks = allStates(definition.States).filter(([, s]) => s.Type === 'Task');
const retried = (s: State) => new Set((s.Retry ?? []).flatMap((r) => r.ErrorEquals));
const everyName = new Set(tasks.flatMap(([, s]) => [...(s.Retry ?? []), ...(s.Catch ?? [])].flatMap((r) => r.ErrorEquals)));

/** AWS's recommended retry set for Lambda service errors (Step Functions best practices, "Handle Lambda service exceptions"). */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
];
/** Names Step Functions and Lambda document: States.*, the service errors, and what a function timeout surfaces as. */
const DOCUMENTED = new Set([...LAMBDA_SERVICE_ERRORS, 'Lambda.Unknown', 'Sandbox.Timedout', 'States.ALL', 'States.Timeout', 'States.TaskFailed']);

const errorClasses = Object.values(errors).filter(
  (v): v is typeof errors.CertpipeError => typeof v === 'function' && v.prototype instanceof errors.CertpipeError,
);
const retryableNames = errorClasses.filter((C) => new (C as new (m: string) => errors.CertpipeError)('x').retryable).map((C) => C.name);

const functionsDir = fileURLToPath(new URL('../../functions/', import.meta.url));
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? sources(path) : f.endsWith('.ts') && f !== 'errors.ts' ? [readFileSync(path, 'utf8')] : [];
  });
}
const code = sources(functionsDir).join('\n');
const thrownSomewhere = (name: string) => new RegExp(`new ${name}\\(`).test(code);

describe('the ASL error contract', () => {
  it.each(tasks.map(([name, s]) => [name, s]))("%s retries AWS's recommended set of Lambda service errors", (_name, state) => {
    const names = retried(state as State);
    if (names.has('States.ALL')) return;
    expect([...names]).toEqual(expect.arrayContaining(LAMBDA_SERVICE_ERRORS));
  });

  it('retries a FinalizeOrder that timed out (Lambda reports Sandbox.Timedout, older runtimes Lambda.Unknown)', () => {
    const names = retried(Object.fromEntries(tasks).FinalizeOrder!);
    expect([...names]).toEqual(expect.arrayContaining(['Sandbox.Timedout', 'Lambda.Unknown', 'States.Timeout']));
  });

  it('names in Retry and Catch are documented AWS names or error classes that some handler code throws', () => {
    const known = new Set(errorClasses.map((C) => C.name));
    const unexplained = [...everyName].filter((n) => !DOCUMENTED.has(n) && !(known.has(n) && thrownSomewhere(n)));
    expect(unexplained).toEqual([]);
  });

  it('every retryable error class is retried by the ASL, and RETRYABLE_ERROR_NAMES lists exactly those', () => {
    const retriedAnywhere = new Set(tasks.flatMap(([, s]) => [...retried(s)]));
    expect(retryableNames.filter((n) => !retriedAnywhere.has(n))).toEqual([]);
    expect([...errors.RETRYABLE_ERROR_NAMES].sort()).toEqual([...retryableNames].sort());
  });

  it('"order not ready" is a result FinalizeOrder returns, not an error the ASL retries (it would count as a Lambda error)', () => {
    expect([...everyName]).not.toContain('AcmeOrderNotReady');
  });
});

describe('the item a certificate carries through RenewEach', () => {
  type Item = { ItemSelector?: Record<string, unknown>; ItemProcessor?: { States: Record<string, { Type: string; Next?: string; Parameters?: Record<string, unknown> }> } };
  const renewEach = definition.States.RenewEach as unknown as Item;
  // The fields every step may read ($.audit is PublishCertificate's, $.execution the waits'):
  // a Pass that rebuilds the item and forgets one fails the child on a missing path.
  const carried = ['name', 'reason', 'execution', 'audit'];

  it('the ItemSelector sets every carried field', () => {
    for (const field of carried) expect(Object.keys(renewEach.ItemSelector ?? {}).some((k) => k.replace(/\.\$$/, '') === field), field).toBe(true);
  });

  it('every Pass state that rebuilds the item on the way (Parameters with a name, and a Next) keeps every carried field', () => {
    // The Passes that end an iteration build its result instead (name, outcome): they are not checked.
    const rebuilders = Object.entries(renewEach.ItemProcessor!.States).filter(([, s]) => s.Type === 'Pass' && s.Next && s.Parameters && 'name.$' in s.Parameters);
    expect(rebuilders.length).toBeGreaterThan(0);
    for (const [name, s] of rebuilders) {
      const keys = Object.keys(s.Parameters!).map((k) => k.replace(/\.\$$/, ''));
      expect(carried.filter((f) => !keys.includes(f)), `${name} drops`).toEqual([]);
    }
  });
});
