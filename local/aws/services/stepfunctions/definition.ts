// What CreateStateMachine and UpdateStateMachine refuse in a definition.

const STATE_TYPES = new Set(['Task', 'Pass', 'Wait', 'Choice', 'Succeed', 'Fail', 'Map', 'Parallel']);
type AslObject = Record<string, unknown>;
const isObject = (v: unknown): v is AslObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The structural checks Step Functions makes on a definition (the ones a typo
 * breaks): transitions that lead nowhere, states that neither continue nor end,
 * duplicate names, missing terminal states. Returns the problems found, AWS-style.
 * asl-validator would check more, but compiles its schemas on every call (seconds).
 */
export function definitionProblems(definition: unknown): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const machine = (m: unknown, where: string) => {
    if (!isObject(m) || !isObject(m.States) || typeof m.StartAt !== 'string') {
      problems.push(`SCHEMA_VALIDATION_FAILED: ${where || '/'} needs "StartAt" and "States"`);
      return;
    }
    const states = m.States;
    const target = (next: unknown, at: string) => {
      if (typeof next !== 'string' || !(next in states)) problems.push(`MISSING_TRANSITION_TARGET: Missing 'Next' target: ${String(next)} at ${at}`);
    };
    target(m.StartAt, `${where}/StartAt`);
    let terminal = false;
    for (const [name, state] of Object.entries(states)) {
      const at = `${where}/States/${name}`;
      if (seen.has(name)) problems.push(`DUPLICATE_STATE_NAME: Duplicate State name: ${name} at ${at}`);
      seen.add(name);
      if (!isObject(state) || typeof state.Type !== 'string' || !STATE_TYPES.has(state.Type)) {
        problems.push(`SCHEMA_VALIDATION_FAILED: ${at}/Type must be one of ${[...STATE_TYPES].join(', ')}`);
        continue;
      }
      const type = state.Type;
      if (type === 'Succeed' || type === 'Fail') terminal = true;
      else if (type === 'Choice') {
        if (!Array.isArray(state.Choices) || state.Choices.length === 0) problems.push(`SCHEMA_VALIDATION_FAILED: ${at}/Choices must be a non-empty array`);
        else state.Choices.forEach((rule: unknown, i) => target(isObject(rule) ? rule.Next : undefined, `${at}/Choices/${i}/Next`));
        if (state.Default !== undefined) target(state.Default, `${at}/Default`);
      } else {
        if ((state.End === true) === (state.Next !== undefined)) problems.push(`SCHEMA_VALIDATION_FAILED: ${at} must have exactly one of "Next" and "End": true`);
        if (state.Next !== undefined) target(state.Next, `${at}/Next`);
        if (state.End === true) terminal = true;
      }
      if (Array.isArray(state.Catch)) state.Catch.forEach((c: unknown, i) => target(isObject(c) ? c.Next : undefined, `${at}/Catch/${i}/Next`));
      if (type === 'Task' && typeof state.Resource !== 'string') problems.push(`SCHEMA_VALIDATION_FAILED: ${at}/Resource is required`);
      if (type === 'Wait' && ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'].filter((k) => k in state).length !== 1) {
        problems.push(`SCHEMA_VALIDATION_FAILED: ${at} needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath`);
      }
      if (type === 'Map') machine(state.ItemProcessor ?? state.Iterator, `${at}/${state.ItemProcessor ? 'ItemProcessor' : 'Iterator'}`);
      if (type === 'Parallel') {
        if (!Array.isArray(state.Branches) || state.Branches.length === 0) problems.push(`SCHEMA_VALIDATION_FAILED: ${at}/Branches must be a non-empty array`);
        else state.Branches.forEach((branch: unknown, i) => machine(branch, `${at}/Branches/${i}`));
      }
    }
    if (!terminal) problems.push(`MISSING_TERMINAL_STATE: ${where || '/'} has no terminal state`);
  };
  machine(definition, '');
  return problems;
}
