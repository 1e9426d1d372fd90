import type { Shape } from '../../autograd/shape.js';

/**
 * One array walked by a loop nest: `strides` per loop dim (0 = broadcast), plus an offset: a number, or
 * a JS expression (a local of the enclosing code, e.g. a batch tile's base index).
 */
export interface Walk {
  readonly strides: readonly number[];
  readonly offset?: number | string;
}

/**
 * Emits a row-major loop nest over `shape` and calls `body` with one JS index expression per walk.
 * Adjacent dims are merged when every walk is contiguous across them, so most nests are one flat loop;
 * walks whose strides equal the contiguous ones share a single running counter.
 */
export function loopNest(
  shape: Shape,
  walks: readonly Walk[],
  body: (index: string[]) => string,
  id: string,
): string {
  const dims: number[] = [];
  const strides: number[][] = walks.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    const mergeable =
      last >= 0 &&
      walks.every((w, j) => strides[j][last] === w.strides[d] * shape[d] && w.strides[d] !== undefined);
    if (mergeable) {
      dims[last] *= shape[d];
      walks.forEach((w, j) => {
        strides[j][last] = w.strides[d];
      });
    } else {
      dims.push(shape[d]);
      walks.forEach((w, j) => {
        strides[j].push(w.strides[d]);
      });
    }
  }
  const total = dims.reduce((a, b) => a * b, 1);
  if (total === 0) return '';
  const contiguous = contiguousStrides(dims);
  const counter = `c${id}`;
  const index = walks.map((w, j) => {
    const off = w.offset ?? 0;
    if (strides[j].every((s) => s === 0)) return `${off}`;
    if (strides[j].every((s, d) => s === contiguous[d])) return off ? `${counter} + ${off}` : counter;
    return `o${id}_${j}_${dims.length - 1}` + (off ? ` + ${off}` : '');
  });
  const usesCounter = index.some((e) => e.startsWith(counter));
  let open = usesCounter ? `let ${counter} = 0;\n` : '';
  let close = '';
  for (let d = 0; d < dims.length; d++) {
    const i = `i${id}_${d}`;
    open += `for (let ${i} = 0; ${i} < ${dims[d]}; ${i}++) {\n`;
    walks.forEach((_, j) => {
      if (strides[j].every((s) => s === 0) || strides[j].every((s, k) => s === contiguous[k])) return;
      const prev = d === 0 ? '' : `o${id}_${j}_${d - 1} + `;
      open += `const o${id}_${j}_${d} = ${prev}${i} * ${strides[j][d]};\n`;
    });
    close = `}\n${close}`;
  }
  return `${open}${body(index)}\n${usesCounter ? `${counter}++;\n` : ''}${close}`;
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}
