#!/usr/bin/env bash
# Debian's Chromium for tests/browser, and a CJK font so that the Chinese posts render as
# text, not boxes, in the screenshots. `make test` runs this before pytest.
# As root (CI) it installs what is missing and fails if apt-get does. Anyone else gets the
# command to run and exit status 0: the other tests still run, and the browser tests then
# fail with the same advice (they never skip).
set -euo pipefail

chromium="${BLOGPUB_CHROMIUM:-/usr/bin/chromium}"
cjk_font_package=fonts-wqy-microhei

has_cjk_font() {
  if command -v fc-list >/dev/null 2>&1; then
    [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]
  else
    dpkg-query -W -f='${Status}' "$cjk_font_package" 2>/dev/null | grep -q "ok installed"
  fi
}

missing=()
[ -x "$chromium" ] || missing+=(chromium)
has_cjk_font || missing+=("$cjk_font_package")
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "install-browser.sh: installing Debian's ${missing[*]} for the browser tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  "${chromium}" --version >&2 || true
  exit 0
fi

echo "install-browser.sh: the browser tests want Debian's ${missing[*]}; as root run" >&2
echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
if [ ! -x "$chromium" ]; then
  echo "or set BLOGPUB_CHROMIUM to a Chromium binary. Until then tests/browser fail;" >&2
  echo "pytest -m 'not browser' runs the rest." >&2
else
  echo "Without a CJK font the screenshots show Chinese text as boxes." >&2
fi
