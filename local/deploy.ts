// The local `cdk deploy`: the CDK app is synthesized (cached, local/cfn/assembly.ts)
// and every stack of the cloud assembly, `Certpipe` and each `CertpipeTarget-*`,
// is created in the local cloud from its template (local/cfn/deploy-stack.ts).
// Nothing is rebuilt from the config here. The local-only adjustments, each
// because the local cloud is not AWS, are these and no more:
//  - the hosted zones are created locally; their local ids replace the ids the
//    config pins, in the inventory and in the policies;
//  - the functions' environment gains the CA bundle of Pebble's listener and the
//    path of the inventory below, as a local file;
//  - the inventory bundled in the asset is copied with Pebble's current root as
//    the trust anchor of issuers that name none, the local DNS server as the
//    resolver, and the test cloud's Pebble directory for the issuer that names
//    the local CA (Pebble makes a new root, and a test cloud a new port, at every
//    start: synthesized in, they would make every start a new synthesis).
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateHostedZoneCommand, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { CertpipeConfig } from '../infra/config.js';
import { parseInventory, type Inventory } from '../functions/lib/inventory.js';
import { INVENTORY_FILE, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../bin/local-cloud.js';
import { cloudAssembly, type CloudAssembly } from './cfn/assembly.js';
import { deployStack, type DeployedStack } from './cfn/deploy-stack.js';
import { httpsGetText } from './pebble/https.js';

/** The ACME directory the example config names: `npm start`'s Pebble. */
export const LOCAL_ACME_DIRECTORY = 'https://127.0.0.1:14000/dir';
/** The staging CA's directory the example config names: `npm start`'s second Pebble. */
export const LOCAL_STAGING_ACME_DIRECTORY = 'https://127.0.0.1:14001/dir';

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
  /**
   * This cloud's Pebble directory, when it is not LOCAL_ACME_DIRECTORY (a test
   * cloud's free port): an issuer naming it is synthesized as LOCAL_ACME_DIRECTORY
   * and deployed with this one, so the cached assembly serves every test cloud.
   */
  readonly acmeDirectoryUrl?: string;
  /** The staging CA (a second Pebble): its directory, as acmeDirectoryUrl for LOCAL_STAGING_ACME_DIRECTORY, and its management URL for its root. */
  readonly stagingAcmeDirectoryUrl?: string;
  readonly stagingAcmeManagementUrl?: string;
  readonly dataDir: string;
  /** The state machine's TimeoutSeconds; default as the CDK construct's (6 hours). Tests lower it. */
  readonly executionTimeoutSeconds?: number;
  /** Told as each phase ends: `synthesis and bundling` (cached or not), then `stacks`. */
  readonly onPhase?: (name: string, timing: { ms: number; cached?: boolean }) => void;
}

export interface LocalDeployment {
  readonly stateMachineArn: string;
  readonly inventory: Inventory;
  readonly inventoryPath: string;
  /** Function ARN per Task state (the state machine's `${<Name>FunctionArn}` substitutions). */
  readonly functionArns: Readonly<Record<string, string>>;
  readonly assembly: Pick<CloudAssembly, 'directory' | 'key' | 'synthesized'>;
  readonly stacks: readonly DeployedStack[];
}

export function localSdkConfig(endpointUrl: string, accountId = LOCAL_ACCOUNT_ID, region = LOCAL_REGION) {
  return {
    endpoint: endpointUrl,
    region,
    credentials: { accessKeyId: accountId, secretAccessKey: 'local' },
  };
}

/** Creates each zone that does not exist yet; returns name → local id. */
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

/** The local CA's root, when the target names Pebble's management endpoint. */
async function localAcmeRoot(target: LocalTarget, managementUrl = target.acmeManagementUrl): Promise<string | undefined> {
  if (!managementUrl || !target.acmeCaBundlePath) return undefined;
  const url = `${managementUrl}/roots/0`;
  const res = await httpsGetText(url, await readFile(target.acmeCaBundlePath, 'utf8'));
  if (res.status !== 200) throw new Error(`Reading the local CA's root from ${url} failed: HTTP ${res.status}`);
  return res.body;
}

/** The config as synthesized: a test cloud's Pebble directory becomes the canonical local one. */
export function synthesizedConfig(config: CertpipeConfig, acmeDirectoryUrl: string | undefined, stagingAcmeDirectoryUrl?: string): CertpipeConfig {
  const canonical = new Map([
    [acmeDirectoryUrl, LOCAL_ACME_DIRECTORY],
    [stagingAcmeDirectoryUrl, LOCAL_STAGING_ACME_DIRECTORY],
  ]);
  canonical.delete(undefined);
  if ([...canonical].every(([url, local]) => url === local)) return config;
  return {
    ...config,
    issuers: config.issuers.map((i) => ('directoryUrl' in i && canonical.has(i.directoryUrl) ? { ...i, directoryUrl: canonical.get(i.directoryUrl)! } : i)),
  } as CertpipeConfig;
}

/** The inventory the assembly bundled, with the local adjustments listed at the top of this file. */
export function localInventory(
  bundled: Inventory,
  local: {
    zoneIds: ReadonlyMap<string, string>;
    root?: string;
    dnsPort: number;
    acmeDirectoryUrl?: string;
    staging?: { directoryUrl: string; root?: string };
  },
): Inventory {
  return {
    ...bundled,
    issuers: bundled.issuers.map((i) => {
      // The staging Pebble has a root of its own: its issuer trusts that one, not the production Pebble's.
      if (local.staging && i.directoryUrl === LOCAL_STAGING_ACME_DIRECTORY) {
        return { ...i, directoryUrl: local.staging.directoryUrl, ...(!i.trustedRoots && local.staging.root ? { trustedRoots: [local.staging.root] } : {}) };
      }
      return {
        ...i,
        ...(local.acmeDirectoryUrl && i.directoryUrl === LOCAL_ACME_DIRECTORY ? { directoryUrl: local.acmeDirectoryUrl } : {}),
        ...(!i.trustedRoots && local.root ? { trustedRoots: [local.root] } : {}),
      };
    }),
    hostedZones: bundled.hostedZones.map((z) => ({ name: z.name, id: local.zoneIds.get(z.name) })),
    certificates: bundled.certificates.map((c) => ({ ...c, hostedZoneIds: {} })),
    // The local nameserver's name does not resolve: ask the local DNS server directly.
    resolvers: [`127.0.0.1:${local.dnsPort}`],
  };
}

/** Zone ids the config pinned (AWS's) → the local zones' ids, wherever a policy names them. */
export function zoneIdRewrite(bundled: Inventory, zoneIds: ReadonlyMap<string, string>): (document: unknown) => unknown {
  const pinned = new Map<string, string>();
  for (const z of bundled.hostedZones) if (z.id && zoneIds.get(z.name)) pinned.set(z.id, zoneIds.get(z.name)!);
  for (const c of bundled.certificates) {
    for (const [name, id] of Object.entries(c.hostedZoneIds)) {
      const zone = bundled.hostedZones.filter((z) => name === z.name || name.endsWith(`.${z.name}`)).sort((a, b) => b.name.length - a.name.length)[0];
      if (zone && zoneIds.get(zone.name)) pinned.set(id, zoneIds.get(zone.name)!);
    }
  }
  if (pinned.size === 0) return (document) => document;
  return (document) =>
    JSON.parse(JSON.stringify(document).replace(/hostedzone\/([A-Z0-9]+)/g, (whole, id: string) => (pinned.has(id) ? `hostedzone/${pinned.get(id)}` : whole)));
}

/** The staging CA part of a LocalTarget, from a running cloud's cloud.json. */
export function stagingCaOf(info: { stagingDirectoryUrl?: string; stagingPebbleManagementUrl?: string }): Pick<LocalTarget, 'stagingAcmeDirectoryUrl' | 'stagingAcmeManagementUrl'> {
  return info.stagingDirectoryUrl && info.stagingPebbleManagementUrl
    ? { stagingAcmeDirectoryUrl: info.stagingDirectoryUrl, stagingAcmeManagementUrl: info.stagingPebbleManagementUrl }
    : {};
}

export async function deployLocal(config: CertpipeConfig, target: LocalTarget): Promise<LocalDeployment> {
  const synthStart = Date.now();
  const assembly = await cloudAssembly({
    config: synthesizedConfig(config, target.acmeDirectoryUrl, target.stagingAcmeDirectoryUrl),
    accountId: LOCAL_ACCOUNT_ID,
    region: LOCAL_REGION,
    ...(target.executionTimeoutSeconds ? { executionTimeoutSeconds: target.executionTimeoutSeconds } : {}),
  });
  target.onPhase?.('synthesis and bundling', { ms: Date.now() - synthStart, cached: !assembly.synthesized });
  const deployStart = Date.now();
  // The pipeline stack is the one with the workflow (aws-cdk-lib stays unloaded when the assembly is cached).
  const pipelineStack = assembly.stacks.find((s) => Object.values(s.template.Resources).some((r) => r.Type === 'AWS::StepFunctions::StateMachine'));
  if (!pipelineStack) throw new Error(`The cloud assembly ${assembly.directory} has no stack with a state machine`);

  // Every function's asset carries the same inventory, at the path its CERTPIPE_INVENTORY names.
  const firstFunction = Object.values(pipelineStack.template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')?.Properties ?? {};
  const assetDir = pipelineStack.assetDirectory(String((firstFunction.Code as { S3Key?: string } | undefined)?.S3Key));
  const bundledPath = (firstFunction.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.CERTPIPE_INVENTORY;
  if (!assetDir || typeof bundledPath !== 'string') throw new Error(`The ${pipelineStack.stackName} stack names no function asset with an inventory in ${assembly.directory}`);
  const bundled = parseInventory(JSON.parse(await readFile(join(assetDir, bundledPath), 'utf8')));

  const zoneIds = await ensureHostedZones(new Route53Client(localSdkConfig(target.endpointUrl)), bundled.hostedZones.map((z) => z.name));
  const root = await localAcmeRoot(target);
  const stagingRoot = await localAcmeRoot(target, target.stagingAcmeManagementUrl);
  const inventory = localInventory(bundled, {
    zoneIds,
    dnsPort: target.dnsPort,
    ...(root ? { root } : {}),
    ...(target.acmeDirectoryUrl ? { acmeDirectoryUrl: target.acmeDirectoryUrl } : {}),
    ...(target.stagingAcmeDirectoryUrl ? { staging: { directoryUrl: target.stagingAcmeDirectoryUrl, ...(stagingRoot ? { root: stagingRoot } : {}) } } : {}),
  });
  await mkdir(target.dataDir, { recursive: true });
  const inventoryPath = join(target.dataDir, INVENTORY_FILE);
  await writeFile(inventoryPath, JSON.stringify(inventory, null, 2));

  const localPolicy = zoneIdRewrite(bundled, zoneIds);
  const stacks: DeployedStack[] = [];
  for (const stack of assembly.stacks) {
    stacks.push(
      await deployStack(stack, {
        endpointUrl: target.endpointUrl,
        dataDir: target.dataDir,
        sdkConfig: (accountId, region) => localSdkConfig(target.endpointUrl, accountId, region),
        localEnvironment: () => ({
          CERTPIPE_INVENTORY: inventoryPath,
          ...(target.acmeCaBundlePath ? { CERTPIPE_ACME_CA_BUNDLE: target.acmeCaBundlePath } : {}),
        }),
        localPolicy,
      }),
    );
  }
  target.onPhase?.(`stacks (${stacks.map((s) => s.stackName).join(', ')})`, { ms: Date.now() - deployStart });
  const pipeline = stacks.find((s) => s.stackName === pipelineStack.stackName)!;
  const functionArns: Record<string, string> = {};
  for (const r of Object.values(pipeline.resources)) {
    if (r.type !== 'AWS::Lambda::Function') continue;
    const name = (r.properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables?.CERTPIPE_FUNCTION;
    if (name) functionArns[name] = r.attributes.Arn!;
  }
  return {
    stateMachineArn: pipeline.outputs.StateMachineArn!,
    inventory,
    inventoryPath,
    functionArns,
    assembly: { directory: assembly.directory, key: assembly.key, synthesized: assembly.synthesized },
    stacks,
  };
}
