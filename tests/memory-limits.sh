#!/bin/bash
# memory-limits.sh CARESHED SAMPLE_DIR — the bundled sample under address-space limits
# (ulimit -v) spanning the whole run, from the lowest limit at which the program starts
# to the first at which the run succeeds. Every run must end with exit 0, or exit 7 and
# exactly one `careshed:` line about memory (also under -q); never a signal, never
# exit 1 (the --check code) nor any other code.
# CARESHED must not be a sanitizer build: AddressSanitizer cannot run under ulimit -v.
set -u
bin=$1 sample=$2
step_mb=${CS_MEMORY_STEP_MB:-3}
max_runs=${CS_MEMORY_MAX_RUNS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0 seen7=0 seen0=0
# the one line every exit 7 for lack of memory must show
memory_line='^careshed: error: .*out of memory.*; free memory, raise the limit (ulimit -v)'

# The last line of defence, made to fire on purpose: a library that ends the program
# (libgomp's exit(1) when it cannot start a thread: here a thread stack that cannot be
# had), aborts (SIGABRT) or crashes under a memory limit (SIGSEGV) still gives exit 7
# and one message naming the stage.
expect_stopped() { # name rc stderr-file pattern
    local n
    n=$(grep -c "$memory_line" "$3")
    if [[ $2 != 7 || $n != 1 ]] || ! grep -q -- "$4" "$3"; then
        echo "FAIL $1: exit $2, $n memory line(s), want exit 7 and one line matching '$4':"
        sed 's/^/    /' "$3" | tail -5
        failures=$(( failures + 1 ))
    else
        echo "ok   $1: $(grep "$memory_line" "$3" | cut -c1-120)"
    fi
}
# Wait (up to 5 s) until process $1 catches signal number $2: a signal sent before
# careshed set its handler (a slow start on a busy machine) would kill it outright.
wait_for_handler() {
    local bit=$(( 1 << ($2 - 1) )) mask
    for _ in $(seq 500); do
        mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return
        [[ -n $mask ]] && (( 16#$mask & bit )) && return
        sleep 0.01
    done
}
OMP_STACKSIZE=100G "$bin" run "$sample/study.yaml" --out "$work/s1" -q 2>"$work/stderr"
expect_stopped "libgomp exits" $? "$work/stderr" \
    '^careshed: error: out of memory while starting (a library ended the program); free memory, raise the limit (ulimit -v)'
# the signals come as soon as the handlers are set, well before the sample's run ends
"$bin" run "$sample/study.yaml" --out "$work/s2" --measure both -q 2>"$work/stderr" &
pid=$!; wait_for_handler $pid 6; kill -ABRT $pid; wait $pid
expect_stopped "SIGABRT" $? "$work/stderr" \
    '^careshed: error: out of memory while [a-z ]* (a library aborted); free memory'
( ulimit -v $(( 4000 * 1024 )); exec "$bin" run "$sample/study.yaml" --out "$work/s3" -q ) \
    2>"$work/stderr" &
pid=$!; wait_for_handler $pid 11; kill -SEGV $pid; wait $pid
expect_stopped "SIGSEGV under a limit" $? "$work/stderr" \
    'a library crashed) with the address space limited to 4000 MB; free memory'

# the lowest limit (MB) at which `careshed --version` starts
lo=16 hi=4096
while (( hi - lo > 1 )); do
    mid=$(( (lo + hi) / 2 ))
    if ( ulimit -v $(( mid * 1024 )); exec "$bin" --version ) >/dev/null 2>&1; then
        hi=$mid
    else
        lo=$mid
    fi
done
start=$(( hi + 1 ))
echo "careshed starts at ${hi} MB; running the sample from ${start} MB in steps of ${step_mb} MB"

for (( i = 0; i < max_runs; i++ )); do
    mb=$(( start + i * step_mb ))
    quiet=()
    (( i % 2 )) && quiet=(-q)
    out="$work/out$i"
    ( ulimit -v $(( mb * 1024 )); exec "$bin" run "$sample/study.yaml" --out "$out" \
        --measure both "${quiet[@]}" ) >"$work/stdout" 2>"$work/stderr"
    rc=$?
    memory_lines=$(grep -c "$memory_line" "$work/stderr")
    printf '%4d MB %-3s exit %3d, %d memory line(s): %s\n' "$mb" "${quiet[*]:-}" "$rc" \
        "$memory_lines" "$(grep -a 'memory' "$work/stderr" | head -1 | cut -c1-150)"
    bad=""
    if (( rc == 7 )); then
        seen7=1
        (( memory_lines == 1 )) || bad="exit 7 with $memory_lines out-of-memory lines (want 1)"
    elif (( rc == 0 )); then
        seen0=1
    else
        bad="exit $rc (want 0 or 7)"
    fi
    if grep -q -e 'Aborted' -e 'core dumped' -e '^libgomp' -e 'Segmentation' "$work/stderr" &&
       (( rc != 7 )); then
        bad="$bad; a crash in stderr"
    fi
    if [[ -n $bad ]]; then
        echo "FAIL at $mb MB ${quiet[*]:-}: $bad; stderr:"
        sed 's/^/    /' "$work/stderr" | tail -8
        failures=$(( failures + 1 ))
    fi
    (( rc == 0 )) && break
done
(( seen7 )) || { echo "FAIL: no run ran out of memory: the limits did not span the run"; failures=$((failures+1)); }
(( seen0 )) || { echo "FAIL: no run succeeded within $max_runs limits"; failures=$((failures+1)); }
exit $(( failures > 0 ))
