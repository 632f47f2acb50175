import { parse } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
{
  const t0 = Date.now();
  let n = 0, s = 0, lastLine = 0;
  const p = parse({ skip_empty_lines: true, trim: true, relax_column_count: true, on_record: (rec, ctx) => { n++; s += rec.length; lastLine = ctx.lines; return null; } });
  await pipeline(createReadStream('/tmp/h30a/h1m.csv'), p);
  console.log('on_record', n, lastLine, Date.now() - t0, 'ms');
}
{
  const t0 = Date.now();
  let n = 0, s = 0;
  const p = parse({ skip_empty_lines: true, relax_column_count: true, on_record: (rec, ctx) => { n++; s += rec.length; return null; } });
  await pipeline(createReadStream('/tmp/h30a/h1m.csv'), p);
  console.log('on_record no trim', n, Date.now() - t0, 'ms');
}
