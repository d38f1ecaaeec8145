#!/usr/bin/env bash
# Debian's headless Chromium for the widget browser tests (driven by Playwright's Python API
# with executable_path=/usr/bin/chromium; `playwright install` is never used).
# Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "20-chromium: /usr/bin/chromium is missing and apt-get is not available; install Chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "20-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
