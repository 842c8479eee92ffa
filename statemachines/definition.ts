// Loads statemachines/renewal.asl.json and fills its ${...} substitutions. One
// definition, two runtimes: the CDK stack leaves the function ARNs to
// CloudFormation's DefinitionSubstitutions; the local runner fills them itself.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RENEWAL_ASL_PATH = fileURLToPath(new URL('./renewal.asl.json', import.meta.url));

/** The Task states, each run by the handler file of the same name in functions/. */
export const TASK_FUNCTIONS = [
  'CheckExpiry',
  'PlaceChallenges',
  'CheckPropagation',
  'FinalizeOrder',
  'PublishCertificate',
  'CleanupChallenges',
  'Summarize',
] as const;
export type TaskFunction = (typeof TASK_FUNCTIONS)[number];

/** Substitution key of a function's ARN in the ASL, e.g. `CheckExpiryFunctionArn`. */
export const arnSubstitution = (fn: TaskFunction) => `${fn}FunctionArn`;

export interface DefinitionValues {
  readonly maxConcurrency: number;
  readonly propagationWaitSeconds: number;
  /**
   * The execution's TimeoutSeconds, in the definition itself: CDK drops the StateMachine
   * `timeout` prop for a string definition, and the steps need it to know how long
   * a Retry-After wait may be (the Map items carry it with `$$.Execution.StartTime`).
   */
  readonly executionTimeoutSeconds: number;
  /** When given, `${<Fn>FunctionArn}` placeholders are replaced; otherwise they stay for CloudFormation. */
  readonly functionArns?: Readonly<Record<TaskFunction, string>>;
}

/**
 * Numbers are substituted here, not by CloudFormation: JSON has no way to write
 * `"MaxConcurrency": ${MaxConcurrency}` and stay valid, so the file holds the
 * placeholder as a string and it is replaced, quotes included, by the number.
 */
export function renderDefinition(values: DefinitionValues, template = readFileSync(RENEWAL_ASL_PATH, 'utf8')): string {
  const numbers: Record<string, number> = {
    MaxConcurrency: values.maxConcurrency,
    PropagationWaitSeconds: values.propagationWaitSeconds,
    ExecutionTimeoutSeconds: values.executionTimeoutSeconds,
  };
  let out = template.replace(/"\$\{(\w+)\}"/g, (match, key: string) =>
    key in numbers ? String(numbers[key]) : match,
  );
  if (values.functionArns) {
    const arns = values.functionArns;
    out = out.replace(/\$\{(\w+)FunctionArn\}/g, (match, fn: string) => arns[fn as TaskFunction] ?? match);
  }
  const left = /\$\{(\w+)\}/.exec(out);
  if (left && values.functionArns) throw new Error(`renewal.asl.json: no value for the substitution \${${left[1]}}`);
  JSON.parse(out);
  return out;
}
