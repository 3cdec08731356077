#!/usr/bin/env bash
# Vendors pinned front-end assets from the npm registry into workspace/static/ (served at /assets).
# Run by a developer when a pin changes; the app itself never needs Node.
set -euo pipefail
cd "$(dirname "$0")/.."
GOVUK_FRONTEND=6.3.0
BPMN_JS=18.31.1  # admin BPMN modeller (prebuilt dist/ bundle)
AXE_CORE=4.14.1  # accessibility checks in the browser tests (not served by the app)
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

fetch bpmn-js "$BPMN_JS"
bsrc="$tmp/bpmn-js/package/dist"
bout="$out/vendor/bpmn-js"
rm -rf "$bout" && mkdir -p "$bout/assets"
cp "$bsrc/bpmn-modeler.production.min.js" "$bout/"
cp "$bsrc/bpmn-viewer.production.min.js" "$bout/"  # workspace case view (read-only)
cp -r "$bsrc/assets/bpmn-js.css" "$bsrc/assets/diagram-js.css" "$bsrc/assets/bpmn-font" "$bout/assets/"
cp "$tmp/bpmn-js/package/LICENSE" "$bout/LICENSE"
echo "bpmn-js $BPMN_JS" >> "$out/VENDORED.txt"

fetch axe-core "$AXE_CORE"
aout=tests/browser/vendor
mkdir -p "$aout"
cp "$tmp/axe-core/package/axe.min.js" "$aout/axe.min.js"
cp "$tmp/axe-core/package/LICENSE" "$aout/axe-core.LICENSE"
echo "axe-core $AXE_CORE" > "$aout/VENDORED.txt"
echo "vendored into $out and $aout"
