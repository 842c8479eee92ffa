// `certpipe inspect <name>`: the certificate in use read from its secret (never
// the key), its secret versions, where it is published, and its last error.
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from '../../functions/lib/aws.js';
import { CertificateStore, TAG } from '../../functions/lib/store/certificateStore.js';
import { parseCertificate, splitPemChain } from '../../functions/lib/x509.js';
import { fitLines, type Layout } from '../layout.js';
import { findSpec, layoutOf, notFound, printJson, println, type CliIO, type GlobalOptions, type Target } from './context.js';
import { lastRuns, recentExecutions } from './executions.js';
import { describeTarget } from '../../functions/lib/targetIds.js';

const KEY_TYPES: Record<string, { type: string; size: number }> = {
  'ecdsa-p256': { type: 'ECDSA P-256', size: 256 },
  'ecdsa-p384': { type: 'ECDSA P-384', size: 384 },
  'rsa-2048': { type: 'RSA', size: 2048 },
  'rsa-3072': { type: 'RSA', size: 3072 },
  'rsa-4096': { type: 'RSA', size: 4096 },
};

export interface SecretVersion {
  versionId: string;
  stages: string[];
  serial?: string;
  notAfter?: string;
}

async function secretVersions(target: Target, secretName: string): Promise<{ versions: SecretVersion[]; acmArns: Record<string, string> }> {
  const sm = target.aws.secretsManager();
  const described = await sm.send(new DescribeSecretCommand({ SecretId: secretName }));
  const acmArns: Record<string, string> = {};
  for (const tag of described.Tags ?? []) {
    if (tag.Key?.startsWith(TAG.acmPrefix) && tag.Value) acmArns[tag.Key.slice(TAG.acmPrefix.length)] = tag.Value;
  }
  const versions: SecretVersion[] = [];
  for (const [versionId, stages] of Object.entries(described.VersionIdsToStages ?? {})) {
    const version: SecretVersion = { versionId, stages };
    try {
      const value = await sm.send(new GetSecretValueCommand({ SecretId: secretName, VersionId: versionId }));
      // Only public facts leave this function: the value also holds the private key.
      const parsed = JSON.parse(value.SecretString ?? '{}') as { serial?: unknown; notAfter?: unknown; pending?: unknown };
      if (typeof parsed.serial === 'string') version.serial = parsed.serial;
      if (typeof parsed.notAfter === 'string') version.notAfter = parsed.notAfter;
    } catch {
      // An unreadable version is still listed with its stages.
    }
    versions.push(version);
  }
  const order = (v: SecretVersion) => (v.stages.includes('AWSCURRENT') ? 0 : v.stages.includes('AWSPENDING') ? 1 : 2);
  versions.sort((a, b) => order(a) - order(b));
  return { versions, acmArns };
}

export async function inspectCommand(name: string, target: Target, opts: GlobalOptions, io: CliIO): Promise<number> {
  const spec = await findSpec(target, name);
  const store = new CertificateStore(target.aws.secretsManager());
  let current;
  try {
    current = await store.readCurrent(spec);
  } catch (err) {
    if (awsErrorName(err) !== 'ResourceNotFoundException') throw err;
  }
  if (!current) throw notFound(`${name} has no issued certificate yet (secret ${spec.secretName}); run certpipe renew ${name} --wait`);

  const facts = parseCertificate(current.issued.certificate);
  const chain = splitPemChain(current.issued.chain ?? '').map((pem) => {
    const c = parseCertificate(pem);
    return { subject: c.subject, issuer: c.issuer, notAfter: c.notAfter.toISOString(), fingerprintSha256: c.fingerprintSha256 };
  });
  const { versions, acmArns } = await secretVersions(target, spec.secretName);
  const lastRun = lastRuns(await recentExecutions(target, 10)).get(name);
  const key = facts.keyAlgorithm ? KEY_TYPES[facts.keyAlgorithm] : undefined;
  const published = [
    { target: `secret ${spec.secretName}` },
    ...spec.targets.map((t) => {
      const account = t.roleArn ? t.roleArn.split(':')[4] : undefined;
      const arn = t.type === 'acm' ? Object.entries(acmArns).find(([k]) => k.endsWith(`:${t.region}`) && (!account || k.startsWith(`${account}:`)))?.[1] : undefined;
      return { target: describeTarget(t), ...(arn ? { arn } : {}) };
    }),
  ];
  const report = {
    name,
    subject: facts.subject,
    dnsNames: facts.dnsNames,
    issuer: facts.issuer,
    serial: facts.serial,
    keyAlgorithm: facts.keyAlgorithm ?? 'unknown',
    keyType: key?.type ?? 'unknown',
    keySize: key?.size,
    notBefore: facts.notBefore.toISOString(),
    notAfter: facts.notAfter.toISOString(),
    fingerprintSha256: facts.fingerprintSha256,
    chain,
    secret: { name: spec.secretName, versions },
    published,
    lastError: lastRun?.outcome === 'failed' ? { error: lastRun.error, step: lastRun.failedStep, executionArn: lastRun.executionArn } : undefined,
  };
  if (opts.json) {
    printJson(io, report);
    return 0;
  }
  println(io, renderInspect(report, layoutOf(io, opts)).join('\n'));
  return 0;
}

type InspectReport = {
  name: string;
  subject: string;
  dnsNames: string[];
  issuer: string;
  serial: string;
  keyType: string;
  keySize?: number;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
  chain: { subject: string; issuer: string; notAfter: string }[];
  secret: { name: string; versions: { stages: string[]; serial?: string; notAfter?: string }[] };
  published: { target: string; arn?: string }[];
  lastError?: { error?: string; step?: string };
};

/** The inspect page: fitted lines (the fingerprint on two, ARNs behind `--wide`), or every detail on one line each. */
export function renderInspect(report: InspectReport, layout: Layout): string[] {
  const wide = layout.width === undefined;
  const pairs = report.fingerprintSha256.toUpperCase().match(/../g)!;
  const fingerprint = wide ? [pairs.join(':')] : [pairs.slice(0, 16).join(':'), pairs.slice(16).join(':')];
  const lines = [
    `certificate ${report.name}`,
    `  subject       ${report.subject}`,
    `  DNS names     ${report.dnsNames.join(', ')}`,
    `  issuer        ${report.issuer}`,
    `  serial        ${report.serial}`,
    `  key           ${report.keyType}${report.keySize ? ` (${report.keySize} bits)` : ''}`,
    `  valid         ${report.notBefore} → ${report.notAfter}`,
    `  SHA-256       ${fingerprint[0]}`,
    ...fingerprint.slice(1).map((rest) => `                ${rest}`),
    `  chain`,
    ...(report.chain.length ? report.chain.map((c, i) => `    ${i + 1}. ${c.subject} (issued by ${c.issuer}, until ${c.notAfter})`) : ['    (none stored)']),
    `  secret ${report.secret.name} versions`,
    ...report.secret.versions.map((v) => `    ${(v.stages.join(',') || '(no stage)').padEnd(24)} ${v.serial ? `serial ${v.serial}` : 'pending claim'}${v.notAfter ? `, until ${v.notAfter}` : ''}`),
    `  published to`,
    ...report.published.map((p) => `    ${p.target}${wide && p.arn ? `  ${p.arn}` : ''}`),
    `  last error    ${report.lastError ? `${report.lastError.error ?? 'failed'}${report.lastError.step ? ` (in ${report.lastError.step})` : ''}` : 'none'}`,
  ];
  return fitLines(lines, layout.width);
}
