"""PyTorch side of `npm run bench`: runs one workload eagerly with torch.optim and prints one JSON line.

Usage: /usr/bin/python3 bench/torch_bench.py WORKLOAD [--runs N] [--steps N]
Data follows bench/workloads.ts: the 4x4 problems use the reference's Lehmer generator (seed 1), so
the final losses are comparable; the batched problem draws its own seeded data of the same kind.
"""
import json
import math
import sys
import time

import torch


def lehmer(n):
    s = 1
    out = []
    for _ in range(n):
        s = (s * 16807) % 2147483647
        out.append(s / 2147483647)
    return out


def train(opt, loss_fn, steps):
    """The eager torch.optim loop: zero_grad, loss, backward, step; returns the last loss."""
    loss = None
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    return loss.item()


def inverse4(opt_name, steps):
    r = lehmer(32)
    M = torch.tensor(r[0::2], dtype=torch.float64).reshape(4, 4)
    X = torch.tensor(r[1::2], dtype=torch.float64).reshape(4, 4).requires_grad_()
    I = torch.eye(4, dtype=torch.float64)
    if opt_name == 'momentum':
        opt = torch.optim.SGD([X], lr=0.9, momentum=0.9)
    else:
        opt = torch.optim.Adam([X], lr=0.01)
    return train(opt, lambda: ((X @ M - I) ** 2).mean(), steps)


def inverse8_batch(steps):
    g = torch.Generator().manual_seed(0)
    B, n = 10000, 8
    M = torch.rand(B, n, n, generator=g, dtype=torch.float32) + 8 * torch.eye(n)
    X = torch.zeros(B, n, n, dtype=torch.float32, requires_grad=True)
    I = torch.eye(n, dtype=torch.float32)
    opt = torch.optim.Adam([X], lr=0.01)
    return train(opt, lambda: ((X @ M - I) ** 2).mean(), steps)


def svd_gd(steps):
    r = lehmer(192 + 192 + 144)
    A = torch.tensor(r[:192], dtype=torch.float64).reshape(16, 12)
    U = (0.1 * torch.tensor(r[192:384], dtype=torch.float64)).reshape(16, 12).requires_grad_()
    s = torch.ones(12, dtype=torch.float64, requires_grad=True)
    V = (0.1 * torch.tensor(r[384:], dtype=torch.float64)).reshape(12, 12).requires_grad_()
    I = torch.eye(12, dtype=torch.float64)
    opt = torch.optim.Adam([U, s, V], lr=0.01)
    return train(opt, lambda: ((A - (U * s) @ V.T) ** 2).mean() + ((U.T @ U - I) ** 2).mean() + ((V.T @ V - I) ** 2).mean(), steps)


# ---- linear algebra (bench/workloads.ts: linalgBatch8, lambdaMin4Adam) ----

_LINALG_DATA = {}


def lehmer_signed(n):
    """n uniform numbers in [-1, 1) from the Lehmer generator (seed 1), as bench/workloads.ts draws them."""
    if n not in _LINALG_DATA:  # drawn once per process: the timed runs after the first do not pay for it
        _LINALG_DATA[n] = torch.tensor([2 * v - 1 for v in lehmer(n)], dtype=torch.float64)
    return _LINALG_DATA[n]


def linalg_batch8(op, reps):
    """Forward torch.linalg.svd / eigh of 1000 random 8x8 float64 matrices, `reps` times; the
    'steps' of this workload are the repetitions (10, as in bench/workloads.ts). Result: sum S or sum |lambda|."""
    X = lehmer_signed(1000 * 64).reshape(1000, 8, 8)
    A = (X + X.mT) * 0.5 if op == 'eigh' else X
    out = None
    with torch.no_grad():
        for _ in range(reps):
            out = torch.linalg.svd(A, full_matrices=False)[1] if op == 'svd' else torch.linalg.eigh(A)[0]
    return float(out.abs().sum())


def lambda_min4_adam(steps):
    """A = L L^T / tr(L L^T), minimize -eigvalsh(A)[0], Adam lr 0.01 (seed 000)."""
    L = lehmer_signed(16).reshape(4, 4).clone().requires_grad_()
    opt = torch.optim.Adam([L], lr=0.01)

    def loss():
        G = L @ L.mT
        return -torch.linalg.eigvalsh(G / torch.trace(G))[0]
    return train(opt, loss, steps)


def mimo_svdvals(reps):
    """102,400 complex64 4x4 matrices (re, im interleaved from lehmer_signed, as bench/workloads.ts):
    torch.linalg.svdvals forward and the backward of sum(S) to H, `reps` times (1). Result: sum(S)."""
    B = 102400
    X = lehmer_signed(B * 32).to(torch.float32).reshape(B, 4, 4, 2)
    out = None
    for _ in range(reps):
        H = torch.view_as_complex(X).detach().requires_grad_()
        S = torch.linalg.svdvals(H)
        S.sum().backward()
        out = float(S.sum())
    return out


def mimo_capacity_adam(steps):
    """Adam (lr 0.01) on a shared complex 4x4 precoder P (P0 = H[0]), maximizing the mean capacity
    sum_i log2(1 + snr s_i(H P)^2 / 4) of 102,400 complex64 channels (as bench/workloads.ts), snr 10 dB."""
    B = 102400
    H = torch.view_as_complex(lehmer_signed(B * 32).to(torch.float32).reshape(B, 4, 4, 2))
    P = H[0].clone().requires_grad_()
    opt = torch.optim.Adam([P], lr=0.01)

    def loss():
        Pn = P * torch.sqrt(4 / (P.abs() ** 2).sum())
        s = torch.linalg.svdvals(H @ Pn)
        return -(torch.log(1 + s * s * (10 / 4)) / math.log(2)).sum(-1).mean()
    return train(opt, loss, steps)


WORKLOADS = {
    'inverse4-momentum-10k': (lambda steps: inverse4('momentum', steps), 10000, 'float64'),
    'inverse4-adam-10k': (lambda steps: inverse4('adam', steps), 10000, 'float64'),
    'inverse8-batch10k-adam-1000': (inverse8_batch, 1000, 'float32'),
    'svd-gd-16x12-adam-5k': (svd_gd, 5000, 'float64'),
    'svd-batch1000-8x8': (lambda reps: linalg_batch8('svd', reps), 10, 'float64'),
    'eigh-batch1000-8x8': (lambda reps: linalg_batch8('eigh', reps), 10, 'float64'),
    'lambda-min4-adam-500': (lambda_min4_adam, 500, 'float64'),
    'mimo-svdvals-102400-4x4': (mimo_svdvals, 1, 'float32'),
    'mimo-capacity-102400-adam-20': (mimo_capacity_adam, 20, 'float32'),
}


def main():
    name = sys.argv[1]
    args = sys.argv[2:]
    runs = int(args[args.index('--runs') + 1]) if '--runs' in args else 3
    fn, steps, dtype = WORKLOADS[name]
    steps = int(args[args.index('--steps') + 1]) if '--steps' in args else steps
    best = float('inf')
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn(steps)
        best = min(best, (time.perf_counter() - t) * 1000)
    print(json.dumps({'name': name, 'impl': 'pytorch', 'dtype': dtype, 'ms': best, 'result': result,
                      'steps': steps, 'torch': torch.__version__, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
