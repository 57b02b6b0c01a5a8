#!/usr/bin/env bash
# Multi-Python CI: the whole test suite on every CPython we support (3.9 .. 3.13, from
# pyenv), with the oldest and the newest gast and NumPy that pyproject.toml declares.
# The main .ci/run job covers the machine's own Python with the newest releases.
#
# Deprecation warnings raised from our code are errors (pytest filter on the s2sgrad
# modules; warnings from NumPy/gast/astor internals are theirs and stay warnings).
#
#   bash .ci/matrix.sh            # all rows, two at a time (15 minutes on 2 busy cores)
#   bash .ci/matrix.sh py39-oldest py313-newest    # some rows
#
# Environment: S2SGRAD_MATRIX_DIR (venvs; default $TMPDIR/s2sgrad-matrix, reused when the
# pins did not change), S2SGRAD_MATRIX_JOBS (parallel rows, default 2), PYENV_ROOT.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${S2SGRAD_MATRIX_DIR:-${TMPDIR:-/tmp}/s2sgrad-matrix}
VERSIONS=${PYENV_ROOT:-$HOME/.pyenv}/versions
JOBS=${S2SGRAD_MATRIX_JOBS:-2}
mkdir -p "$WORK"

# name | python | pins.  The declared minimums (pyproject.toml: numpy>=1.24, gast>=0.5.3,
# astor>=0.8.1) on the oldest Python; 1.26 is the first NumPy with wheels for 3.12, so 3.12
# gets it with the oldest gast; 3.10 and 3.13 get the newest releases.  (NumPy 1.22/1.23
# lack np.average(keepdims=...) and more that the rules rely on: 165 failures.)
MATRIX=(
  "py39-oldest|3.9|numpy==1.24.4 gast==0.5.3 astor==0.8.1"
  "py310-newest|3.10|numpy gast astor"
  "py312-oldest|3.12|numpy==1.26.4 gast==0.5.3 astor==0.8.1"
  "py313-newest|3.13|numpy gast astor"
)

find_python() {   # newest installed patch release of $1 (e.g. 3.12)
  local p
  p=$(ls -d "$VERSIONS/$1".*/bin/python 2>/dev/null | sort -V | tail -n 1)
  [ -n "$p" ] && echo "$p"
}

run_row() {
  local name=$1 py=$2 pins=$3 log="$WORK/$1.log"
  local python venv="$WORK/$1"
  python=$(find_python "$py") || { echo "MISSING python $py for $name" >"$log"; return 2; }
  {
    echo "== $name: $python ($pins)"
    if [ ! -f "$venv/.pins" ] || [ "$(cat "$venv/.pins")" != "$pins" ]; then
      rm -rf "$venv"
      "$python" -m venv "$venv" &&
        "$venv/bin/python" -m pip install -q --disable-pip-version-check $pins "pytest>=7" &&
        echo "$pins" >"$venv/.pins" || { echo "INSTALL FAILED"; return 3; }
    elif [[ "$pins" != *"=="* ]]; then
      # a "newest" row: a reused venv must follow new releases
      "$venv/bin/python" -m pip install -q -U --disable-pip-version-check $pins ||
        { echo "INSTALL FAILED"; return 3; }
    fi
    "$venv/bin/python" -c "import sys, numpy, gast, astor; print(sys.version.split()[0], \
'numpy', numpy.__version__, 'gast', gast.__version__, 'astor', astor.__version__)"
    # A private disk cache per row: entries are per Python version anyway.
    cd "$ROOT" && S2SGRAD_CACHE_DIR="$venv/s2sgrad-cache" PYTHONPATH="$ROOT" \
      PYTHONDONTWRITEBYTECODE=1 timeout 1800 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
      -o "filterwarnings=error::DeprecationWarning:s2sgrad" tests
  } >"$log" 2>&1
}

rows=("$@")
if [ ${#rows[@]} -eq 0 ]; then
  for row in "${MATRIX[@]}"; do rows+=("${row%%|*}"); done
fi

start=$(date +%s)
pids=()
names=()
for want in "${rows[@]}"; do
  for row in "${MATRIX[@]}"; do
    IFS='|' read -r name py pins <<<"$row"
    [ "$name" = "$want" ] || continue
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
    run_row "$name" "$py" "$pins" &
    pids+=($!)
    names+=("$name")
  done
done

status=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"
  rc=$?
  log="$WORK/${names[$i]}.log"
  summary=$(grep -E "^[0-9]+ (passed|failed)|(passed|failed|error)[^a-z]* in [0-9.]+s" "$log" | tail -n 1)
  if [ $rc -eq 0 ]; then
    echo "matrix ${names[$i]}: ok   ${summary}"
  else
    status=1
    echo "matrix ${names[$i]}: FAILED (exit $rc) ${summary}"
    grep -E "^(FAILED|ERROR)|MISSING|INSTALL FAILED" "$log" | head -n 30 | sed 's/^/    /'
    echo "    (full log: $log)"
  fi
done
echo "matrix: $(( $(date +%s) - start ))s"
exit $status
