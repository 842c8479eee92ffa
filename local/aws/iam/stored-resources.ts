// The `ResourceTags` port over the local services' stores: a secret's full ARN,
// tags and key, a certificate's tags. The collections are opened before the
// request is judged (the port is synchronous), for the caller's account and
// region and for the account and region of any ARN the request names.
import type { Collection, LocalStore } from '../types.js';
import type { RequestScope, ResourceTags, StoredResource } from './operations.js';

interface Tagged {
  readonly arn: string;
  readonly tags: ReadonlyArray<{ Key: string; Value: string }>;
  readonly kmsKeyId?: string;
}

const SECRET_ARN = /^arn:aws[\w-]*:secretsmanager:([\w-]+):(\d{12}):secret:(.+)$/;
const CERTIFICATE_ARN = /^arn:aws[\w-]*:acm:([\w-]+):(\d{12}):certificate\/(.+)$/;

const secretsOf = (accountId: string, region: string) => `secretsmanager/${accountId}/${region}/secrets`;
const certificatesOf = (accountId: string, region: string) => `acm/${accountId}/${region}/certificates`;

const tagRecord = (tags: Tagged['tags']) => Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));

/** Opens what judging this request may read, then answers synchronously from memory. */
export async function storedResources(store: LocalStore, service: string, body: Readonly<Record<string, unknown>>, scope: RequestScope): Promise<ResourceTags> {
  const opened = new Map<string, Collection<Tagged>>();
  const open = async (name: string) => {
    if (!opened.has(name)) opened.set(name, await store.collection<Tagged>(name));
  };
  if (service === 'secretsmanager') {
    const arn = SECRET_ARN.exec(String(body.SecretId ?? ''));
    await open(secretsOf(arn?.[2] ?? scope.accountId, arn?.[1] ?? scope.region));
  } else if (service === 'acm') {
    const arn = CERTIFICATE_ARN.exec(String(body.CertificateArn ?? ''));
    if (arn) await open(certificatesOf(arn[2]!, arn[1]!));
  }

  const asResource = (item: Tagged | undefined): StoredResource | undefined =>
    item && { arn: item.arn, tags: tagRecord(item.tags), ...(item.kmsKeyId ? { kmsKeyId: item.kmsKeyId } : {}) };

  return {
    find(kind, id, at) {
      if (kind === 'secret') {
        const arn = SECRET_ARN.exec(id);
        const secrets = opened.get(secretsOf(arn?.[2] ?? at.accountId, arn?.[1] ?? at.region));
        if (!secrets) return undefined;
        if (!arn) return asResource(secrets.get(id));
        // A full ARN ends in `-` and six characters; a partial ARN is the name.
        const full = /^(.+)-[A-Za-z0-9]{6}$/.exec(arn[3]!);
        const byFull = full ? secrets.get(full[1]!) : undefined;
        return asResource(byFull?.arn === id ? byFull : secrets.get(arn[3]!));
      }
      if (kind === 'certificate') {
        const arn = CERTIFICATE_ARN.exec(id);
        return arn ? asResource(opened.get(certificatesOf(arn[2]!, arn[1]!))?.get(arn[3]!)) : undefined;
      }
      // No local KMS or tagged state machines: the operation table falls back to the ARN the request names.
      return undefined;
    },
  };
}
