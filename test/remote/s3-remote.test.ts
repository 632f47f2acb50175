/**
 * The `s3` remote backend against a real S3-compatible HTTP server on loopback (s3rver, started
 * here): the AWS SDK for JavaScript talks to it as to any non-AWS store (endpoint, path style,
 * checksums when required). B pulls what A pushed, byte for byte; bad credentials and an
 * unreachable endpoint are clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { files, TREE_STAGE } from './helpers.js';
import { pipeWithEnv, project, summary } from '../engine/helpers.js';

const PIPELINE = `name: shared
stages:
  gen:
    kind: command
    params:
      cmd: "head -c 300000 /dev/zero | tr '\\\\0' x > \${outputs.out}"
      outs: {out: text}
${TREE_STAGE}  both:
    kind: command
    inputs: {g: gen.out, t: tree.d}
    params:
      cmd: "cat \${inputs.g} \${inputs.t}/a.txt \${inputs.t}/sub/b.txt | wc -c > \${outputs.out}"
      outs: {out: text}
`;

let server: S3rver;
let endpoint = '';
const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_PROFILE: undefined, AWS_REGION: undefined };

beforeAll(async () => {
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: mkdtempSync(join(tmpdir(), 's3rver-')), configureBuckets: [{ name: 'team-cache', configs: [] }] });
  const addr = (await server.run()) as { port: number };
  endpoint = `http://127.0.0.1:${addr.port}`;
});
afterAll(async () => {
  await server?.close();
});

function ws(remote: Record<string, unknown>): string {
  return project({
    'pipelines/shared.yaml': PIPELINE,
    'pipe.config.json': JSON.stringify({ remotes: { team: { type: 's3', bucket: 'team-cache', prefix: 'lab/pipe', ...remote } }, remote: 'team' }),
  });
}


/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('remote cache: s3 backend (s3rver on loopback)', () => {
  it('A pushes, B pulls and runs nothing, artifacts byte-identical', async () => {
    const a = ws({ endpoint });
    const ra = await pipeWithEnv(a, CREDS, 'run', 'pipelines/shared.yaml');
    expect(ra.code, ra.stderr).toBe(0);
    expect(ra.stderr).toMatch(/3 pushed/);
    const b = ws({ endpoint });
    const st = await pipeWithEnv(b, CREDS, 'status', 'pipelines/shared.yaml');
    expect(st.stdout, st.stderr).toMatch(/on remote 'team' \(s3:\/\/team-cache\/lab\/pipe \(http:\/\/127\.0\.0\.1:\d+\)\)/);
    const pl = await pipeWithEnv(b, CREDS, 'pull', 'pipelines/shared.yaml');
    expect(pl.code, pl.stderr).toBe(0);
    expect(pl.stdout).toMatch(/pulled 3 result\(s\) from remote 'team'/);
    expect(summary(await pipeWithEnv(b, CREDS, 'run', 'pipelines/shared.yaml'))).toEqual({ ran: 0, cached: 3, failed: 0 });
    expect(files(join(b, 'artifacts'))).toEqual(files(join(a, 'artifacts')));
    expect(readFileSync(join(b, 'artifacts/shared/both/out.txt'), 'utf8').trim()).toBe('300002');
  }, 120_000);

  it('wrong credentials and an unreachable endpoint are clear errors (or warnings with --remote-optional)', async () => {
    const a = ws({ endpoint });
    const bad = await pipeWithEnv(a, { ...CREDS, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' }, 'run', 'pipelines/shared.yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/remote 'team' \(s3:.*\) cannot be used: http:\/\/127\.0\.0\.1:\d+ refused the credentials \(InvalidAccessKeyId\): check AWS_ACCESS_KEY_ID/);
    const c = ws({ endpoint: `http://127.0.0.1:${await closedPort()}` });
    const down = await pipeWithEnv(c, CREDS, 'run', 'pipelines/shared.yaml');
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/remote 'team' .* cannot be used: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    const opt = await pipeWithEnv(c, CREDS, 'run', 'pipelines/shared.yaml', '--remote-optional');
    expect(opt.code).toBe(0);
    expect(opt.stderr).toMatch(/working locally \(--remote-optional\)/);
    expect(summary(opt)).toMatchObject({ ran: 3 });
    const nobucket = ws({ endpoint, bucket: 'no-such-bucket' });
    const nb = await pipeWithEnv(nobucket, CREDS, 'run', 'pipelines/shared.yaml');
    expect(nb.code).toBe(2);
    expect(nb.stderr).toMatch(/bucket 'no-such-bucket' does not exist/);
  }, 120_000);
});
