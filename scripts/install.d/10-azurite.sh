#!/usr/bin/env bash
# Azurite (Azure Blob Storage emulator, npm) for the storage tests, installed into .cache/azurite.
# Idempotent: skipped when the binary is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=".cache/azurite"
if [ -x "$DEST/node_modules/.bin/azurite-blob" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "10-azurite: npm is missing; install Node.js 18+ and npm" >&2
    exit 1
  fi
fi
mkdir -p "$DEST"
printf "*\n" > "$DEST/.gitignore"   # keep the install out of git without touching .gitignore
npm install --prefix "$DEST" --no-audit --no-fund --silent azurite@3 >/dev/null
echo "10-azurite: installed $(ls "$DEST/node_modules/azurite/package.json" >/dev/null && node -p "require('./$DEST/node_modules/azurite/package.json').version")"
