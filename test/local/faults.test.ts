// Fault rules decide per call; `match` narrows a rule to calls whose JSON input has given values.
import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../../local/aws/faults.js';

const call = (input?: unknown) => ({ service: 'secretsmanager', operation: 'UpdateSecretVersionStage', accountId: '000000000000', region: 'us-east-1', input });

describe('FaultInjector', () => {
  it('with match, fails only the calls whose input has those values, and counts only them', () => {
    const faults = new FaultInjector();
    faults.add({ service: 'secretsmanager', operation: 'UpdateSecretVersionStage', match: { VersionStage: 'AWSCURRENT' }, error: 'AccessDeniedException' });
    expect(faults.evaluate(call({ SecretId: 's', VersionStage: 'AWSPENDING' })).error).toBeUndefined();
    expect(faults.evaluate(call(undefined)).error).toBeUndefined();
    expect(faults.evaluate(call({ SecretId: 's', VersionStage: 'AWSCURRENT' })).error?.code).toBe('AccessDeniedException');
    expect(faults.list()[0]!.hits).toBe(1);
  });

  it('without match, fails every call of the operation', () => {
    const faults = new FaultInjector();
    faults.add({ service: 'secretsmanager', operation: 'UpdateSecretVersionStage', error: 'ThrottlingException', count: 2 });
    expect([1, 2, 3].map(() => faults.evaluate(call({ VersionStage: 'AWSPENDING' })).error?.code)).toEqual(['ThrottlingException', 'ThrottlingException', undefined]);
  });
});
