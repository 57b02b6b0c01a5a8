#!/usr/bin/env bash
# Multi-Python CI: the whole test suite on every CPython we support (3.9 .. 3.13, from
# pyenv), with the oldest and the newest gast and NumPy that pyproject.toml declares.
# The main .ci/run job covers the machine's own Python with the newest releases.
#
# Deprecation warnings are errors.  On 3.9 and 3.10 those raised from our code (pytest
# filter on the s2sgrad modules).  On 3.12 and 3.13 every DeprecationWarning, astor's,
# gast's and NumPy's included: what 3.12/3.13 and NumPy deprecate
# is what 3.14 and the next NumPy remove (astor 0.8.1 prints f-strings through ast.Str,
# gone in 3.14: s2sgrad prints them itself, tests/back/test_emit_fstrings.py).  The whole
# suite passed that way on 3.13.0 + NumPy 2.5.5 (a test that calls a deprecated NumPy
# function on purpose filters that warning itself), and on 3.12.1 + NumPy 1.26.4 + gast
# 0.5.3 (3,592 passed, 2026-12-08).
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
# The last field: which DeprecationWarnings are errors ("ours": raised in s2sgrad's
# modules; "all": any, whoever raises it).
MATRIX=(
  "py39-oldest|3.9|numpy==1.24.4 gast==0.5.3 astor==0.8.1|ours"
  "py310-newest|3.10|numpy gast astor|ours"
  "py312-oldest|3.12|numpy==1.26.4 gast==0.5.3 astor==0.8.1|all"
  "py313-newest|3.13|numpy gast astor|all"
)

find_python() {   # newest installed patch release of $1 (e.g. 3.12)
  local p
  p=$(ls -d "$VERSIONS/$1".*/bin/python 2>/dev/null | sort -V | tail -n 1)
  [ -n "$p" ] && echo "$p"
}

run_row() {
  local name=$1 py=$2 pins=$3 deprecations=$4 log="$WORK/$1.log"
  local python venv="$WORK/$1" filter="error::DeprecationWarning:s2sgrad"
  [ "$deprecations" = "all" ] && filter="error::DeprecationWarning"
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
      -W "$filter" tests
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
    IFS='|' read -r name py pins deprecations <<<"$row"
    [ "$name" = "$want" ] || continue
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
    run_row "$name" "$py" "$pins" "$deprecations" &
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
