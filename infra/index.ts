// `certpipe/cdk`: what a CDK app that installed certpipe builds with. The pipeline
// construct (or the stack that wraps it around a config), the target-account
// construct, and the config's types and loaders that resolve a config into the
// pipeline's inventory.
export {
  CertificateRenewalPipeline,
  DEFAULT_PUBLISHER_ROLE_NAME,
  type CertificateRenewalPipelineProps,
  type LogLevelName,
} from './constructs/certificate-renewal-pipeline.js';
export { CertpipeTargetAccess, type CertpipeTargetAccessProps, type TargetSecret } from './constructs/certpipe-target-access.js';
export { InfraPropsError } from './constructs/errors.js';
export { CertpipePipelineStack, type CertpipePipelineStackProps } from './pipeline-stack.js';
export { CertpipeTargetStack, targetRolesOf, type CertpipeTargetStackProps, type TargetRoleSpec } from './target-stack.js';
export {
  ConfigError,
  loadConfig,
  parseConfig,
  toInventory,
  validateConfig,
  type CertpipeConfig,
  type CertpipeConfigInput,
  type ConfigProblem,
} from './config.js';
export { configWarnings } from './config/warnings.js';
export type { Inventory, CertificateSpec } from '../functions/lib/inventory.js';
