// A run's objects in the stack's bucket: the due list CheckExpiry writes for the
// Distributed Map's ItemReader, and the result files its ResultWriter leaves for
// Summarize. Two verbs (PUT and GET of JSON) signed with the SDK's own SigV4
// signer: @aws-sdk/client-s3 is not a dependency of this project yet. When it
// is, replace `s3Request` and keep the port.
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { AwsTransient } from '../workflow/errors.js';

/** What the steps need of the run bucket. */
export interface RunObjects {
  readonly bucket: string;
  putJson(key: string, value: unknown): Promise<void>;
  getJson<T>(key: string, bucket?: string): Promise<T>;
}

export interface S3Location {
  readonly region: string;
  /** AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL when set (path-style there); else S3's regional endpoint. */
  readonly endpoint?: string;
  readonly credentials: AwsCredentialIdentityProvider;
}

type Bytes = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Bytes) =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** SHA-256 (and its HMAC) from node:crypto, in the shape SignatureV4 takes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: Bytes) {
    this.hash = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: Bytes) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** An S3 error as the SDK would name it: `name` is S3's error Code, `$metadata.httpStatusCode` the status. */
export class S3RequestError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

const ATTEMPTS = 3;

/** One signed path-style request; 5xx and SlowDown are retried twice with a short backoff, as the SDK would. */
export async function s3Request(location: S3Location, method: 'GET' | 'PUT', bucket: string, key: string, body?: string): Promise<string> {
  const base = new URL(location.endpoint ?? `https://s3.${location.region}.amazonaws.com`);
  const path = `/${bucket}${key ? `/${key.split('/').map(encodeURIComponent).join('/')}` : ''}`;
  const signer = new SignatureV4({ credentials: location.credentials, region: location.region, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: true });
  for (let attempt = 1; ; attempt++) {
    const signed = await signer.sign({
      method,
      protocol: base.protocol,
      hostname: base.hostname,
      ...(base.port ? { port: Number(base.port) } : {}),
      path,
      query: {},
      headers: { host: base.host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body,
    });
    let res: Response;
    try {
      res = await fetch(`${base.origin}${path}`, { method, headers: signed.headers as Record<string, string>, body });
    } catch (err) {
      if (attempt < ATTEMPTS) continue;
      throw new AwsTransient(`S3 ${method} s3://${bucket}/${key}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (res.ok) return text;
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `Http${res.status}`;
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? res.statusText;
    const transient = res.status >= 500 || code === 'SlowDown';
    if (transient && attempt < ATTEMPTS) {
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt * Math.random()));
      continue;
    }
    const error = new S3RequestError(code, `S3 ${method} s3://${bucket}/${key}: ${code}: ${message}`, res.status);
    throw transient ? new AwsTransient(error.message, { cause: error }) : error;
  }
}

export function s3RunObjects(bucket: string, location: S3Location): RunObjects {
  return {
    bucket,
    putJson: async (key, value) => {
      await s3Request(location, 'PUT', bucket, key, JSON.stringify(value));
    },
    getJson: async <T>(key: string, from = bucket) => JSON.parse(await s3Request(location, 'GET', from, key)) as T,
  };
}
