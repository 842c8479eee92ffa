// The CDK app (cdk.json runs it): the pipeline stack `Certpipe`, one
// `CertpipeTarget-<account>` stack per cross-account target role in the config,
// and, when the pipeline is outside us-east-1, `CertpipeGlobalEvents` there.
// It needs no AWS credentials and makes no lookups: `npx cdk synth` works offline.
//
// Context (-c key=value):
//   config           path of the config file (default: $CERTPIPE_CONFIG, else certpipe.config.yaml)
//   region           the pipeline's region (default: $CDK_DEFAULT_REGION, else us-east-1)
//   pipelineAccount  the pipeline's account. The pipeline stack defaults to $CDK_DEFAULT_ACCOUNT
//                    (env-agnostic without credentials); the target stacks, deployed with the
//                    target account's credentials, take it only from here, else they ask for it
//                    as the PipelineAccountId parameter at deploy time.
//   nag              "false" skips the cdk-nag checks at synth
import { pathToFileURL } from 'node:url';
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError, loadConfig, targetKeyAlias } from './config.js';
import { InfraPropsError } from './constructs/errors.js';
import { GLOBAL_EVENTS_REGION } from './constructs/drift-alerts.js';
import { CertpipeGlobalEventsStack } from './global-events-stack.js';
import { CertpipePipelineStack } from './pipeline-stack.js';
import { CertpipeTargetStack, targetRolesOf } from './target-stack.js';

export const PIPELINE_STACK_ID = 'Certpipe';
/** Only outside us-east-1: forwards IAM and Route 53 events from us-east-1 to the pipeline's region. */
export const GLOBAL_EVENTS_STACK_ID = 'CertpipeGlobalEvents';
export const targetStackId = (accountId: string, roleName: string, shared: boolean) =>
  shared ? `CertpipeTarget-${accountId}-${roleName.replace(/[^A-Za-z0-9-]/g, '-')}` : `CertpipeTarget-${accountId}`;

export interface BuildOptions {
  readonly configPath?: string;
  readonly region?: string;
  /** The pipeline stack's account (env); absent = env-agnostic. */
  readonly pipelineAccount?: string;
  /** The account the target roles trust; absent = the PipelineAccountId parameter. */
  readonly trustedPipelineAccount?: string;
  readonly nag?: boolean;
  /** The state machine's TimeoutSeconds (the construct's executionTimeout); the local tests shorten it. */
  readonly executionTimeoutSeconds?: number;
}

/** Builds both kinds of stack into `app` (the tests call this with their own App). */
export function buildApp(
  app: App,
  options: BuildOptions = {},
): { pipeline: CertpipePipelineStack; targets: CertpipeTargetStack[]; globalEvents?: CertpipeGlobalEventsStack } {
  const config = loadConfig(options.configPath);
  const region = options.region ?? 'us-east-1';
  const forwarded = region !== GLOBAL_EVENTS_REGION;
  const overrides = {
    ...(options.executionTimeoutSeconds ? { executionTimeout: Duration.seconds(options.executionTimeoutSeconds) } : {}),
    ...(forwarded ? { globalEventsForwarded: true } : {}),
  };
  const pipeline = new CertpipePipelineStack(app, PIPELINE_STACK_ID, {
    config,
    region,
    ...(options.pipelineAccount ? { env: { account: options.pipelineAccount } } : {}),
    ...(Object.keys(overrides).length ? { overrides } : {}),
  });
  const globalEvents = forwarded
    ? new CertpipeGlobalEventsStack(app, GLOBAL_EVENTS_STACK_ID, { pipelineRegion: region, ...(options.pipelineAccount ? { account: options.pipelineAccount } : {}) })
    : undefined;

  const roles = targetRolesOf(pipeline.pipeline.inventory);
  const rolesPerAccount = new Map<string, number>();
  for (const r of roles) rolesPerAccount.set(r.accountId, (rolesPerAccount.get(r.accountId) ?? 0) + 1);
  const targets = roles.map((target) => {
    // Two roles in one account: each stack gets its own id and key alias.
    const shared = (rolesPerAccount.get(target.accountId) ?? 0) > 1;
    return new CertpipeTargetStack(app, targetStackId(target.accountId, target.roleName, shared), {
      target,
      ...(options.trustedPipelineAccount ? { pipelineAccountId: options.trustedPipelineAccount } : {}),
      ...(shared ? { keyAlias: targetKeyAlias(target.roleArn, 2) } : {}),
    });
  });

  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { pipeline, targets, ...(globalEvents ? { globalEvents } : {}) };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const app = new App();
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  try {
    buildApp(app, {
      configPath: context('config'),
      region: context('region') ?? process.env.CDK_DEFAULT_REGION,
      pipelineAccount: context('pipelineAccount') ?? process.env.CDK_DEFAULT_ACCOUNT,
      trustedPipelineAccount: context('pipelineAccount'),
      nag: context('nag') !== 'false',
    });
  } catch (err) {
    // A config or props mistake is the user's to fix: say what and where, without a stack trace.
    if (err instanceof ConfigError || err instanceof InfraPropsError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
