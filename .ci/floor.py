"""Print pip constraints holding every dependency to the release series of its declared lower bound.

Usage: python .ci/floor.py [EXTRA ...] > floor.txt; then
pip install -c floor.txt -e ".[EXTRA,...]" installs the declared floor.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
requirements = list(project["dependencies"])
for extra in sys.argv[1:]:
    requirements += project["optional-dependencies"][extra]
for requirement in requirements:
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([^,;\s]+)", requirement)
    if match is None:
        sys.exit(f"floor.py: {requirement!r} declares no plain lower bound (NAME>=VERSION)")
    print(f"{match[1]}=={match[3]}.*")  # the floor release series, its newest patch
