#!/usr/bin/env bash
# Install natcap.invest (pinned) into a separate venv, for the InVEST cross-check
# (crosscheck/) and the benchmark. Idempotent: does nothing if the venv already
# imports natcap.invest.
#
# Recipe: /work/shared/PEERS.md §5. natcap.invest and pygeoprocessing are
# sdists only on Linux; they need libgdal headers, GDAL Python bindings that
# match the system libgdal (built without build isolation), and Cython < 3.3.
# With pip >= 25 PIP_CONSTRAINT does not reach isolated build envs, so the
# constraints are passed with --build-constraint as well.
#
# Usage (as root on Debian 12, or with the GDAL packages already present):
#   INVEST_VENV=.invest-venv scripts/install-invest.sh
# Env:
#   INVEST_VENV     target venv (default: .invest-venv, relative to the cwd)
#   INVEST_VERSION  natcap.invest version (default: 3.20.2)
#   PYTHON          interpreter used to create the venv (default: python3)
set -euo pipefail

INVEST_VENV="${INVEST_VENV:-.invest-venv}"
INVEST_VERSION="${INVEST_VERSION:-3.20.2}"
PYTHON="${PYTHON:-python3}"

t0=$(date +%s)
stamp() { echo "[install-invest +$(( $(date +%s) - t0 ))s] $*"; }

if [ -x "$INVEST_VENV/bin/python" ] && \
   "$INVEST_VENV/bin/python" -c "import natcap.invest" >/dev/null 2>&1; then
    ver=$("$INVEST_VENV/bin/python" -c "import natcap.invest as m; print(m.__version__)")
    stamp "natcap.invest $ver already importable from $INVEST_VENV; nothing to do"
    exit 0
fi

# 1. System GDAL (Debian bookworm: 3.6.2) + a C++ compiler.
missing=()
for pkg in gdal-bin libgdal-dev g++; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    stamp "apt-get install ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
    stamp "apt done"
else
    stamp "system packages present (gdal-bin libgdal-dev g++)"
fi
command -v gdal-config >/dev/null || { echo "gdal-config not found" >&2; exit 1; }
GDAL_VERSION="$(gdal-config --version)"
stamp "system GDAL $GDAL_VERSION"

# 2. venv + GDAL bindings matching the system library (compiled, no build isolation).
if [ ! -x "$INVEST_VENV/bin/python" ]; then
    stamp "creating venv $INVEST_VENV with $PYTHON ($($PYTHON --version 2>&1))"
    "$PYTHON" -m venv "$INVEST_VENV"
fi
PIP=("$INVEST_VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q -U pip wheel setuptools numpy
stamp "pip $("${PIP[@]}" --version | cut -d' ' -f2), numpy ready"

if ! "$INVEST_VENV/bin/python" -c "from osgeo import gdal; assert gdal.__version__ == '$GDAL_VERSION'" \
        >/dev/null 2>&1; then
    stamp "building GDAL bindings gdal==$GDAL_VERSION (no build isolation)"
    "${PIP[@]}" install -q --no-build-isolation "gdal==$GDAL_VERSION"
    stamp "GDAL bindings done"
fi

# 3. natcap.invest, constraining the build envs too (Cython < 3.3, GDAL pin).
CONSTRAINTS="$INVEST_VENV/invest-constraints.txt"
printf 'cython<3.3\ngdal==%s\n' "$GDAL_VERSION" > "$CONSTRAINTS"
stamp "building natcap.invest==$INVEST_VERSION (constraints: $(tr '\n' ' ' < "$CONSTRAINTS"))"
"${PIP[@]}" install -q --build-constraint "$CONSTRAINTS" -c "$CONSTRAINTS" \
    "natcap.invest==$INVEST_VERSION"

"$INVEST_VENV/bin/python" -c "
import natcap.invest, pygeoprocessing, taskgraph, numpy
from osgeo import gdal
print('natcap.invest', natcap.invest.__version__, '| pygeoprocessing', pygeoprocessing.__version__,
      '| taskgraph', taskgraph.__version__, '| numpy', numpy.__version__, '| GDAL', gdal.__version__)
"
stamp "done in $(( $(date +%s) - t0 )) s"
