#!/usr/bin/env bash
# The shards of the bundled sample (measured straight and along the walking network) run
# on a real Slurm: careshed shard, the array submitted with sbatch --wait, one shard made
# to fail on its first try; careshed merge then names that shard and its log; the failed
# task submitted again (sbatch --array=2); the merge then gives the single run's outputs
# byte for byte (summary.json but for its "shards" object).
#   tests/shard-slurm.sh CARESHED GEODATA
# Needs SLURM_CONF naming a cluster that takes jobs (scripts/test starts a one-node
# one with scripts/slurm-node); skips (77) without.
set -euo pipefail
careshed=$1
geodata=$2
if [ -z "${SLURM_CONF:-}" ] || ! command -v sbatch >/dev/null ||
   ! sinfo --noheader >/dev/null 2>&1; then
  echo "skipping: no Slurm cluster (SLURM_CONF unset or not answering; scripts/test starts one)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() {
  echo "FAILED: $*" >&2
  exit 1
}

"$careshed" run "$geodata/study.yaml" --out single -q ||
  fail "the single run"
"$careshed" shard "$geodata/study.yaml" --parts 3 --out shards -q ||
  fail "careshed shard"

# careshed as the jobs see it: shard 2 fails on its first try
cat > careshed-once <<EOF
#!/bin/sh
if [ "\${SLURM_ARRAY_TASK_ID:-}" = 2 ] && [ ! -e "$work/failed-once" ]; then
  touch "$work/failed-once"
  echo "shard 2: failing on purpose" >&2
  exit 9
fi
exec "$careshed" "\$@"
EOF
chmod +x careshed-once
export CARESHED="$work/careshed-once"

if sbatch --wait --quiet shards/careshed.sbatch; then
  fail "sbatch --wait succeeded although shard 2 failed"
fi
ls shards/0002/slurm-*_2.log >/dev/null || fail "no Slurm log for shard 2"
grep -q "failing on purpose" shards/0002/slurm-*_2.log || fail "shard 2's log"
set +e
out=$("$careshed" merge shards --out merged 2>&1)
code=$?
set -e
[ "$code" = 4 ] || fail "merge with shard 2 missing: exit $code, not 4: $out"
grep -q "shard 2 has no results" <<<"$out" || fail "merge does not name shard 2: $out"
grep -q "shards/0002/slurm-\*.log" <<<"$out" || fail "merge does not name the log: $out"

sbatch --wait --quiet --array=2 shards/careshed.sbatch || fail "shard 2 run again"
"$careshed" merge shards --out merged -q || fail "merge"

# the shards object names the merge; everything else is the single run's
strip() { awk '/^  "shards": \{/ { skip = 1 } !skip { print } skip && /^  \},?$/ { skip = 0 }' "$1"; }
files=0
for f in single/*; do
  name=$(basename "$f")
  if [ "$name" = summary.json ]; then
    grep -q '"shards": {' merged/summary.json || fail "summary.json lists no shards"
    cmp -s <(strip "$f") <(strip merged/summary.json) || fail "summary.json differs"
  else
    cmp -s "$f" "merged/$name" || fail "$name differs between the single run and the merge"
  fi
  files=$((files + 1))
done
[ "$files" -ge 10 ] || fail "only $files outputs compared"
echo "shards on Slurm: $files outputs as the single run's"
