// The execution role of a test's state machines. Step Functions calls as that
// role (each Lambda invoke, each child execution, S3 for a Distributed Map), so
// a role the judge has no record of may do nothing. Registered in the short
// form, without policies, its calls are allowed (cited
// `local:undeclared-role-policies#0`): for tests of Step Functions itself, not
// of a role's grants (those are test/local/iam/state-machine-role.test.ts).
export const STATES_ROLE = 'arn:aws:iam::000000000000:role/certpipe-local-states';

export async function registerStatesRole(endpointUrl: string, roleArn = STATES_ROLE): Promise<void> {
  const res = await fetch(`${endpointUrl}/_certpipe/iam/roles`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ roleArn }) });
  if (res.status !== 201) throw new Error(`registering ${roleArn} failed: ${res.status} ${await res.text()}`);
}
