/**
 * When a table does not fit: one error type (`TableTooLargeError`), thrown where the size is
 * known (reading/writing a table, `PIPE_TABLE_MAX_BYTES`), and `withTableLimits`, which the data
 * kinds wrap their `run` with so that any size failure — a failed allocation, an invalid array
 * length, Node's buffer/string/file limits, a stack overflow from a data-sized spread — fails
 * naming the stage instance, its input tables' sizes and what to do. No Arrow here: a kind's
 * module can import it statically and stay cheap to load.
 */
import type { StageContext, StageKind } from './stage.js';

/** A table (or one of its columns) beyond what this process can hold or is allowed to. */
export class TableTooLargeError extends Error {
  constructor(message: string, readonly bytes: number | null = null, readonly rows: number | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TableTooLargeError';
  }

  /** `<what>: <rows> rows, <size> — <why>` (why: the cause, else the PIPE_TABLE_MAX_BYTES limit). */
  static of(what: string, bytes: number, rows: number | null, cause?: Error): TableTooLargeError {
    const why = cause ? cause.message : `over PIPE_TABLE_MAX_BYTES = ${fmtBytes(tableMaxBytes())}`;
    return new TableTooLargeError(`${what}: ${rows !== null ? `${rows.toLocaleString('en-US')} rows, ` : ''}${fmtBytes(bytes)} — ${why}`, bytes, rows, cause ? { cause } : undefined);
  }
}

function fmtBytes(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${b} bytes`;
}

/** The table size limit: $PIPE_TABLE_MAX_BYTES (bytes of one table), else none (Infinity). */
export function tableMaxBytes(): number {
  const v = Number(process.env.PIPE_TABLE_MAX_BYTES ?? '');
  return Number.isFinite(v) && v > 0 ? v : Infinity;
}

export function checkTableBytes(what: string, bytes: number, rows: number | null = null): void {
  if (bytes > tableMaxBytes()) throw TableTooLargeError.of(what, bytes, rows);
}

/**
 * Is `e` the JS engine saying a structure is too large: a failed ArrayBuffer allocation, an
 * invalid array/typed-array/string length, a call stack overflow (a data-sized spread), or
 * Node's file/string/buffer size limits?
 */
export function isSizeError(e: unknown): boolean {
  if (e instanceof TableTooLargeError) return true;
  const err = e as { code?: string; message?: string } | null;
  if (!err || typeof err !== 'object') return false;
  if (['ERR_FS_FILE_TOO_LARGE', 'ERR_STRING_TOO_LONG', 'ERR_BUFFER_TOO_LARGE'].includes(err.code ?? '')) return true;
  return e instanceof RangeError && /allocation failed|Invalid (typed )?array length|Invalid string length|Maximum call stack size exceeded|Array buffer|too large/i.test(err.message ?? '');
}

/**
 * The error a stage throws when a table does not fit: names the stage, the sizes of its input
 * tables and what to do. Other errors pass through unchanged.
 */
export async function explainSizeError(e: unknown, stage: { id: string; kind: string; inputSizes?: () => Promise<{ name: string; bytes: number }[]> }): Promise<unknown> {
  if (!isSizeError(e)) return e;
  const err = e as Error;
  let inputs = '';
  try {
    const sizes = (await stage.inputSizes?.()) ?? [];
    if (sizes.length) inputs = ` Input tables: ${sizes.map((s) => `${s.name} ${fmtBytes(s.bytes)}`).join(', ')}.`;
  } catch { /* the sizes are a courtesy */ }
  const detail = e instanceof TableTooLargeError ? err.message : `${err.name}: ${err.message}`;
  const stack = /Maximum call stack/.test(err.message);
  return new TableTooLargeError(
    `stage '${stage.id}' (${stage.kind}): the table does not fit in this process (${detail}).${inputs} What to do: ${stack
      ? 'this is a bug (a data-sized array spread into a call) — please report it with the stage kind; meanwhile split the data into smaller tables.'
      : 'give the process more memory (free RAM; NODE_OPTIONS=--max-old-space-size for JS heap), use fewer rows or columns (sample, or split the data into several tables), or narrower types (float32 features).'}`,
    e instanceof TableTooLargeError ? e.bytes : null, e instanceof TableTooLargeError ? e.rows : null, { cause: err },
  );
}

/**
 * `kind` with its `run` wrapped by `explainSizeError`: a table that does not fit fails naming
 * the stage; every other error passes through unchanged.
 */
export function withTableLimits<P>(kind: StageKind<P>): StageKind<P> {
  const run = kind.run;
  return {
    ...kind,
    async run(ctx) {
      try {
        return await run.call(kind, ctx);
      } catch (e) {
        throw await explainSizeError(e, { id: ctx.id, kind: ctx.kind ?? kind.kind, inputSizes: () => inputTableSizes(ctx) });
      }
    },
  };
}

/** The byte sizes of a context's connected input files (for size errors). */
async function inputTableSizes(ctx: StageContext): Promise<{ name: string; bytes: number }[]> {
  const { stat } = await import('node:fs/promises');
  const out: { name: string; bytes: number }[] = [];
  for (const name of ctx.inputNames()) {
    for (const h of ctx.inputs(name)) {
      if (h.type && h.type !== 'table') continue;
      const st = await stat(h.path).catch(() => null);
      if (st?.isFile()) out.push({ name: h.from || name, bytes: st.size });
    }
  }
  return out;
}
