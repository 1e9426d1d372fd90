import { z } from 'zod';
import { MatgradSpecError } from '../errors.js';
import { shapeLimitIssue } from '../limits.js';
import type { Objective } from './objective.js';

/** Fields every spec shares. */
export const SpecBase = z.object({
  /** An editor's link to the JSON Schema (schema/problem.schema.json); ignored. */
  $schema: z.string().optional(),
  name: z.string().optional(),
  dtype: z.enum(['float64', 'float32']).default('float64'),
});

/** A seed: the generator keeps 32 bits of state, so seeds are 0 ≤ seed < 2^32 (as numpy.random.seed). */
export const Seed = z
  .number({ error: 'expected an integer seed' })
  .int({ error: 'expected an integer seed' })
  .min(0, { error: 'expected a seed ≥ 0' })
  .max(2 ** 32 - 1, { error: 'expected a seed < 2^32' });

/** How a learned matrix starts. */
export const ParamInit = z
  .object({
    init: z.enum(['zeros', 'ones', 'eye', 'uniform', 'normal']).default('uniform'),
    seed: Seed.default(1),
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

/** The shapes of a spec's matrix sources by field: known from the spec (inline, eye, random…) or once files are read. */
export type SourceShapes = Readonly<Record<string, readonly number[] | null | undefined>>;

/**
 * One problem kind: its schema, semantic checks beyond the schema, and the objective it builds. `check`
 * runs on the spec's own shapes before build, and again in build on the shapes read from files, so a
 * file source gets the same checks as inline data.
 */
export interface KindDef<S> {
  readonly schema: z.ZodType<S>;
  check(spec: S, shapes?: SourceShapes): Issue[];
  build(spec: S, ctx: BuildContext): Objective;
}

/** An issue at `path` when a tensor the problem will allocate (`what`) breaks LIMITS. */
export function limitIssues(path: string, what: string, shape: readonly number[]): Issue[] {
  const issue = shapeLimitIssue(shape);
  return issue ? [{ path, message: `${what}: ${issue}` }] : [];
}

/** Throws the issues (if any) as one MatgradSpecError. */
export function throwIssues(issues: readonly Issue[]): void {
  if (issues.length) throw new MatgradSpecError([...issues]);
}

/** `matrix.random.shape[1]` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '');
}

/** At most this many issues are listed: a million bad cells need one line each no more than ten do. */
const MAX_ISSUES = 20;

/**
 * A zod error as issues with paths (each prefixed by `base`), unions resolved to the branch that got
 * furthest; `message` rewrites a zod issue's message (e.g. the kind discriminator's).
 */
export function zodIssues(error: z.ZodError, message: (i: z.core.$ZodIssue) => string = defaultMessage): Issue[] {
  const all = error.issues.flatMap((i) => resolveUnions(i, []));
  const issues = all.slice(0, MAX_ISSUES).map((i) => ({ path: formatPath(i.path), message: message(i) }));
  if (all.length > MAX_ISSUES) issues.push({ ...issues[issues.length - 1], message: `… and ${all.length - MAX_ISSUES} more issues` });
  return issues;
}

function defaultMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  return issue.message;
}
export { defaultMessage as zodMessage };

/**
 * A union (matrix sources) that matched no branch reports every branch's issues; keep the branch that
 * got furthest (deepest path), so the message names the field that is actually wrong.
 */
function resolveUnions(issue: z.core.$ZodIssue, base: readonly PropertyKey[]): z.core.$ZodIssue[] {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || !('errors' in issue) || !issue.errors.length) return [{ ...issue, path }];
  // no spread: a branch may hold an issue per element of a large array
  const depth = (branch: z.core.$ZodIssue[]) => branch.reduce((d, i) => Math.max(d, i.path.length + (i.code === 'invalid_type' && i.path.length === 0 ? -1 : 0)), -Infinity);
  // ties go to the later branch: sources list Batch before Matrix (a union stops at the first match, so
  // a large batch is not first tried as a matrix) but `[[]]` is a matrix with an empty row, not a batch
  const ranked = issue.errors.map((branch, i) => ({ branch, i, d: depth(branch) }));
  const best = ranked.sort((a, b) => b.d - a.d || a.branch.length - b.branch.length || b.i - a.i)[0].branch;
  if (depth(best) <= 0) return [{ ...issue, path }];
  return best.flatMap((i) => resolveUnions(i, path));
}
