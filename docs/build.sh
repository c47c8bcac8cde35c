#!/usr/bin/env bash
# Build the documentation into docs/_build/html, warnings as errors.
#
#   docs/build.sh                          # run every example of the gallery
#   SKFER_DOCS_GALLERY=fast docs/build.sh  # run only the quick examples (CI)
#   SKFER_DOCS_GALLERY=none docs/build.sh  # run no example
#
# Examples read FER2013 from $SKFER_DATA; when it is unset and the project's
# shared data folder (../shared/data/fer2013 next to the repository) exists,
# that folder is used. Extra arguments go to sphinx-build (e.g. -E to rebuild
# from scratch, -j 2 for two processes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$root/../shared/data/fer2013"
if [[ -z "${SKFER_DATA:-}" && -d "$shared" ]]; then
    export SKFER_DATA="$shared"
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
python="${PYTHON:-python}"
if [[ -x "$root/.venv/bin/python" && -z "${PYTHON:-}" ]]; then
    python="$root/.venv/bin/python"
fi
exec "$python" -m sphinx -W --keep-going -b html "$@" "$root/docs" "$root/docs/_build/html"
