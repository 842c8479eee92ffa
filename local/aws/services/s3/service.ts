// The local S3 (REST-XML, path-style `/<bucket>/<key>`): the few calls a
// Distributed Map and its ItemReader/ResultWriter need, and the buckets the
// template declares. Bucket names are global; a bucket belongs to the account
// that created it, and another account's request is refused as AWS would
// without a bucket policy (the local cloud stores none).
import { createHash } from 'node:crypto';
import { xmlEscape } from '../../protocol.js';
import { AwsError, type CallContext, type Collection, type LocalCloud, type LocalService, type ServiceFactory, type ServiceRequest, type ServiceResponse } from '../../types.js';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

interface BucketRecord {
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly creationDate: number;
}

interface ObjectRecord {
  readonly body: string; // base64
  readonly etag: string;
  readonly contentType: string;
  readonly lastModified: number;
}

/** The S3 module as other local services see it (`cloud.service<S3Service>('s3')`): Step Functions' ItemReader and ResultWriter. */
export interface S3Service extends LocalService {
  /** Creates a bucket owned by `accountId` (the template's AWS::S3::Bucket); an existing one of the same owner is kept. */
  createBucket(name: string, accountId: string, region: string): Promise<void>;
  /** Reads an object as `accountId` would; AwsError NoSuchBucket / NoSuchKey / AccessDenied as S3 answers. */
  getObject(bucket: string, key: string, accountId: string): Promise<Buffer>;
  putObject(bucket: string, key: string, body: Buffer, accountId: string, contentType?: string): Promise<{ etag: string }>;
}

export interface S3Route {
  readonly operation: string;
  readonly bucket?: string;
  readonly key?: string;
}

/** The operation, bucket and key of a path-style request. */
export function s3Route(req: Pick<ServiceRequest, 'method' | 'path' | 'query'>): S3Route | undefined {
  const [rawBucket, ...rest] = req.path.replace(/^\//, '').split('/');
  const bucket = rawBucket ? decodeURIComponent(rawBucket) : undefined;
  const key = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  const method = req.method.toUpperCase();
  if (!bucket) return method === 'GET' ? { operation: 'ListBuckets' } : undefined;
  if (!key) {
    if (method === 'PUT') return { operation: 'CreateBucket', bucket };
    if (method === 'HEAD') return { operation: 'HeadBucket', bucket };
    if (method === 'GET' && req.query.get('list-type') === '2') return { operation: 'ListObjectsV2', bucket };
    return undefined;
  }
  const byMethod: Record<string, string> = { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' };
  return byMethod[method] ? { operation: byMethod[method]!, bucket, key } : undefined;
}

function xml(root: string, inner: string, status = 200): ServiceResponse {
  return { status, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${inner}</${root}>` };
}
const el = (name: string, value: string | number | boolean | undefined) => (value === undefined ? '' : `<${name}>${xmlEscape(value)}</${name}>`);
const iso = (ms: number) => new Date(ms).toISOString();

type S3Operation = (req: ServiceRequest, route: S3Route, ctx: CallContext) => Promise<ServiceResponse> | ServiceResponse;

class S3 {
  private buckets!: Collection<BucketRecord>;
  private objects!: Collection<ObjectRecord>;
  readonly ready: Promise<void>;

  constructor(private readonly cloud: LocalCloud) {
    this.ready = (async () => {
      this.buckets = await cloud.store.collection<BucketRecord>('s3/buckets');
      this.objects = await cloud.store.collection<ObjectRecord>('s3/objects');
    })();
  }

  private bucket(name: string, accountId: string): BucketRecord {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, 'Sender', { BucketName: name });
    if (bucket.accountId !== accountId) throw new AwsError('AccessDenied', 'Access Denied', 403);
    return bucket;
  }

  async createBucket(name: string, accountId: string, region: string): Promise<void> {
    await this.ready;
    if (!BUCKET_NAME.test(name)) throw new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, 'Sender', { BucketName: name });
    const existing = this.buckets.get(name);
    if (existing) {
      if (existing.accountId === accountId) return;
      throw new AwsError('BucketAlreadyExists', 'The requested bucket name is not available.', 409, 'Sender', { BucketName: name });
    }
    await this.buckets.put(name, { name, accountId, region, creationDate: this.cloud.now().getTime() });
  }

  async putObject(bucket: string, key: string, body: Buffer, accountId: string, contentType = 'binary/octet-stream') {
    await this.ready;
    this.bucket(bucket, accountId);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    await this.objects.put(`${bucket}/${key}`, { body: body.toString('base64'), etag, contentType, lastModified: this.cloud.now().getTime() });
    return { etag };
  }

  private object(bucket: string, key: string, accountId: string): ObjectRecord {
    this.bucket(bucket, accountId);
    const object = this.objects.get(`${bucket}/${key}`);
    if (!object) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404, 'Sender', { Key: key });
    return object;
  }

  async getObject(bucket: string, key: string, accountId: string): Promise<Buffer> {
    await this.ready;
    return Buffer.from(this.object(bucket, key, accountId).body, 'base64');
  }

  /** One handler per operation `s3Route` names. */
  readonly operations: Record<string, S3Operation> = {
    CreateBucket: async (_req, { bucket = '' }, ctx) => {
      await this.createBucket(bucket, ctx.accountId, ctx.region);
      return { status: 200, headers: { location: `/${bucket}` } };
    },
    HeadBucket: (_req, { bucket = '' }, ctx) => ({ status: 200, headers: { 'x-amz-bucket-region': this.bucket(bucket, ctx.accountId).region } }),
    ListBuckets: (_req, _route, ctx) => {
      const mine = this.buckets.keys().map((k) => this.buckets.get(k)!).filter((b) => b.accountId === ctx.accountId);
      return xml('ListAllMyBucketsResult', `<Buckets>${mine.map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', iso(b.creationDate))}</Bucket>`).join('')}</Buckets>`);
    },
    ListObjectsV2: (req, { bucket = '' }, ctx) => this.listObjectsV2(bucket, req.query, ctx),
    PutObject: async (req, { bucket = '', key = '' }, ctx) => {
      const { etag } = await this.putObject(bucket, key, req.body, ctx.accountId, String(req.headers['content-type'] ?? 'binary/octet-stream'));
      return { status: 200, headers: { etag } };
    },
    GetObject: (_req, route, ctx) => this.objectResponse(route, ctx, true),
    HeadObject: (_req, route, ctx) => this.objectResponse(route, ctx, false),
    DeleteObject: async (_req, { bucket = '', key = '' }, ctx) => {
      this.bucket(bucket, ctx.accountId);
      // Deleting an absent key is a success in S3.
      await this.objects.delete(`${bucket}/${key}`);
      return { status: 204 };
    },
  };

  async handle(req: ServiceRequest, ctx: CallContext): Promise<ServiceResponse> {
    await this.ready;
    const route = s3Route(req);
    const operation = route && this.operations[route.operation];
    if (!route || !operation) throw new AwsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
    return operation(req, route, ctx);
  }

  private objectResponse({ bucket = '', key = '' }: S3Route, ctx: CallContext, withBody: boolean): ServiceResponse {
    const object = this.object(bucket, key, ctx.accountId);
    const body = Buffer.from(object.body, 'base64');
    const headers = { etag: object.etag, 'content-type': object.contentType, 'content-length': String(body.length), 'last-modified': new Date(object.lastModified).toUTCString() };
    return { status: 200, headers, body: withBody ? body : undefined };
  }

  private listObjectsV2(bucket: string, query: URLSearchParams, ctx: CallContext): ServiceResponse {
    this.bucket(bucket, ctx.accountId);
    const prefix = query.get('prefix') ?? '';
    const maxKeys = Math.min(1000, Math.max(0, Number(query.get('max-keys') ?? 1000) || 0));
    const token = query.get('continuation-token');
    const startAfter = token ? Buffer.from(token, 'base64url').toString('utf8') : (query.get('start-after') ?? '');
    const base = `${bucket}/`;
    const from = `${base}${prefix > startAfter ? prefix : `${startAfter}\u0000`}`;
    const contents: string[] = [];
    let last: string | undefined;
    let truncated = false;
    for (const fullKey of this.objects.keysFrom(from, maxKeys + 1)) {
      if (!fullKey.startsWith(`${base}${prefix}`)) break;
      if (contents.length === maxKeys) {
        truncated = true;
        break;
      }
      const key = fullKey.slice(base.length);
      const o = this.objects.get(fullKey)!;
      contents.push(`<Contents>${el('Key', key)}${el('LastModified', iso(o.lastModified))}${el('ETag', o.etag)}${el('Size', Buffer.from(o.body, 'base64').length)}${el('StorageClass', 'STANDARD')}</Contents>`);
      last = key;
    }
    // The token names the last key returned: the next page starts after it.
    const next = truncated ? Buffer.from(last ?? startAfter, 'utf8').toString('base64url') : undefined;
    return xml(
      'ListBucketResult',
      el('Name', bucket) + el('Prefix', prefix) + el('KeyCount', contents.length) + el('MaxKeys', maxKeys) + el('IsTruncated', next !== undefined) +
        contents.join('') + (token ? el('ContinuationToken', token) : '') + (next ? el('NextContinuationToken', next) : ''),
    );
  }
}

/** S3's error body: `<Error>` with the code, message, request id and the resource it concerns. HEAD answers carry no body. */
function renderError(err: AwsError, ctx: CallContext, method?: string): ServiceResponse {
  const headers = { 'content-type': 'application/xml', 'x-amz-request-id': ctx.requestId };
  if (method === 'HEAD') return { status: err.status, headers };
  const extra = Object.entries(err.extra).map(([k, v]) => el(k, String(v))).join('');
  return { status: err.status, headers, body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${el('Code', err.code)}${el('Message', err.message)}${extra}${el('RequestId', ctx.requestId)}</Error>` };
}

const s3: ServiceFactory = (cloud: LocalCloud): S3Service => {
  const model = new S3(cloud);
  return {
    signingName: 's3',
    operationOf: (req) => s3Route(req)?.operation,
    handle: async (req, ctx) => {
      try {
        return await model.handle(req, ctx);
      } catch (err) {
        if (err instanceof AwsError) return renderError(err, ctx, req.method.toUpperCase());
        throw err;
      }
    },
    renderError: (err, ctx) => renderError(err, ctx),
    createBucket: (name, accountId, region) => model.createBucket(name, accountId, region),
    getObject: (bucket, key, accountId) => model.getObject(bucket, key, accountId),
    putObject: (bucket, key, body, accountId, contentType) => model.putObject(bucket, key, body, accountId, contentType),
  };
};

export default s3;
