"""The reference side of the benchmarks: the same work as Program.cs, in PyTorch on the same libtorch.

Usage: python3 reference.py CASE THREADS [quick]   -> {"value", "unit", "peak_rss_mb", "cpu_s", "minor_faults"}
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


def tiny(op, quick):
    iterations, repeats = (50_000, 3) if quick else (200_000, 5)
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


def matmul(n, repeats):
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


def train_step(steps, batch=4096):
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


def warmup(sample, shape):
    """Cases.Warmup: an untimed call of the whole grid on 2 rows of `shape`, from noise of its own generator (seed 4);
    once, as there is no JIT to wait for."""
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        sample(torch.randn(2, *shape[1:], generator=g), g)


def sample(run, n=10_000, steps=1000):
    """Cases.Sample: the first `run` of the 1000 ancestral steps, the time scaled to all of them."""
    g = torch.Generator().manual_seed(2)
    model = Mlp()
    betas, alpha_bar = linear_schedule(steps)

    def ancestral(x, g):
        for k in range(steps, steps - run, -1):
            beta, ab, ab_prev = betas[k - 1], alpha_bar[k].item(), alpha_bar[k - 1].item()
            t = torch.full((x.shape[0],), k / steps)
            eps = model(x, t)
            x_next = (x - eps * (beta / math.sqrt(1 - ab))) / math.sqrt(1 - beta)
            if k > 1:
                x_next = x_next + torch.randn(x.shape, generator=g) * math.sqrt((1 - ab_prev) / (1 - ab) * beta)
            x = x_next
        return x

    warmup(ancestral, (n, 2))
    t0 = time.perf_counter()
    with torch.no_grad():
        x = torch.randn(n, 2, generator=g)
        x = ancestral(x, g)
    return (time.perf_counter() - t0) * steps / run, "s"


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


def ancestral_split(level, level_next, eta):
    """AncestralSplit.Of: (varsigma_down, varsigma_up) of a step from varsigma to varsigma_next."""
    if level_next == 0.0:
        return 0.0, 0.0
    up = min(level_next, eta * level_next * math.sqrt(max(0.0, 1.0 - level_next * level_next / (level * level))))
    return math.sqrt(max(0.0, level_next * level_next - up * up)), up


def ddim(model, process, times, x, g, eta=1.0):
    """Samplers.Ddim(eta) in the VE normal form (AncestralSplit); eta = 1 is Samplers.DdpmAncestral."""
    for t, s in zip(times[:-1], times[1:]):
        alpha_t, sigma_t, alpha_s = process.alpha(t), process.sigma(t), process.alpha(s)
        d = denoised(model, process, x, t)
        down, up = ancestral_split(process.varsigma(t), process.varsigma(s), eta)
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
    warmup(lambda x, g: sampler(model, process, times, x, g), (n, 2))
    g = torch.Generator().manual_seed(2)
    t0 = time.perf_counter()
    with torch.no_grad():
        x = torch.randn(n, 2, generator=g)
        x = sampler(model, process, times, x, g)
    return (time.perf_counter() - t0, "s"), x


# ---- UNet28 (src/Research.Models/Networks/UNet.cs), modules created in the C# construction order --------------

class ResBlock(torch.nn.Module):
    def __init__(self, cin, cout, emb=128, groups=8):
        super().__init__()
        self.gn1 = torch.nn.GroupNorm(groups, cin)
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = torch.nn.Linear(emb, cout)
        self.gn2 = torch.nn.GroupNorm(groups, cout)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = torch.nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.gn1(x)))
        h = h + self.temb_proj(F.silu(emb)).unsqueeze(-1).unsqueeze(-1)
        h = self.conv2(F.silu(self.gn2(h)))
        return (x if self.skip is None else self.skip(x)) + h


class AttnBlock(torch.nn.Module):
    def __init__(self, c, groups=8):
        super().__init__()
        self.gn = torch.nn.GroupNorm(groups, c)
        self.qkv = torch.nn.Conv2d(c, 3 * c, 1)
        self.proj = torch.nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        q, k, v = self.qkv(self.gn(x)).reshape(b, 3, c, hh * ww).unbind(1)
        w = F.softmax(torch.bmm(q.transpose(1, 2), k) * (1.0 / math.sqrt(c)), -1)
        o = torch.bmm(v, w.transpose(1, 2))
        return x + self.proj(o.reshape(b, c, hh, ww))


class UNet28(torch.nn.Module):
    """1 389 345 parameters; forward(x [B,1,28,28], t [B] in [0, 1])."""

    def __init__(self):
        super().__init__()
        half = 16
        self.register_buffer("freqs", torch.exp(torch.arange(0, half, dtype=torch.float32) * (-math.log(10000.0) / half)))
        self.temb1, self.temb2 = torch.nn.Linear(2 * half, 128), torch.nn.Linear(128, 128)
        self.stem = torch.nn.Conv2d(1, 32, 3, padding=1)
        self.d0a, self.d0b = ResBlock(32, 32), ResBlock(32, 32)
        self.ds0 = torch.nn.Conv2d(32, 32, 3, stride=2, padding=1)
        self.d1a, self.d1b = ResBlock(32, 64), ResBlock(64, 64)
        self.ds1 = torch.nn.Conv2d(64, 64, 3, stride=2, padding=1)
        self.m1 = ResBlock(64, 128)
        self.attn = AttnBlock(128)
        self.m2 = ResBlock(128, 128)
        self.us1 = torch.nn.Conv2d(128, 128, 3, padding=1)
        self.u1a, self.u1b = ResBlock(192, 64), ResBlock(64, 64)
        self.us0 = torch.nn.Conv2d(64, 64, 3, padding=1)
        self.u0a, self.u0b = ResBlock(96, 32), ResBlock(32, 32)
        self.gn_out = torch.nn.GroupNorm(8, 32)
        self.conv_out = torch.nn.Conv2d(32, 1, 3, padding=1)

    def forward(self, x, t):
        a = (t * 1000.0).unsqueeze(1) * self.freqs
        emb = self.temb2(F.silu(self.temb1(torch.cat([a.sin(), a.cos()], 1))))
        h = self.stem(x)
        s0 = self.d0b(self.d0a(h, emb), emb)
        s1 = self.d1b(self.d1a(self.ds0(s0), emb), emb)
        h = self.m2(self.attn(self.m1(self.ds1(s1), emb)), emb)
        h = torch.cat([self.us1(F.interpolate(h, scale_factor=2.0, mode="nearest")), s1], 1)
        h = self.u1b(self.u1a(h, emb), emb)
        h = torch.cat([self.us0(F.interpolate(h, scale_factor=2.0, mode="nearest")), s0], 1)
        h = self.u0b(self.u0a(h, emb), emb)
        return self.conv_out(F.silu(self.gn_out(h)))


def unet28(seed=3):
    torch.manual_seed(seed)
    model = UNet28()
    assert sum(p.numel() for p in model.parameters()) == 1_389_345
    return model


class DdpmTable:
    """DdpmTableProcess: B(t) = -log alpha-bar linear between the steps k/T of the DDPM linear table."""

    def __init__(self, steps=1000, beta_start=1e-4, beta_end=0.02):
        self.steps = steps
        self.integrated = [0.0]
        for k in range(1, steps + 1):
            beta = beta_start + (beta_end - beta_start) * (k - 1) / (steps - 1)
            self.integrated.append(self.integrated[-1] - math.log(1.0 - beta))

    def integrated_beta(self, t):
        t = min(max(t, 0.0), 1.0)
        k = min(max(math.ceil(t * self.steps - 1e-12), 1), self.steps)
        start = (k - 1.0) / self.steps
        return self.integrated[k - 1] + (t - start) * self.steps * (self.integrated[k] - self.integrated[k - 1])

    def alpha(self, t):
        return math.exp(-0.5 * self.integrated_beta(t))

    def sigma(self, t):
        return math.sqrt(-math.expm1(-self.integrated_beta(t)))

    def varsigma(self, t):
        return self.sigma(t) / self.alpha(t)


UNET_BATCH, UNET_SAMPLE_BATCH, DDIM_STEPS = 128, 256, 50


def unet_train_step(batch, warmup, steps):
    """Cases.UNetTrainStep: Adam on the DDPM eps-objective (k uniform in 1..T, per-sample mean of squares, then the
    batch mean), images in [-1, 1) from Generator(1); images per second of the median step, and every loss."""
    model = unet28()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    table = DdpmTable()
    g = torch.Generator().manual_seed(1)

    def step():
        x0 = torch.rand(batch, 1, 28, 28, generator=g) * 2.0 - 1.0
        k = torch.randint(1, table.steps + 1, (batch,), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        t = [kk / table.steps for kk in k.tolist()]
        alpha = torch.tensor([table.alpha(u) for u in t], dtype=torch.float64).float().reshape(-1, 1, 1, 1)
        sigma = torch.tensor([table.sigma(u) for u in t], dtype=torch.float64).float().reshape(-1, 1, 1, 1)
        xt = x0 * alpha + eps * sigma
        opt.zero_grad()
        prediction = model(xt, torch.tensor(t, dtype=torch.float64).float())
        loss = (prediction - eps).square().flatten(1).mean(1).mean()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    times, losses = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t0)
    return (batch / median(times), "images/s"), torch.tensor(losses, dtype=torch.float64)


def unet_sample(batch, steps, run):
    """Cases.UNetSample: DDIM (eta = 0) on the table's process, grid uniform in t from 1 to 0, UNet28 as eps-model;
    the first `run` steps, the rate scaled to all of them."""
    model = unet28()
    table = DdpmTable()
    grid = uniform_time(steps, 1.0, 0.0)
    warmup(lambda x, g: ddim(model, table, grid, x, g, eta=0.0), (batch, 1, 28, 28))
    times = grid[:run + 1]
    g = torch.Generator().manual_seed(2)
    t0 = time.perf_counter()
    with torch.no_grad():
        x = torch.randn(batch, 1, 28, 28, generator=g)
        x = ddim(model, table, times, x, g, eta=0.0)
    return (batch / ((time.perf_counter() - t0) * steps / run), "images/s"), x


CHECKS = {
    "sampler_ddpm_ancestral": lambda: library_sampler(ddim, 10, 8)[1],
    "sampler_dpmpp_2m": lambda: library_sampler(dpmpp_2m, 10, 8)[1],
    "unet28_train_step": lambda: unet_train_step(4, 0, 4)[1],
    "unet28_sample": lambda: unet_sample(2, 5, 5)[1],
}

CASES = {
    "tiny_add_2x2": lambda quick: tiny("add", quick),
    "tiny_mul_add_2x2": lambda quick: tiny("mul_add", quick),
    "matmul_1024": lambda quick: matmul(1024, 3 if quick else 7),
    "matmul_2048": lambda quick: matmul(2048, 3 if quick else 7),
    "ddpm_train_step": lambda quick: train_step(10 if quick else 30),
    "ddpm_sample_1000": lambda quick: sample(100 if quick else 200),  # as Cases.cs: a fifth, scaled
    "sampler_ddpm_ancestral": lambda quick: scaled(library_sampler(ddim, ANCESTRAL_STEPS // (4 if quick else 2))[0], 4 if quick else 2),
    "sampler_dpmpp_2m": lambda quick: library_sampler(dpmpp_2m, DPM_SOLVER_STEPS)[0],
    "unet28_train_step": lambda quick: unet_train_step(UNET_BATCH, 1 if quick else 2, 2 if quick else 5)[0],
    "unet28_sample": lambda quick: unet_sample(UNET_SAMPLE_BATCH, DDIM_STEPS, DDIM_STEPS // 10)[0],  # as Cases.cs: a tenth, scaled
}


def scaled(result, factor):
    return result[0] * factor, result[1]


def peak_rss_mb():
    """VmHWM of /proc/self/status, as the C# side reads it."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def process_counts():
    """(CPU seconds, minor page faults) from /proc/self/stat, as Statistics.ProcessCounts reads them."""
    with open("/proc/self/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split(" ")
    return (float(fields[14 - 3]) + float(fields[15 - 3])) / 100.0, float(fields[10 - 3])


if __name__ == "__main__":
    if sys.argv[1] == "check":
        print(json.dumps({"values": CHECKS[sys.argv[2]]().double().reshape(-1).tolist()}))
        sys.exit(0)
    case, threads = sys.argv[1], int(sys.argv[2])
    quick = len(sys.argv) > 3 and sys.argv[3] == "quick"
    if threads > 0:
        torch.set_num_threads(threads)
    value, unit = CASES[case](quick)
    cpu, faults = process_counts()
    print(json.dumps({"value": value, "unit": unit, "peak_rss_mb": peak_rss_mb(), "cpu_s": cpu, "minor_faults": faults}))
