#!/usr/bin/env bash
# Create .venv with a Python >= 3.12 and install djq with every extra the
# test suite needs. Safe to re-run: it only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=(python3.13 python3.12 python3)
  local root
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  # pyenv installs that are not on PATH (python3 may point at an older one).
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for p in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
    if "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

# mysqlclient compiles against the MariaDB client headers.
ensure_mariadb_headers() {
  if pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing libmariadb-dev (needed to build mysqlclient)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q libmariadb-dev pkg-config >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libmariadb-dev pkg-config >/dev/null; }
  else
    echo "bootstrap: MariaDB client headers missing; install libmariadb-dev (Debian) or mariadb-connector-c" >&2
    return 1
  fi
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  PY=$(find_python) || { echo "bootstrap: no Python >= 3.12 found (looked on PATH and under pyenv)" >&2; exit 1; }
  echo "bootstrap: creating .venv with $PY" >&2
  rm -rf .venv
  "$PY" -m venv .venv
fi

stamp=.venv/.djq-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  ensure_mariadb_headers
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev,postgres,mysql,prometheus]"
  touch "$stamp"
fi
