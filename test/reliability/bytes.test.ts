/**
 * Byte-stable encodings: the same logical table gives the same bytes whatever ran before in the
 * process (Arrow JS numbers dictionaries from a process-wide counter), in a fresh process and in
 * a reused one; and the bytes read back to the same table.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tableFromArrays, vectorFromArray, tableFromIPC } from 'apache-arrow';
import { makeTable, numericVector, tableToBytes } from '../../src/sdk/table.js';
import { sha256 } from '../../src/lib/hash.js';
import { repoRoot } from '../engine/helpers.js';

// a table like `aggregate`'s and the hebbian comparison's: dictionary-encoded string columns
const build = () => makeTable({
  arm: vectorFromArray(['plain', 'hebb', 'plain', 'meta']),
  split: vectorFromArray(['val', 'test', 'test', 'val']),
  acc: numericVector('float64', [0.5, 0.25, 0.125, 1]),
}, { task: 'classification', target: 'arm' });

describe('byte-stable tables', () => {
  it('the same table gives the same bytes after other dictionaries were made (a reused worker)', () => {
    const first = tableToBytes(build());
    // what another stage in the same worker would do first: many dictionary columns
    for (let i = 0; i < 7; i++) tableFromArrays({ s: ['x', 'y', String(i)] });
    const again = tableToBytes(build());
    expect(sha256(again)).toBe(sha256(first));
    // it reads back as the same table, dictionaries included
    const t = tableFromIPC(again);
    expect(t.getChild('arm')!.toArray()).toEqual(['plain', 'hebb', 'plain', 'meta']);
    expect(t.getChild('split')!.toArray()).toEqual(['val', 'test', 'test', 'val']);
    expect([...t.getChild('acc')!.toArray()]).toEqual([0.5, 0.25, 0.125, 1]);
  });

  it('a fresh process writes the bytes a reused one does', () => {
    const here = sha256(tableToBytes(build()));
    const script = `
      import { vectorFromArray } from 'apache-arrow';
      import { makeTable, numericVector, tableToBytes } from './src/sdk/table.ts';
      import { createHash } from 'node:crypto';
      const t = makeTable({
        arm: vectorFromArray(['plain', 'hebb', 'plain', 'meta']),
        split: vectorFromArray(['val', 'test', 'test', 'val']),
        acc: numericVector('float64', [0.5, 0.25, 0.125, 1]),
      }, { task: 'classification', target: 'arm' });
      process.stdout.write(createHash('sha256').update(tableToBytes(t)).digest('hex'));`;
    const fresh = execFileSync(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
    expect(fresh).toBe(here);
  });
});
