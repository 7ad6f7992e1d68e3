"""The reference side of the benchmarks: the same work as Program.cs, in PyTorch on the same libtorch.

Usage: python3 reference.py CASE THREADS   -> prints one JSON object {"value": ..., "unit": ...}
THREADS = 0 leaves PyTorch's default thread count.
Each case mirrors the C# one line for line (model, initial scale, batch, schedule, sampler).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def tiny(op, iterations=200_000, repeats=5):
    a, b, c = torch.rand(2, 2), torch.rand(2, 2), torch.rand(2, 2)
    f = {"add": lambda: a + b, "mul_add": lambda: a * b + c}[op]
    for _ in range(20_000):
        f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iterations):
            f()
        times.append((time.perf_counter() - t0) / iterations * 1e6)
    return median(times), "us"


def matmul(n, repeats=7):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append((time.perf_counter() - t0) * 1e3)
    return median(times), "ms"


class Mlp(torch.nn.Module):
    """x in R^2 + 64-dim sinusoidal time embedding, 3 hidden layers of 256 with SiLU, output R^2."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            [torch.nn.Linear(66, 256), torch.nn.Linear(256, 256), torch.nn.Linear(256, 256), torch.nn.Linear(256, 2)])

    def forward(self, x, t):
        half = 32
        frequencies = torch.exp(torch.arange(0, half, dtype=x.dtype) * (-math.log(10000) / half))
        angles = t.reshape(-1, 1) * 1000.0 * frequencies.unsqueeze(0)
        h = torch.cat([x, torch.cat([angles.sin(), angles.cos()], 1)], 1)
        for layer in self.layers[:-1]:
            h = F.silu(layer(h))
        return self.layers[-1](h)


def linear_schedule(steps=1000):
    betas = torch.linspace(1e-4, 0.02, steps, dtype=torch.float64)
    alpha_bar = torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)])
    return betas.tolist(), alpha_bar


def ring(n, g):
    angle = torch.randint(0, 8, (n,), generator=g).double() * (2 * math.pi / 8)
    x = torch.stack([angle.cos(), angle.sin()], 1) * 2.0 + torch.randn(n, 2, dtype=torch.float64, generator=g) * 0.05
    return x.float()


def train_step(steps=30, batch=4096):
    g = torch.Generator().manual_seed(1)
    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    _, alpha_bar = linear_schedule()
    sqrt_ab, sqrt_1mab = alpha_bar.sqrt().float(), (1 - alpha_bar).sqrt().float()

    def step():
        x0 = ring(batch, g)
        k = torch.randint(1, 1001, (batch,), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        xk = sqrt_ab[k].reshape(-1, 1) * x0 + sqrt_1mab[k].reshape(-1, 1) * eps
        opt.zero_grad()
        loss = F.mse_loss(model(xk, k.float() / 1000), eps)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(5):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return median(times), "ms"


def sample(n=10_000, steps=1000):
    g = torch.Generator().manual_seed(2)
    model = Mlp()
    betas, alpha_bar = linear_schedule(steps)
    t0 = time.perf_counter()
    with torch.no_grad():
        x = torch.randn(n, 2, generator=g)
        for k in range(steps, 0, -1):
            beta, ab, ab_prev = betas[k - 1], alpha_bar[k].item(), alpha_bar[k - 1].item()
            t = torch.full((n,), k / steps)
            eps = model(x, t)
            x_next = (x - eps * (beta / math.sqrt(1 - ab))) / math.sqrt(1 - beta)
            if k > 1:
                x_next = x_next + torch.randn(n, 2, generator=g) * math.sqrt((1 - ab_prev) / (1 - ab) * beta)
            x = x_next
    return time.perf_counter() - t0, "s"


CASES = {
    "tiny_add_2x2": lambda: tiny("add"),
    "tiny_mul_add_2x2": lambda: tiny("mul_add"),
    "matmul_1024": lambda: matmul(1024),
    "matmul_2048": lambda: matmul(2048),
    "ddpm_train_step": train_step,
    "ddpm_sample_1000": sample,
}

if __name__ == "__main__":
    case, threads = sys.argv[1], int(sys.argv[2])
    if threads > 0:
        torch.set_num_threads(threads)
    value, unit = CASES[case]()
    print(json.dumps({"value": value, "unit": unit}))
