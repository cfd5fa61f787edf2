# Ctrl-C: every running query is cancelled, the exit code is 2, and the
# report never calls a partial scan clean.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempfile);
use Time::HiRes qw(usleep time);
use FkTest;

my $db = FkTest::new_db('scan_cancel');
FkTest::psql($db, <<'SQL');
CREATE TABLE parent (id bigint PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, 100000) g;
CREATE TABLE child (id bigint, pid bigint REFERENCES parent);
-- (RI's check per row would cost most of this test's time)
SET session_replication_role = replica;
INSERT INTO child SELECT g, g % 100000 + 1 FROM generate_series(1, 3000000) g;
RESET session_replication_role;
SQL

# Start fkscan in the background; returns (pid, stdout file, stderr file).
sub start_scan {
    my @args = @_;
    my ($outfh, $out) = tempfile(UNLINK => 1);
    my ($errfh, $err) = tempfile(UNLINK => 1);
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>&', $outfh) or die;
        open(STDERR, '>&', $errfh) or die;
        exec($ENV{FKSCAN}, 'scan', @args, $db) or die "exec: $!";
    }
    return ($pid, $out, $err);
}

sub wait_for {
    my ($sql) = @_;
    for (1 .. 600) {
        return 1 if FkTest::psql($db, $sql) > 0;
        usleep(20_000);
    }
    return 0;
}

sub fkscan_queries {
    return FkTest::psql($db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        . "AND application_name = 'fkscan' AND state = 'active'");
}

# 1. The coordinator is waiting for a lock: SIGINT cancels that query.
open(my $locker, '|-', 'psql', '-X', '-q', '-d', $db) or die;
$locker->autoflush(1);
print $locker "BEGIN; LOCK TABLE child IN ACCESS EXCLUSIVE MODE;\n";
ok(wait_for(FkTest::lock_held_sql('child', 'AccessExclusiveLock')), 'lock held');
my ($pid, $out, $err) = start_scan('--lock-timeout', '60000');
ok(wait_for("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            . "AND application_name = 'fkscan' AND wait_event_type = 'Lock'"), 'fkscan waits for the lock');
my $t0 = time;
kill 'INT', $pid;
waitpid($pid, 0);
is($? >> 8, 2, 'interrupted while waiting: exit 2') or diag(FkTest::slurp($err));
ok(time - $t0 < 10, 'it did not wait for the lock timeout');
like(FkTest::slurp($err), qr/cancel/i, 'stderr says it was cancelled');
unlike(FkTest::slurp($out), qr/clean/, 'nothing reported clean');
print $locker "ROLLBACK;\n";
close($locker);

# 2. Workers are streaming: SIGINT cancels their COPY; so does SIGHUP (a
# closed terminal), which used to kill fkscan and leave its backends running.
for my $sig ('INT', 'HUP') {
    my ($pid, $out, $err) = start_scan('-j', '2', '--fetch', 'cursor', '--chunk-size', '1MB', '--format', 'json');
    # (this database's: other tests' scans run beside this one)
    ok(wait_for("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                . "AND application_name = 'fkscan' AND state = 'active' AND query ~ '(FETCH|DECLARE|COPY)'"),
       "SIG$sig: workers are streaming");
    kill $sig, $pid;
    waitpid($pid, 0);
    is($? >> 8, 2, "SIG$sig mid-stream: exit 2") or diag(FkTest::slurp($err));
    my $report = FkTest::slurp($out);
    if ($report =~ /\S/) {
        like($report, qr/"interrupted": true/, "SIG$sig: the report says interrupted");
        unlike($report, qr/"status": "clean"/, "SIG$sig: no FK reported clean");
    }
    else {
        like(FkTest::slurp($err), qr/^fkscan: canceling: interrupted by signal$/m,
             "SIG$sig: no report printed; stderr says it was interrupted");
    }
    ok(wait_for("SELECT (count(*) = 0)::int FROM pg_stat_activity WHERE datname = current_database() "
                . "AND application_name = 'fkscan'"),
       "SIG$sig: no fkscan session is left on the server");
}

done_testing();
