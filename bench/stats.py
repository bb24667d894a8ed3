# SPDX-License-Identifier: MulanPSL-2.0
"""The statistics the benchmarks share (bench.py, server.py, psi_bench.py):
one definition of a percentile, a mean and a ratio, so that two benchmarks'
"p99" or "ratio" mean the same thing."""


def mean(values):
    """The arithmetic mean; None for no values."""
    values = list(values)
    return sum(values) / len(values) if values else None


def pct(sorted_v, p):
    """The @p quantile (0..1) of an ascending list, nearest rank from above
    (index int(p * n), the last for p = 1); None for an empty list."""
    if not sorted_v:
        return None
    return sorted_v[min(len(sorted_v) - 1, int(p * len(sorted_v)))]


def pct_low(sorted_v, p):
    """The @p quantile of an ascending list, nearest rank from below (index
    int(p * (n - 1)): the median of two is the first); None when empty."""
    if not sorted_v:
        return None
    return sorted_v[int(p * (len(sorted_v) - 1))]


def ratio(x, y, digits=4):
    """x / y rounded, None when either is missing or y is 0."""
    return round(x / y, digits) if x is not None and y else None


def latency_summary(values_ns):
    """n, p50/p99/p999 and max in microseconds of latencies in nanoseconds."""
    s = sorted(values_ns)

    def us(v):
        return v / 1e3 if v is not None else None

    return {"n": len(s), "p50_us": us(pct(s, 0.5)), "p99_us": us(pct(s, 0.99)), "p999_us": us(pct(s, 0.999)),
            "max_us": us(s[-1]) if s else None}
