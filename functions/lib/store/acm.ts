// ACM publishing: import once, then re-import into the same ARN on every
// renewal so load balancers and CloudFront distributions that reference the ARN
// pick up the new certificate without being touched. The ARN per account and
// region is remembered as a tag on the primary secret (certpipe:acm:<account>:<region>).
import {
  DescribeCertificateCommand,
  ImportCertificateCommand,
  type ACMClient,
  type KeyAlgorithm as AcmKeyAlgorithm,
} from '@aws-sdk/client-acm';
import { asAwsError, awsErrorName } from '../aws.js';
import { AcmReimportIncompatible } from '../workflow/errors.js';
import type { CertificateSpec, KeyAlgorithm } from '../inventory.js';
import type { CertificateStore, IssuedCertificate } from './certificateStore.js';
import { TAG } from './certificateStore.js';

/** ACM's name for each key algorithm certpipe issues. */
export const ACM_KEY_ALGORITHMS: Record<KeyAlgorithm, AcmKeyAlgorithm> = {
  'ecdsa-p256': 'EC_prime256v1',
  'ecdsa-p384': 'EC_secp384r1',
  'rsa-2048': 'RSA_2048',
  'rsa-3072': 'RSA_3072',
  'rsa-4096': 'RSA_4096',
};

export interface AcmImportResult {
  certificateArn: string;
  /** False for a first import (a new ARN). */
  reimported: boolean;
}

/**
 * Import `issued` into ACM: re-import into `existingArn` when it still exists,
 * otherwise a first import tagged as certpipe's. A re-import whose key algorithm
 * differs from the existing certificate's is refused before ACM is called
 * (ACM rejects it, and the ARN's users would keep the old certificate).
 */
export async function importToAcm(
  acm: ACMClient,
  issued: IssuedCertificate,
  existingArn: string | undefined,
): Promise<AcmImportResult> {
  const wanted = ACM_KEY_ALGORITHMS[issued.keyAlgorithm];
  const pem = {
    Certificate: Buffer.from(issued.certificate),
    PrivateKey: Buffer.from(issued.privateKey),
    ...(issued.chain ? { CertificateChain: Buffer.from(issued.chain) } : {}),
  };

  if (existingArn) {
    const existing = await describe(acm, existingArn);
    if (existing) {
      if (existing.keyAlgorithm && existing.keyAlgorithm !== wanted) {
        throw new AcmReimportIncompatible(
          `ACM certificate ${existingArn} uses ${existing.keyAlgorithm} and the renewed certificate of ` +
            `${issued.certificateName} uses ${wanted}; ACM re-imports only with the same key algorithm. ` +
            `Keep keyAlgorithm at its previous value, or delete the ACM certificate (after detaching it) so a new one is imported.`,
        );
      }
      try {
        await acm.send(new ImportCertificateCommand({ CertificateArn: existingArn, ...pem }));
      } catch (err) {
        throw asAwsError(err, `Re-importing ${issued.certificateName} into ACM ${existingArn}`);
      }
      return { certificateArn: existingArn, reimported: true };
    }
  }

  try {
    const imported = await acm.send(
      new ImportCertificateCommand({
        ...pem,
        Tags: [
          { Key: TAG.managed, Value: 'true' },
          { Key: TAG.certificate, Value: issued.certificateName },
        ],
      }),
    );
    if (!imported.CertificateArn) throw new Error('ACM ImportCertificate returned no ARN');
    return { certificateArn: imported.CertificateArn, reimported: false };
  } catch (err) {
    throw asAwsError(err, `Importing ${issued.certificateName} into ACM`);
  }
}

/** Import into the ACM of `accountId`/`region`, using and recording the ARN tag on the primary secret. */
export async function publishToAcm(input: {
  store: CertificateStore;
  spec: CertificateSpec;
  acm: ACMClient;
  accountId: string;
  region: string;
  issued: IssuedCertificate;
}): Promise<AcmImportResult> {
  const { store, spec, accountId, region } = input;
  const existingArn = await store.acmCertificateArn(spec, accountId, region);
  const result = await importToAcm(input.acm, input.issued, existingArn);
  if (result.certificateArn !== existingArn) {
    await store.recordAcmCertificateArn(spec, accountId, region, result.certificateArn);
  }
  return result;
}

async function describe(acm: ACMClient, arn: string): Promise<{ keyAlgorithm?: string } | undefined> {
  try {
    const r = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    return r.Certificate?.KeyAlgorithm ? { keyAlgorithm: r.Certificate.KeyAlgorithm } : {};
  } catch (err) {
    // Deleted out of band: import anew (and record the new ARN).
    if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
    throw asAwsError(err, `Describing ACM certificate ${arn}`);
  }
}
