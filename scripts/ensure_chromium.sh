#!/usr/bin/env bash
# Debian's Chromium for the browser tests, which open the report and the docs page in
# headless Chromium (tests/report/test_report_browser.py, test_docs_page.py): `make test`
# and `make test-fast` run this first. Silent when `chromium` is on PATH; else installs
# Debian's package with apt-get, as root or through sudo; else stops, exit 1, printing the
# one command that installs it. No fonts: the tests read the DOM, not pixels.
set -uo pipefail

command -v chromium >/dev/null 2>&1 && exit 0

install="apt-get update && apt-get install -y chromium"
stop() {
    echo "chromium is missing: the browser tests need Debian's chromium. $1" >&2
    exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
    stop "No apt-get here: install Chromium so that \`chromium\` is on PATH, then run \`make test\` again."
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
    again="$install"
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
    again="sudo sh -c '$install'"
else
    stop "Installing it needs root, and there is no sudo: run \`su -c '$install'\`, then \`make test\` again."
fi

echo "make test: installing Debian's chromium for the browser tests (apt-get)…"
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    || ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    stop "Installing it failed (above): run \`$again\`, then \`make test\` again."
fi
if ! command -v chromium >/dev/null 2>&1; then
    stop "apt-get installed it, but \`chromium\` is not on PATH: add /usr/bin to PATH, then run \`make test\` again."
fi
