/** Which remote a command uses: project config over user config, --remote / $PIPE_REMOTE / --no-remote, and clear errors. */
import { describe, expect, it } from 'vitest';
import { chooseRemote } from '../../src/engine/front/remotes.js';
import { loadUserConfig } from '../../src/engine/front/resources.js';
import { project } from '../engine/helpers.js';
import { join } from 'node:path';

describe('remote configuration', () => {
  const user = { remotes: { team: { type: 'dir', path: '/mnt/team' }, cloud: { type: 's3', bucket: 'b', endpoint: 'http://127.0.0.1:9000' } }, remote: 'team', file: '/home/u/.config/pipe/config.yaml' };

  it('the user config file declares remotes; the project overrides a name and the default; flags and env choose', () => {
    const bare = project({});
    expect(chooseRemote(bare, user, {}, {})).toMatchObject({ name: 'team', spec: { type: 'dir', path: '/mnt/team' }, source: user.file });
    expect(chooseRemote(bare, user, { remote: 'cloud' }, {})).toMatchObject({ name: 'cloud', spec: { type: 's3', bucket: 'b' } });
    expect(chooseRemote(bare, user, {}, { PIPE_REMOTE: 'cloud' })?.name).toBe('cloud');
    expect(chooseRemote(bare, user, {}, { PIPE_REMOTE: 'none' })).toBeUndefined();
    expect(chooseRemote(bare, user, { remote: false }, {})).toBeUndefined();
    expect(chooseRemote(bare, {}, {}, {})).toBeUndefined();
    const proj = project({ 'pipe.config.json': JSON.stringify({ remotes: { team: { type: 'dir', path: 'shared-cache', push: 'manual' } }, remote: 'team' }) });
    expect(chooseRemote(proj, user, {}, {})).toMatchObject({ name: 'team', spec: { path: 'shared-cache', push: 'manual' }, source: `${proj}/pipe.config.json` });
  });

  it('an unknown name or a bad definition is an error naming the file and what is allowed', () => {
    const bare = project({});
    expect(() => chooseRemote(bare, user, { remote: 'lab' }, {})).toThrow(/remote 'lab' is not defined \(defined: team, cloud\)/);
    const bad = project({ 'pipe.config.json': JSON.stringify({ remotes: { x: { type: 's3', bucket: 'b', endpiont: 'http://h' } }, remote: 'x' }) });
    expect(() => chooseRemote(bad, {}, {}, {})).toThrow(/remote 'x' in .*pipe\.config\.json: .*must NOT have additional properties 'endpiont'/);
    const noPath = project({ 'pipe.config.json': JSON.stringify({ remotes: { x: { type: 'dir' } }, remote: 'x' }) });
    expect(() => chooseRemote(noPath, {}, {}, {})).toThrow(/remote 'x'/);
  });

  it('the user config file is validated with its remotes, at file:line:col', () => {
    const dir = project({ 'config.yaml': 'remotes:\n  team: {type: dir, path: /mnt/t}\nremote: team\n', 'bad.yaml': 'remotes:\n  team: {type: dir, path: /mnt/t}\nremtoe: team\n' });
    const saved = process.env.PIPE_CONFIG;
    try {
      process.env.PIPE_CONFIG = join(dir, 'config.yaml');
      expect(loadUserConfig()).toMatchObject({ remote: 'team', remotes: { team: { type: 'dir', path: '/mnt/t' } } });
      process.env.PIPE_CONFIG = join(dir, 'bad.yaml');
      expect(() => loadUserConfig()).toThrow(/unknown field 'remtoe'/);
    } finally {
      if (saved === undefined) delete process.env.PIPE_CONFIG; else process.env.PIPE_CONFIG = saved;
    }
  });
});
