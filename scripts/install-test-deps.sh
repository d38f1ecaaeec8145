#!/usr/bin/env bash
# Installs what the tests need beyond Python packages. Idempotent; each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/install.d/*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done
