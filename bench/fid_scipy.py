#!/usr/bin/env python3
"""FID of two float64 .npy feature sets with numpy/scipy, timed, for bench/fid.ts.

Two ways, both from the same covariances (np.cov, ddof=1):
  eigh:  tr sqrt(S1^1/2 S2 S1^1/2) from numpy's symmetric eigensolvers (eigh, then eigvalsh);
  sqrtm: tr sqrtm(S1 S2) with scipy.linalg.sqrtm, the formula most FID code uses.
Prints one JSON line: versions, the FID of each way and its seconds (covariances included).
"""
import json
import sys
import time

try:
    import numpy as np
    import scipy
    import scipy.linalg
except ImportError as err:
    print(json.dumps({"error": f"{err}"}))
    sys.exit(0)


def main():
    a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
    start = time.perf_counter()
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    cov_seconds = time.perf_counter() - start
    base = float((m1 - m2) @ (m1 - m2) + np.trace(s1) + np.trace(s2))

    start = time.perf_counter()
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root1 @ s2 @ root1
    e = np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)
    eigh_fid = base - 2 * float(np.sqrt(e).sum())
    eigh_seconds = time.perf_counter() - start

    start = time.perf_counter()
    root = scipy.linalg.sqrtm(s1 @ s2, disp=False)[0]
    max_imag = float(np.abs(root.imag).max()) if np.iscomplexobj(root) else 0.0
    sqrtm_fid = base - 2 * float(np.trace(root.real))
    sqrtm_seconds = time.perf_counter() - start

    print(json.dumps({
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "covariance_seconds": cov_seconds,
        "eigh": {"fid": eigh_fid, "seconds": cov_seconds + eigh_seconds},
        "sqrtm": {"fid": sqrtm_fid, "seconds": cov_seconds + sqrtm_seconds, "max_imag": max_imag},
    }))


if __name__ == "__main__":
    main()
