// Hand-fused plain-JS (typed) Adam on the seed-002 4x4 inverse, written in the style of
// ../shared/reference/hand_fused_inverse.mjs (which has only the momentum loop): the reference-js row
// of `inverse4-adam-10k`. Same data (Lehmer generator, seed 1), torch.optim.Adam's update order.
export function run(steps: number, lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8): number {
  const n = 4;
  const M = new Float64Array(16),
    X = new Float64Array(16),
    R = new Float64Array(16);
  const G = new Float64Array(16),
    m = new Float64Array(16),
    v = new Float64Array(16);
  let s = 1;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 16; i++) {
    M[i] = rnd();
    X[i] = rnd();
  }
  const c = 2 / 16;
  let loss = 0;
  for (let t = 1; t <= steps; t++) {
    loss = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += X[i * n + k] * M[k * n + j];
        const r = acc - (i === j ? 1 : 0);
        R[i * n + j] = r;
        loss += r * r;
      }
    loss /= 16;
    for (let i = 0; i < n; i++)
      for (let k = 0; k < n; k++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += R[i * n + j] * M[k * n + j];
        G[i * n + k] = c * acc;
      }
    const stepSize = lr / (1 - b1 ** t),
      bc2 = Math.sqrt(1 - b2 ** t);
    for (let i = 0; i < 16; i++) {
      const g = G[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      X[i] -= stepSize * (m[i] / (Math.sqrt(v[i]) / bc2 + eps));
    }
  }
  return loss;
}
