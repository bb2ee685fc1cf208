#!/usr/bin/env bash
# The compatibility suite: three Affinity clients that others wrote (affinity-sdk,
# affinity-sync, dlt-source-affinity, from PyPI) driven against `affsync emulator` on
# 127.0.0.1, one line per operation and `N passed, N failed` at the end.
#
#   bash tests/compat/run.sh            # builds affsync if needed
#   AFFSYNC_BIN=target/debug/affsync bash tests/compat/run.sh
#
# Exit codes: 0 all passed, 1 some failed, 3 skipped (no Python 3.12, or the packages cannot
# be installed: the reason is printed).
set -euo pipefail
cd "$(dirname "$0")/../.."

# The versions the suite was written against; a new release is taken on purpose, not by chance.
PACKAGES=(affinity-sdk==2.0.6 affinity-sync==72 dlt-source-affinity==0.1.20)
KEY=compat-key

python=""
for p in "${AFFSYNC_COMPAT_PYTHON:-}" "$HOME/.pyenv/versions/3.12.1/bin/python3" python3.12; do
  if [ -n "$p" ] && command -v "$p" >/dev/null 2>&1 \
     && "$p" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 12) else 1)' 2>/dev/null; then
    python=$p
    break
  fi
done
if [ -z "$python" ]; then
  echo "skipped: the compatibility suite needs Python 3.12 (set AFFSYNC_COMPAT_PYTHON)"
  exit 3
fi

work=$(mktemp -d /tmp/affsync-compat.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$python" -m venv "$work/venv"
if ! "$work/venv/bin/pip" install -q --disable-pip-version-check "${PACKAGES[@]}" >"$work/pip.log" 2>&1; then
  echo "skipped: the clients could not be installed from PyPI:"
  tail -n 5 "$work/pip.log"
  exit 3
fi

bin=${AFFSYNC_BIN:-target/debug/affsync}
if [ ! -x "$bin" ]; then
  cargo build -q --bin affsync
  bin=target/debug/affsync
fi
# Starts an emulator on a free port of 127.0.0.1 with the given flags, in this shell (so that
# cleanup can stop it); its address goes to $work/NAME.out.
start_emulator() {
  local name=$1; shift
  "$bin" emulator --port 0 --api-key "$KEY" \
    --seed crates/affinity-crm-emulator/fixtures/full-tenant.json "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
}
# The address an emulator printed, once it has.
address_of() {
  local url=""
  for _ in $(seq 1 100); do
    url=$(grep -m1 -o 'http://127.0.0.1:[0-9]*' "$work/$1.out" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "the emulator did not start:" >&2
    cat "$work/$1.err" >&2
    return 1
  fi
  echo "$url"
}
# A Scale-plan account (100,000 requests a month, affinity-api.md §4), whose org rate-limit
# headers are numbers; and an account without a monthly cap, whose org headers say `unlimited`.
start_emulator capped --monthly-quota 100000
start_emulator uncapped
base=$(address_of capped)
uncapped=$(address_of uncapped)
echo "emulators at $base (capped) and $uncapped (uncapped)"

# Each client may only reach the emulator: no proxy, and Affinity's own host unresolvable.
export NO_PROXY="*" no_proxy="*" HTTP_PROXY="" HTTPS_PROXY="" http_proxy="" https_proxy=""
export DLT_DATA_DIR="$work/dlt" RUNTIME__LOG_LEVEL=WARNING
"$work/venv/bin/python" tests/compat/drive.py "$base" "$KEY" "${AFFSYNC_TEST_POSTGRES_URL:-}" "$uncapped"
