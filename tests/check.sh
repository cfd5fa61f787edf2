#!/usr/bin/env bash
# check.sh: build three ways and run the test suite against a throwaway
# cluster: plain, AddressSanitizer+UBSan (everything), ThreadSanitizer
# (everything threaded: unit tests and the scan's integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

build() {  # build DIR SANITIZER
    cmake -S . -B "$1" -DFKSCAN_SANITIZE="$2" >/dev/null
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
    (cd build-asan && ctest --output-on-failure -j2) || rc=1
    echo "== tests: ThreadSanitizer (threaded tests)"
    (cd build-tsan && ctest --output-on-failure -j2 -L threaded) || rc=1
    return $rc
}
export -f run_suite
tests/harness/pgcluster.sh run -- bash -c run_suite
