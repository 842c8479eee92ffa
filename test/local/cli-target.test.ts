// The CLI never starts or deploys a local cloud (bin/ imports nothing from
// local/): when there is nothing to operate on it says so and names npm start.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../bin/cli.js';
import { sdkConfig, startTestCloud, type TestCloud } from '../support/cloud.js';

const LAUNCHER = fileURLToPath(new URL('../../bin/certpipe.mjs', import.meta.url));

/** The installed command as a script runs it: its own process, its exit code. */
function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAUNCHER, ...argv], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function envWith(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CERTPIPE_DATA_DIR: dataDir };
  delete env.AWS_ENDPOINT_URL;
  return env;
}

describe('certpipe against a local cloud', () => {
  let cloud: TestCloud;
  const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certpipe-nocloud-'));

  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(async () => {
    await cloud?.close();
    fs.rmSync(emptyDir, { recursive: true, force: true });
  });

  it('with no pipeline deployed: exit 2, names npm start, and deploys nothing', async () => {
    const result = await cli(['status', '--local'], envWith(cloud.dataDir));
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/the pipeline is not deployed to the local cloud at http:\/\/127\.0\.0\.1:\d+: run npm start/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    const machines = await new SFNClient(sdkConfig(cloud.url)).send(new ListStateMachinesCommand({}));
    expect(machines.stateMachines ?? []).toEqual([]);
  });

  it('with --local and no local cloud running: exit 2, names npm start, and starts nothing', async () => {
    const result = await cli(['status', '--local'], envWith(emptyDir));
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain(`no local cloud runs in ${emptyDir}: run npm start`);
    expect(fs.readdirSync(emptyDir)).toEqual([]);
  });

  it('with no target at all: exit 2, names npm start and --stack', async () => {
    const result = await cli(['status'], envWith(emptyDir));
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain(`no target: no local cloud runs in ${emptyDir} and no --stack NAME was given; run npm start`);
  });
});
