// The local stand-in for `cdk deploy`: everything the pipeline stack would create,
// created in the local cloud through the same AWS APIs (Route 53 zones, the state
// machine) plus the local-only registrations (functions, target-account roles).
import { DEFAULT_EXECUTION_TIMEOUT_SECONDS } from '../functions/lib/backoff.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateHostedZoneCommand,
  ListHostedZonesByNameCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { CreateStateMachineCommand, SFNClient, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import { toInventory, type CertpipeConfig } from '../infra/config.js';
import { FUNCTIONS, functionEnvironment } from '../infra/functions.js';
import type { Inventory } from '../functions/lib/inventory.js';
import { renderDefinition, type TaskFunction } from '../statemachines/definition.js';
import { INVENTORY_FILE, LOCAL_ACCOUNT_ID, LOCAL_REGION, LOCAL_STATE_MACHINE_ARN, STATE_MACHINE_NAME } from '../bin/local-cloud.js';
import { registerFunction } from './aws/services/lambda/registry.js';
import { httpsGetText } from './pebble/https.js';


export interface LocalTarget {
  /** Local AWS endpoint URL. */
  readonly endpointUrl: string;
  /** Port of the local authoritative DNS server (the propagation check asks it). */
  readonly dnsPort: number;
  /** PEM file the functions trust for the ACME server's TLS (Pebble's generated CA). */
  readonly acmeCaBundlePath?: string;
  /**
   * Pebble's management URL: its current root (`/roots/0`, new at every Pebble start)
   * becomes the trust anchor of every issuer that names none, as `trustedRoots` would.
   */
  readonly acmeManagementUrl?: string;
  readonly dataDir: string;
  /** The state machine's TimeoutSeconds; default as the CDK construct's (6 hours). Tests lower it. */
  readonly executionTimeoutSeconds?: number;
}

export interface LocalDeployment {
  readonly stateMachineArn: string;
  readonly inventory: Inventory;
  readonly inventoryPath: string;
}

export function localSdkConfig(endpointUrl: string, accountId = LOCAL_ACCOUNT_ID, region = LOCAL_REGION) {
  return {
    endpoint: endpointUrl,
    region,
    credentials: { accessKeyId: accountId, secretAccessKey: 'local' },
  };
}

/** Creates each configured zone that does not exist yet; returns name → id. */
async function ensureHostedZones(route53: Route53Client, names: string[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const name of names) {
    const listed = await route53.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 1 }));
    const existing = listed.HostedZones?.find((z) => z.Name === `${name}.`);
    const id =
      existing?.Id ??
      (await route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `certpipe-local-${name}` })))
        .HostedZone?.Id;
    if (!id) throw new Error(`Could not create the local hosted zone ${name}`);
    ids.set(name, id.replace('/hostedzone/', ''));
  }
  return ids;
}

/** Roles the config's targets assume: registered locally with their ExternalId, as the target stack would create them. */
async function registerTargetRoles(endpointUrl: string, inventory: Inventory): Promise<void> {
  const roles = new Map<string, string | undefined>();
  for (const cert of inventory.certificates) {
    for (const target of cert.targets) if (target.roleArn) roles.set(target.roleArn, target.externalId);
  }
  for (const [roleArn, externalId] of roles) {
    const res = await fetch(`${endpointUrl}/_certpipe/iam/roles`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ roleArn, externalId }),
    });
    if (!res.ok) throw new Error(`Registering the local role ${roleArn} failed: HTTP ${res.status} ${await res.text()}`);
  }
}

/** The local CA's root, when the target names Pebble's management endpoint. */
async function localAcmeRoot(target: LocalTarget): Promise<string | undefined> {
  if (!target.acmeManagementUrl || !target.acmeCaBundlePath) return undefined;
  const url = `${target.acmeManagementUrl}/roots/0`;
  const res = await httpsGetText(url, await readFile(target.acmeCaBundlePath, 'utf8'));
  if (res.status !== 200) throw new Error(`Reading the local CA's root from ${url} failed: HTTP ${res.status}`);
  return res.body;
}

export async function deployLocal(config: CertpipeConfig, target: LocalTarget): Promise<LocalDeployment> {
  const sdk = localSdkConfig(target.endpointUrl);
  const route53 = new Route53Client(sdk);
  const sfn = new SFNClient(sdk);

  const inventory = toInventory(config, { accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
  // Local zones get local ids: ids written in the config are the AWS account's.
  const zoneIds = await ensureHostedZones(route53, inventory.hostedZones.map((z) => z.name));
  const localRoot = await localAcmeRoot(target);
  const localInventory: Inventory = {
    ...inventory,
    issuers: inventory.issuers.map((i) => (i.trustedRoots || !localRoot ? i : { ...i, trustedRoots: [localRoot] })),
    hostedZones: inventory.hostedZones.map((z) => ({ name: z.name, id: zoneIds.get(z.name) })),
    certificates: inventory.certificates.map((c) => ({ ...c, hostedZoneIds: {} })),
    // The local nameserver's name does not resolve: ask the local DNS server directly.
    resolvers: [`127.0.0.1:${target.dnsPort}`],
  };
  await mkdir(target.dataDir, { recursive: true });
  const inventoryPath = join(target.dataDir, INVENTORY_FILE);
  await writeFile(inventoryPath, JSON.stringify(localInventory, null, 2));
  await registerTargetRoles(target.endpointUrl, localInventory);

  const extra: Record<string, string> = {};
  if (target.acmeCaBundlePath) extra.CERTPIPE_ACME_CA_BUNDLE = target.acmeCaBundlePath;
  const arns = {} as Record<TaskFunction, string>;
  for (const fn of FUNCTIONS) {
    const registered = await registerFunction(target.endpointUrl, {
      functionName: `certpipe-${fn.name}`,
      accountId: LOCAL_ACCOUNT_ID,
      region: LOCAL_REGION,
      entry: fn.entry,
      environment: functionEnvironment(fn, { inventoryPath, extra }),
      timeoutSeconds: fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
    });
    arns[fn.name] = registered.functionArn;
  }

  const definition = renderDefinition({
    maxConcurrency: config.pipeline.maxConcurrency,
    propagationWaitSeconds: config.pipeline.propagation.waitSeconds,
    executionTimeoutSeconds: target.executionTimeoutSeconds ?? DEFAULT_EXECUTION_TIMEOUT_SECONDS,
    functionArns: arns,
  });
  const roleArn = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/certpipe-state-machine`;
  const stateMachineArn = LOCAL_STATE_MACHINE_ARN;
  try {
    await sfn.send(new CreateStateMachineCommand({ name: STATE_MACHINE_NAME, definition, roleArn, type: 'STANDARD' }));
  } catch (err) {
    if ((err as Error).name !== 'StateMachineAlreadyExists') throw err;
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition }));
  }
  return { stateMachineArn, inventory: localInventory, inventoryPath };
}
