"""Prepare what a GPU machine without network needs: FER2013 as one compact file, and wheels.

The device machine has JAX, NumPy, scikit-learn and h5py but no Keras and
no network, and only the working tree (at most 64 MiB) travels to it. This
script writes, under ignored folders of the repository root:

- ``.gpudata/fer2013.npz``: FER2013's Training and PublicTest faces as
  uint8. Each face is stored as the residual of a gradient predictor (left
  neighbour + upper neighbour - upper-left neighbour, mod 256), compressed
  with LZMA; :func:`read_faces` undoes it exactly with two cumulative sums.
  On the first 4,000 faces this came to 53 MB for all 32,298 (extrapolated);
  zlib level 9 of the plain pixels, as ``np.savez_compressed`` does, is
  71 MB (measured on all), over what travels to the device with the rest.
- ``.whl/``: the wheels of Keras and of the packages it needs that the
  machine lacks (namex, optree), and scikeras, at the versions installed
  here, for Python 3.12 on x86-64 Linux.

Examples
--------
Once, from the repository root (reads ``$SKFER_DATA`` or
``../shared/data/fer2013``)::

    python benchmarks/gpu/prepare.py

Only the data, from a given CSV::

    python benchmarks/gpu/prepare.py --data path/to/fer2013.csv.gz --no-wheels
"""

import argparse
import lzma
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013"
SIDE = 48
SPLITS = ("Training", "PublicTest")
#: Packages the GPU machine lacks: Keras, two of its needs, and scikeras (for train_fer2013.py).
WHEELS = ("keras", "namex", "optree", "scikeras")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64")


def write_faces(path, faces, emotion, usage):
    """Write uint8 faces (n, 2304), labels (n,) and split names (n,) to one compact file."""
    faces = np.asarray(faces)
    if faces.dtype != np.uint8 or faces.ndim != 2 or faces.shape[1] != SIDE * SIDE:
        raise ValueError(f"faces must be uint8 of shape (n, {SIDE * SIDE}); got {faces.dtype} {faces.shape}")
    images = faces.reshape(-1, SIDE, SIDE)
    across = np.diff(images, axis=2, prepend=np.uint8(0))  # uint8 arithmetic wraps mod 256
    residual = np.diff(across, axis=1, prepend=np.uint8(0))
    packed = np.frombuffer(lzma.compress(residual.tobytes()), dtype=np.uint8)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, residual_xz=packed, emotion=np.asarray(emotion, dtype=np.uint8),
             usage=np.asarray(usage, dtype=str))


def read_faces(path):
    """The faces, labels and split names :func:`write_faces` wrote: (uint8 (n, 2304), labels, splits)."""
    with np.load(path) as stored:
        residual = np.frombuffer(lzma.decompress(stored["residual_xz"].tobytes()), dtype=np.uint8)
        emotion, usage = stored["emotion"].astype(np.int64), stored["usage"]
    images = residual.reshape(-1, SIDE, SIDE).cumsum(axis=1, dtype=np.uint8).cumsum(axis=2, dtype=np.uint8)
    return images.reshape(len(images), -1), emotion, usage


def download_wheels(folder):
    """``pip download`` the wheels of ``WHEELS`` at the versions installed here, for the GPU machine."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    pins = [f"{name}=={version(name)}" for name in WHEELS]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.12",
         "--implementation", "cp", *platforms, "-d", str(folder), *pins],
        check=True,
    )
    return pins


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKFER_DATA") or DEFAULT_DATA,
                        help="FER2013 CSV or its folder (default $SKFER_DATA, else ../shared/data/fer2013)")
    parser.add_argument("--out", type=Path, default=ROOT / ".gpudata" / "fer2013.npz")
    parser.add_argument("--wheels", type=Path, default=ROOT / ".whl")
    parser.add_argument("--no-wheels", action="store_true", help="write the data file only")
    args = parser.parse_args(argv)

    from skfer.datasets import load_fer2013
    from skfer.preprocessing import PixelStringTransformer

    bunch = load_fer2013(args.data, usage=list(SPLITS))
    faces = PixelStringTransformer().fit_transform(bunch.data).astype(np.uint8)
    write_faces(args.out, faces, bunch.target, bunch.usage)
    counts = {split: int((bunch.usage == split).sum()) for split in SPLITS}
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB, {counts}")
    if not args.no_wheels:
        print(f"{args.wheels}: {', '.join(download_wheels(args.wheels))}")


if __name__ == "__main__":
    main()
