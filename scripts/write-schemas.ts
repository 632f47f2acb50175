/**
 * Writes schemas/pipeline.schema.json from its one source, src/engine/front/pipeline-schema.ts
 * (editors and YAML language servers read the JSON file). `npm run schemas`; a test fails when
 * the file is not current.
 */
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipelineSchema } from '../src/engine/front/pipeline-schema.js';

export const schemaFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas', 'pipeline.schema.json');
export const schemaText = () => JSON.stringify(pipelineSchema, null, 2) + '\n';

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(schemaFile, schemaText());
  console.log(`wrote ${schemaFile}`);
}
