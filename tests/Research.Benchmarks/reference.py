"""The reference side of the benchmarks: the same work as Program.cs, in PyTorch on the same libtorch.

Usage: python3 reference.py CASE THREADS   -> prints one JSON object {"value": ..., "unit": ...}
       python3 reference.py check CASE     -> the case at a tiny size, {"values": [...]} (driver --check)
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


class VpLinear:
    """VP with linear beta(t) = beta_min + t (beta_max - beta_min), as src/Research.Diffusion VpLinear."""

    def __init__(self, beta_min, beta_max):
        self.beta_min, self.beta_max = beta_min, beta_max

    @staticmethod
    def from_ddpm_linear(beta_start=1e-4, beta_end=0.02, steps=1000):
        slope = (beta_end - beta_start) / (steps - 1)
        return VpLinear(steps * (beta_start - slope), steps * beta_end)

    def integrated_beta(self, t):
        return t * (self.beta_min + 0.5 * t * (self.beta_max - self.beta_min))

    def alpha(self, t):
        return math.exp(-0.5 * self.integrated_beta(t))

    def sigma(self, t):
        return math.sqrt(-math.expm1(-self.integrated_beta(t)))

    def varsigma(self, t):
        return self.sigma(t) / self.alpha(t)

    def half_log_snr(self, t):
        sigma = self.sigma(t)
        return math.inf if sigma == 0.0 else math.log(self.alpha(t)) - math.log(sigma)


def uniform_time(steps, start, end):
    return [end if i == steps else start + (end - start) * i / steps for i in range(steps + 1)]


def denoised(model, process, x, t):
    """x_0 = (x - sigma eps) / alpha from the eps-network, as Denoiser.FromNetwork + Predict(X0)."""
    eps = model(x, torch.full((x.shape[0],), t))
    alpha, sigma = process.alpha(t), process.sigma(t)
    return x * (1.0 / alpha) + eps * (-sigma / alpha)


def ddpm_ancestral(model, process, times, x, g):
    """Samplers.DdpmAncestral: DDIM with eta = 1 in the VE normal form (AncestralSplit)."""
    for t, s in zip(times[:-1], times[1:]):
        alpha_t, sigma_t, alpha_s = process.alpha(t), process.sigma(t), process.alpha(s)
        d = denoised(model, process, x, t)
        level, level_next = process.varsigma(t), process.varsigma(s)
        if level_next == 0.0:
            down = up = 0.0
        else:
            up = min(level_next, level_next * math.sqrt(max(0.0, 1.0 - level_next * level_next / (level * level))))
            down = math.sqrt(max(0.0, level_next * level_next - up * up))
        x_next = d * alpha_s
        if down != 0.0:
            x_next = x_next + (x - d * alpha_t) * (alpha_s * down / sigma_t)
        if up != 0.0:
            x_next = x_next + torch.randn(x.shape, generator=g) * (alpha_s * up)
        x = x_next
    return x


def dpmpp_2m(model, process, times, x, g):
    """Samplers.DpmSolverPlusPlus2M (Lu et al. 2022b, Algorithm 2)."""
    previous, previous_h = None, math.nan
    for t, s in zip(times[:-1], times[1:]):
        h = process.half_log_snr(s) - process.half_log_snr(t)
        d = denoised(model, process, x, t)
        combined = d
        if previous is not None and process.sigma(s) != 0.0:
            r = previous_h / h
            combined = d * (1.0 + 0.5 / r) - previous * (0.5 / r)
        x = x * (process.sigma(s) / process.sigma(t)) - combined * (process.alpha(s) * math.expm1(-h))
        previous, previous_h = d, h
    return x


ANCESTRAL_STEPS, DPM_SOLVER_STEPS = 200, 50


def library_sampler(sampler, steps, n=10_000):
    """Cases.LibrarySampler: the MLP with weights from torch.manual_seed(3) (the default init, as ours from
    Generator(3)), as an eps-model of the continuous limit of the linear DDPM table, grid uniform in t from 1 to 0."""
    torch.manual_seed(3)
    model = Mlp()
    process = VpLinear.from_ddpm_linear()
    times = uniform_time(steps, 1.0, 0.0)
    g = torch.Generator().manual_seed(2)
    t0 = time.perf_counter()
    with torch.no_grad():
        x = torch.randn(n, 2, generator=g)
        x = sampler(model, process, times, x, g)
    return (time.perf_counter() - t0, "s"), x


CHECKS = {
    "sampler_ddpm_ancestral": lambda: library_sampler(ddpm_ancestral, 10, 8)[1],
    "sampler_dpmpp_2m": lambda: library_sampler(dpmpp_2m, 10, 8)[1],
}

CASES = {
    "tiny_add_2x2": lambda: tiny("add"),
    "tiny_mul_add_2x2": lambda: tiny("mul_add"),
    "matmul_1024": lambda: matmul(1024),
    "matmul_2048": lambda: matmul(2048),
    "ddpm_train_step": train_step,
    "ddpm_sample_1000": sample,
    "sampler_ddpm_ancestral": lambda: library_sampler(ddpm_ancestral, ANCESTRAL_STEPS)[0],
    "sampler_dpmpp_2m": lambda: library_sampler(dpmpp_2m, DPM_SOLVER_STEPS)[0],
}

if __name__ == "__main__":
    if sys.argv[1] == "check":
        print(json.dumps({"values": CHECKS[sys.argv[2]]().double().reshape(-1).tolist()}))
        sys.exit(0)
    case, threads = sys.argv[1], int(sys.argv[2])
    if threads > 0:
        torch.set_num_threads(threads)
    value, unit = CASES[case]()
    print(json.dumps({"value": value, "unit": unit}))
