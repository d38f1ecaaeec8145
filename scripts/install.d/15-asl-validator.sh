#!/usr/bin/env bash
# asl-validator (npm): validates every rendered Step Functions state machine in the Terraform
# tests. Installed into .cache/asl-validator. Idempotent: skipped when the binary is there.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=".cache/asl-validator"
if [ -x "$DEST/node_modules/.bin/asl-validator" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "15-asl-validator: npm is missing; install Node.js 18+ and npm" >&2
    exit 1
  fi
fi
mkdir -p "$DEST"
printf "*\n" > "$DEST/.gitignore"   # keep the install out of git without touching .gitignore
npm install --prefix "$DEST" --no-audit --no-fund --silent asl-validator@3 >/dev/null
echo "15-asl-validator: installed $(node -p "require('./$DEST/node_modules/asl-validator/package.json').version")"
