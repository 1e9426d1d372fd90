import { z } from 'zod';
import { describe } from '../check.js';
import { MatgradError } from '../errors.js';
import { type Issue, type KindDef, SpecBase } from './common.js';
import { checkObjective, type Objective } from './objective.js';

/** A spec naming an objective registered in code: `{ kind: 'custom', objective: 'nearest-orthogonal' }`. */
export const CustomSpec = SpecBase.extend({
  kind: z.literal('custom'),
  objective: z.string().min(1, { error: 'expected the name of a registered objective' }),
  /** Passed to the registered factory. */
  options: z.record(z.string(), z.unknown()).default({}),
}).strict();
export type CustomSpec = z.infer<typeof CustomSpec>;

export type ObjectiveFactory = (options: Record<string, unknown>, spec: CustomSpec) => Objective;
const registry = new Map<string, ObjectiveFactory>();

/** Makes an objective available to specs (and so to the CLI) by name. */
export function registerObjective(name: string, factory: ObjectiveFactory): void {
  if (typeof name !== 'string' || !name) throw new MatgradError(`registerObjective: the name must be a non-empty string, got ${describe(name)}`);
  if (typeof factory !== 'function') throw new MatgradError(`registerObjective: '${name}' needs a factory function, got ${describe(factory)}`);
  registry.set(name, factory);
}
export const registeredObjectives = (): string[] => [...registry.keys()].sort();

function check(spec: CustomSpec): Issue[] {
  if (registry.has(spec.objective)) return [];
  const known = registeredObjectives();
  return [{ path: 'objective', message: `no objective named '${spec.objective}' is registered${known.length ? ` (known: ${known.join(', ')})` : ''}` }];
}

export const customKind: KindDef<CustomSpec> = {
  schema: CustomSpec,
  check,
  // the factory is user code: what it returns is checked like any objective before a run sees it
  build: (spec) => checkObjective(`custom objective '${spec.objective}'`, registry.get(spec.objective)!(spec.options, spec)),
};
