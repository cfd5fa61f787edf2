#!/usr/bin/env bash
# run.sh: fkscan against the server's own orphan checks, side by side, on the
# same data, in one run.  See bench/README.md.
#
#   bench/run.sh [options]
#
#   --scale S         data size, 1 = 5M parents / 50M children (default 1)
#   --shapes LIST     comma-separated shapes of gen.sh, or "all" (default int8)
#   --jobs N          fkscan -j 1..N and bench_copy with 1..N connections (default 2)
#   --reps R          timed repetitions per method, median reported (default 3)
#   --warmup W        untimed runs first, per method (default 1; CSV run 0)
#   --fetch LIST      fkscan --fetch methods (default binary,text,cursor)
#   --methods LIST    of fkscan,copy,notexists,leftjoin,validate (default: all)
#   --keep            keep the cluster and its loaded databases in --pgdir, and
#                     reuse them next time when shape, scale and seed match
#   --pgdir DIR       cluster directory (default: a temp dir; with --keep
#                     /tmp/fkbench-cluster)
#   --use-env         no cluster of our own: use the server the PG* variables
#                     point at (it gets databases fkb_*; dropped unless --keep)
#   --set NAME=VALUE  an extra server setting (own cluster only; repeatable)
#   --pg-bindir DIR   the cluster's server binaries (own cluster only), e.g.
#                     $(tests/harness/pgmajor.sh bindir 18); default: Debian's
#   --build DIR       where fkscan and bench/bench_copy are built (default build)
#   --fkscan PATH, --bench-copy PATH   the binaries, if elsewhere
#   --fkscan-args STR extra arguments for every fkscan run
#   --out DIR         results directory (default bench/results; --smoke: a temp dir)
#   --smoke           scale 0.002, every shape, every method, 1 rep, no warm-up
#   --no-chart        skip the SVG
#   --wait-idle PCT   before each run, wait (up to --wait-max seconds, default
#                     60) until the machine's CPU use over 1 s is below PCT%
#                     (default 0: don't wait)
#   --retry-noisy S   redo a timed run (up to 3 times) when other processes
#                     used more than S CPU seconds during it; the noisy run
#                     stays in the CSV with its run number negated (default 0: off)
#
# Exit status: 0 when every method found the same number of orphans, 1 when
# any disagreed (or failed), 2 on a setup error.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
ALL_SHAPES="int8,int4,uuid,text,composite,multi,part"
SEED=0.42
GEN_VERSION=1

scale=1 shapes=int8 jobs=2 reps=3 warmup=1 fetches=binary,text,cursor
methods=fkscan,copy,notexists,leftjoin,validate
keep=0 pgdir="" use_env=0 build="$ROOT/build" fkscan="" bench_copy="" fkscan_args=""
out="" smoke=0 chart=1 wait_idle=0 wait_max=60 retry_noisy=0
extra_settings=()

die() { echo "run.sh: error: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-2}"; }
ARGV_ORIG=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) scale=$2; shift 2 ;;
        --shapes) shapes=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --fetch) fetches=$2; shift 2 ;;
        --methods) methods=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --pgdir) pgdir=$2; shift 2 ;;
        --use-env) use_env=1; shift ;;
        --set) extra_settings+=("$2"); shift 2 ;;
        --pg-bindir) export PG_BINDIR=$2; shift 2 ;;
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --fkscan) fkscan=$2; shift 2 ;;
        --bench-copy) bench_copy=$2; shift 2 ;;
        --fkscan-args) fkscan_args=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --smoke) smoke=1; shift ;;
        --no-chart) chart=0; shift ;;
        --wait-idle) wait_idle=$2; shift 2 ;;
        --wait-max) wait_max=$2; shift 2 ;;
        --retry-noisy) retry_noisy=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
done
if [ $smoke = 1 ]; then
    scale=0.002 shapes=all reps=1 warmup=0
    methods=fkscan,copy,notexists,leftjoin,validate fetches=binary,text,cursor
fi
[ "$shapes" = all ] && shapes=$ALL_SHAPES
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "bad --jobs '$jobs'"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "bad --reps '$reps'"
[[ "$warmup" =~ ^[0-9]+$ ]] || die "bad --warmup '$warmup'"
IFS=, read -r -a SHAPES <<<"$shapes"
IFS=, read -r -a FETCHES <<<"$fetches"
has_method() { [[ ",$methods," == *",$1,"* ]]; }
for m in ${methods//,/ }; do
    case $m in fkscan|copy|notexists|leftjoin|validate) ;; *) die "unknown method '$m'" ;; esac
done
for s in "${SHAPES[@]}"; do [ -f "$HERE/sql/$s.sql" ] || die "unknown shape '$s'"; done
command -v /usr/bin/time >/dev/null || die "/usr/bin/time is missing (apt-get install -y time)"
command -v psql >/dev/null || die "psql is missing"

# ---- binaries -------------------------------------------------------------
[ -n "$fkscan" ] || fkscan="$build/fkscan"
[ -n "$bench_copy" ] || bench_copy="$build/bench/bench_copy"
need_build=()
if has_method fkscan && [ ! -x "$fkscan" ]; then need_build+=(--target fkscan); fi
if has_method copy && [ ! -x "$bench_copy" ]; then need_build+=(--target bench_copy); fi
if [ ${#need_build[@]} -gt 0 ]; then
    echo "run.sh: building ${need_build[*]} in $build" >&2
    if ! { cmake -S "$ROOT" -B "$build" >/dev/null &&
           cmake --build "$build" -j"$(nproc)" "${need_build[@]}" >/dev/null; }; then
        die "build failed"
    fi
fi
has_method fkscan && { [ -x "$fkscan" ] || die "no fkscan binary at $fkscan"; }
has_method copy && { [ -x "$bench_copy" ] || die "no bench_copy binary at $bench_copy"; }

# ---- output ---------------------------------------------------------------
TMP=$(mktemp -d /tmp/fkbench-run.XXXXXX)
if [ -z "$out" ]; then
    if [ $smoke = 1 ]; then out="$TMP/results"; else out="$HERE/results"; fi
fi
mkdir -p "$out"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
CSV="$out/$STAMP.csv"
TXT="$out/$STAMP.txt"
SVG="$out/$STAMP.svg"
echo "method,jobs,fetch,shape,scale,run,seconds,rows,orphans,client_cpu_s,client_rss_kb,server_cpu_s,other_cpu_s" >"$CSV"
: >"$TXT"
log() { echo "$*" | tee -a "$TXT" >&2; }

# ---- cluster --------------------------------------------------------------
own_cluster=0
as_pguser() {
    if [ "$(id -u)" = 0 ]; then runuser -u "$FKSCAN_PG_OSUSER" -- "$@"; else "$@"; fi
}
pgctl() { as_pguser "$FKSCAN_PG_BINDIR/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 300 "$@"; }
cleanup() {
    local rc=$?
    set +e
    if [ $own_cluster = 1 ]; then
        if [ $keep = 1 ]; then pgctl -m fast stop >/dev/null 2>&1
        else "$ROOT/tests/harness/pgcluster.sh" stop "$pgdir"; rm -rf "$pgdir"; fi
    elif [ $keep = 0 ] && [ -n "${DROP_DBS:-}" ]; then
        for d in $DROP_DBS; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1; done
    fi
    rm -rf "$TMP/work"
    [ $smoke = 1 ] || rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$TMP/work"
W="$TMP/work"

if [ $use_env = 0 ]; then
    own_cluster=1
    if [ -z "$pgdir" ]; then
        if [ $keep = 1 ]; then pgdir=/tmp/fkbench-cluster; else pgdir=$(mktemp -d /tmp/fkbench-pg.XXXXXX); fi
    fi
    if [ -f "$pgdir/data/PG_VERSION" ] && [ -f "$pgdir/env" ]; then
        # shellcheck disable=SC1091
        . "$pgdir/env"
        if ! as_pguser "$FKSCAN_PG_BINDIR/pg_ctl" -D "$pgdir/data" status >/dev/null 2>&1; then
            pgctl -o "-p $PGPORT" start >/dev/null || die "could not restart the cluster in $pgdir"
        fi
        log "cluster: reusing $pgdir (port $PGPORT)"
    else
        [ -e "$pgdir" ] && [ -n "$(ls -A "$pgdir" 2>/dev/null)" ] && die "$pgdir exists and is not a cluster of ours"
        "$ROOT/tests/harness/pgcluster.sh" start "$pgdir" >/dev/null || die "could not start a cluster"
        # shellcheck disable=SC1091
        . "$pgdir/env"
        # The baseline's settings (reference/baseline-2core.md), then --set.
        settings=(shared_buffers=2GB max_wal_size=8GB checkpoint_timeout=30min
                  wal_level=minimal max_wal_senders=0 autovacuum=off "${extra_settings[@]}")
        for kv in "${settings[@]}"; do
            psql -X -q -v ON_ERROR_STOP=1 -d postgres \
                -c "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}'" || die "bad setting $kv"
        done
        pgctl -m fast -o "-p $PGPORT" restart >/dev/null || { cat "$pgdir/server.log" >&2; die "restart failed"; }
        log "cluster: new in $pgdir (port $PGPORT)"
    fi
fi
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql -X -q -d postgres -c "SELECT 1" >/dev/null || die "cannot connect to the server (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-})"

# Server CPU needs the postmaster's pid, readable in /proc: local servers only.
PMPID=""
datadir=$(psql -X -At -d postgres -c "SHOW data_directory" 2>/dev/null || true)
if [ -n "$datadir" ] && [ -r "$datadir/postmaster.pid" ]; then
    PMPID=$(head -n 1 "$datadir/postmaster.pid")
    [ -r "/proc/$PMPID/stat" ] || PMPID=""
fi
HZ=$(getconf CLK_TCK)
[ -n "$PMPID" ] || log "note: the server's processes are not visible here: no server CPU"

# ---- versions -------------------------------------------------------------
pg_version=$(psql -X -At -d postgres -c "SELECT version()")
fk_version=$([ -x "$fkscan" ] && "$fkscan" --version 2>/dev/null | head -n 1 || echo "n/a")
roaring_version=$(sed -n 's/.*ROARING_VERSION = \([0-9.]*\).*/\1/p' /usr/include/roaring/roaring_version.h 2>/dev/null | head -n 1)
[ -n "$roaring_version" ] || roaring_version=$(dpkg-query -W -f='${Version}' libroaring-dev 2>/dev/null || echo "?")
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_total=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
git_rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
git_dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -c . || true)
{
    echo "== fkscan benchmark $STAMP"
    echo "command:    bench/run.sh ${ARGV_ORIG[*]}"
    echo "scale:      $scale   shapes: ${SHAPES[*]}   jobs: 1..$jobs   reps: $reps (+$warmup warm-up)"
    echo "fkscan:     $fk_version ($fkscan; git $git_rev, $git_dirty uncommitted files)"
    echo "PostgreSQL: $pg_version"
    echo "CRoaring:   $roaring_version"
    echo "kernel:     $(uname -r)    CPU: $cpu_model x $(nproc)    RAM: $mem_total"
    echo "load avg:   $(cut -d' ' -f1-3 /proc/loadavg) (at start)"
    echo "server settings (non-default):"
    psql -X -At -F ' = ' -d postgres -c "SELECT name, current_setting(name) FROM pg_settings
        WHERE source NOT IN ('default', 'override', 'client', 'session')
          AND name NOT IN ('unix_socket_directories', 'log_line_prefix', 'data_directory',
                           'config_file', 'hba_file', 'ident_file', 'port')
        ORDER BY name" | sed 's/^/    /'
} | tee -a "$TXT" >&2

# ---- measuring ------------------------------------------------------------
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
snap() {  # snap [--after] [--wait PATTERN]: "server_ticks busy_ticks"
    perl "$HERE/procstat.pl" "${PMPID:-1}" "$@"
}
# measure CMD...: run under /usr/bin/time; sets RC SECS CCPU CRSS SCPU OCPU;
# stdout in $W/out, stderr in $W/err.
measure() {
    local s0 s1 t0 t1 u s m
    s0=$(snap --wait "$DB")
    t0=$(date +%s.%N)
    set +e
    /usr/bin/time -f '%U %S %M' -o "$W/time" "$@" >"$W/out" 2>"$W/err"
    RC=$?
    set -e
    t1=$(date +%s.%N)
    s1=$(snap --after --wait "$DB")
    SECS=$(fsub "$t1" "$t0")
    read -r u s m < <(tail -n 1 "$W/time")
    CCPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    CRSS=$m
    read -r SCPU OCPU < <(awk -v a="$s0" -v b="$s1" -v hz="$HZ" -v c="$CCPU" -v pm="$PMPID" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        srv = (y[1] - x[1]) / hz; all = (y[2] - x[2]) / hz
        if (pm == "") { printf " %.2f\n", all - c } else printf "%.2f %.2f\n", srv, all - c - srv }')
}

FAILED=()
record() {  # record METHOD JOBS FETCH RUN ROWS ORPHANS
    echo "$1,$2,$3,$SHAPE,$scale,$4,$SECS,$5,$6,$CCPU,$CRSS,$SCPU,$OCPU" >>"$CSV"
    local tag="$1${2:+ -j$2}${3:+ $3}"
    local verdict=ok
    if [ -n "$6" ] && [ "$6" != "$TRUTH" ]; then
        verdict="MISMATCH: $6 orphans, expected $TRUTH"
        FAILED+=("$SHAPE $tag run $4: $verdict")
    fi
    printf '  %-9s %-24s run %d  %8.3f s  %s\n' "$SHAPE" "$tag" "$4" "$SECS" "$verdict" >&2
}
fail_run() {  # fail_run TAG RUN: the command failed
    FAILED+=("$SHAPE $1 run $2: exit $RC: $(head -c 600 "$W/err" | tr '\n' ' ')")
    printf '  %-9s %-24s run %d  FAILED (exit %d)\n' "$SHAPE" "$1" "$2" "$RC" >&2
    sed 's/^/      /' "$W/err" | head -n 20 >&2
}

# ---- shapes ---------------------------------------------------------------
shape_info() {
    CHILD_COLS=customer_id PARENT_COLS=id VALIDATE=validate
    case $1 in
        int8) PARENT=customers CHILDREN=(orders) ;;
        int4) PARENT=i4_customers CHILDREN=(i4_orders) ;;
        uuid) PARENT=uu_customers CHILDREN=(uu_orders) ;;
        text) PARENT=tx_customers CHILDREN=(tx_orders) ;;
        composite) PARENT=cp_customers CHILDREN=(cp_orders)
                   CHILD_COLS=region,customer_id PARENT_COLS=region,id ;;
        multi) PARENT=mc_customers CHILDREN=(mc_orders_1 mc_orders_2 mc_orders_3 mc_orders_4) ;;
        part) PARENT=pt_customers CHILDREN=(pt_orders) VALIDATE=add_fk ;;
    esac
    local cc pc i
    IFS=, read -r -a cc <<<"$CHILD_COLS"
    IFS=, read -r -a pc <<<"$PARENT_COLS"
    NOTNULL="" JOIN=""
    for i in "${!cc[@]}"; do
        NOTNULL+="${NOTNULL:+ AND }o.${cc[$i]} IS NOT NULL"
        JOIN+="${JOIN:+ AND }c.${pc[$i]} = o.${cc[$i]}"
    done
    FIRST_PCOL=${pc[0]}
}
q_notexists() { echo "SELECT count(*) FROM $1 o WHERE $NOTNULL AND NOT EXISTS (SELECT 1 FROM $PARENT c WHERE $JOIN)"; }
q_leftjoin() { echo "SELECT count(*) FROM $1 o LEFT JOIN $PARENT c ON $JOIN WHERE $NOTNULL AND c.$FIRST_PCOL IS NULL"; }

psql_args() {  # psql -c arguments, one query per child table
    local q=$1 ch
    PSQL_C=()
    for ch in "${CHILDREN[@]}"; do PSQL_C+=(-c "$($q "$ch")"); done
}
sum_lines() { awk '{ s += $1 } END { print s + 0 }' "$@"; }

declare -A COMMANDS=() NOTED=()
note_command() { [ -n "${COMMANDS[$1]:-}" ] || COMMANDS[$1]="$2"; }
shell_quote() {  # words quoted for a POSIX shell, readably
    local a out="" q="'"
    for a in "$@"; do
        if [[ "$a" =~ ^[A-Za-z0-9_./=:,+-]+$ ]]; then out+="${out:+ }$a"
        else out+="${out:+ }'${a//$q/$q\\$q$q}'"; fi
    done
    echo "$out"
}

run_fkscan() {  # run_fkscan JOBS FETCH RUN
    local cmd=("$fkscan" scan -j "$1" --fetch "$2" --format json)
    # shellcheck disable=SC2206
    [ -z "$fkscan_args" ] || cmd+=($fkscan_args)
    cmd+=("$DB")
    note_command "fkscan -j$1 $2" "$(shell_quote "${cmd[@]}")"
    measure "${cmd[@]}"
    if [ $RC != 0 ] && [ $RC != 1 ]; then fail_run "fkscan -j$1 $2" "$3"; return; fi
    local parsed orphans rows
    parsed=$(perl -MJSON::PP -e '
        local $/; my $j = eval { decode_json(<STDIN>) } or do { print "bad-json\n"; exit };
        my ($o, $r, $m) = (0, 0, "");
        for my $c (@{ $j->{constraints} || [] }) {
            $o += $c->{orphan_rows} // 0; $r += $c->{child_rows} // 0;
            $m .= ($m ? "+" : "") . ($c->{method} // "?") . ":" . ($c->{status} // "?");
        }
        print "$o $r $m\n";' <"$W/out")
    read -r orphans rows FK_METHODS <<<"$parsed"
    if [ "$orphans" = bad-json ]; then RC=2; echo "unparsable JSON output" >>"$W/err"; fail_run "fkscan -j$1 $2" "$3"; return; fi
    # exit 1 means orphans found, 0 clean: it must agree with the count
    if { [ "$orphans" -gt 0 ] && [ $RC != 1 ]; } || { [ "$orphans" = 0 ] && [ $RC != 0 ]; }; then
        FAILED+=("$SHAPE fkscan -j$1 $2 run $3: exit $RC with $orphans orphan rows")
    fi
    if [ -z "${NOTED[$SHAPE]:-}" ]; then
        NOTED[$SHAPE]=1
        log "  fkscan's method:status per FK: $FK_METHODS"
        [ "$rows" = "$CHILD_ROWS" ] || log "  note: fkscan reports child_rows=$rows, the tables have $CHILD_ROWS"
    fi
    record fkscan "$1" "$2" "$3" "$rows" "$orphans"
}

run_copy() {  # run_copy JOBS RUN
    local cmd=("$bench_copy" -d "$DB" "$PARENT" "$PARENT_COLS" "$1") ch rows
    for ch in "${CHILDREN[@]}"; do cmd+=("$ch" "$CHILD_COLS"); done
    note_command "copy -j$1" "$(shell_quote "${cmd[@]}")"
    measure "${cmd[@]}"
    if [ $RC != 0 ]; then fail_run "copy -j$1" "$2"; return; fi
    rows=$(awk -v p="$PARENT" '$1 ~ /^table=/ && $1 != "table=" p {
        for (i = 2; i <= NF; i++) if ($i ~ /^rows=/) s += substr($i, 6) } END { print s + 0 }' "$W/out")
    if [ "$rows" != "$CHILD_ROWS" ]; then
        FAILED+=("$SHAPE copy -j$1 run $2: streamed $rows child rows, the tables have $CHILD_ROWS")
    fi
    record copy "$1" "" "$2" "$rows" ""    # raw streaming counts no orphans
}

run_server_count() {  # run_server_count notexists|leftjoin RUN
    psql_args "q_$1"
    local cmd=(psql -X -At -d "$DB" "${PSQL_C[@]}")
    note_command "$1" "$(shell_quote "${cmd[@]}")"
    measure "${cmd[@]}"
    if [ $RC != 0 ]; then fail_run "$1" "$2"; return; fi
    record "$1" "" "" "$2" "$CHILD_ROWS" "$(sum_lines "$W/out")"
}

run_validate() {  # run_validate RUN: time only VALIDATE (or ADD FK), on cleaned data
    local script="$W/validate.sql" ch n=0 orphans ms
    {
        echo '\set ON_ERROR_STOP 1'
        echo 'BEGIN;'
        for ch in "${CHILDREN[@]}"; do echo "DELETE FROM $ch o WHERE $NOTNULL AND NOT EXISTS (SELECT 1 FROM $PARENT c WHERE $JOIN);"; done
        echo "\\! perl $HERE/procstat.pl ${PMPID:-1} > $W/v0"
        printf '%s\n' '\timing on'
        for ch in "${CHILDREN[@]}"; do
            n=$((n + 1))
            if [ "$VALIDATE" = add_fk ]; then
                echo "ALTER TABLE $ch ADD CONSTRAINT fkbench_validate_$n FOREIGN KEY ($CHILD_COLS) REFERENCES $PARENT ($PARENT_COLS);"
            else
                echo "ALTER TABLE $ch VALIDATE CONSTRAINT $(psql -X -At -d "$DB" -c \
                    "SELECT quote_ident(conname) FROM pg_constraint WHERE conrelid = '$ch'::regclass AND contype = 'f'");"
            fi
        done
        printf '%s\n' '\timing off'
        echo "\\! perl $HERE/procstat.pl ${PMPID:-1} --after > $W/v1"
        echo 'ROLLBACK;'
    } >"$script"
    note_command "$VALIDATE" "psql -X -d $DB -f FILE, FILE =$(grep -v -e '^\\!' -e '^\\set' "$script" | sed 's/^/ /' | tr -d '\n')"
    measure psql -X -d "$DB" -f "$script"
    if [ $RC != 0 ]; then fail_run "$VALIDATE" "$1"; psql -X -q -d "$DB" -c "VACUUM" >/dev/null; return; fi
    orphans=$(awk '$1 == "DELETE" { s += $2 } END { print s + 0 }' "$W/out")
    ms=$(awk '$1 == "Time:" { s += $2 } END { printf "%.3f", s / 1000 }' "$W/out")
    SECS=$ms CCPU="" CRSS=""
    read -r SCPU OCPU < <(awk -v hz="$HZ" -v s="$SECS" -v pm="$PMPID" '
        NR == FNR { split($0, x, " "); next } { split($0, y, " ") } END {
        srv = (y[1] - x[1]) / hz; all = (y[2] - x[2]) / hz
        if (pm == "") printf " %.2f\n", all; else printf "%.2f %.2f\n", srv, all - srv }' "$W/v0" "$W/v1")
    record "$VALIDATE" "" "" "$1" "$CHILD_ROWS" "$orphans"
    # The rolled-back DELETE cleared all-visible bits: restore them, untimed.
    psql -X -q -d "$DB" -c "VACUUM" >/dev/null
}

# ---- noise ----------------------------------------------------------------
cpu_use_pct() {  # the machine's CPU use over the next second, in percent
    local a b
    a=$(head -n 1 /proc/stat); sleep 1; b=$(head -n 1 /proc/stat)
    printf '%s\n%s\n' "$a" "$b" | awk '{ busy = $2 + $3 + $4 + $7 + $8 + $9; all = busy + $5 + $6
        if (NR == 1) { b0 = busy; a0 = all } else printf "%d\n", (all > a0) ? 100 * (busy - b0) / (all - a0) : 0 }'
}
wait_for_idle() {
    [ "$wait_idle" != 0 ] || return 0
    local i u
    for i in $(seq 1 "$wait_max"); do
        u=$(cpu_use_pct)
        [ "$u" -lt "$wait_idle" ] && return 0
    done
    log "  note: the machine stayed busy ($u% CPU) for $wait_max s; running anyway"
}
NOISY_RUNS=0
noise_guard() {  # noise_guard FUNCTION RUN ARGS...: retry a timed run that was disturbed
    local try lines
    for try in 1 2 3 4; do
        wait_for_idle
        lines=$(wc -l <"$CSV")
        "$@"
        # no new CSV line: the run failed, nothing to judge
        [ "$(wc -l <"$CSV")" -gt "$lines" ] || return 0
        [ "$2" != 0 ] && [ "$retry_noisy" != 0 ] && [ $try -lt 4 ] || return 0
        awk -v o="$OCPU" -v lim="$retry_noisy" 'BEGIN { exit !(o > lim) }' || return 0
        NOISY_RUNS=$((NOISY_RUNS + 1))
        printf '  %-9s (run %s above: other processes used %s CPU s; discarded as run -%s, redoing)\n' \
            "$SHAPE" "$2" "$OCPU" "$2" >&2
        awk -F, -v OFS=, 'NR == n { $6 = -$6 } { print }' n="$((lines + 1))" "$CSV" >"$CSV.tmp" && mv "$CSV.tmp" "$CSV"
    done
}

# ---- the run --------------------------------------------------------------
DROP_DBS=""
scale_tag=s${scale//./_}
for SHAPE in "${SHAPES[@]}"; do
    shape_info "$SHAPE"
    DB="fkb_${SHAPE}_${scale_tag}"
    want="fkbench shapes=$SHAPE scale=$scale seed=$SEED gen=$GEN_VERSION"
    have=$(psql -X -At -d postgres -c \
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$DB'")
    if [ $keep = 1 ] && [ "$have" = "$want" ]; then
        log "== $SHAPE: reusing database $DB"
    else
        log "== $SHAPE: loading database $DB (scale $scale)"
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\"" >/dev/null
        t0=$(date +%s.%N)
        "$HERE/gen.sh" --scale "$scale" --shapes "$SHAPE" --seed "$SEED" --create "$DB" 2>&1 | sed 's/^/  /' | tee -a "$TXT" >&2
        [ "${PIPESTATUS[0]}" = 0 ] || die "loading $SHAPE failed"
        log "  load total $(fsub "$(date +%s.%N)" "$t0") s"
    fi
    [ $use_env = 1 ] && DROP_DBS+=" $DB"
    # The truth, untimed (it also warms the caches): child rows and orphans.
    CHILD_ROWS=0
    for ch in "${CHILDREN[@]}"; do
        CHILD_ROWS=$((CHILD_ROWS + $(psql -X -At -d "$DB" -c "SELECT count(*) FROM $ch")))
    done
    psql_args q_notexists
    TRUTH=$(psql -X -At -d "$DB" "${PSQL_C[@]}" | sum_lines)
    log "  $SHAPE: $CHILD_ROWS child rows, $TRUTH orphan rows (server NOT EXISTS)"

    # Each bench_copy run right after fkscan's with the same connections:
    # the pair meets the same moment of the host (summary.pl's "pair").
    configs=()
    for j in $(seq 1 "$jobs"); do
        if has_method fkscan; then for f in "${FETCHES[@]}"; do configs+=("fkscan $j $f"); done; fi
        has_method copy && configs+=("copy $j")
    done
    has_method notexists && configs+=("notexists")
    has_method leftjoin && configs+=("leftjoin")
    run_config() {  # run_config RUN METHOD [ARGS]
        local r=$1 m=$2
        case $m in
            fkscan) run_fkscan "$3" "$4" "$r" ;;
            copy) run_copy "$3" "$r" ;;
            notexists|leftjoin) run_server_count "$m" "$r" ;;
        esac
    }
    # Warm-up round(s), then repetitions round-robin over the methods, so that
    # a burst of outside load hits every method alike.
    for r in $(seq 0 "$reps"); do
        rounds=1; [ "$r" = 0 ] && rounds=$warmup
        for _ in $(seq 1 "$rounds"); do
            for c in "${configs[@]}"; do
                # shellcheck disable=SC2086
                noise_guard run_config "$r" $c
            done
        done
    done
    if has_method validate; then
        for _ in $(seq 1 "$warmup"); do noise_guard run_validate 0; done
        for r in $(seq 1 "$reps"); do noise_guard run_validate "$r"; done
    fi
    log "  load avg now: $(cut -d' ' -f1-3 /proc/loadavg)"
done

# ---- report ---------------------------------------------------------------
{
    echo
    perl "$HERE/summary.pl" "$CSV"
    echo
    echo "commands (DB = fkb_<shape>_$scale_tag; PG* variables point at the cluster):"
    printf '%s\n' "${!COMMANDS[@]}" | sort | while IFS= read -r k; do
        echo "  [$k] ${COMMANDS[$k]}"
    done
    echo "timing: wall clock of the whole client process (date +%s.%N around"
    printf '%s\n' "/usr/bin/time), except VALIDATE/ADD FK: the statement only (psql \\timing),"
    echo "after the orphans were DELETEd in the same transaction (rolled back)."
} | tee -a "$TXT"
if [ $chart = 1 ]; then
    "$HERE/chart.sh" "$CSV" >"$SVG" && echo "chart: $SVG" | tee -a "$TXT"
fi
echo "csv: $CSV" | tee -a "$TXT"
echo "summary: $TXT"
if [ ${#FAILED[@]} -gt 0 ]; then
    {
        echo
        echo "!!!! ${#FAILED[@]} FAILURE(S): methods disagree on the orphan count or failed:"
        printf '!!!!   %s\n' "${FAILED[@]}"
    } | tee -a "$TXT" >&2
    exit 1
fi
[ $NOISY_RUNS = 0 ] || echo "$NOISY_RUNS noisy run(s) discarded and redone (negative run numbers in the CSV)" | tee -a "$TXT"
echo "all methods agree on the orphan counts" | tee -a "$TXT"
