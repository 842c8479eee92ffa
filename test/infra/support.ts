// Shared by the infra tests: a fixture config, apps in a fresh temp directory,
// cdk-nag findings, and a template normaliser for the snapshot.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { stringify } from 'yaml';
import { validateConfig, type CertpipeConfig } from '../../infra/config.js';

export const PIPELINE_ACCOUNT = '123456789012';
export const TARGET_ACCOUNT = '222222222222';
export const REGION = 'eu-west-1';
export const TARGET_ROLE_ARN = `arn:aws:iam::${TARGET_ACCOUNT}:role/certpipe-target`;

/** A config that exercises every kind of grant: zone ids, same-account ACM, cross-account secret and ACM, EAB. */
export function fixtureConfigDocument(): Record<string, any> {
  return {
    issuers: [
      { name: 'letsencrypt', preset: 'letsencrypt', email: 'ops@example.com' },
      { name: 'zerossl', directoryUrl: 'https://acme.zerossl.com/v2/DV90', eab: { keyId: 'kid-1', hmacKeySecret: 'certpipe/eab/zerossl' } },
    ],
    hostedZones: [
      { name: 'example.com', id: 'Z0EXAMPLECOM' },
      { name: 'example.org', id: 'Z0EXAMPLEORG' },
    ],
    certificates: [
      { name: 'web', issuer: 'letsencrypt', dnsNames: ['example.com', '*.example.com'], targets: [{ type: 'acm', region: 'us-east-1' }] },
      {
        name: 'partner',
        issuer: 'zerossl',
        dnsNames: ['api.example.org'],
        targets: [
          { type: 'secretsmanager', roleArn: TARGET_ROLE_ARN, externalId: 'certpipe-partner' },
          { type: 'acm', region: 'us-east-1', roleArn: TARGET_ROLE_ARN, externalId: 'certpipe-partner' },
        ],
      },
    ],
    pipeline: { maxConcurrency: 7, propagation: { waitSeconds: 20, maxAttempts: 30 }, schedule: 'rate(6 hours)' },
    alarms: { email: ['oncall@example.com'], https: ['https://events.example.com/integration/certpipe'], daysToExpiry: 21 },
  };
}

export function fixtureConfig(doc: Record<string, any> = fixtureConfigDocument()): CertpipeConfig {
  return validateConfig(doc, 'fixture');
}

/** Writes a config document as YAML into a fresh temp dir; returns its path. */
export function writeConfig(doc: Record<string, any>): string {
  const dir = mkdtempSync(join(tmpdir(), 'certpipe-'));
  const file = join(dir, 'certpipe.config.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/**
 * An app writing into its own temp dir. `bundle: false` skips esbuild (the
 * template is the same but for asset hashes); CloudFormation's built-in
 * template validation is slow and is left to `cdk synth`.
 */
export function testApp(options: { bundle?: boolean } = {}): App {
  return new App({
    outdir: mkdtempSync(join(tmpdir(), 'certpipe-')),
    builtinCloudFormationValidation: false,
    ...(options.bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } }),
  });
}

export interface NagFinding {
  rule: string;
  severity: string;
  paths: string[];
}

/** Unacknowledged findings of the AwsSolutions and Serverless packs. */
export function nagFindings(scope: IConstruct): NagFinding[] {
  return [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack.validateScope(scope).violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity ?? 'error',
      paths: v.violatingResources.map((r) => r.constructPath ?? '?'),
    })),
  );
}

/** Every acknowledgement recorded under `scope`: rule id → reason. */
export function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const out: Array<{ path: string; id: string; reason: string }> = [];
  for (const node of scope.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        out.push({ path: node.node.path, id, reason: typeof reason === 'string' ? reason : JSON.stringify(reason) });
      }
    }
  }
  return out;
}

/** Asset hashes change with the handler code and the machine: replace them for the snapshot. */
export function normaliseTemplate(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}

/** States of an ASL document, Map iterations included. */
export function allStates(definition: { States: Record<string, any> }): Array<[string, any]> {
  const out: Array<[string, any]> = [];
  for (const [name, state] of Object.entries(definition.States)) {
    out.push([name, state]);
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) out.push(...allStates(inner));
    for (const branch of state.Branches ?? []) out.push(...allStates(branch));
  }
  return out;
}

const conditionValue = (statement: any, operator: string, key: string): unknown => statement.Condition?.[operator]?.[key];

/**
 * ACM statements that would let a role take over a certificate that is not
 * certpipe's: tagging (acm:AddTagsToCertificate) without requiring the
 * certificate to carry certpipe:managed=true already, or ImportCertificate that
 * requires neither the managed tag on the request (a new import) nor on the
 * certificate (a re-import). Returns the Sids of the offending statements.
 */
export function acmGuardViolations(statements: any[]): string[] {
  const managed = (s: any, key: string) => conditionValue(s, 'StringEquals', key) === 'true';
  return statements
    .filter((s) => s.Effect === 'Allow')
    .filter((s) => {
      const actions = [s.Action].flat() as string[];
      const tags = actions.some((a) => a === 'acm:AddTagsToCertificate' || a === 'acm:*');
      const imports = actions.some((a) => a === 'acm:ImportCertificate' || a === 'acm:*');
      if (tags && !managed(s, 'aws:ResourceTag/certpipe:managed')) return true;
      return imports && !managed(s, 'aws:ResourceTag/certpipe:managed') && !managed(s, 'aws:RequestTag/certpipe:managed');
    })
    .map((s) => s.Sid ?? '?');
}
