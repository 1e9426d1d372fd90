import { z } from 'zod';
import { MatgradError } from '../errors.js';
import { type Issue, type KindDef, SpecBase } from './common.js';
import type { Objective } from './objective.js';

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
  if (typeof factory !== 'function') throw new MatgradError(`registerObjective: '${name}' needs a factory function`);
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
  build: (spec) => registry.get(spec.objective)!(spec.options, spec),
};
