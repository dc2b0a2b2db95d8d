"""The bench DCGAN step of bench/dcgan.ts in PyTorch, as the reference for the tfjs timings.

Same shapes, losses and optimizer; written the way the PyTorch DCGAN example trains (the fake
batch from the D update is reused for the G update). Prints one JSON line:
{"threads": 1, "torch": "1.13.0", "step_ms": [...], "median_ms": ..., "median_cpu_ms": ...}
where CPU time is the process's, all threads (time.process_time).

Usage: python3 bench/torch_dcgan_step.py [--threads N] [--steps N] [--warmup N]
"""

import argparse
import json
import os
import statistics
import sys
import time


def thread_count():
    if "--threads" in sys.argv:
        return int(sys.argv[sys.argv.index("--threads") + 1])
    return 1


# OpenBLAS (used by the transposed convolutions and linear layers) ignores
# torch.set_num_threads: its pool size is read from the environment when it loads.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(thread_count())

try:
    import torch
    from torch import nn
except ImportError:
    print(json.dumps({"error": "torch is not installed (apt-get install python3-torch)"}))
    sys.exit(3)


def blas_library():
    """Which BLAS the process loaded; the reference BLAS makes PyTorch several times slower."""
    with open("/proc/self/maps", encoding="utf8") as maps:
        text = maps.read()
    for name in ("openblas", "mkl", "blis", "atlas"):
        if name in text:
            return name
    return "reference BLAS" if "libblas" in text else "unknown"

BATCH = 64
NOISE = 100


def make_generator():
    return nn.Sequential(
        nn.Linear(NOISE, 7 * 7 * 128),
        nn.BatchNorm1d(7 * 7 * 128),
        nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),
        # padding 2 + output_padding 1 gives 7 -> 14, as tfjs 'same' does.
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1),
        nn.Tanh(),
    )


def make_discriminator():
    return nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2),
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 5, stride=2, padding=2),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(7 * 7 * 128, 1),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=thread_count())
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    g, d = make_generator(), make_discriminator()
    g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(BATCH, 1, 28, 28) * 2 - 1
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)

    def step():
        fake = g(torch.randn(BATCH, NOISE))
        d_opt.zero_grad()
        d_loss = bce(d(real), ones) + bce(d(fake.detach()), zeros)
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad()
        g_loss = bce(d(fake), ones)
        g_loss.backward()
        g_opt.step()

    for _ in range(args.warmup):
        step()
    times, cpu_times = [], []
    for _ in range(args.steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
    print(
        json.dumps(
            {
                "threads": args.threads,
                "torch": torch.__version__,
                "blas": blas_library(),
                "step_ms": [round(t, 1) for t in times],
                "median_ms": round(statistics.median(times), 1),
                "median_cpu_ms": round(statistics.median(cpu_times), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
