"""What a benchmark figure was measured on: CPU model and flags, cores, load."""

import os
from pathlib import Path

#: CPU flags that change how fast Keras' kernels run.
_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "fma")


def machine():
    """CPU model, the speed-relevant flags it has, usable cores and the load averages now."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    return {
        "cpu": fields.get("model name", "unknown"),
        "cpu_flags": [flag for flag in _FLAGS if flag in flags],
        "cores": len(os.sched_getaffinity(0)),
        "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()],
    }
