// freePort hands out ports for servers that need a fixed number (Pebble's ACME and
// management listeners). CI once got the same port for both in one test (stop 18:
// "bind: address already in use"): the kernel readily hands a just-closed port out again.
import { describe, expect, it } from 'vitest';
import { freePort } from '../../local/lifecycle/ports.js';

describe('freePort', () => {
  it('never hands the same port out twice in one process', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 2_000; i++) ports.push(await freePort());
    const repeated = ports.filter((p, i) => ports.indexOf(p) !== i);
    expect(repeated).toEqual([]);
  });
});
