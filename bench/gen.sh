#!/usr/bin/env bash
# gen.sh: load a benchmark data set into a database.
#
#   bench/gen.sh [--scale S] [--shapes LIST] [--seed X] [--create] DBNAME
#
# Scale 1 is the baseline's size: 5,000,000 parents and 50,000,000 children
# (child keys uniform over the parents, 1% NULL, 0.1% orphans whose keys lie
# just past the parents' range, spread over the whole heap).  Parents and
# children scale together: 0.01 gives 50,000 / 500,000.
#
# Shapes (comma-separated, default int8; "all" = every one):
#   int8       customers(id bigint) <- orders(customer_id bigint)     (baseline)
#   int4       i4_customers(id bigint) <- i4_orders(customer_id integer)
#   uuid       uu_customers(id uuid) <- uu_orders(customer_id uuid)
#   text       tx_customers(id text) <- tx_orders(customer_id text)
#   composite  cp_customers(region int, id int) <- cp_orders(region, customer_id)
#   multi      mc_customers(id bigint) <- mc_orders_1..4 (C/4 rows each)
#   part       pt_customers(id bigint) <- pt_orders, partitioned in 4 leaves
#
# The FKs are declared (NOT VALID, added after the load, so the orphans stay;
# "part" is the exception, see sql/part.sql).  Each shape loads in one
# transaction that creates its tables, so with wal_level = minimal the data
# skips WAL (run.sh's cluster uses it).  VACUUM ANALYZE, then VACUUM again:
# the first one leaves part of the parent not all-visible (baseline #6).
# Connection: PGHOST/PGPORT/PGUSER as usual.  --create makes the database.
# Afterwards the database's comment records what was loaded:
#   fkbench shapes=int8 scale=1 seed=0.42 gen=1
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
GEN_VERSION=1
ALL_SHAPES="int8,int4,uuid,text,composite,multi,part"

scale=1 shapes=int8 seed=0.42 create=0 db=""
usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-2}"
}
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) scale=$2; shift 2 ;;
        --shapes|--shape) shapes=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --create) create=1; shift ;;
        -h|--help) usage 0 ;;
        -*) echo "gen.sh: unknown option $1" >&2; usage ;;
        *) db=$1; shift ;;
    esac
done
[ -n "$db" ] || { echo "gen.sh: no database given" >&2; usage; }
[ "$shapes" = all ] && shapes=$ALL_SHAPES

# Sizes: P parents, C children, K orphan keys (P+1..P+K).
read -r P C K < <(awk -v s="$scale" 'BEGIN {
    if (s !~ /^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/ || s + 0 <= 0) exit 1
    p = int(5000000 * s + 0.5); c = int(50000000 * s + 0.5)
    if (p < 100) p = 100
    if (c < 1000) c = 1000
    k = int(p / 50 + 0.5); if (k < 1) k = 1
    print p, c, k }') || { echo "gen.sh: bad --scale '$scale'" >&2; exit 2; }

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
if [ $create = 1 ]; then
    exists=$("${PSQL[@]}" -d postgres -Atc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'")
    [ "$exists" = 1 ] || "${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$db\""
fi

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
t_all=$(now)
IFS=, read -r -a shape_list <<<"$shapes"
for shape in "${shape_list[@]}"; do
    sql="$HERE/sql/$shape.sql"
    [ -f "$sql" ] || { echo "gen.sh: unknown shape '$shape' (have: $ALL_SHAPES)" >&2; exit 2; }
    t0=$(now)
    "${PSQL[@]}" -d "$db" -v P="$P" -v C="$C" -v K="$K" -v seed="$seed" -f "$sql" >/dev/null
    t1=$(now)
    printf 'gen.sh: %-9s loaded %d parents, %d children in %.1f s\n' \
        "$shape" "$P" "$C" "$(sub "$t1" "$t0")" >&2
done
t0=$(now)
"${PSQL[@]}" -d "$db" -c "VACUUM (ANALYZE)" -c "VACUUM"
"${PSQL[@]}" -d "$db" -c \
    "COMMENT ON DATABASE \"$db\" IS 'fkbench shapes=$shapes scale=$scale seed=$seed gen=$GEN_VERSION'"
t1=$(now)
printf 'gen.sh: vacuum in %.1f s, total %.1f s\n' \
    "$(sub "$t1" "$t0")" "$(sub "$t1" "$t_all")" >&2
