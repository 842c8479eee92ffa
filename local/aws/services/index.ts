// The service modules the local endpoint serves, one per AWS service certpipe calls.
import type { ServiceFactory } from '../types.js';

const MODULES = ['secretsmanager', 'route53', 'acm', 'sts', 'events', 'cloudwatch', 'stepfunctions'] as const;

// TEMPORARY while the modules are being written in parallel: a missing module is skipped.
export async function loadServices(): Promise<ServiceFactory[]> {
  const factories: ServiceFactory[] = [];
  for (const name of MODULES) {
    try {
      const mod = (await import(`./${name}.js`)) as { default: ServiceFactory };
      factories.push(mod.default);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' || !String((err as Error).message).includes(`/${name}.`)) throw err;
    }
  }
  return factories;
}
