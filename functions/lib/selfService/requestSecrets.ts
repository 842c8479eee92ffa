// The port to the request secrets in Secrets Manager: list those under the
// prefix that carry a dns-names tag (one paginated ListSecrets), read one, and
// write the pipeline's answer in its `certpipe:status` tag.
import { DescribeSecretCommand, paginateListSecrets, TagResourceCommand, type SecretsManagerClient, type Tag } from '@aws-sdk/client-secrets-manager';
import { asAwsError, awsErrorName } from '../aws.js';
import { REQUEST_TAG, type RequestSecret } from './requests.js';

export interface RequestSecrets {
  /** Every request secret under `prefix` (tagged with dns-names). */
  list(prefix: string): Promise<RequestSecret[]>;
  /** One request secret by name, or undefined when it is gone. */
  read(name: string): Promise<RequestSecret | undefined>;
  /** Writes the pipeline's answer on the request (only when it changed). */
  answer(request: RequestSecret, status: string): Promise<void>;
}

const tagsOf = (tags: Tag[] | undefined): Record<string, string> => Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

export function requestSecrets(sm: SecretsManagerClient): RequestSecrets {
  return {
    async list(prefix) {
      const found: RequestSecret[] = [];
      const filters = [
        { Key: 'name' as const, Values: [prefix] },
        { Key: 'tag-key' as const, Values: [REQUEST_TAG.dnsNames] },
      ];
      try {
        for await (const page of paginateListSecrets({ client: sm, pageSize: 100 }, { Filters: filters })) {
          // The name filter matches a prefix of any word: keep only names that really start with it.
          for (const s of page.SecretList ?? []) if (s.Name?.startsWith(prefix) && s.ARN) found.push({ name: s.Name, arn: s.ARN, tags: tagsOf(s.Tags) });
        }
      } catch (err) {
        throw asAwsError(err, 'Secrets Manager ListSecrets (self-service requests)');
      }
      return found;
    },
    async read(name) {
      try {
        const s = await sm.send(new DescribeSecretCommand({ SecretId: name }));
        return s.Name && s.ARN ? { name: s.Name, arn: s.ARN, tags: tagsOf(s.Tags) } : undefined;
      } catch (err) {
        if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
        throw asAwsError(err, 'Secrets Manager DescribeSecret (self-service request)');
      }
    },
    async answer(request, status) {
      if (request.tags[REQUEST_TAG.status] === status) return;
      try {
        await sm.send(new TagResourceCommand({ SecretId: request.arn, Tags: [{ Key: REQUEST_TAG.status, Value: status }] }));
      } catch (err) {
        throw asAwsError(err, 'Secrets Manager TagResource (self-service status)');
      }
    },
  };
}
