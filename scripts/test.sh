#!/usr/bin/env bash
# The whole test suite, as the README tells a newcomer to run it.
#
# It installs what the tests need from Debian's packages when missing, starts
# every server the integration tests use on 127.0.0.1, runs all tests, and
# stops the servers again (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "cargo-nextest is missing: cargo install cargo-nextest --locked" >&2
  exit 2
fi

# dicom3tools (dciodvfy) validates every de-identified DICOM output.
if ! command -v dciodvfy >/dev/null 2>&1; then
  echo "== installing dicom3tools (dciodvfy)"
  apt-get install -y dicom3tools >/dev/null
fi
export GDPR_DICOM_TOOLS=1

echo "== unit, property and integration tests"
cargo nextest run --workspace --all-features --no-fail-fast

echo "== documentation tests"
cargo test --workspace --all-features --doc
