/**
 * The `s3` remote backend: any S3-compatible object store through the AWS SDK for JavaScript
 * (v3). Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
 * AWS_PROFILE and ~/.aws, instance roles) unless the remote names a `profile`. For stores other
 * than AWS (MinIO, Ceph, Garage, s3rver…) an `endpoint` is given; path-style addressing and
 * checksums only "when required" are then the defaults, as those stores expect.
 */
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { RemoteError, type RemoteBackend } from './backend.js';

export interface S3Spec {
  bucket: string;
  prefix?: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  force_path_style?: boolean;
  /** `when_required` (default with an endpoint) or `when_supported` (the SDK's default for AWS). */
  checksums?: 'when_required' | 'when_supported';
}

type S3Module = typeof import('@aws-sdk/client-s3');

export class S3Backend implements RemoteBackend {
  readonly where: string;
  private readonly prefix: string;
  private client?: import('@aws-sdk/client-s3').S3Client;
  private sdk?: S3Module;

  constructor(readonly spec: S3Spec, private readonly name: string) {
    this.prefix = (spec.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.where = `s3://${spec.bucket}${this.prefix ? '/' + this.prefix : ''}${spec.endpoint ? ` (${spec.endpoint})` : ''}`;
  }

  private async c(): Promise<{ s3: import('@aws-sdk/client-s3').S3Client; sdk: S3Module }> {
    if (!this.client) {
      // loaded on first use: runs without an s3 remote never pay for the SDK
      // (the SDK warns on every process that its releases after January 2027 need Node 22; pipe
      // pins a version that supports Node 20 in package-lock.json, so the warning is noise here)
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const sdk = (this.sdk = await import('@aws-sdk/client-s3'));
      const custom = !!this.spec.endpoint;
      const checksums = (this.spec.checksums ?? (custom ? 'when_required' : 'when_supported')) === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
      this.client = new sdk.S3Client({
        region: this.spec.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        ...(custom ? { endpoint: this.spec.endpoint } : {}),
        forcePathStyle: this.spec.force_path_style ?? custom,
        requestChecksumCalculation: checksums,
        responseChecksumValidation: checksums,
        maxAttempts: 3,
        requestHandler: { connectionTimeout: 5000, requestTimeout: 120_000 },
        ...(this.spec.profile ? { profile: this.spec.profile } : {}),
      });
    }
    return { s3: this.client, sdk: this.sdk! };
  }

  private key(k: string): string {
    return this.prefix ? `${this.prefix}/${k}` : k;
  }

  /** Turns an SDK or network failure into a RemoteError that says what to do. */
  private explain(e: unknown, what: string): RemoteError {
    if (e instanceof RemoteError) return e;
    const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; Code?: string };
    const code = err.Code ?? err.name ?? err.code ?? '';
    const status = err.$metadata?.httpStatusCode;
    const msg = err.message ?? String(e);
    const where = this.spec.endpoint ?? 'S3';
    if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|TimeoutError|socket hang up/i.test(`${code} ${err.code ?? ''} ${msg}`)) {
      return new RemoteError('unreachable', `cannot reach ${where}: ${msg}`);
    }
    if (/CredentialsProviderError|Could not load credentials/i.test(`${code} ${msg}`)) {
      return new RemoteError('credentials', `no credentials for the S3 remote '${this.name}': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or \`profile:\` in the remote's config)`);
    }
    if (/InvalidAccessKeyId|SignatureDoesNotMatch|InvalidToken|ExpiredToken|AuthorizationHeaderMalformed/.test(code)) {
      return new RemoteError('credentials', `${where} refused the credentials (${code}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile`);
    }
    if (code === 'AccessDenied' || status === 403) return new RemoteError('denied', `${where} denied ${what} (${code || 'HTTP 403'}): the credentials lack permission on bucket '${this.spec.bucket}'`);
    if (code === 'NoSuchBucket') return new RemoteError('no-bucket', `bucket '${this.spec.bucket}' does not exist at ${where}; create it first`);
    return new RemoteError('io', `${what} failed: ${code ? code + ': ' : ''}${msg}`);
  }

  private static absent(e: unknown): boolean {
    const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.Code === 'NoSuchKey' || (err?.$metadata?.httpStatusCode === 404 && err?.name !== 'NoSuchBucket');
  }

  async check(): Promise<void> {
    // a GET of a key that need not exist: S3 answers bad credentials, a missing bucket or missing
    // permissions with an error body (a HEAD would say only "403")
    await this.getText('layout.json');
  }

  async exists(key: string): Promise<boolean> {
    const { s3, sdk } = await this.c();
    try {
      await s3.send(new sdk.HeadObjectCommand({ Bucket: this.spec.bucket, Key: this.key(key) }));
      return true;
    } catch (e) {
      if (S3Backend.absent(e)) return false;
      throw this.explain(e, `reading ${key}`);
    }
  }

  async getText(key: string): Promise<string | null> {
    const { s3, sdk } = await this.c();
    try {
      const r = await s3.send(new sdk.GetObjectCommand({ Bucket: this.spec.bucket, Key: this.key(key) }));
      return await r.Body!.transformToString('utf8');
    } catch (e) {
      if (S3Backend.absent(e)) return null;
      throw this.explain(e, `reading ${key}`);
    }
  }

  async download(key: string, dest: string): Promise<boolean> {
    const { s3, sdk } = await this.c();
    try {
      const r = await s3.send(new sdk.GetObjectCommand({ Bucket: this.spec.bucket, Key: this.key(key) }));
      await pipeline(r.Body as Readable, createWriteStream(dest, { flags: 'wx' }));
      return true;
    } catch (e) {
      await fsp.rm(dest, { force: true });
      if (S3Backend.absent(e)) return false;
      throw this.explain(e, `reading ${key}`);
    }
  }

  async upload(key: string, src: { file: string } | { bytes: string | Buffer }, opts: { ifAbsent?: boolean } = {}): Promise<void> {
    const { s3, sdk } = await this.c();
    if (opts.ifAbsent && (await this.exists(key))) return;
    try {
      // one PUT: S3 makes an object visible only when all of it arrived
      // (a file is streamed with its length, up to S3's 5 GB limit for one PUT)
      const body = 'file' in src ? { Body: createReadStream(src.file), ContentLength: (await fsp.stat(src.file)).size } : { Body: src.bytes };
      await s3.send(new sdk.PutObjectCommand({ Bucket: this.spec.bucket, Key: this.key(key), ...body }));
    } catch (e) {
      throw this.explain(e, `writing ${key}`);
    }
  }
}
