// The publish-targets port: secret copies and ACM imports, in this account or,
// through the target's role, another (targets.ts); ACM ARNs remembered on the primary secret.
import type { AwsClients } from '../aws.js';
import { publishToAcm } from '../store/acm.js';
import type { CertificateStore } from '../store/certificateStore.js';
import { publishSecretCopy } from '../store/copies.js';
import { publishedTargetId } from '../targetIds.js';
import { callerAccountId, clientsFor } from '../targets.js';
import type { PublishTargets } from './types.js';

export function awsTargets(aws: AwsClients, store: CertificateStore, now: () => Date = () => new Date()): PublishTargets {
  return {
    primaryId: async (spec) =>
      publishedTargetId({ type: 'secretsmanager', accountId: await callerAccountId(aws), region: aws.defaultRegion, secretName: spec.secretName }),
    async publish(spec, target, issued) {
      const clients = await clientsFor(aws, target, now);
      if (target.type === 'secretsmanager') {
        await publishSecretCopy(clients.secretsManager, target, issued);
        return publishedTargetId({ type: 'secretsmanager', accountId: clients.accountId, region: target.region, secretName: target.name });
      }
      const result = await publishToAcm({ store, spec, acm: clients.acm, accountId: clients.accountId, region: target.region, issued });
      return publishedTargetId({ type: 'acm', accountId: clients.accountId, region: target.region, certificateArn: result.certificateArn });
    },
  };
}
