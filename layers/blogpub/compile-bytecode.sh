#!/usr/bin/env bash
# Compiles the built layer's Python to bytecode for the runtime's CPython, so a cold start
# loads .pyc instead of compiling every module from source (Lambda's /opt is read-only).
# Usage: compile-bytecode.sh LAYER_DIR PYTHON_VERSION   (LAYER_PYTHON=path picks the interpreter)
set -euo pipefail

layer_dir=$1
version=$2

# Runs and is exactly $version: a pyenv shim for a version not selected fails here.
is_version() {
  [ -n "$1" ] && "$1" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" 2>/dev/null
}

find_python() {
  local candidate
  local pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
  for candidate in "python$version" "$pyenv_root"/versions/"$version".*/bin/"python$version"; do
    if is_version "$candidate"; then
      command -v "$candidate"
      return
    fi
  done
  if command -v uv >/dev/null; then
    candidate=$(uv python find --no-project "$version" 2>/dev/null || true)
    if is_version "$candidate"; then
      echo "$candidate"
      return
    fi
  fi
}

if [ -n "${LAYER_PYTHON:-}" ]; then
  if ! is_version "$LAYER_PYTHON"; then
    echo "compile-bytecode: LAYER_PYTHON=$LAYER_PYTHON is not a working Python $version" >&2
    exit 2
  fi
  python=$LAYER_PYTHON
else
  python=$(find_python)
fi
if [ -z "$python" ]; then
  echo "compile-bytecode: no Python $version found (python$version on PATH, pyenv, uv):" \
    "the layer ships sources only, and each cold start compiles them" >&2
  exit 0
fi

# unchecked-hash: a layer version never changes, so the source check could never fail, and
# no mtime is in the .pyc (a zip keeps 2 s mtimes; builds of the same sources are identical).
# -p /opt/python: tracebacks name the path the layer is mounted at, not this build folder.
"$python" -m compileall -q -j 0 --invalidation-mode unchecked-hash \
  -s "$layer_dir" -p /opt/python "$layer_dir"
echo "compile-bytecode: $(find "$layer_dir" -name "*.cpython-${version/./}.pyc" | wc -l)" \
  "modules compiled by $python"
