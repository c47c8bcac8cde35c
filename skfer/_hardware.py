"""The machine a figure was measured on (hardware, software versions), and what it computes natively."""

import functools
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

#: CPU features that decide training and prediction speed on x86 machines.
_SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")


@functools.cache  # the hardware does not change while a program runs
def _cpu():
    """The CPU's model name and which of :data:`_SPEED_FLAGS` it has (Linux; else the platform's name)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return platform.processor(), []
    lines = cpuinfo.read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    found = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return (models[0] if models else platform.processor()), [f for f in _SPEED_FLAGS if f in found]


#: FP32 operations per cycle and core: two fused multiply-add units, 16 (AVX-512, as on
#: Zen 5 and Intel server cores) or 8 (AVX2) lanes wide, two operations a lane.
_FLOPS_PER_CYCLE = {"avx512f": 64, "avx2": 32}


@functools.cache
def _clock_ghz():
    """The first core's clock from /proc/cpuinfo (``cpu MHz``), in GHz; None where it gives none."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return None
    clocks = [line.split(":", 1)[1] for line in cpuinfo.read_text().splitlines() if line.startswith("cpu MHz")]
    return float(clocks[0]) / 1000 if clocks else None


def fp32_peak_gflops():
    """An estimate of this machine's FP32 peak: usable cores x clock x FP32 operations per cycle.

    The clock is the one /proc/cpuinfo reports (a virtual machine's nominal
    clock, not its boost); a core does 64 operations a cycle with AVX-512,
    32 with AVX2 (two fused multiply-add units), 16 otherwise.

    Returns
    -------
    dict or None
        ``gflops``, ``cores``, ``ghz`` and ``flops_per_cycle``; None where
        the clock is unknown.

    Examples
    --------
    >>> from skfer._hardware import fp32_peak_gflops
    >>> peak = fp32_peak_gflops()
    >>> peak is None or peak["gflops"] == peak["cores"] * peak["ghz"] * peak["flops_per_cycle"]
    True
    """
    ghz = _clock_ghz()
    if ghz is None:
        return None
    _, flags = _cpu()
    per_cycle = next((n for flag, n in _FLOPS_PER_CYCLE.items() if flag in flags), 16)
    cores = machine()["cpu_count"]
    return {"gflops": cores * ghz * per_cycle, "cores": cores, "ghz": ghz, "flops_per_cycle": per_cycle}


def peak_memory_mb():
    """This process's peak resident memory so far, in MB (None where the platform does not say).

    Examples
    --------
    >>> from skfer._hardware import peak_memory_mb
    >>> peak = peak_memory_mb()
    >>> peak is None or peak > 0
    True
    """
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return round(peak / 2**20 if platform.system() == "Darwin" else peak / 2**10, 1)


@functools.cache
def _gpus():
    """Names of the NVIDIA GPUs ``nvidia-smi`` lists; empty without one."""
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, check=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in smi.stdout.splitlines() if line.strip()]


def machine():
    """The hardware a figure was measured on: CPU model, speed-relevant flags, cores, GPUs.

    Returns
    -------
    dict
        ``platform``, ``cpu`` (model name), ``cpu_flags`` (those of
        AVX2/AVX-512/BF16/AMX present), ``cpu_count`` (the cores this
        process may use) and ``gpus`` (from
        ``nvidia-smi``, empty without one).

    Examples
    --------
    >>> from skfer._hardware import machine
    >>> sorted(machine())
    ['cpu', 'cpu_count', 'cpu_flags', 'gpus', 'platform']
    """
    cpu, flags = _cpu()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": platform.platform(), "cpu": cpu, "cpu_flags": flags, "cpu_count": cores, "gpus": _gpus(),
    }


def native_bfloat16():
    """Whether Keras computes on a CPU that does bfloat16 itself (AVX512-BF16 or AMX), no GPU.

    There, Keras' ``mixed_bfloat16`` policy trains and predicts the DCNN
    faster than float32 (measured speeds are on the documentation's
    benchmarks page, from ``benchmarks/results/speed.json``); CPUs without
    these instructions emulate bfloat16 and run it slower than float32.

    Examples
    --------
    >>> from skfer._hardware import native_bfloat16
    >>> native_bfloat16() in (True, False)
    True
    """
    _, flags = _cpu()
    return bool({"avx512_bf16", "amx_bf16"} & set(flags)) and not _gpus()


#: Distributions whose versions every figure records, besides skfer's.
_CORE = ("keras", "scikeras", "scikit-learn", "numpy")


def versions(backend=None, extra=()):
    """Versions of Python, skfer's core dependencies, a Keras backend and ``extra`` distributions.

    Read from the installed distributions' metadata, so nothing is imported;
    skfer's own from the package, which may run from a source tree.

    Parameters
    ----------
    backend : str, default=None
        The Keras backend a figure used (``"tensorflow"``, ``"jax"`` or
        ``"torch"``); its version is recorded under that name.
    extra : sequence of str, default=()
        More distributions to record (e.g. ``"onnxruntime"``).

    Returns
    -------
    dict
        ``python`` and each distribution's version, None where it is not installed.

    Examples
    --------
    >>> from skfer._hardware import versions
    >>> found = versions("tensorflow", extra=["no-such-distribution"])
    >>> sorted(found)[:3], found["no-such-distribution"]
    (['keras', 'no-such-distribution', 'numpy'], None)
    """
    from . import __version__

    found = {"python": platform.python_version(), "skfer": __version__}
    for name in (*_CORE, *([backend] if backend else []), *extra):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found
