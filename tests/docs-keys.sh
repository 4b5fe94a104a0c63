#!/bin/sh
# The key table of docs/study-file.md is what `careshed check --keys --markdown` prints
# from the table of keys in src/io/config_keys.def. This checks that the two agree, so a key
# added without its documentation fails; with --write it puts the printed table into
# the docs instead.
#
#   tests/docs-keys.sh CARESHED DOCS [--write]
#   e.g. tests/docs-keys.sh build/asan/careshed docs/study-file.md --write
set -eu
careshed=$1
doc=$2
begin='<!-- keys:begin'
end='<!-- keys:end -->'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$careshed" check --keys --markdown >"$tmp/printed"
if ! grep -q "^$begin" "$doc" || ! grep -q "^$end" "$doc"; then
    echo "docs-keys: $doc has no '$begin ...' and '$end' lines around the key table" >&2
    exit 1
fi
if [ "${3:-}" = --write ]; then
    awk -v b="$begin" -v e="$end" -v t="$tmp/printed" '
        index($0, e) == 1 { inside = 0 }
        !inside { print }
        index($0, b) == 1 { inside = 1; while ((getline line < t) > 0) print line }
    ' "$doc" >"$tmp/doc"
    cat "$tmp/doc" >"$doc"
    exit 0
fi
awk -v b="$begin" -v e="$end" '
    index($0, e) == 1 { inside = 0 }
    inside { print }
    index($0, b) == 1 { inside = 1 }
' "$doc" >"$tmp/documented"
if ! diff -u "$tmp/documented" "$tmp/printed"; then
    echo "docs-keys: the key table of $doc differs from \`careshed check --keys --markdown\`" \
         "(above: - documented, + printed); regenerate it with" \
         "tests/docs-keys.sh CARESHED $doc --write" >&2
    exit 1
fi
