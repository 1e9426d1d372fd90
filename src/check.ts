import { MatgradError } from './errors.js';

/** Runtime checks of arguments at the public entry points; every failure names the owner and the field. */

/** A finite number in [min, max] (an integer when asked); anything else is a MatgradError naming `owner: name`. */
export function checkNumber(
  owner: string,
  name: string,
  v: unknown,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  if (
    typeof v !== 'number' ||
    !Number.isFinite(v) ||
    v < min ||
    v > max ||
    (integer && !Number.isSafeInteger(v))
  ) {
    const range = `${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}${max < Infinity ? ` ≤ ${max}` : ''}`;
    throw new MatgradError(`${owner}: ${name} must be ${range}, got ${describe(v)}`);
  }
  return v;
}

/** One of a fixed set of strings. */
export function checkChoice<T extends string>(owner: string, name: string, v: unknown, choices: readonly T[]): T {
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new MatgradError(`${owner}: ${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

/**
 * An options argument: undefined (no options) or a plain object whose keys are all in `known`
 * (a misspelled option is an error, not silently ignored). Keys whose value is undefined count as absent.
 */
export function checkOptionsObject<T extends object>(owner: string, opts: unknown, known: readonly string[]): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new MatgradError(`${owner}: options must be an object, got ${describe(opts)}`);
  }
  const unknown = Object.keys(opts).filter((k) => !known.includes(k) && (opts as Record<string, unknown>)[k] !== undefined);
  if (unknown.length) {
    throw new MatgradError(`${owner}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ')})`);
  }
  return opts as Partial<T>;
}

/** Every key of an options type (the type makes the list complete): `keysOf<Opts>({ a: 1, b: 1 })`. */
export const keysOf = <T>(keys: { [K in keyof Required<T>]: 1 }): readonly string[] => Object.keys(keys);

/** A short description of a value for messages: `'foo'`, `NaN`, `null`, `an array`, `an object`. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return typeof v === 'function' ? 'a function' : 'an object';
}
