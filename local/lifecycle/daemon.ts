// Process entry of the background local cloud (started by `npm run local:up`):
// runs it until SIGTERM or SIGINT, then stops every part before exiting.
import type { LocalSettings } from '../aws/types.js';
import { startLocalCloud } from './cloud.js';
import { readLocalEnv } from './env.js';

async function main(): Promise<void> {
  const env = readLocalEnv();
  const settings: Partial<LocalSettings> = {};
  if (env.insyncDelayMs !== undefined) settings.insyncDelayMs = env.insyncDelayMs;
  if (env.dnsLagMs !== undefined) settings.dnsLagMs = env.dnsLagMs;

  const cloud = await startLocalCloud({
    dataDir: env.dataDir,
    host: env.host,
    port: env.port,
    dnsPort: env.dnsPort,
    pebble: {
      port: env.pebblePort,
      managementPort: env.pebbleManagementPort,
      validitySeconds: env.pebbleValiditySeconds,
      staging: { port: env.stagingPebblePort, managementPort: env.stagingPebbleManagementPort },
    },
    settings,
  });
  const { info } = cloud;
  console.log(
    `${new Date().toISOString()} certpipe local cloud up (pid ${info.pid}): endpoint ${info.endpoint}, ` +
      `dns ${info.dnsHost}:${info.dnsPort}, acme ${info.directoryUrl}, staging acme ${info.stagingDirectoryUrl}`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${new Date().toISOString()} ${signal}: stopping`);
    cloud.close().then(
      () => {
        console.log(`${new Date().toISOString()} stopped`);
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`${new Date().toISOString()} stopped with errors:`, err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Detached from any terminal: a closing terminal must not stop the cloud.
  process.on('SIGHUP', () => undefined);
}

main().catch((err: unknown) => {
  console.error(`${new Date().toISOString()} certpipe local cloud failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
