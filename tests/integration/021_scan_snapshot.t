# Writes committed while a scan runs must not change its answer: every
# worker reads the coordinator's exported snapshot.
#
# To make "while" deterministic, this session holds an ACCESS EXCLUSIVE lock
# on the child: fkscan takes its snapshot first, then waits for the lock;
# meanwhile this session deletes parents and adds and heals orphans, and
# commits.  The workers start after that, on the old snapshot.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempfile);
use JSON::PP;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('scan_snapshot');
FkTest::psql($db, <<'SQL');
CREATE TABLE parent (id bigint PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, 50000) g;
CREATE TABLE child (id serial, pid bigint REFERENCES parent);
SET session_replication_role = replica;
INSERT INTO child (pid) SELECT g % 50500 FROM generate_series(1, 200000) g;
SQL

my $fk = { schema => 'public', table => 'child', constraint => 'child_pid_fkey',
           columns => ['pid'], ref_schema => 'public', ref_table => 'parent',
           ref_columns => ['id'], match => 'simple' };
my $before = FkOracle::expected($db, $fk);
ok($before->{orphan_rows} > 0, 'the data has orphans to begin with');

# Session A: hold the lock.
open(my $locker, '|-', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db)
    or die "psql: $!";
$locker->autoflush(1);
print $locker "BEGIN; LOCK TABLE child IN ACCESS EXCLUSIVE MODE;\n";
FkTest::wait_until($db, FkTest::lock_held_sql('child', 'AccessExclusiveLock'));

# The scan starts, takes its snapshot, and waits for the lock.
my ($outfh, $outfile) = tempfile(UNLINK => 1);
my ($errfh, $errfile) = tempfile(UNLINK => 1);
my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    open(STDOUT, '>&', $outfh) or die;
    open(STDERR, '>&', $errfh) or die;
    exec($ENV{FKSCAN}, 'scan', '-j', '2', '--chunk-size', '64kB', '--lock-timeout', '60000',
         '--format', 'json', $db) or die "exec: $!";
}
FkTest::wait_until($db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   . "AND application_name = 'fkscan' AND wait_event_type = 'Lock'");
ok(waitpid($pid, 1) == 0, 'fkscan is waiting while the writes happen');

print $locker <<'SQL';
SET session_replication_role = replica;
DELETE FROM parent WHERE id <= 700;
INSERT INTO child (pid) SELECT 900000 + g FROM generate_series(1, 333) g;
INSERT INTO parent SELECT g FROM generate_series(50001, 50400) g;
COMMIT;
SQL
close($locker) or die "psql (locker) failed";

waitpid($pid, 0);
my $rc = $? >> 8;
my $json = decode_json(do { local (@ARGV, $/) = $outfile; <> });
is($rc, 1, 'scan exit code 1') or diag(do { local (@ARGV, $/) = $errfile; <> });
my ($got) = grep { $_->{constraint} eq 'child_pid_fkey' } @{ $json->{constraints} };
FkOracle::forget();
my $after = FkOracle::expected($db, $fk);
isnt($after->{orphan_rows}, $before->{orphan_rows}, 'the writes changed the answer on the server');
for my $k (qw(child_rows null_rows orphan_rows orphan_keys)) {
    is($got->{$k}, $before->{$k}, "$k is the answer at the snapshot");
}

# And a scan now sees the new state.
my ($rc2, $json2) = FkTest::fkscan_json('scan', '-j', '2', '--format', 'json', $db);
FkOracle::check($db, $json2, 'after the writes');

done_testing();
