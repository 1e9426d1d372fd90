import { z } from 'zod';
import type { Objective } from './objective.js';

/** Fields every spec shares. */
export const SpecBase = z.object({
  /** An editor's link to the JSON Schema (schema/problem.schema.json); ignored. */
  $schema: z.string().optional(),
  name: z.string().optional(),
  dtype: z.enum(['float64', 'float32']).default('float64'),
});

/** How a learned matrix starts. */
export const ParamInit = z
  .object({
    init: z.enum(['zeros', 'ones', 'eye', 'uniform', 'normal']).default('uniform'),
    seed: z.number().int({ error: 'expected an integer' }).default(1),
    scale: z.number().positive({ error: 'expected a positive number' }).default(1),
  })
  .strict();

export interface Issue {
  path: string;
  message: string;
}

export interface BuildContext {
  /** Directory that relative file paths in the spec are resolved against. */
  baseDir?: string;
}

/** One problem kind: its schema, semantic checks beyond the schema, and the objective it builds. */
export interface KindDef<S> {
  readonly schema: z.ZodType<S>;
  check(spec: S): Issue[];
  build(spec: S, ctx: BuildContext): Objective;
}
