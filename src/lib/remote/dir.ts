/** The `dir` remote backend: a directory on any mounted filesystem (NFS, Lustre, sshfs, a USB disk). */
import { constants, createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { RemoteError, type RemoteBackend } from './backend.js';

export class DirBackend implements RemoteBackend {
  readonly where: string;
  constructor(readonly root: string) {
    this.where = root;
  }

  private p(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async check(): Promise<void> {
    let st;
    try {
      st = await fsp.stat(this.root);
    } catch (e) {
      throw new RemoteError('unreachable', `the directory ${this.root} does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); create it, or mount the share`);
    }
    if (!st.isDirectory()) throw new RemoteError('io', `${this.root} is not a directory`);
    try {
      await fsp.access(this.root, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch {
      throw new RemoteError('denied', `the directory ${this.root} is not readable and writable by this user`);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fsp.access(this.p(key));
      return true;
    } catch {
      return false;
    }
  }

  async getText(key: string): Promise<string | null> {
    try {
      return await fsp.readFile(this.p(key), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new RemoteError('io', `reading ${this.p(key)}: ${(e as Error).message}`);
    }
  }

  async download(key: string, dest: string): Promise<boolean> {
    try {
      await pipeline(createReadStream(this.p(key)), createWriteStream(dest, { flags: 'wx' }));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        await fsp.rm(dest, { force: true });
        return false;
      }
      throw new RemoteError('io', `reading ${this.p(key)}: ${(e as Error).message}`);
    }
  }

  async upload(key: string, src: { file: string } | { bytes: string | Buffer }, opts: { ifAbsent?: boolean } = {}): Promise<void> {
    const dest = this.p(key);
    if (opts.ifAbsent && (await this.exists(key))) return;
    await fsp.mkdir(dirname(dest), { recursive: true });
    // a uniquely named temp file beside the target, then one rename: readers and concurrent
    // writers of the same key never see a partial object
    const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      if ('file' in src) await fsp.copyFile(src.file, tmp);
      else await fsp.writeFile(tmp, src.bytes);
      if (opts.ifAbsent) {
        // no-clobber: link fails when another writer got there first (theirs stays)
        try {
          await fsp.link(tmp, dest);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      } else await fsp.rename(tmp, dest);
    } catch (e) {
      throw new RemoteError('io', `writing ${dest}: ${(e as Error).message}`);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }
}
