#!/usr/bin/env bash
# Create benchmarks/.venv: djq (editable, from this checkout), the peers
# (dj-queue, pgqueuer with uvloop, procrastinate) and the PostgreSQL driver.
# The peers live only here; none of them is ever a dependency of djq itself.
#
#   bash benchmarks/setup.sh            # idempotent; re-run after changing djq's deps
#   BENCH_PYTHON=/path/to/python3.13 bash benchmarks/setup.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
venv="$here/.venv"

pick_python() {
  if [ -n "${BENCH_PYTHON:-}" ]; then echo "$BENCH_PYTHON"; return; fi
  local root
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for v in 3.12.1 3.13.0; do
    [ -x "$root/versions/$v/bin/python3" ] && { echo "$root/versions/$v/bin/python3"; return; }
  done
  for exe in python3.13 python3.12; do
    command -v "$exe" >/dev/null && { command -v "$exe"; return; }
  done
  echo "no Python >= 3.12 found (set BENCH_PYTHON)" >&2
  exit 1
}

if [ ! -x "$venv/bin/python" ]; then
  py=$(pick_python)
  echo "creating $venv with $py"
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e "$repo" "dj-queue==0.14.2" "psycopg[binary]" py-spy \
  "pgqueuer==1.6.0" "uvloop==0.23.0" "procrastinate==3.10.0"
"$venv/bin/python" - <<'EOF'
from importlib.metadata import version
import sys
print("python", sys.version.split()[0], "|", ", ".join(
    f"{d} {version(d)}" for d in ("django", "djq", "dj-queue", "pgqueuer", "uvloop", "procrastinate", "psycopg", "py-spy")))
EOF
