#!/usr/bin/env bash
# Run the whole beiandesk test suite from a bare machine with Python 3.11+:
# creates .venv, installs the package with its test dependencies, checks the import layers,
# then runs pytest. PostgreSQL tests run when BEIANDESK_TEST_PG_URL is set; browser tests
# when /usr/bin/chromium exists (.ci/run sets both up and makes skipping them an error).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/lint-imports --no-cache
.venv/bin/ruff check --quiet --select F,E9 src tests bench
exec .venv/bin/python -m pytest "$@"
