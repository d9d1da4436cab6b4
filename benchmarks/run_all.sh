#!/usr/bin/env bash
# The full comparison, as reported: every scenario, 3 repetitions, N = 20,000
# for the drain. Takes about 20-30 minutes on the 2-core machine.
#
#   bash benchmarks/run_all.sh                 # extra options go to `bench.py all`
#   bash benchmarks/run_all.sh --py-spy benchmarks/results/pyspy
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || bash setup.sh
bash pg.sh start >/dev/null
exec .venv/bin/python bench.py all --repeat 3 -N 20000 "$@"
