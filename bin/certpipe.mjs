#!/usr/bin/env node
// Launcher for `npx certpipe`: registers tsx in this process, then runs the
// TypeScript CLI, so no build step stands between the source and the command.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
