// The local Lambda service: functions registered through `/_certpipe/lambda/*`
// (the local stand-in for CreateFunction with a handler file), bundled and run
// in warm workers by LambdaRuntime. Step Functions reaches it only through
// `LambdaFunctions`, the seam a Task invocation needs and nothing more.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { jsonResponse } from '../../protocol.js';
import { AwsError, type LocalCloud, type LocalService, type ServiceFactory, type ServiceRequest } from '../../types.js';
import type { CloudWatchService } from '../cloudwatch/service.js';
import { DEFAULT_REGION, resolveFunctionArn, type RegisteredFunction } from './functions.js';
import type { StsService } from '../sts/service.js';
import { FunctionError, FunctionNotFound, InvalidFunctionDefinition, LambdaRuntime } from './runtime.js';

export { FunctionError, FunctionNotFound } from './runtime.js';

/** What a caller of functions (Step Functions' Task states) may do: look one up, invoke it. */
export interface LambdaFunctions {
  get(functionArn: string): Promise<RegisteredFunction | undefined>;
  /** Resolves with the handler's result; throws FunctionNotFound or FunctionError. */
  invoke(functionArn: string, payload: unknown, requestId?: string): Promise<unknown>;
}

export interface LambdaService extends LocalService {
  readonly functions: LambdaFunctions;
}

const SIGNING_NAME = 'lambda';

function parseBody(req: ServiceRequest): unknown {
  return JSON.parse(req.body.toString('utf8') || '{}');
}

const lambda: ServiceFactory = (cloud: LocalCloud): LambdaService => {
  const dataDir = (cloud.store as { dataDir?: string }).dataDir ?? join(process.cwd(), '.certpipe-local');
  const runtime = new LambdaRuntime({
    dataDir,
    store: cloud.store,
    defaultAccountId: () => cloud.settings.defaultAccountId,
    endpointUrl: () => cloud.endpointUrl(),
    metrics: () => cloud.service<CloudWatchService>('monitoring').metrics,
    // Lambda assumes the execution role for each sandbox; an hour, as Lambda's credentials last.
    roleCredentials: (roleArn, sessionName) => cloud.service<StsService>('sts').issue(roleArn, sessionName, 3600, cloud.now()),
  });

  return {
    signingName: SIGNING_NAME,
    functions: runtime,
    // No caller uses Lambda's own API: functions are registered and invoked through the routes below.
    operationOf: () => undefined,
    async handle() {
      throw new AwsError('UnknownOperationException', 'The local lambda service answers only /_certpipe/lambda/* (register, list, invoke)');
    },
    renderError(err, ctx) {
      return {
        status: err.status,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': err.code, 'x-amzn-requestid': ctx.requestId },
        body: JSON.stringify({ __type: err.code, message: err.message }),
      };
    },
    internalRoutes: {
      'POST /_certpipe/lambda/functions': async (req) => {
        try {
          return jsonResponse(201, await runtime.register(parseBody(req)));
        } catch (err) {
          if (err instanceof InvalidFunctionDefinition || err instanceof SyntaxError) return jsonResponse(400, { message: err.message });
          throw err;
        }
      },
      'GET /_certpipe/lambda/functions': async () => jsonResponse(200, { functions: await runtime.list() }),
      'POST /_certpipe/lambda/invoke': async (req) => {
        let request: { functionName?: unknown; payload?: unknown; accountId?: unknown; region?: unknown };
        try {
          request = parseBody(req) as typeof request;
        } catch (err) {
          return jsonResponse(400, { message: (err as Error).message });
        }
        const arn = resolveFunctionArn(String(request.functionName ?? ''), {
          region: typeof request.region === 'string' ? request.region : DEFAULT_REGION,
          accountId: typeof request.accountId === 'string' ? request.accountId : cloud.settings.defaultAccountId,
        });
        if (!arn) return jsonResponse(400, { message: `Invalid function name: ${String(request.functionName)}` });
        try {
          return jsonResponse(200, { ok: true, payload: await runtime.invoke(arn, request.payload ?? {}, randomUUID()) });
        } catch (err) {
          if (err instanceof FunctionNotFound) return jsonResponse(404, { message: err.message });
          if (err instanceof FunctionError) return jsonResponse(200, { ok: false, errorType: err.errorType, errorMessage: err.errorMessage });
          throw err;
        }
      },
    },
    close: () => runtime.close(),
  };
};

export default lambda;
