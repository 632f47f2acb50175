/** What the remote-cache tests share: a directory output stage and a byte-level view of a tree. */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A stage writing a directory output (two files, one nested). */
export const TREE_STAGE = `  tree:
    kind: command
    params:
      cmd: "mkdir -p \${outputs.d}/sub && printf a > \${outputs.d}/a.txt && printf b > \${outputs.d}/sub/b.txt"
      outs: {d: dir}
`;

/** relative path → sha256 of every file under `dir` ({} when it does not exist). */
export function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}
