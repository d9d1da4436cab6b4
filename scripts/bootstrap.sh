#!/usr/bin/env bash
# Create .venv with a Python >= 3.12 and install djq into it.
#
#   scripts/bootstrap.sh         every extra the test suite needs (PostgreSQL, MariaDB, Prometheus, dev tools)
#   scripts/bootstrap.sh demo    only what the SQLite demo needs: djq itself, no extras, no system packages
#
# Safe to re-run: it only installs what changed. DJQ_BOOTSTRAP_DRY_RUN=1 prints
# what it would install instead of installing it.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${1:-test}
case "$profile" in
  test) extras="[dev,postgres,mysql,prometheus]"; stamp=.venv/.djq-installed ;;
  demo) extras=""; stamp=.venv/.djq-installed-demo ;;
  *) echo "bootstrap: unknown profile '$profile' (expected: test or demo)" >&2; exit 2 ;;
esac
dry_run=${DJQ_BOOTSTRAP_DRY_RUN:-}

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

up_to_date() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ]; }

if [ -n "$dry_run" ]; then
  if [ "$profile" = test ]; then echo "would check for the MariaDB client headers (to build mysqlclient)"; fi
  echo "would run: pip install -e .$extras"
  exit 0
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  PY=$(find_python) || { echo "bootstrap: no Python >= 3.12 found (looked on PATH and under pyenv)" >&2; exit 1; }
  echo "bootstrap: creating .venv with $PY" >&2
  rm -rf .venv
  "$PY" -m venv .venv
fi

# The test profile's install covers the demo's.
if up_to_date "$stamp" || { [ "$profile" = demo ] && up_to_date .venv/.djq-installed; }; then
  exit 0
fi
if [ "$profile" = test ]; then
  ensure_mariadb_headers
  echo "bootstrap: installing djq with the test, PostgreSQL, MariaDB and Prometheus extras into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
else
  # A first run takes a minute or so: show pip's progress rather than nothing.
  echo "bootstrap: installing djq into .venv for the demo (no extras; the first time takes a minute)" >&2
  if ! .venv/bin/python -m pip install --disable-pip-version-check -e . 2>&1 \
      | { grep --line-buffered -E '^(Collecting|Installing|Successfully|ERROR)' || true; } \
      | sed -u 's/^/bootstrap: /' >&2; then
    echo "bootstrap: pip install failed; run .venv/bin/python -m pip install -e . to see why" >&2
    exit 1
  fi
fi
touch "$stamp"
