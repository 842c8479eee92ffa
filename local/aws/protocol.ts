// Wire-protocol helpers for service modules: AWS JSON 1.0/1.1, AWS Query and REST-XML.
import { AwsError, type CallContext, type LocalService, type ServiceRequest, type ServiceResponse } from './types.js';

export type JsonOperation = (input: Record<string, any>, ctx: CallContext) => Promise<unknown> | unknown;

export interface JsonServiceOptions {
  readonly signingName: string;
  /** Prefix of the X-Amz-Target header, e.g. `secretsmanager` or `CertificateManager`. */
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
  readonly operations: Record<string, JsonOperation>;
  /** CloudWatch and SQS send `x-amzn-query-error` so the SDK maps codes as the Query protocol did. */
  readonly queryCompatible?: boolean;
}

/** A service speaking AWS JSON 1.0/1.1: POST /, `X-Amz-Target: <prefix>.<Operation>`. */
export function jsonService(opts: JsonServiceOptions): LocalService {
  const contentType = `application/x-amz-json-${opts.jsonVersion}`;
  return {
    signingName: opts.signingName,
    operationOf(req) {
      const target = String(req.headers['x-amz-target'] ?? '');
      const dot = target.lastIndexOf('.');
      return dot >= 0 ? target.slice(dot + 1) : undefined;
    },
    async handle(req, ctx) {
      const op = opts.operations[ctx.operation];
      if (!op) throw new AwsError('UnknownOperationException', `Operation ${ctx.operation} is not supported by the local ${opts.signingName}`);
      let input: Record<string, any>;
      try {
        input = req.body.length ? JSON.parse(req.body.toString('utf8')) : {};
      } catch {
        throw new AwsError('SerializationException', 'Request body is not valid JSON');
      }
      const output = (await op(input, ctx)) ?? {};
      return { status: 200, headers: { 'content-type': contentType }, body: JSON.stringify(output) };
    },
    renderError(err, ctx) {
      const headers: Record<string, string> = {
        'content-type': contentType,
        'x-amzn-errortype': err.code,
        'x-amzn-requestid': ctx.requestId,
      };
      if (opts.queryCompatible) headers['x-amzn-query-error'] = `${err.code};${err.faultType}`;
      return { status: err.status, headers, body: JSON.stringify({ __type: err.code, message: err.message, ...err.extra }) };
    },
  };
}

export type QueryOperation = (params: URLSearchParams, ctx: CallContext) => Promise<string> | string;

export interface QueryServiceOptions {
  readonly signingName: string;
  /** XML namespace of responses, e.g. `https://sts.amazonaws.com/doc/2011-06-15/`. */
  readonly xmlns: string;
  /** Each operation returns the inner XML of its `<OperationResult>` element. */
  readonly operations: Record<string, QueryOperation>;
}

/** A service speaking the AWS Query protocol: form-encoded POST with `Action=`, XML responses. */
export function queryService(opts: QueryServiceOptions): LocalService {
  const params = (req: ServiceRequest) =>
    new URLSearchParams(req.method === 'GET' ? req.query : new URLSearchParams(req.body.toString('utf8')));
  return {
    signingName: opts.signingName,
    operationOf(req) {
      return params(req).get('Action') ?? undefined;
    },
    async handle(req, ctx) {
      const op = opts.operations[ctx.operation];
      if (!op) throw new AwsError('InvalidAction', `Could not find operation ${ctx.operation} for version 2011-06-15`);
      const inner = await op(params(req), ctx);
      const body =
        `<${ctx.operation}Response xmlns="${opts.xmlns}">` +
        `<${ctx.operation}Result>${inner}</${ctx.operation}Result>` +
        `<ResponseMetadata><RequestId>${ctx.requestId}</RequestId></ResponseMetadata>` +
        `</${ctx.operation}Response>`;
      return { status: 200, headers: { 'content-type': 'text/xml' }, body };
    },
    renderError(err, ctx) {
      return xmlErrorResponse(err, ctx, opts.xmlns);
    },
  };
}

/** `<ErrorResponse>` as the Query and REST-XML protocols send it. */
export function xmlErrorResponse(err: AwsError, ctx: CallContext, xmlns?: string): ServiceResponse {
  const ns = xmlns ? ` xmlns="${xmlns}"` : '';
  const body =
    `<?xml version="1.0"?>\n<ErrorResponse${ns}><Error><Type>${err.faultType}</Type>` +
    `<Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error>` +
    `<RequestId>${ctx.requestId}</RequestId></ErrorResponse>`;
  return { status: err.status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': ctx.requestId }, body };
}

export function xmlEscape(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A plain JSON answer, for the local-only `/_certpipe/` routes. */
export function jsonResponse(status: number, value: unknown): ServiceResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

/** Opaque pagination token over a sorted key index. */
export function encodeToken(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeToken(token: string | undefined | null, code = 'InvalidNextTokenException'): string | undefined {
  if (token === undefined || token === null || token === '') return undefined;
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (!key) throw new AwsError(code, 'The pagination token is invalid');
  return key;
}

/** Epoch seconds with millisecond precision, as the JSON protocols send timestamps. */
export function epochSeconds(date: Date | string | number): number {
  return new Date(date).getTime() / 1000;
}
