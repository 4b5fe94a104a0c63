#!/bin/sh
# bench_machine --disk DIR (scripts/bench's disk line): prints a time in seconds, leaves
# nothing in DIR, and fails with a message naming DIR when it cannot write there; any
# other arguments get the usage and exit code 2.
#
#   tests/bench-machine.sh BENCH_MACHINE
set -eu
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "bench-machine: $*" >&2; exit 1; }

t=$("$bench" --disk "$tmp")
# a positive number of seconds (256 MB cannot be written in no time)
echo "$t" | grep -Eq '^[0-9]+\.[0-9]{4}$' || fail "--disk printed '$t', not seconds"
awk -v t="$t" 'BEGIN { exit !(t > 0) }' || fail "--disk took $t s"
[ -z "$(ls -A "$tmp")" ] || fail "--disk left $(ls -A "$tmp") in its folder"

rc=0
"$bench" --disk "$tmp/missing" 2>"$tmp/err" >/dev/null || rc=$?
[ "$rc" = 1 ] || fail "--disk into a missing folder exited $rc, not 1"
grep -q "cannot write a file in $tmp/missing" "$tmp/err" || fail "no message naming the folder: $(cat "$tmp/err")"

rc=0
"$bench" --disks "$tmp" 2>"$tmp/err" >/dev/null || rc=$?
[ "$rc" = 2 ] || fail "an unknown option exited $rc, not 2"
grep -q "usage: bench_machine" "$tmp/err" || fail "no usage for an unknown option"
echo "bench-machine: ok"
