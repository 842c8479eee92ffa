// The ARI port (RFC 9773) over HTTPS and the certificate secrets' tags: the CA's
// directory (is there a renewalInfo resource?), one unauthenticated GET per stale
// certificate, and the answer kept in the tags. CheckExpiry's only CA requests.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { TagResourceCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { encodeAriCache, encodeExplanation } from '../acme/ariCache.js';
import { asAwsError } from '../aws.js';
import { TAG } from '../tagNames.js';
import type { RenewalInformation } from './types.js';

const TIMEOUT_MS = 10_000;

/** GET a URL; the CA bundle (CERTPIPE_ACME_CA_BUNDLE) is trusted beside the public roots, as for ACME. */
function httpsGet(url: string, agent: https.Agent): Promise<{ status: number; retryAfter: string | null; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { agent, timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: (res.headers['retry-after'] as string | undefined) ?? null, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

export function renewalInformation(sm: SecretsManagerClient, env: NodeJS.ProcessEnv = process.env): RenewalInformation {
  const bundle = env.CERTPIPE_ACME_CA_BUNDLE;
  const agent = new https.Agent({ keepAlive: true, ...(bundle ? { ca: [...rootCertificates, readFileSync(bundle, 'utf8')] } : {}) });
  // Per warm process: a directory's resources do not change between runs; a failed read is not kept.
  const directories = new Map<string, Promise<string | undefined>>();
  return {
    renewalInfoUrl(directoryUrl) {
      let known = directories.get(directoryUrl);
      if (!known) {
        known = httpsGet(directoryUrl, agent).then((res) => {
          if (res.status !== 200) throw new Error(`the ACME directory ${directoryUrl} answered ${res.status}`);
          const url = (JSON.parse(res.body) as { renewalInfo?: unknown }).renewalInfo;
          return typeof url === 'string' && url ? url : undefined;
        });
        directories.set(directoryUrl, known);
        known.catch(() => directories.delete(directoryUrl));
      }
      return known;
    },
    async fetch(renewalInfoUrl, certId) {
      const res = await httpsGet(`${renewalInfoUrl.replace(/\/$/, '')}/${certId}`, agent);
      if (res.status !== 200) throw new Error(`renewalInfo for ${certId} answered ${res.status}: ${res.body.slice(0, 200)}`);
      return { body: JSON.parse(res.body) as unknown, retryAfter: res.retryAfter };
    },
    async remember(spec, cache) {
      try {
        await sm.send(
          new TagResourceCommand({
            SecretId: spec.secretName,
            Tags: [
              { Key: TAG.ariCache, Value: encodeAriCache(cache) },
              { Key: TAG.ariExplanation, Value: encodeExplanation(cache.window.explanationUrl) ?? '' },
            ],
          }),
        );
      } catch (err) {
        throw asAwsError(err, `Tagging secret ${spec.secretName} with its ARI window`);
      }
    },
  };
}
