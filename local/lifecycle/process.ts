// Processes of the local cloud (daemon, Pebble): liveness, identity by command
// line (a recycled pid must never be signalled), and their log tails.
import fs from 'node:fs';

/** The last `lines` lines of a text file ('' when it does not exist). */
export function tailFile(file: string, lines = 30): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** On Linux, whether `pid` runs a command line containing `marker` (guards against killing a recycled pid). */
export function processMatches(pid: number, marker: string): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    // No /proc (macOS): trust the pid file.
    return process.platform !== 'linux';
  }
}
