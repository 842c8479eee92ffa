// The local endpoint's AWS Certificate Manager (JSON 1.1, X-Amz-Target `CertificateManager.*`):
// ImportCertificate (with ACM's re-import rules), Describe/Get/List/Delete and tags.
// Each certificate is one resource in `acm/<account>/<region>/certificates`.
import { randomUUID } from 'node:crypto';
import { jsonService } from '../../protocol.js';
import { AwsError, type CallContext, type LocalCloud, type LocalService, type ServiceFactory } from '../../types.js';
import { certificateArn, parseCertificateArn } from './arn.js';
import { notFound, validation } from './errors.js';
import { checkReimport, validateImport } from './import-rules.js';
import { listCertificates } from './list.js';
import { KeyedLock } from '../../lock.js';
import type { StoredCertificate } from './model.js';
import { addTags, readTags, removeTags } from './tags.js';
import { certificateDetail } from './views.js';

/** ACM's default quota of certificates per account and region. */
export const DEFAULT_CERTIFICATE_QUOTA = 2500;

export interface AcmOptions {
  /** Certificates one account may hold in one region before ImportCertificate fails with LimitExceededException. */
  readonly certificateQuota?: number;
}

const present = (value: unknown) => value !== undefined && value !== null;

export function createAcmService(cloud: LocalCloud, options: AcmOptions = {}): LocalService {
  const quota = options.certificateQuota ?? DEFAULT_CERTIFICATE_QUOTA;
  const lock = new KeyedLock();
  const certificates = (accountId: string, region: string) =>
    cloud.store.collection<StoredCertificate>(`acm/${accountId}/${region}/certificates`);

  /** The caller's certificate an ARN names; another account's or region's ARN is simply not found. */
  async function locate(ctx: CallContext, arnValue: unknown) {
    const address = parseCertificateArn(arnValue);
    const arn = String(arnValue);
    if (address.accountId !== ctx.accountId || address.region !== ctx.region) throw notFound(arn);
    const collection = await certificates(ctx.accountId, ctx.region);
    return { arn, key: address.id, collection };
  }

  async function existing(ctx: CallContext, arnValue: unknown): Promise<StoredCertificate> {
    const { arn, key, collection } = await locate(ctx, arnValue);
    const cert = collection.get(key);
    if (!cert) throw notFound(arn);
    return cert;
  }

  async function importNew(input: Record<string, any>, ctx: CallContext) {
    const tags = present(input.Tags) ? readTags(input.Tags) : [];
    const material = validateImport(input, ctx.now);
    const collection = await certificates(ctx.accountId, ctx.region);
    if (collection.size >= quota) {
      throw new AwsError(
        'LimitExceededException',
        'You have reached the maximum number of certificates. Delete certificates that are not in use, or contact AWS Support to request an increase.',
      );
    }
    const id = randomUUID();
    const arn = certificateArn({ region: ctx.region, accountId: ctx.accountId, id });
    const now = ctx.now.toISOString();
    await collection.put(id, { arn, ...material, createdAt: now, importedAt: now, tags });
    return { CertificateArn: arn };
  }

  async function reimport(input: Record<string, any>, ctx: CallContext) {
    const { arn, key, collection } = await locate(ctx, input.CertificateArn);
    if (present(input.Tags)) throw validation('Tagging is not permitted on re-import.');
    return lock.run(arn, async () => {
      const current = collection.get(key);
      if (!current) throw notFound(arn);
      const material = validateImport(input, ctx.now);
      checkReimport(current.facts.keyAlgorithm, material.facts.keyAlgorithm);
      // Same ARN, tags and creation time: what services attached to it keep using.
      await collection.put(key, { ...current, ...material, importedAt: ctx.now.toISOString() });
      return { CertificateArn: arn };
    });
  }

  /** Read-modify-write of one certificate under its lock. */
  async function update(ctx: CallContext, arnValue: unknown, change: (cert: StoredCertificate) => StoredCertificate) {
    const { arn, key, collection } = await locate(ctx, arnValue);
    await lock.run(arn, async () => {
      const current = collection.get(key);
      if (!current) throw notFound(arn);
      await collection.put(key, change(current));
    });
  }

  return jsonService({
    signingName: 'acm',
    targetPrefix: 'CertificateManager',
    jsonVersion: '1.1',
    operations: {
      ImportCertificate: (input, ctx) => (present(input.CertificateArn) ? reimport(input, ctx) : importNew(input, ctx)),

      async DescribeCertificate(input, ctx) {
        return { Certificate: certificateDetail(await existing(ctx, input.CertificateArn), ctx.now) };
      },

      async GetCertificate(input, ctx) {
        const cert = await existing(ctx, input.CertificateArn);
        return {
          Certificate: cert.certificatePem,
          ...(cert.chainPems.length ? { CertificateChain: cert.chainPems.join('') } : {}),
        };
      },

      async ListCertificates(input, ctx) {
        return listCertificates(await certificates(ctx.accountId, ctx.region), input, ctx.now);
      },

      async AddTagsToCertificate(input, ctx) {
        const tags = readTags(input.Tags);
        await update(ctx, input.CertificateArn, (cert) => ({ ...cert, tags: addTags(cert.tags, tags) }));
        return {};
      },

      async RemoveTagsFromCertificate(input, ctx) {
        const tags = readTags(input.Tags);
        await update(ctx, input.CertificateArn, (cert) => ({ ...cert, tags: removeTags(cert.tags, tags) }));
        return {};
      },

      async ListTagsForCertificate(input, ctx) {
        return { Tags: (await existing(ctx, input.CertificateArn)).tags };
      },

      async DeleteCertificate(input, ctx) {
        const { arn, key, collection } = await locate(ctx, input.CertificateArn);
        await lock.run(arn, async () => {
          if (!(await collection.delete(key))) throw notFound(arn);
        });
        return {};
      },
    },
  });
}

function quotaFromEnvironment(): number | undefined {
  const raw = process.env.CERTPIPE_ACM_CERTIFICATE_QUOTA;
  const n = raw ? Number(raw) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** `CERTPIPE_ACM_CERTIFICATE_QUOTA` raises the quota for large local inventories. */
const factory: ServiceFactory = (cloud) => createAcmService(cloud, { certificateQuota: quotaFromEnvironment() });
export default factory;
