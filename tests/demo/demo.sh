#!/usr/bin/env bash
# demo.sh: build a small shop database, break its foreign keys the ways
# they break in the field, then show what "fkscan audit" and "fkscan scan"
# say about it, and repair one of them with "fkscan fix" and "validate".
#
#   tests/demo/demo.sh PATH/TO/fkscan
#
# Needs a server to connect to through the PG* variables; "make demo" runs it
# inside a throwaway cluster (tests/harness/pgcluster.sh).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: demo.sh PATH/TO/fkscan" >&2
    exit 2
fi
fkscan=$1
here=$(cd "$(dirname "$0")" && pwd)
db=shop

psql_q() {  # psql_q DB SQL: one query, unaligned, no headers
    psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

say() { printf '%s\n' "$*"; }

say "== fkscan demo: a small shop whose foreign keys were broken the usual ways"
PGOPTIONS="-c client_min_messages=warning" psql_q postgres "DROP DATABASE IF EXISTS $db" >/dev/null
psql_q postgres "CREATE DATABASE $db" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$here/shop.sql" >/dev/null

counts=$(psql_q "$db" "SELECT format('%s customers, %s products, %s orders, %s order lines, %s shipments, %s payments, %s reviews',
    (SELECT count(*) FROM customers), (SELECT count(*) FROM products),
    (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items),
    (SELECT count(*) FROM shipments), (SELECT count(*) FROM payments),
    (SELECT count(*) FROM reviews))")
say "-- created database \"$db\": $counts"
say "-- then broke it (see tests/demo/shop.sql):"
say "   (a) order_items: a bulk load with DISABLE TRIGGER ALL, then ENABLE TRIGGER ALL;"
say "       500 lines for 50 products that do not exist, and the FK still says VALID"
say "   (b) shipments: a load under session_replication_role = replica, as a"
say "       replication subscriber or pg_restore --disable-triggers does it;"
say "       200 shipments for orders that do not exist, the FK still VALID"
say "   (c) reviews: customer_id FK added NOT VALID over 40 reviews by unknown customers"
say "   (d) payments: the FK's check triggers disabled and forgotten (30 orphan payments);"
say "       orders: the FK's check triggers left replica-only (25 orders, unknown customers)"
say ""

run() {  # run ARGS...: show the command, its output, and its exit code
    local rc
    say "\$ fkscan $*"
    set +e
    "$fkscan" "$@"
    rc=$?
    set -e
    say "(exit code $rc)"
    say ""
}

say "== the audit reads only the catalog: it sees (c) and (d), not (a) or (b)"
run audit "$db"
say "== the scan reads every row from one snapshot: it finds the orphans of (a) to (d)"
run scan "$db"

backup=$(mktemp -d "${TMPDIR:-/tmp}/fkscan-demo-backup.XXXXXX")
say "== repair (c): delete the 40 reviews by unknown customers in one checked"
say "   transaction, the deleted rows saved first; then the server validates the"
say "   NOT VALID constraint (without --apply, both only print what they would do)"
run fix -t public.reviews -c reviews_customer_id_fkey --strategy delete --apply \
    --backup-dir "$backup" "$db"
run validate -t public.reviews --apply "$db"

say "== exit codes: 0 nothing found, 1 broken foreign keys or orphan rows found,"
say "   2 error or incomplete answer (a scan that could not finish never exits 0)."
