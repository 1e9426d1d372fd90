// Regenerates schema/problem.schema.json from the zod specs (the single source of truth).
// Run: npx tsx scripts/schema.ts   (test/problems.test.ts fails when the committed file is stale)
import { writeFileSync } from 'node:fs';
import { specSchema } from '../src/index.js';

export const schemaText = (): string => `${JSON.stringify(specSchema(), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../schema/problem.schema.json', import.meta.url), schemaText());
  console.log('wrote schema/problem.schema.json');
}
