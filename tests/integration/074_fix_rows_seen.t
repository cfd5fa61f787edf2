# fix changes exactly the rows its scan saw (#14 item 15).  Equal counts are
# not enough: one orphan fixed and one late orphan row with an old key,
# between the scan and the repair, keep the count and would delete (or
# nullify) a row nobody was shown.  Every row a repair statement touches
# must be a row version of the scan's snapshot, or everything rolls back:
# in the printed script and with --apply, for delete and nullify.  A row the
# repair itself changed earlier in its transaction is its own, not "late".
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;

my $work = tempdir(CLEANUP => 1);
my $tpl = FkTest::new_db('rows_seen_tpl');
FkTest::psql($tpl, <<'SQL');
CREATE TABLE "P ar'ent" (id int PRIMARY KEY);
INSERT INTO "P ar'ent" SELECT g FROM generate_series(1, 100) g;
CREATE TABLE "c""hild" (id int PRIMARY KEY, "p id" int REFERENCES "P ar'ent", note text);
CREATE TABLE two (id int PRIMARY KEY, a int REFERENCES "P ar'ent", b int REFERENCES "P ar'ent");
SET session_replication_role = replica;
INSERT INTO "c""hild" SELECT g, CASE WHEN g % 10 = 0 THEN 1000 + g ELSE g % 100 + 1 END, 'n'
    FROM generate_series(1, 200) g;
INSERT INTO two SELECT g, 500 + g, 600 + g FROM generate_series(1, 5) g;
SQL
my $CHILD = '"c""hild"';
my $ORPHAN = qq{NOT EXISTS (SELECT FROM "P ar'ent" p WHERE p.id = c."p id")};
# one orphan fixed, one late orphan with an orphan key the scan reported
my $COMPENSATE = "SET session_replication_role = replica; "
    . "UPDATE $CHILD SET \"p id\" = 1 WHERE id = 10; INSERT INTO $CHILD VALUES (9999, 1020, 'late')";

my $n = 0;
sub clone { return FkTest::copy_db($tpl, 'rows_seen_' . $n++); }
sub contents { return FkTest::psql($_[0], "SELECT string_agg(c::text, ';' ORDER BY id) FROM $CHILD c"); }
sub orphans { return FkTest::psql($_[0], "SELECT count(*) FROM $CHILD c WHERE \"p id\" IS NOT NULL AND $ORPHAN"); }
sub run_script {
    my ($db, $script) = @_;
    return FkTest::run_command(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db], $script);
}
for my $strategy (qw(delete nullify)) {
    # ---- the printed script ----
    my $db = clone();
    my ($rc, $script, $err) = FkTest::fkscan('fix', '--strategy', $strategy, '-t', '"c""hild"',
                                             '--backup-dir', "$work/s-$strategy", $db);
    is($rc, 1, "$strategy: a script (exit 1)") or diag($err);
    FkTest::psql($db, $COMPENSATE);
    my $before = contents($db);
    is(orphans($db), 20, "$strategy: still 20 orphan rows after the compensating changes");
    my ($prc, $pout, $perr) = run_script($db, $script);
    isnt($prc, 0, "$strategy script after compensating changes: psql stops");
    like($perr, qr/fkscan: 1 rows for \Q$strategy\E \S+ public\."c""hild" .*rows the scan did not see, expected 0/,
         "$strategy script: names the unseen row") or diag($perr);
    is(contents($db), $before, "$strategy script: nothing changed");

    # the same script on the data it was made from: runs
    my $same = clone();
    ($prc, $pout, $perr) = run_script($same, $script =~ s/s-\Q$strategy\E/s2-$strategy/gr);
    is($prc, 0, "$strategy script on unchanged data: runs") or diag($perr);
    is(orphans($same), 0, "$strategy script on unchanged data: repaired");

    # ---- --apply: the changes land after the scan's snapshot ----
    my $m = clone();
    ($rc, my $out, $err) = FkTest::run_behind_lock($m, $CHILD, $COMPENSATE,
        'fix', '--strategy', $strategy, '--apply', '-t', '"c""hild"', '--lock-timeout', '60s',
        '--backup-dir', "$work/a-$strategy", $m);
    is($rc, 2, "$strategy --apply after compensating changes: exit 2") or diag($err);
    like($err, qr/1 rows written after the scan's snapshot: rows changed since the scan/,
         "$strategy --apply: says a row was not the scan's") or diag($err);
    like($err, qr/nothing was changed/, "$strategy --apply: and that nothing was changed");
    is(contents($m), $before, "$strategy --apply: nothing changed but the other session's changes");
    ok(!-e "$work/a-$strategy/restore.sql", "$strategy --apply: no restore script");
}

# a row the repair changed itself earlier in its transaction is its own:
# nullify of two FKs on the same rows, one UPDATE after the other
{
    my $db = clone();
    my ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'nullify', '--apply', '-t', 'two',
                                          '--backup-dir', "$work/two", $db);
    is($rc, 0, 'nullify of two FKs on the same rows: exit 0') or diag($err);
    is(FkTest::psql($db, 'SELECT count(*) FROM two WHERE a IS NULL AND b IS NULL'), 5,
       'both columns nullified in every row');
}

done_testing();
