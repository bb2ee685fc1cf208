#!/usr/bin/env sh
# Installs Splink (and DuckDB) into a throwaway virtualenv for the side-by-side matching
# benchmark (`cargo bench --bench matching -- splink`), and prints the path of its python.
# Usage: benches/splink_setup.sh VENV_DIR [PYTHON]
# The virtualenv is made once and kept (delete VENV_DIR to start over); nothing is installed
# outside it. Exits non-zero, with the reason on stderr, when it cannot be done (no python,
# no network): the benchmark then skips Splink with that message.
set -eu
venv="$1"
python="${2:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c "import splink, duckdb, pandas" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "splink==5.0.0" duckdb pandas >&2
fi
"$venv/bin/python" -c "import splink, duckdb; print('splink', splink.__version__, 'duckdb', duckdb.__version__)" >&2
echo "$venv/bin/python"
