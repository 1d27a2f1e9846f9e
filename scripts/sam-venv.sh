#!/usr/bin/env bash
# Makes .venv-sam (aws-sam-cli in a venv of its own: it pins boto3 and click) if it is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAM_VENV=.venv-sam
SAM_CLI_REQUIREMENT=${SAM_CLI_REQUIREMENT:-"aws-sam-cli>=1.120,<2"}

if [ ! -x "$SAM_VENV/bin/sam" ]; then
  echo "sam-venv: creating $SAM_VENV with $SAM_CLI_REQUIREMENT" >&2
  python3 -m venv "$SAM_VENV" || {
    echo "sam-venv: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
    exit 2
  }
  "$SAM_VENV/bin/python" -m pip install --quiet --upgrade pip
  "$SAM_VENV/bin/python" -m pip install --quiet "$SAM_CLI_REQUIREMENT"
fi
