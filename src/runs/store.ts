/**
 * What run tracking needs from the database: a narrow view of `CacheDb` (all SQL stays in
 * src/engine/cache/db.ts). Readers, diffs and the recorder take a `RunStore`, never the whole
 * database.
 */
import type { CacheDb } from '../engine/cache/db.js';

export type RunStore = Pick<CacheDb,
  | 'saveRunRecord' | 'runMetrics' | 'runStages' | 'runRow' | 'runRows' | 'runsNamed' | 'runNames' | 'pipelines'
  | 'outputs' | 'fpData' | 'execution' | 'setRunNote' | 'removeRun' | 'runsPastKeep'>;
