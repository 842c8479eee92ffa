#!/usr/bin/env node
// Launcher for `npx certpipe`. In this repository it registers tsx and runs the
// TypeScript CLI, so no build step stands between the source and the command;
// from the installed package (no sources beside it) it runs the compiled CLI.
import { existsSync } from 'node:fs';

// Before any AWS SDK module loads: the tools support Node 20.19+ (Lambda runs nodejs22.x).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let cli;
if (existsSync(new URL('./cli.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('./cli.ts');
} else {
  // A URL, not a literal: the compiled CLI exists only in the built package.
  cli = await import(new URL('../dist/bin/cli.js', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
