# fix --strategy backfill on the cases of #17 items 1 and 2: a stub parent
# is tied to its own key (the printed script, run after one orphan was
# fixed, inserts only the stub still needed), and a stub that clashes on
# another unique column fails naming that index instead of being dropped
# and blamed on "rows changed since the scan".
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;

my $work = tempdir(CLEANUP => 1);
my $db = FkTest::new_db('fix_backfill');
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

done_testing();
