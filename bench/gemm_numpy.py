#!/usr/bin/env python3
"""Times float32 matrix products with numpy.matmul, for bench/gemm.ts.

Usage: python3 bench/gemm_numpy.py --threads N --reps N M,K,N [M,K,N ...]
Prints one JSON line: {"threads": N, "numpy": "1.24.2", "blas": "openblas",
"products": [{"m": .., "k": .., "n": .., "median_ms": ..}, ...]}.
"""

import json
import os
import statistics
import sys
import time


def option(flag, fallback):
    return int(sys.argv[sys.argv.index(flag) + 1]) if flag in sys.argv else fallback


THREADS = option("--threads", 1)
REPS = option("--reps", 9)

# OpenBLAS sizes its thread pool from the environment when it loads, so this precedes the import.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

try:
    import numpy as np
except ImportError:
    print(json.dumps({"error": "numpy is not installed (apt-get install python3-numpy)"}))
    sys.exit(0)


def blas_library():
    """The BLAS the process loaded (numpy links libblas.so.3, which Debian points anywhere)."""
    with open("/proc/self/maps", encoding="utf8") as maps:
        text = maps.read()
    for name in ("openblas", "mkl", "blis", "atlas"):
        if name in text:
            return name
    return "reference BLAS" if "libblas" in text else "unknown"


def time_product(m, k, n):
    rng = np.random.default_rng(0)
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    for _ in range(2):
        np.matmul(a, b, out=out)
    times = []
    for _ in range(REPS):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    shapes = [tuple(int(d) for d in arg.split(",")) for arg in sys.argv[1:] if arg.count(",") == 2]
    products = [{"m": m, "k": k, "n": n, "median_ms": time_product(m, k, n)} for m, k, n in shapes]
    result = {"threads": THREADS, "numpy": np.__version__, "blas": blas_library()}
    print(json.dumps({**result, "products": products}))


if __name__ == "__main__":
    main()
