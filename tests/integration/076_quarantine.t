# fix --strategy quarantine: the orphan rows move into a quarantine table in
# one checked transaction; a new scan finds none, the table holds exactly the
# removed rows (column by column), restore.sql moves them back exactly; a
# table that does not fit is refused; a count mismatch rolls everything back.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;

my $work = tempdir(CLEANUP => 1);
my $db = FkTest::new_db('quarantine');
FkTest::psql($db, <<'SQL');
CREATE TABLE p (id int PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 100) g;
CREATE SCHEMA "Sch ""q""";
CREATE TABLE "Sch ""q"""."Chi.ld" (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "p id" int CONSTRAINT "Chi.ld fk" REFERENCES p, note text, at timestamptz DEFAULT now(),
    twice int GENERATED ALWAYS AS (id * 2) STORED);
CREATE TABLE keep (cid int REFERENCES "Sch ""q"""."Chi.ld" ON DELETE CASCADE);
CREATE TABLE u (k int);
SET session_replication_role = replica;
INSERT INTO "Sch ""q"""."Chi.ld" ("p id", note) SELECT g, CASE WHEN g % 3 = 0 THEN E'a,"b\nc' END
    FROM generate_series(90, 120) g;
INSERT INTO "Sch ""q"""."Chi.ld" ("p id", note) VALUES (NULL, 'exempt');
INSERT INTO u VALUES (1), (500), (NULL);
SQL
my $CHILD = '"Sch ""q"""."Chi.ld"';
my $Q = '"Sch ""q"""."Chi.ld_quarantine"';
my $COLS = 'id, "p id", note, at';
my $ORPHANS = "NOT EXISTS (SELECT 1 FROM p WHERE p.id = c.\"p id\") AND c.\"p id\" IS NOT NULL";
my $before = FkTest::psql($db, "SELECT $COLS FROM $CHILD c ORDER BY id");
my $orphan_rows = FkTest::psql($db, "SELECT ($COLS) FROM $CHILD c WHERE $ORPHANS ORDER BY id");
is(FkTest::psql($db, "SELECT count(*) FROM $CHILD c WHERE $ORPHANS"), 20, '20 orphan rows planted');

my $tpl = FkTest::copy_db($db, 'quarantine_tpl');

# The plan: printed, nothing changed.
my ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'quarantine', '-t', 'keep', '-t', '"Sch ""q"""."Chi.ld"',
                                      $db);
is($rc, 1, 'dry run: exit 1') or diag($err);
like($out, qr/^CREATE TABLE IF NOT EXISTS "Sch ""q"""\."Chi\.ld_quarantine" \(LIKE "Sch ""q"""\."Chi\.ld", fkscan_constraint text, fkscan_scanned_at timestamp with time zone, fkscan_key jsonb, fkscan_run text\);$/m,
     'dry run: the quarantine table made like the child');
like($out, qr/fkscan_check\(:ROW_COUNT, :fkscan_expect, 'quarantine from "Sch ""q""".*Chi\.ld.*'\)/, 'dry run: the move is counted');
is(FkTest::psql($db, "SELECT to_regclass('$Q') IS NULL"), 't', 'dry run: no table made');

# Cascade rules as for delete: keep's rows reference two orphan rows.
FkTest::psql($db, "INSERT INTO keep SELECT id FROM $CHILD c WHERE $ORPHANS ORDER BY id LIMIT 2");
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'quarantine', '-c', '"Chi.ld fk"', '--apply',
                                   '--backup-dir', "$work/refused", $db);
is($rc, 2, 'a cascade without --cascade: refused');
like($err, qr/deleting the orphan rows would also delete 2 rows of public\.keep/, 'the cascade is named');
FkTest::psql($db, 'DELETE FROM keep');

# Apply.
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'quarantine', '-c', '"Chi.ld fk"', '--apply',
                                   '--backup-dir', "$work/q1", $db);
is($rc, 0, 'quarantine --apply: exit 0') or diag($err);
like($out, qr/quarantine from "Sch ""q""".*: 20 rows/, 'says how many moved');
my ($rc2, $json) = FkTest::fkscan_json('scan', '-c', '"Chi.ld fk"', $db);
is($json->{totals}{orphan_rows}, 0, 'a new scan finds no orphans');
is(FkTest::psql($db, "SELECT count(*) FROM $CHILD"), 12, 'the other rows stay');
is(FkTest::psql($db, "SELECT ($COLS) FROM $Q c ORDER BY id"), $orphan_rows,
   'the quarantine table holds exactly the removed rows, column by column');
is(FkTest::psql($db, "SELECT count(*) FROM $Q WHERE fkscan_constraint = 'Chi.ld fk' "
                     . "AND fkscan_key = jsonb_build_object('p id', \"p id\"::text) "
                     . "AND fkscan_scanned_at IS NOT NULL AND fkscan_run IS NOT NULL"),
   20, 'each with its constraint, key, scan time and run');
ok(-e "$work/q1/restore.sql", 'a restore script');

# Restore puts them back exactly, and empties the quarantine of them.
my ($prc, $pout, $perr) = FkTest::run_command(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db, '-f',
                                               "$work/q1/restore.sql"], '');
is($prc, 0, 'restore.sql runs') or diag($perr);
is(FkTest::psql($db, "SELECT $COLS FROM $CHILD c ORDER BY id"), $before, 'restored exactly');
is(FkTest::psql($db, "SELECT count(*) FROM $Q"), 0, 'the quarantine table gave them back');

# A second run into the existing table; --quarantine-table names another one.
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'quarantine', '-c', '"Chi.ld fk"', '--apply',
                                   '--backup-dir', "$work/q2", $db);
is($rc, 0, 'into the existing table: exit 0') or diag($err);
is(FkTest::psql($db, "SELECT count(*) FROM $Q"), 20, 'the existing table is reused');
FkTest::psql($db, 'CREATE SCHEMA "Q s"');
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'quarantine', '--relation', 'u(k) -> p(id)',
                                   '--quarantine-table', '"Q s"."x""y"', '--apply', '--backup-dir', "$work/q3", $db);
is($rc, 0, 'an undeclared relationship into a named table: exit 0') or diag($err);
is(FkTest::psql($db, 'SELECT k, fkscan_constraint, fkscan_key FROM "Q s"."x""y"'), '500|u_k_fkey|{"k": "500"}',
   'the named table holds the row');
is(FkTest::psql($db, 'SELECT count(*) FROM u'), 2, 'and it left u (the NULL key stays)');

# A table that does not fit is refused, nothing changed.
my $misfit = FkTest::copy_db($tpl, 'quarantine_misfit');
FkTest::psql($misfit, qq{CREATE TABLE $Q (id int, "p id" text, note text, at timestamptz, fkscan_constraint text, }
                      . 'fkscan_scanned_at timestamptz, fkscan_key jsonb, fkscan_run text)');
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'quarantine', '-c', '"Chi.ld fk"', '--apply',
                                   '--backup-dir', "$work/misfit", $misfit);
is($rc, 2, 'a quarantine table that does not fit: exit 2');
like($err, qr/quarantine table "Sch ""q"""\."Chi\.ld_quarantine" does not fit: column "p id" has type text/,
     'the misfit column is named');
FkTest::psql($misfit, qq{ALTER TABLE $Q DROP COLUMN fkscan_run, ALTER COLUMN "p id" TYPE int USING "p id"::int});
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'quarantine', '-c', '"Chi.ld fk"', '--apply', $misfit);
like($err, qr/does not fit: column "fkscan_run" is missing/, 'a missing fkscan_ column is named');
is(FkTest::psql($misfit, "SELECT count(*) FROM $CHILD c WHERE $ORPHANS"), 20, 'nothing moved');
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'quarantine', '--quarantine-table', 'a.b.c', '--apply', $misfit);
like($err, qr/invalid value "a\.b\.c" for option --quarantine-table/, 'a malformed table name is refused');
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--quarantine-table', 'x', $misfit);
like($err, qr/option --quarantine-table is only for --strategy quarantine/, '--quarantine-table needs the strategy');

# Rows change between the scan and the apply: everything rolls back.
my $m = FkTest::copy_db($tpl, 'quarantine_mismatch');
my $victim = FkTest::psql($m, "SELECT min(id) FROM $CHILD c WHERE $ORPHANS");
($rc, $out, $err) = FkTest::run_behind_lock($m, $CHILD, "DELETE FROM $CHILD WHERE id = $victim",
    'fix', '--strategy', 'quarantine', '--apply', '--lock-timeout', '60s', '-c', '"Chi.ld fk"',
    '--backup-dir', "$work/mismatch", $m);
is($rc, 2, 'count mismatch: exit 2');
like($err, qr/rows changed since the scan/, 'the message says the rows changed');
is(FkTest::psql($m, "SELECT to_regclass('$Q') IS NULL"), 't', 'rolled back: no quarantine table');
is(FkTest::psql($m, "SELECT count(*) FROM $CHILD c WHERE $ORPHANS"), 19, 'rolled back: only the other delete happened');
ok(!-e "$work/mismatch/restore.sql", 'no restore script for a rolled-back repair');

done_testing();
