// Ports, paths and timing of the local cloud, read from CERTPIPE_* environment variables.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The repository root (this file lives in <root>/local/lifecycle/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalEnv {
  /** Local AWS endpoint port (CERTPIPE_LOCAL_PORT). */
  readonly port: number;
  /** Address every part listens on (CERTPIPE_LOCAL_HOST). */
  readonly host: string;
  /** Authoritative DNS server port, UDP and TCP (CERTPIPE_DNS_PORT). */
  readonly dnsPort: number;
  /** Absolute path of the data directory (CERTPIPE_DATA_DIR). */
  readonly dataDir: string;
  /** Pebble's ACME listener port (CERTPIPE_PEBBLE_PORT). */
  readonly pebblePort: number;
  /** Pebble's management port, serving /roots/0 (CERTPIPE_PEBBLE_MGMT_PORT). */
  readonly pebbleManagementPort: number;
  /** The staging Pebble's ACME and management ports (CERTPIPE_PEBBLE_STAGING_PORT, CERTPIPE_PEBBLE_STAGING_MGMT_PORT). */
  readonly stagingPebblePort: number;
  readonly stagingPebbleManagementPort: number;
  /** Lifetime of the certificates Pebble issues (CERTPIPE_PEBBLE_VALIDITY_SECONDS). */
  readonly pebbleValiditySeconds: number;
  /** Route 53 PENDING → INSYNC delay; undefined keeps the endpoint's default (CERTPIPE_INSYNC_DELAY_MS). */
  readonly insyncDelayMs?: number;
  /** Extra delay before a change shows in DNS; undefined keeps the endpoint's default (CERTPIPE_DNS_LAG_MS). */
  readonly dnsLagMs?: number;
}

const port = z.coerce.number().int().min(1).max(65535);
const nonNegativeInt = z.coerce.number().int().min(0);

// Each variable with its schema and default; an empty value counts as unset.
const variables = {
  CERTPIPE_LOCAL_PORT: port.default(4566),
  CERTPIPE_LOCAL_HOST: z.string().min(1).default('127.0.0.1'),
  CERTPIPE_DNS_PORT: port.default(8053),
  CERTPIPE_DATA_DIR: z.string().min(1).default(path.join(repoRoot, '.certpipe-local')),
  CERTPIPE_PEBBLE_PORT: port.default(14000),
  CERTPIPE_PEBBLE_MGMT_PORT: port.default(15000),
  CERTPIPE_PEBBLE_STAGING_PORT: port.default(14001),
  CERTPIPE_PEBBLE_STAGING_MGMT_PORT: port.default(15001),
  // 90 days, like Let's Encrypt.
  CERTPIPE_PEBBLE_VALIDITY_SECONDS: z.coerce.number().int().min(1).default(7_776_000),
  CERTPIPE_INSYNC_DELAY_MS: nonNegativeInt.optional(),
  CERTPIPE_DNS_LAG_MS: nonNegativeInt.optional(),
} as const;

type VariableName = keyof typeof variables;

/** A CERTPIPE_* variable holds a value that cannot be used. */
export class LocalEnvError extends Error {
  override readonly name = 'LocalEnvError';
  constructor(readonly variable: string, message: string) {
    super(message);
  }
}

function read<N extends VariableName>(env: NodeJS.ProcessEnv, name: N): z.output<(typeof variables)[N]> {
  const raw = env[name];
  const result = variables[name].safeParse(raw === '' ? undefined : raw);
  if (!result.success) {
    const why = result.error.issues[0]?.message ?? 'invalid value';
    throw new LocalEnvError(name, `${name}=${JSON.stringify(raw)} is not valid: ${why}`);
  }
  return result.data as z.output<(typeof variables)[N]>;
}

/** Reads and validates the CERTPIPE_* variables; throws LocalEnvError naming the first bad one. */
export function readLocalEnv(env: NodeJS.ProcessEnv = process.env): LocalEnv {
  const settings: LocalEnv = {
    port: read(env, 'CERTPIPE_LOCAL_PORT'),
    host: read(env, 'CERTPIPE_LOCAL_HOST'),
    dnsPort: read(env, 'CERTPIPE_DNS_PORT'),
    dataDir: path.resolve(read(env, 'CERTPIPE_DATA_DIR')),
    pebblePort: read(env, 'CERTPIPE_PEBBLE_PORT'),
    pebbleManagementPort: read(env, 'CERTPIPE_PEBBLE_MGMT_PORT'),
    stagingPebblePort: read(env, 'CERTPIPE_PEBBLE_STAGING_PORT'),
    stagingPebbleManagementPort: read(env, 'CERTPIPE_PEBBLE_STAGING_MGMT_PORT'),
    pebbleValiditySeconds: read(env, 'CERTPIPE_PEBBLE_VALIDITY_SECONDS'),
    insyncDelayMs: read(env, 'CERTPIPE_INSYNC_DELAY_MS'),
    dnsLagMs: read(env, 'CERTPIPE_DNS_LAG_MS'),
  };
  const ports = [settings.port, settings.dnsPort, settings.pebblePort, settings.pebbleManagementPort, settings.stagingPebblePort, settings.stagingPebbleManagementPort];
  if (new Set(ports).size !== ports.length) {
    throw new LocalEnvError(
      'CERTPIPE_PEBBLE_PORT',
      `CERTPIPE_LOCAL_PORT, CERTPIPE_DNS_PORT, CERTPIPE_PEBBLE_PORT, CERTPIPE_PEBBLE_MGMT_PORT, CERTPIPE_PEBBLE_STAGING_PORT and CERTPIPE_PEBBLE_STAGING_MGMT_PORT must differ (got ${ports.join(', ')})`,
    );
  }
  return settings;
}
