// Clients for publish targets: this account's, or another account's through its
// role, assumed with the target's ExternalId (STS AssumeRole), the credentials
// cached until shortly before they expire. Only PublishCertificate (and the CLI's
// rollback) need this, so only they bundle STS and ACM.
import { ACMClient } from '@aws-sdk/client-acm';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { asAwsError, type AwsClients } from './aws.js';
import { accountOfRoleArn } from './targetIds.js';

/** Where a publish target lives: a region, and a role to assume when it is another account. */
export interface TargetLocation {
  readonly region: string;
  readonly roleArn?: string;
  readonly externalId?: string;
}

export interface TargetClients {
  readonly accountId: string;
  readonly region: string;
  readonly secretsManager: SecretsManagerClient;
  readonly acm: ACMClient;
}

// Refresh assumed-role credentials this long before they expire.
const CREDENTIAL_MARGIN_MS = 5 * 60_000;
const ASSUMED_ROLE_SECONDS = 3600;

interface CachedCredentials {
  identity: AwsCredentialIdentity;
  expiresAt: number;
}

/** What one AwsClients has learnt: its account, assumed credentials, and the target clients built on them. */
interface TargetState {
  callerAccount?: Promise<string>;
  assumed: Map<string, Promise<CachedCredentials>>;
  clients: Map<string, TargetClients>;
}
const states = new WeakMap<AwsClients, TargetState>();
function stateOf(aws: AwsClients): TargetState {
  let state = states.get(aws);
  if (!state) {
    state = { assumed: new Map(), clients: new Map() };
    states.set(aws, state);
  }
  return state;
}

/** The pipeline's own account (GetCallerIdentity, once). */
export function callerAccountId(aws: AwsClients): Promise<string> {
  const state = stateOf(aws);
  state.callerAccount ??= aws
    .client(STSClient)
    .send(new GetCallerIdentityCommand({}))
    .then((r) => {
      if (!r.Account) throw new Error('STS GetCallerIdentity returned no account');
      return r.Account;
    })
    .catch((err: unknown) => {
      state.callerAccount = undefined;
      throw asAwsError(err, 'STS GetCallerIdentity');
    });
  return state.callerAccount;
}

/**
 * Clients for a publish target: this account's when it names no role, otherwise
 * clients signed with the role's temporary credentials.
 */
export async function clientsFor(aws: AwsClients, target: TargetLocation, now: () => Date = () => new Date()): Promise<TargetClients> {
  if (!target.roleArn) {
    return {
      accountId: await callerAccountId(aws),
      region: target.region,
      secretsManager: aws.client(SecretsManagerClient, target.region),
      acm: aws.client(ACMClient, target.region),
    };
  }
  const { roleArn, externalId } = target;
  const state = stateOf(aws);
  const key = `${roleArn}\n${externalId ?? ''}\n${target.region}`;
  let clients = state.clients.get(key);
  if (!clients) {
    const credentials: AwsCredentialIdentityProvider = async () => (await assumeRole(aws, roleArn, externalId, now)).identity;
    const config = { ...aws.config(target.region), credentials };
    clients = {
      accountId: accountOfRoleArn(roleArn),
      region: target.region,
      secretsManager: new SecretsManagerClient(config),
      acm: new ACMClient(config),
    };
    state.clients.set(key, clients);
  }
  return clients;
}

function assumeRole(aws: AwsClients, roleArn: string, externalId: string | undefined, now: () => Date): Promise<CachedCredentials> {
  const { assumed } = stateOf(aws);
  const key = `${roleArn}\n${externalId ?? ''}`;
  const existing = assumed.get(key);
  const refresh = (): Promise<CachedCredentials> => {
    const pending = aws
      .client(STSClient)
      .send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          ExternalId: externalId,
          RoleSessionName: 'certpipe-publish',
          DurationSeconds: ASSUMED_ROLE_SECONDS,
        }),
      )
      .then((r): CachedCredentials => {
        const c = r.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`STS AssumeRole ${roleArn} returned no credentials`);
        const expiration = c.Expiration ?? new Date(now().getTime() + ASSUMED_ROLE_SECONDS * 1000);
        return {
          identity: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration },
          expiresAt: expiration.getTime(),
        };
      })
      .catch((err: unknown) => {
        assumed.delete(key);
        throw asAwsError(err, `STS AssumeRole ${roleArn}`);
      });
    assumed.set(key, pending);
    return pending;
  };
  if (!existing) return refresh();
  return existing.then((c) => (c.expiresAt - CREDENTIAL_MARGIN_MS > now().getTime() ? c : refresh()));
}
