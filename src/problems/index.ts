import { z } from 'zod';
import { MatgradSpecError } from '../errors.js';
import type { BuildContext, Issue, KindDef } from './common.js';
import { CustomSpec, customKind } from './custom.js';
import { EigenvectorSpec, eigenvectorKind } from './eigenvector.js';
import { InverseSpec, inverseKind } from './inverse.js';
import { LambdaMinSpec, lambdaMinKind } from './lambda-min.js';
import { SvdSpec, svdKind } from './svd.js';
import type { Objective } from './objective.js';

/** Every problem kind: the zod schemas here are the single source of truth (JSON Schema is generated). */
export const ProblemSpec = z.discriminatedUnion('kind', [InverseSpec, SvdSpec, LambdaMinSpec, EigenvectorSpec, CustomSpec]);
export type ProblemSpec = z.input<typeof ProblemSpec>;
type ParsedSpec = z.output<typeof ProblemSpec>;

const KINDS: { [K in ParsedSpec['kind']]: KindDef<Extract<ParsedSpec, { kind: K }>> } = {
  inverse: inverseKind,
  svd: svdKind,
  'lambda-min': lambdaMinKind,
  eigenvector: eigenvectorKind,
  custom: customKind,
};
export const problemKinds = Object.keys(KINDS) as ParsedSpec['kind'][];

/** `matrix.random.shape[1]` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '');
}

/** Validates a spec: every schema problem with its path, then the kind's semantic checks. */
export function parseSpec(spec: unknown): ParsedSpec {
  const parsed = ProblemSpec.safeParse(spec);
  if (!parsed.success) {
    const issues: Issue[] = parsed.error.issues.flatMap((i) => resolveUnions(i, [])).map((i) => ({ path: formatPath(i.path), message: messageOf(i) }));
    throw new MatgradSpecError(issues);
  }
  const kind = KINDS[parsed.data.kind] as KindDef<ParsedSpec>;
  const issues = kind.check(parsed.data);
  if (issues.length) throw new MatgradSpecError(issues);
  return parsed.data;
}

/**
 * A union (matrix sources) that matched no branch reports every branch's issues; keep the branch that
 * got furthest (deepest path), so the message names the field that is actually wrong.
 */
function resolveUnions(issue: z.core.$ZodIssue, base: readonly PropertyKey[]): z.core.$ZodIssue[] {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || !('errors' in issue) || !issue.errors.length) return [{ ...issue, path }];
  const depth = (branch: z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length + (i.code === 'invalid_type' && i.path.length === 0 ? -1 : 0)));
  const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
  if (depth(best) <= 0) return [{ ...issue, path }];
  return best.flatMap((i) => resolveUnions(i, path));
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return `expected one of: ${problemKinds.map((k) => `'${k}'`).join(', ')}`;
  }
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  return issue.message;
}

/**
 * `mg.problem(spec)`: a validated problem, ready for `mg.solve`. Throws MatgradSpecError listing every
 * problem with its path (`matrix.random.shape[1]: expected a positive integer`).
 */
export function problem(spec: ProblemSpec | unknown, ctx: BuildContext = {}): Objective {
  const parsed = parseSpec(spec);
  const kind = KINDS[parsed.kind] as KindDef<ParsedSpec>;
  const built = kind.build(parsed, ctx);
  return { ...built, withDType: (dtype) => problem({ ...parsed, dtype }, ctx) };
}

/** JSON Schema of every spec, for editors and the CLI's `schema` command. */
export function specSchema(): Record<string, unknown> {
  return z.toJSONSchema(ProblemSpec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

export { type CustomSpec, registerObjective, registeredObjectives } from './custom.js';
export type { EigenvectorSpec } from './eigenvector.js';
export type { InverseSpec } from './inverse.js';
export type { LambdaMinSpec } from './lambda-min.js';
export type { SvdSpec } from './svd.js';
