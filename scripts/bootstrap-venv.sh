#!/usr/bin/env bash
# Create a virtual environment on a fresh Debian machine that has only python3 and make.
# Debian splits venv and pip out of python3; install them when we are allowed to.
set -euo pipefail
venv="${1:?usage: bootstrap-venv.sh DIR}"
python="${PYTHON:-python3}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  exit 0
fi
rm -rf "$venv"
if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
  rm -rf "$venv"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "python3 -m venv is missing: installing Debian's python3-venv" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
    "$python" -m venv "$venv"
  else
    echo "python3 -m venv failed: install Debian's python3-venv (sudo apt-get install python3-venv)" >&2
    exit 1
  fi
fi
"$venv/bin/python" -m pip install -q --upgrade pip
