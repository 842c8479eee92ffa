// `npm start`: bring the local cloud up if needed, deploy the pipeline into it,
// run the real workflow once and show what it issued.
import { parseArgs } from 'node:util';
import { SFNClient } from '@aws-sdk/client-sfn';
import pc from 'picocolors';
import { loadConfig } from '../infra/config.js';
import { deployLocal, localSdkConfig } from './deploy.js';
import { certificateRows, renderRows } from '../bin/report.js';
import { runExecution } from '../bin/run.js';
import { ensureLocalCloud } from './lifecycle/up.js';

// This tool runs on Node 20 as well; the functions target nodejs22.x on Lambda.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: npm start [-- --config PATH] [--force] [--only NAME ...]

Runs the renewal workflow once on the local cloud (started if needed) and prints
what it issued. --force renews certificates that are not due.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      force: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  const config = loadConfig(values.config);
  const cloud = await ensureLocalCloud();
  console.log(pc.dim(`local cloud: ${cloud.endpoint}  dns: ${cloud.dnsHost}:${cloud.dnsPort}  acme: ${cloud.directoryUrl}`));

  const deployment = await deployLocal(config, {
    endpointUrl: cloud.endpoint,
    dnsPort: cloud.dnsPort,
    acmeCaBundlePath: cloud.pebbleCaPath,
    acmeManagementUrl: cloud.pebbleManagementUrl,
    ...(cloud.directoryUrl ? { acmeDirectoryUrl: cloud.directoryUrl } : {}),
    dataDir: cloud.dataDir,
  });

  const { assembly } = deployment;
  console.log(pc.dim(`deployed from the cloud assembly ${assembly.directory} (${assembly.synthesized ? 'synthesized now' : 'cached: nothing changed'})`));

  const sfn = new SFNClient(localSdkConfig(cloud.endpoint));
  const started = Date.now();
  const input = { ...(values.force ? { force: true } : {}), ...(values.only?.length ? { only: values.only } : {}) };
  const result = await runExecution(sfn, deployment.stateMachineArn, input, {
    onProgress(event) {
      const name = event.stateEnteredEventDetails?.name;
      if (!name || !process.stdout.isTTY) return;
      const cert = (() => {
        try {
          return JSON.parse(event.stateEnteredEventDetails?.input ?? '{}').name;
        } catch {
          return undefined;
        }
      })();
      process.stdout.write(pc.dim(`  ${name}${cert ? ` (${cert})` : ''}\n`));
    },
  });

  const rows = certificateRows(result.history, deployment.inventory);
  console.log(renderRows(rows, { color: Boolean(process.stdout.isTTY) }));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const status = result.status === 'SUCCEEDED' ? pc.green(result.status) : pc.red(result.status);
  console.log(`execution ${status} in ${seconds} s: ${result.executionArn}`);
  if (result.status !== 'SUCCEEDED') {
    console.log(pc.red(`${result.error ?? 'error'}: ${result.cause ?? ''}`));
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(pc.red(`npm start: ${(err as Error).message}`));
    if (process.env.CERTPIPE_DEBUG) console.error(err);
    process.exit(1);
  },
);
