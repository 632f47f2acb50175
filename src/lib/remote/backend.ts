/**
 * A remote cache's storage: a flat key → bytes store (keys are '/'-separated paths under the
 * remote's root or prefix). Two backends: `dir` (any mounted path) and `s3` (any S3-compatible
 * object store). The layout and every check of what comes back live above this
 * (src/engine/cache/remote.ts): a backend moves bytes and says clearly why it cannot.
 */

export interface RemoteBackend {
  /** Where it is, for messages: `/mnt/team-cache` or `s3://bucket/prefix (http://host:9000)`. */
  readonly where: string;
  /** Can the remote be reached and used with these credentials? Throws a RemoteError saying why not. */
  check(): Promise<void>;
  /** Is the key there? */
  exists(key: string): Promise<boolean>;
  /** The key's bytes as text; null when absent. */
  getText(key: string): Promise<string | null>;
  /** Writes the key's bytes to `dest` (a new file); false when absent. */
  download(key: string, dest: string): Promise<boolean>;
  /**
   * Stores a file or bytes under the key. A reader never sees a partial object (dir: temp file
   * and rename; S3: one PUT is atomic). With `ifAbsent` an existing key is left as it is.
   */
  upload(key: string, src: { file: string } | { bytes: string | Buffer }, opts?: { ifAbsent?: boolean }): Promise<void>;
}

export type RemoteErrorCode = 'unreachable' | 'credentials' | 'denied' | 'no-bucket' | 'io';

/** The remote cannot be used (as opposed to: a key is absent, which is a plain miss). */
export class RemoteError extends Error {
  constructor(readonly code: RemoteErrorCode, message: string) {
    super(message);
    this.name = 'RemoteError';
  }
}
