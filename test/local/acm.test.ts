// The local ACM through the real @aws-sdk/client-acm: import and re-import with ACM's
// rules, describe/get/list/tags/delete, account and region isolation, persistence.
import fs from 'node:fs';
import os from 'node:os';
import {
  ACMClient,
  AddTagsToCertificateCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ImportCertificateCommand,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
  RemoveTagsFromCertificateCommand,
  paginateListCertificates,
  type ImportCertificateCommandInput,
} from '@aws-sdk/client-acm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../local/aws/server.js';
import { createChain, createRootCa, issueLeaf, pemBundle, type Issued } from './support/pki.js';

const ACCOUNT_A = '111111111111';
const ACCOUNT_B = '222222222222';
const DAY = 86_400_000;

const dataDir = fs.mkdtempSync(os.tmpdir() + '/certpipe-');
/** Every raw response body the endpoint sent, errors included, to prove no key ever leaves it. */
const responseBodies: string[] = [];
let server: LocalAws;

function acm(accountId: string, region = 'us-east-1'): ACMClient {
  const client = new ACMClient({
    endpoint: server.url,
    region,
    credentials: { accessKeyId: accountId, secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  // Below the deserializer: sees the raw HTTP body, records it and hands it on as bytes.
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { body?: AsyncIterable<Uint8Array> | Uint8Array };
      if (response.body && !(response.body instanceof Uint8Array)) {
        const chunks: Buffer[] = [];
        for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
        response.body = Buffer.concat(chunks);
      }
      if (response.body) responseBodies.push(Buffer.from(response.body).toString('utf8'));
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'recordResponseBody' },
  );
  return client;
}

const bytes = (pem: string) => new TextEncoder().encode(pem);

function importInput(leaf: Issued, chain?: string, extra: Partial<ImportCertificateCommandInput> = {}): ImportCertificateCommandInput {
  return {
    Certificate: bytes(leaf.certificatePem),
    PrivateKey: bytes(leaf.privateKeyPem),
    ...(chain ? { CertificateChain: bytes(chain) } : {}),
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { name: string; message: string };
  }
  throw new Error('expected the call to fail');
}

const colonSerial = (cert: Issued) =>
  cert.certificate.serialNumber
    .toLowerCase()
    .replace(/^(?:00)+(?=..)/, '')
    .match(/../g)!
    .join(':');

// One PKI for the file: ECDSA P-256 chain, an RSA 2048 root, and leaves made from them.
let ec: Awaited<ReturnType<typeof createChain>>;
let rsaRoot: Issued;
let rsaLeaf: Issued;
let clientA: ACMClient;
let ecArn: string;
let rsaArn: string;

beforeAll(async () => {
  server = await startLocalAws({ port: 0, dataDir });
  clientA = acm(ACCOUNT_A);
  ec = await createChain(['www.example.com', 'example.com'], 'ec-p256');
  rsaRoot = await createRootCa({ key: 'rsa-2048', name: 'CN=certpipe RSA root, O=certpipe RSA tests' });
  rsaLeaf = await issueLeaf(rsaRoot, { key: 'rsa-2048', dnsNames: ['rsa.example.com'] });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('ImportCertificate and what ACM reports', () => {
  it('imports an ECDSA P-256 leaf with its chain and tags and returns an ACM ARN', async () => {
    const out = await clientA.send(
      new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem, { Tags: [{ Key: 'certpipe:name', Value: 'www' }, { Key: 'team' }] })),
    );
    expect(out.CertificateArn).toMatch(new RegExp(`^arn:aws:acm:us-east-1:${ACCOUNT_A}:certificate/[0-9a-f-]{36}$`));
    ecArn = out.CertificateArn!;
  });

  it('describes the certificate the way ACM does', async () => {
    const { Certificate: d } = await clientA.send(new DescribeCertificateCommand({ CertificateArn: ecArn }));
    expect(d).toMatchObject({
      CertificateArn: ecArn,
      DomainName: 'www.example.com',
      SubjectAlternativeNames: ['www.example.com', 'example.com'],
      Serial: colonSerial(ec.leaf),
      Subject: 'CN=www.example.com',
      Issuer: 'certpipe tests',
      KeyAlgorithm: 'EC_prime256v1',
      SignatureAlgorithm: 'SHA256WITHECDSA',
      Type: 'IMPORTED',
      Status: 'ISSUED',
      InUseBy: [],
      RenewalEligibility: 'INELIGIBLE',
      ExtendedKeyUsages: [{ Name: 'TLS_WEB_SERVER_AUTHENTICATION', OID: '1.3.6.1.5.5.7.3.1' }],
      KeyUsages: [{ Name: 'DIGITAL_SIGNATURE' }],
    });
    expect(d!.Serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})*$/);
    expect(d!.NotBefore).toEqual(ec.leaf.certificate.notBefore);
    expect(d!.NotAfter).toEqual(ec.leaf.certificate.notAfter);
    expect(d!.ImportedAt).toBeInstanceOf(Date);
  });

  it('returns the certificate and its chain, nearest issuer first', async () => {
    const out = await clientA.send(new GetCertificateCommand({ CertificateArn: ecArn }));
    expect(out.Certificate?.trim()).toBe(ec.leaf.certificatePem.trim());
    expect(out.CertificateChain).toBe(pemBundle(ec.intermediate, ec.root));
    expect(JSON.stringify(out)).not.toContain('PRIVATE KEY');
  });

  it('imports an RSA 2048 leaf without a chain', async () => {
    const out = await clientA.send(new ImportCertificateCommand(importInput(rsaLeaf)));
    rsaArn = out.CertificateArn!;
    const { Certificate: d } = await clientA.send(new DescribeCertificateCommand({ CertificateArn: rsaArn }));
    expect(d).toMatchObject({ KeyAlgorithm: 'RSA_2048', SignatureAlgorithm: 'SHA256WITHRSA', Issuer: 'certpipe RSA tests' });
    const got = await clientA.send(new GetCertificateCommand({ CertificateArn: rsaArn }));
    expect(got.CertificateChain).toBeUndefined();
  });
});

describe('ImportCertificate rejects what ACM rejects', () => {
  it('refuses an expired certificate', async () => {
    const expired = await issueLeaf(ec.intermediate, {
      dnsNames: ['old.example.com'],
      notBefore: new Date(Date.now() - 30 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    const err = await rejection(clientA.send(new ImportCertificateCommand(importInput(expired, ec.chainPem))));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/expired/);
  });

  it('refuses a certificate that is not valid yet', async () => {
    const early = await issueLeaf(ec.intermediate, {
      dnsNames: ['soon.example.com'],
      notBefore: new Date(Date.now() + DAY),
      notAfter: new Date(Date.now() + 30 * DAY),
    });
    const err = await rejection(clientA.send(new ImportCertificateCommand(importInput(early, ec.chainPem))));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/not yet valid/);
  });

  it('refuses a private key that does not match the certificate', async () => {
    const input = { ...importInput(ec.leaf, ec.chainPem), PrivateKey: bytes(ec.intermediate.privateKeyPem) };
    const err = await rejection(clientA.send(new ImportCertificateCommand(input)));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe('The private key does not match the public key in the certificate.');
  });

  it('refuses a chain that does not link to the leaf', async () => {
    for (const chain of [pemBundle(ec.root), pemBundle(ec.root, ec.intermediate), pemBundle(ec.leaf, ec.intermediate, ec.root)]) {
      const err = await rejection(clientA.send(new ImportCertificateCommand(importInput(ec.leaf, chain))));
      expect(err.name).toBe('ValidationException');
      expect(err.message).toBe('Could not validate the certificate with the certificate chain.');
    }
  });

  it('refuses a bundle in the Certificate field, and text that is not PEM', async () => {
    const bundle = { ...importInput(ec.leaf), Certificate: bytes(pemBundle(ec.leaf, ec.intermediate)) };
    const err = await rejection(clientA.send(new ImportCertificateCommand(bundle)));
    expect(err.message).toMatch(/more than one certificate/);
    const junk = { ...importInput(ec.leaf), Certificate: bytes('not a certificate') };
    expect((await rejection(clientA.send(new ImportCertificateCommand(junk)))).name).toBe('ValidationException');
  });

  it('refuses tags with the reserved aws: prefix', async () => {
    const err = await rejection(clientA.send(new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem, { Tags: [{ Key: 'aws:owner', Value: 'x' }] }))));
    expect(err.name).toBe('InvalidTagException');
  });
});

describe('ListCertificates', () => {
  it('lists only RSA_1024 and RSA_2048 certificates by default, as ACM documents', async () => {
    const out = await clientA.send(new ListCertificatesCommand({}));
    const arns = out.CertificateSummaryList!.map((c) => c.CertificateArn);
    expect(arns).toContain(rsaArn);
    expect(arns).not.toContain(ecArn);
  });

  it('lists other key types when Includes.keyTypes asks for them', async () => {
    const out = await clientA.send(new ListCertificatesCommand({ Includes: { keyTypes: ['EC_prime256v1'] } }));
    expect(out.CertificateSummaryList!.map((c) => c.CertificateArn)).toEqual([ecArn]);
    expect(out.CertificateSummaryList![0]).toMatchObject({
      DomainName: 'www.example.com',
      SubjectAlternativeNameSummaries: ['www.example.com', 'example.com'],
      HasAdditionalSubjectAlternativeNames: false,
      Status: 'ISSUED',
      Type: 'IMPORTED',
      KeyAlgorithm: 'EC_prime256v1',
      InUse: false,
    });
  });

  it('filters by status', async () => {
    const keyTypes = ['EC_prime256v1' as const, 'RSA_2048' as const];
    const expired = await clientA.send(new ListCertificatesCommand({ CertificateStatuses: ['EXPIRED'], Includes: { keyTypes } }));
    expect(expired.CertificateSummaryList).toEqual([]);
    const issued = await clientA.send(new ListCertificatesCommand({ CertificateStatuses: ['ISSUED'], Includes: { keyTypes } }));
    expect(issued.CertificateSummaryList).toHaveLength(2);
  });

  it('pages with MaxItems and NextToken, each certificate exactly once', async () => {
    const extra: string[] = [];
    for (let i = 0; i < 5; i++) {
      extra.push((await clientA.send(new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem)))).CertificateArn!);
    }
    const seen: string[] = [];
    const pages: number[] = [];
    const input = { Includes: { keyTypes: ['EC_prime256v1' as const, 'RSA_2048' as const] }, MaxItems: 2 };
    for await (const page of paginateListCertificates({ client: clientA }, input)) {
      pages.push(page.CertificateSummaryList!.length);
      seen.push(...page.CertificateSummaryList!.map((c) => c.CertificateArn!));
    }
    expect(pages).toEqual([2, 2, 2, 1]);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set([ecArn, rsaArn, ...extra]));

    const sorted = await clientA.send(
      new ListCertificatesCommand({ ...input, MaxItems: 10, SortBy: 'CREATED_AT', SortOrder: 'DESCENDING' }),
    );
    expect(sorted.CertificateSummaryList!.at(-1)!.CertificateArn).toBe(ecArn);

    for (const arn of extra) await clientA.send(new DeleteCertificateCommand({ CertificateArn: arn }));
  });

  it('rejects a NextToken it did not issue and a MaxItems out of range', async () => {
    expect((await rejection(clientA.send(new ListCertificatesCommand({ NextToken: 'bm9wZQ' })))).name).toBe('InvalidArgsException');
    expect((await rejection(clientA.send(new ListCertificatesCommand({ MaxItems: 0 })))).name).toBe('ValidationException');
  });
});

describe('tags', () => {
  it('lists the tags given at import', async () => {
    const out = await clientA.send(new ListTagsForCertificateCommand({ CertificateArn: ecArn }));
    expect(out.Tags).toEqual([{ Key: 'certpipe:name', Value: 'www' }, { Key: 'team' }]);
  });

  it('adds, replaces and removes tags with ACM semantics', async () => {
    await clientA.send(
      new AddTagsToCertificateCommand({ CertificateArn: ecArn, Tags: [{ Key: 'team', Value: 'edge' }, { Key: 'env', Value: 'dev' }] }),
    );
    // A Value that does not match leaves the tag; no Value removes it by key.
    await clientA.send(new RemoveTagsFromCertificateCommand({ CertificateArn: ecArn, Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team' }] }));
    const out = await clientA.send(new ListTagsForCertificateCommand({ CertificateArn: ecArn }));
    expect(out.Tags).toEqual([{ Key: 'certpipe:name', Value: 'www' }, { Key: 'env', Value: 'dev' }]);
  });

  it('enforces the 50-tag limit and the aws: prefix', async () => {
    const many = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect((await rejection(clientA.send(new AddTagsToCertificateCommand({ CertificateArn: ecArn, Tags: many })))).name).toBe('TooManyTagsException');
    const reserved = [{ Key: 'aws:x', Value: 'v' }];
    expect((await rejection(clientA.send(new AddTagsToCertificateCommand({ CertificateArn: ecArn, Tags: reserved })))).name).toBe('InvalidTagException');
  });
});

describe('re-import to the same ARN', () => {
  it('replaces the certificate in place: same ARN, new serial, tags kept', async () => {
    const renewed = await issueLeaf(ec.intermediate, { dnsNames: ['www.example.com', 'example.com', 'api.example.com'] });
    const out = await clientA.send(new ImportCertificateCommand(importInput(renewed, ec.chainPem, { CertificateArn: ecArn })));
    expect(out.CertificateArn).toBe(ecArn);
    const { Certificate: d } = await clientA.send(new DescribeCertificateCommand({ CertificateArn: ecArn }));
    expect(d!.Serial).toBe(colonSerial(renewed));
    expect(d!.Serial).not.toBe(colonSerial(ec.leaf));
    expect(d!.SubjectAlternativeNames).toEqual(['www.example.com', 'example.com', 'api.example.com']);
    const got = await clientA.send(new GetCertificateCommand({ CertificateArn: ecArn }));
    expect(got.Certificate?.trim()).toBe(renewed.certificatePem.trim());
    const tags = await clientA.send(new ListTagsForCertificateCommand({ CertificateArn: ecArn }));
    expect(tags.Tags).toEqual([{ Key: 'certpipe:name', Value: 'www' }, { Key: 'env', Value: 'dev' }]);
  });

  it('refuses a change of key type', async () => {
    const err = await rejection(clientA.send(new ImportCertificateCommand(importInput(rsaLeaf, undefined, { CertificateArn: ecArn }))));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/key type has changed.*\(RSA_2048\).*\(EC_prime256v1\)/);
  });

  it('refuses a change of key size', async () => {
    const bigger = await issueLeaf(rsaRoot, { key: 'rsa-3072', dnsNames: ['rsa.example.com'] });
    const err = await rejection(clientA.send(new ImportCertificateCommand(importInput(bigger, undefined, { CertificateArn: rsaArn }))));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/key size has changed.*\(RSA_3072\).*\(RSA_2048\)/);
  });

  it('refuses tags on re-import', async () => {
    const err = await rejection(
      clientA.send(new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem, { CertificateArn: ecArn, Tags: [{ Key: 'a', Value: 'b' }] }))),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe('Tagging is not permitted on re-import.');
  });

  it('refuses an ARN that does not exist or is not an ARN', async () => {
    const missing = ecArn.replace(/[0-9a-f]{12}$/, '000000000000');
    const notFound = await rejection(clientA.send(new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem, { CertificateArn: missing }))));
    expect(notFound.name).toBe('ResourceNotFoundException');
    const bad = await rejection(clientA.send(new DescribeCertificateCommand({ CertificateArn: 'arn:aws:s3:::certpipe-bucket/x' })));
    expect(bad.name).toBe('InvalidArnException');
  });
});

describe('accounts and regions are isolated', () => {
  it('another account cannot see or change the certificate', async () => {
    const clientB = acm(ACCOUNT_B);
    // ACM has no resource policies: IAM refuses another account's caller before ACM looks.
    expect((await rejection(clientB.send(new DescribeCertificateCommand({ CertificateArn: ecArn })))).name).toBe('AccessDeniedException');
    expect((await rejection(clientB.send(new DeleteCertificateCommand({ CertificateArn: ecArn })))).name).toBe('AccessDeniedException');
    const listed = await clientB.send(new ListCertificatesCommand({ Includes: { keyTypes: ['EC_prime256v1', 'RSA_2048'] } }));
    expect(listed.CertificateSummaryList).toEqual([]);
  });

  it('another region of the same account has its own certificates', async () => {
    const euWest = acm(ACCOUNT_A, 'eu-west-1');
    const listed = await euWest.send(new ListCertificatesCommand({ Includes: { keyTypes: ['EC_prime256v1', 'RSA_2048'] } }));
    expect(listed.CertificateSummaryList).toEqual([]);
    const arn = (await euWest.send(new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem)))).CertificateArn!;
    expect(arn).toContain(`:acm:eu-west-1:${ACCOUNT_A}:`);
    expect((await rejection(clientA.send(new DescribeCertificateCommand({ CertificateArn: arn })))).name).toBe('ResourceNotFoundException');
  });
});

describe('persistence and deletion', () => {
  it('keeps certificates and tags across a restart', async () => {
    const before = await clientA.send(new DescribeCertificateCommand({ CertificateArn: ecArn }));
    await server.close();
    server = await startLocalAws({ port: 0, dataDir });
    clientA = acm(ACCOUNT_A);
    const after = await clientA.send(new DescribeCertificateCommand({ CertificateArn: ecArn }));
    expect(after.Certificate).toEqual(before.Certificate);
    const tags = await clientA.send(new ListTagsForCertificateCommand({ CertificateArn: ecArn }));
    expect(tags.Tags).toContainEqual({ Key: 'certpipe:name', Value: 'www' });
    const got = await clientA.send(new GetCertificateCommand({ CertificateArn: rsaArn }));
    expect(got.Certificate?.trim()).toBe(rsaLeaf.certificatePem.trim());
  });

  it('deletes a certificate; a second delete is not found', async () => {
    await clientA.send(new DeleteCertificateCommand({ CertificateArn: rsaArn }));
    expect((await rejection(clientA.send(new DescribeCertificateCommand({ CertificateArn: rsaArn })))).name).toBe('ResourceNotFoundException');
    expect((await rejection(clientA.send(new DeleteCertificateCommand({ CertificateArn: rsaArn })))).name).toBe('ResourceNotFoundException');
  });
});

describe('quota', () => {
  it('answers LimitExceededException past the certificate quota', async () => {
    const quotaDir = fs.mkdtempSync(os.tmpdir() + '/certpipe-');
    process.env.CERTPIPE_ACM_CERTIFICATE_QUOTA = '2';
    const small = await startLocalAws({ port: 0, dataDir: quotaDir });
    delete process.env.CERTPIPE_ACM_CERTIFICATE_QUOTA;
    try {
      const client = new ACMClient({ endpoint: small.url, region: 'us-east-1', credentials: { accessKeyId: ACCOUNT_A, secretAccessKey: 'test' }, maxAttempts: 1 });
      await client.send(new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem)));
      await client.send(new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem)));
      const err = await rejection(client.send(new ImportCertificateCommand(importInput(ec.leaf, ec.chainPem))));
      expect(err.name).toBe('LimitExceededException');
    } finally {
      await small.close();
      fs.rmSync(quotaDir, { recursive: true, force: true });
    }
  });
});

describe('the private key never leaves the endpoint', () => {
  it('appears in no response body, success or error', () => {
    expect(responseBodies.length).toBeGreaterThan(30);
    const keyMaterial = [ec.leaf, rsaLeaf].map((k) => k.privateKeyPem.split('\n')[1]!);
    for (const body of responseBodies) {
      expect(body).not.toContain('PRIVATE KEY');
      for (const line of keyMaterial) expect(body).not.toContain(line);
    }
  });
});
