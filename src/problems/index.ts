import { z } from 'zod';
import { checkOptionsObject, describe } from '../check.js';
import { MatgradError, MatgradSpecError } from '../errors.js';
import { type BuildContext, type KindDef, throwIssues, zodIssues, zodMessage } from './common.js';
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

/** Validates a spec: every schema problem with its path, then the kind's semantic checks. */
export function parseSpec(spec: unknown): ParsedSpec {
  const parsed = ProblemSpec.safeParse(spec);
  if (!parsed.success) throw new MatgradSpecError(zodIssues(parsed.error, messageOf));
  const kind = KINDS[parsed.data.kind] as KindDef<ParsedSpec>;
  throwIssues(kind.check(parsed.data));
  return parsed.data;
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return `expected one of: ${problemKinds.map((k) => `'${k}'`).join(', ')}`;
  }
  return zodMessage(issue);
}

/**
 * `mg.problem(spec)`: a validated problem, ready for `mg.solve`. Throws MatgradSpecError listing every
 * problem with its path (`matrix.random.shape[1]: expected a positive integer`).
 */
export function problem(spec: ProblemSpec | unknown, ctx: BuildContext = {}): Objective {
  const c = checkOptionsObject<BuildContext>('problem', ctx, ['baseDir']);
  if (c.baseDir !== undefined && typeof c.baseDir !== 'string') throw new MatgradError(`problem: baseDir must be a directory path, got ${describe(c.baseDir)}`);
  const parsed = parseSpec(spec);
  const kind = KINDS[parsed.kind] as KindDef<ParsedSpec>;
  const built = kind.build(parsed, ctx);
  return { ...built, withDType: (dtype) => problem({ ...parsed, dtype }, ctx) };
}

/** JSON Schema of every spec, for editors and the CLI's `schema` command. */
export function specSchema(): Record<string, unknown> {
  return z.toJSONSchema(ProblemSpec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

export { formatPath } from './common.js';
export { type CustomSpec, registerObjective, registeredObjectives } from './custom.js';
export type { EigenvectorSpec } from './eigenvector.js';
export type { InverseSpec } from './inverse.js';
export type { LambdaMinSpec } from './lambda-min.js';
export type { SvdSpec } from './svd.js';
