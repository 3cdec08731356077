#!/usr/bin/env bash
# Vendors pinned front-end assets from the npm registry into workspace/static/ (served at /assets).
# Run by a developer when a pin changes; the app itself never needs Node.
set -euo pipefail
cd "$(dirname "$0")/.."
GOVUK_FRONTEND=6.3.0
out=workspace/static
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { # name version -> extracted package dir
  (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null && mkdir -p "$1" && tar xzf ./*"$2".tgz -C "$1" && rm ./*.tgz)
}
fetch govuk-frontend "$GOVUK_FRONTEND"
src="$tmp/govuk-frontend/package/dist/govuk"
rm -rf "$out/fonts" "$out/images" "$out/govuk-frontend.min.css" "$out/govuk-frontend.min.js"
mkdir -p "$out"
cp -r "$src/assets/fonts" "$src/assets/images" "$src/assets/manifest.json" "$out/"
cp "$src/govuk-frontend.min.css" "$src/govuk-frontend.min.js" "$out/"
echo "govuk-frontend $GOVUK_FRONTEND" > "$out/VENDORED.txt"
echo "vendored into $out"
