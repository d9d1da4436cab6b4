#!/usr/bin/env python3
"""djq benchmarks: djq against dj-queue, interleaved, on one PostgreSQL server.

    benchmarks/bench.py all --repeat 3          # everything (see README.md)
    benchmarks/bench.py drain --repeat 1 -N 2000
    benchmarks/bench.py --help

Runs under benchmarks/.venv (re-executes itself there if started with another
interpreter); create it with benchmarks/setup.sh.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE / ".venv" / "bin" / "python"

if __name__ == "__main__":
    if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (HERE / ".venv").resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])
    sys.path.insert(0, str(HERE))
    from djqbench.cli import main

    sys.exit(main())
