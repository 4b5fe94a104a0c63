#!/bin/sh
# Open the sample's careshed.gpkg in QGIS headless (tests/qgis-style.py): layers styled
# from layer_styles, a rendered map. Skips (77) without python3-qgis (scripts/setup-deps
# --test installs it). The map is left as qgis-map.png in the working folder.
#   tests/qgis-style.sh CARESHED SAMPLE_DIR
set -eu
cli=$1 sample=$2
here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3-qgis is for Debian's Python, which another python3 first on PATH lacks
python=
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c "import qgis.core" >/dev/null 2>&1; then
    python=$p
    break
  fi
done
if [ -z "$python" ]; then
  echo "qgis-style: skipped: python3-qgis is not installed (scripts/setup-deps --test)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$cli" run "$sample/study.yaml" --out "$dir/out" >"$dir/log" 2>&1 || { cat "$dir/log"; exit 1; }
# QGIS is not built with the sanitizers: run it without their preload
env -u LD_PRELOAD QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR="$dir" \
  "$python" "$here/qgis-style.py" "$dir/out/careshed.gpkg" "$PWD/qgis-map.png"
