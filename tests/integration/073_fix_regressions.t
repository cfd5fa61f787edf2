# fix's regressions.  backfill on the cases of #17 items 1 and 2: a stub parent
# is tied to its own key (the printed script, run after one orphan was
# fixed, inserts only the stub still needed), and a stub that clashes on
# another unique column fails naming that index instead of being dropped
# and blamed on "rows changed since the scan".  Items 3 and 8: only delete
# says what deleting reaches, only where it reaches rows, and a refusal
# gives its hint once.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;

my $work = tempdir(CLEANUP => 1);
my $db = FkTest::new_db('fix_regressions');
FkTest::psql($db, <<'SQL');
CREATE TABLE p (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p);
CREATE TABLE p2 (id int PRIMARY KEY, code int NOT NULL UNIQUE);
CREATE TABLE c2 (id int PRIMARY KEY, pid int REFERENCES p2);
INSERT INTO p2 VALUES (1, 7);
SET session_replication_role = replica;
INSERT INTO c VALUES (1, 10), (2, 20);
INSERT INTO c2 VALUES (1, 10), (2, 20);
SQL

# 1. the script, then one orphan fixed by hand, then the script
my ($rc, $script, $err) = FkTest::fkscan('fix', '--strategy', 'backfill', '--set', 'name=x', '-t', 'c', $db);
is($rc, 1, 'backfill dry run: a script (exit 1)') or diag($err);
my $file = "$work/r.sql";
open(my $fh, '>', $file) or die;
print {$fh} $script;
close $fh;
FkTest::psql($db, 'UPDATE c SET pid = NULL WHERE id = 1');
my ($prc, $pout, $perr) = FkTest::run_command(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db, '-f', $file], '');
my $stubs = FkTest::psql($db, "SELECT string_agg(id::text, ',' ORDER BY id) FROM p");
ok($prc != 0 ? $stubs eq '' : $stubs eq '20',
   'the script inserts only the stub still needed (20), or rolls back on the changed count')
    or diag("psql exit $prc, stubs '$stubs': $perr");
isnt($stubs, '10,20', 'no stub for the key nobody needs any more');

# 2. one --set value for two stubs, unique elsewhere: an error naming the index
my $before = FkTest::psql($db, 'SELECT count(*) FROM p2');
($rc, my $out, $err) = FkTest::fkscan('fix', '--strategy', 'backfill', '--set', 'code=7', '--apply', '-t', 'c2', $db);
is($rc, 2, 'a unique clash on another column: exit 2');
like($err, qr/p2_code_key/, 'the error names the unique index');
unlike($err, qr/rows changed since the scan/, 'not blamed on rows changed since the scan');
is(FkTest::psql($db, 'SELECT count(*) FROM p2'), $before, 'nothing was inserted');

# #14 item 11: a script or report that could not be written is an error
for my $cmd (['fix', '--strategy', 'delete', '-t', 'c2'], ['validate']) {
    my ($rc2, $o, $e) = FkTest::run_command(['sh', '-c', 'exec "$@" >/dev/full', 'sh', $ENV{FKSCAN}, @$cmd, $db], '');
    is($rc2, 2, "$cmd->[0] > /dev/full: exit 2");
    like($e, qr/^fkscan: error: could not write to standard output: No space left on device$/m,
         "$cmd->[0] > /dev/full: says so");
}

# 3 and 8: what a delete reaches, said once and only for delete
FkTest::psql($db, <<'SQL');
CREATE TABLE q (id int PRIMARY KEY);
CREATE TABLE k (id int PRIMARY KEY, qid int REFERENCES q);
CREATE TABLE d1 (kid int REFERENCES k);
CREATE TABLE d2 (kid int REFERENCES k);
CREATE TABLE d3 (kid int REFERENCES k ON DELETE CASCADE);
SET session_replication_role = replica;
INSERT INTO k VALUES (1, 100), (2, 200), (3, NULL);
INSERT INTO d1 VALUES (1);
INSERT INTO d2 VALUES (2);
INSERT INTO d3 VALUES (3);
SQL
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'nullify', '-t', 'k', $db);
is($rc, 1, 'nullify dry run: a script') or diag($err);
unlike($out, qr/deleting them reaches/, 'nullify: no lines about deleting');
like($out, qr/: 2 orphan rows, 2 distinct keys/, 'counts');
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '-t', 'k', $db);
is($rc, 2, 'delete blocked by two NO ACTION dependents: exit 2');
is(scalar(() = $err =~ /cannot delete: 1 row of/g), 2, 'each blocking dependent named, in the singular');
is(scalar(() = $err =~ /^HINT:/mg), 1, 'the hint once, not once per dependent');
FkTest::psql($db, 'DELETE FROM d1; DELETE FROM d2');
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '-t', 'k', $db);
is($rc, 1, 'delete dry run: a script') or diag($err);
unlike($out, qr/deleting them reaches/, 'no "reaches" line for dependents it reaches no row of');

done_testing();
