// `npm start`: bring the local cloud up if needed, deploy the pipeline into it,
// run the real workflow once and show what it issued — with progress from the
// first moment: the heavy modules load inside the first phase, after the spinner.
import { parseArgs } from 'node:util';
import pc from 'picocolors';
import { terminalWidth } from '../bin/layout.js';
import { createReporter } from '../bin/progress/reporter.js';

// Before any AWS client is made: the tools support Node 20.19+ (Lambda runs nodejs22.x).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: npm start [-- --config PATH] [--force] [--only NAME ...] [--wide]

Runs the renewal workflow once on the local cloud (started if needed) and prints
what it issued. --force renews certificates that are not due; --wide shows every
column (names, full targets, seconds per step).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      force: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      wide: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  const isTTY = Boolean(process.stdout.isTTY);
  const color = isTTY && !process.env.NO_COLOR;
  const width = terminalWidth(process.stdout.columns, process.env);
  const progress = createReporter(process.stdout, { isTTY, color, width });

  const cloud = await progress.phase(
    'local cloud',
    async () => {
      const { ensureLocalCloud } = await import('./lifecycle/up.js');
      const { readLocalEnv } = await import('./lifecycle/env.js');
      const { readCloudInfo } = await import('../bin/local-cloud.js');
      const env = readLocalEnv();
      const before = readCloudInfo(env.dataDir);
      const info = await ensureLocalCloud(env);
      // Same process as before: it was already running and is reused.
      return { info, reused: before?.pid === info.pid };
    },
    ({ info, reused }) => ({ text: pc.dim(info.endpoint), cached: reused }),
  );

  const { loadConfig, toInventory } = await import('../infra/config.js');
  const { configWarnings, scheduleWarnings } = await import('../infra/config/warnings.js');
  const config = loadConfig(values.config);
  const inventory = toInventory(config, { region: 'us-east-1' });
  for (const w of [...configWarnings(inventory), ...scheduleWarnings(config.pipeline.schedule, inventory)]) {
    progress.line(`${pc.yellow('warning')}: ${w.path ? `${w.path}: ` : ''}${w.message}`);
  }

  const { deployLocal, localSdkConfig, stagingCaOf } = await import('./deploy.js');
  // The deploy reports its own phases (synthesis, bundling, deploy) through onPhase once it times them.
  const target = {
    endpointUrl: cloud.info.endpoint,
    dnsPort: cloud.info.dnsPort,
    acmeCaBundlePath: cloud.info.pebbleCaPath,
    acmeManagementUrl: cloud.info.pebbleManagementUrl,
    ...(cloud.info.directoryUrl ? { acmeDirectoryUrl: cloud.info.directoryUrl } : {}),
    ...stagingCaOf(cloud.info),
    dataDir: cloud.info.dataDir,
    onPhase: progress.onPhase,
  };
  const deployment = await progress.phase('deploy', () => deployLocal(config, target));

  const { SFNClient } = await import('@aws-sdk/client-sfn');
  const { runExecution } = await import('../bin/run.js');
  const { ExecutionTracker, countsText } = await import('../bin/progress/tracker.js');
  const { certificateRows, renderRows } = await import('../bin/report.js');

  const sfn = new SFNClient(localSdkConfig(cloud.info.endpoint));
  const started = Date.now();
  const input = { ...(values.force ? { force: true } : {}), ...(values.only?.length ? { only: values.only } : {}) };
  const tracker = new ExecutionTracker();
  progress.status('running the renewal workflow…');
  const result = await runExecution(sfn, deployment.stateMachineArn, input, {
    onProgress(event) {
      for (const line of tracker.observe(event)) progress.line(line);
      progress.status(`renewing: ${countsText(tracker.counts)}`);
    },
  }).finally(() => progress.stop());

  // Certificates adopted from self-service requests join the configured ones, as in `certpipe status`.
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const { adoptedInventory } = await import('../bin/commands/requests.js');
  const withRequests = await adoptedInventory(new SecretsManagerClient(localSdkConfig(cloud.info.endpoint)), deployment.inventory);
  const rows = certificateRows(result.history, withRequests);
  console.log(renderRows(rows, { color, wide: values.wide, width }));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const status = result.status === 'SUCCEEDED' ? pc.green(result.status) : pc.red(result.status);
  console.log(`execution ${status} in ${seconds} s: ${pc.dim(result.executionArn.split(':').pop() ?? result.executionArn)}`);
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
