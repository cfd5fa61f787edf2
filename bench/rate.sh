#!/usr/bin/env bash
# rate.sh: does --max-rate hold over a minute?  A child table too big to
# finish in the time is scanned with --max-rate and a --max-time budget of
# that minute; the report's achieved rate (rows_per_s, bytes_per_s: what
# was read over the whole run, connections and catalog included) is
# compared with the limit, for a rows/s limit and a MB/s limit.  Not run by
# CTest (tests/integration/035_sweep.t checks a 10 s run within 10%).
#
#   tests/harness/pgcluster.sh run -- bench/rate.sh [options]
#
#   --fkscan PATH     the binary (default build/fkscan)
#   --rows N          the rows/s limit (default 50000)
#   --mb N            the MB/s limit (default 1)
#   --seconds S       the budget of each run (default 60)
#   --jobs J          fkscan -j (default 2)
#
# Uses the server the PG* variables point at (database fkb_rate, dropped at
# the end).  Exit status 1 when a rate is off by more than 10%.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FKSCAN=$ROOT/build/fkscan
ROWS=50000
MB=1
SECONDS_=60
JOBS=2
while [ $# -gt 0 ]; do
    case $1 in
        --fkscan) FKSCAN=$2; shift 2 ;;
        --rows) ROWS=$2; shift 2 ;;
        --mb) MB=$2; shift 2 ;;
        --seconds) SECONDS_=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        *) echo "rate.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
DB=fkb_rate
# enough rows that neither run finishes: 14 bytes of binary COPY per row
need=$(( ROWS * SECONDS_ * 3 / 2 ))
need_mb=$(( MB * 1048576 * SECONDS_ * 3 / 2 / 14 ))
[ "$need_mb" -gt "$need" ] && need=$need_mb
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"' EXIT
echo "loading $need child rows"
psql -X -q -d $DB -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE p (id bigint PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 100000) g;
CREATE TABLE c (pid bigint REFERENCES p);
SET session_replication_role = replica;
INSERT INTO c SELECT g % 100000 + 1 FROM generate_series(1, $need) g;
VACUUM ANALYZE;
SQL

rc=0
check() {  # check LABEL LIMIT FIELD ARGS...
    local label=$1 limit=$2 field=$3 json got
    shift 3
    json=$("$FKSCAN" scan -j "$JOBS" --max-time "${SECONDS_}s" --format json "$@" $DB) || true
    got=$(printf '%s' "$json" | perl -MJSON::PP -e 'my $j = decode_json(join "", <STDIN>);
        printf "%.0f %.1f %s", $j->{'"$field"'}, $j->{elapsed_s}, $j->{budget_expired} ? "expired" : "finished"')
    read -r rate elapsed how <<<"$got"
    perl -e 'my ($l, $r, $lim, $e, $h) = @ARGV;
        my $dev = ($r - $lim) / $lim * 100;
        printf "%-24s limit %10.0f  achieved %10.0f  (%+.2f%%) over %.1f s, budget %s\n", $l, $lim, $r, $dev, $e, $h;
        exit(abs($dev) > 10 ? 1 : 0)' -- "$label" "$rate" "$limit" "$elapsed" "$how" || rc=1
}
check "--max-rate $ROWS (rows/s)" "$ROWS" rows_per_s --max-rate "$ROWS"
check "--max-rate ${MB}MB (bytes/s)" "$(( MB * 1048576 ))" bytes_per_s --max-rate "${MB}MB"
exit $rc
