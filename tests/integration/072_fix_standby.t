# fix --apply and validate --apply refuse a hot standby with one clear line
# and exit 2 (they would write); the dry run of fix still works there (the
# scan reads a standby fine), and prints the same repair as on the primary.
# A primary and standby of their own, as in 050_standby.t.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(usleep time);
use FkTest;

my $pairdir = tempdir('fkscan-fixsb-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $pair_started = 0;
END {
    local $?;
    FkTest::stop_standby_pair($pairdir) if $pair_started;
}
$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);

$pair_started = 1;
my %pair = FkTest::start_standby_pair($pairdir);
my @standby = ('-h', $pair{FKSCAN_STANDBY_HOST}, '-p', $pair{FKSCAN_STANDBY_PORT});

my $db = FkTest::new_db('fix_standby');
FkTest::psql($db, <<'SQL');
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p);
ALTER TABLE c DROP CONSTRAINT c_pid_fkey;
INSERT INTO p VALUES (1), (2);
INSERT INTO c VALUES (1, 1), (2, 3), (3, 4);
ALTER TABLE c ADD CONSTRAINT c_pid_fkey FOREIGN KEY (pid) REFERENCES p NOT VALID;
SQL
# wait until the standby has it all
my $lsn = FkTest::psql('postgres', 'SELECT pg_current_wal_lsn()');
my $t0 = time;
while (1) {
    my (undef, $caught_up) = FkTest::run_command(['psql', '-X', '-At', @standby, '-d', 'postgres', '-c',
        "SELECT pg_last_wal_replay_lsn() >= '$lsn'"], '');
    last if $caught_up =~ /^t/;
    BAIL_OUT('the standby did not catch up') if time - $t0 > 30;
    usleep(100_000);
}

for my $cmd (['fix', '--strategy', 'delete', '--apply'], ['validate', '--apply']) {
    my ($rc, $out, $err) = FkTest::fkscan(@$cmd, @standby, $db);
    is($rc, 2, "$cmd->[0] --apply on a standby: exit 2");
    my @errors = grep { /^fkscan: error: / } split /\n/, $err;
    is(scalar @errors, 1, "$cmd->[0]: one error line") or diag($err);
    like($errors[0] // '', qr/^fkscan: error: cannot (repair|validate) on a hot standby: the server is in recovery/,
         "$cmd->[0]: says why");
    is($out, '', "$cmd->[0]: nothing on stdout");
}
is(FkTest::psql($db, 'SELECT count(*) FROM c'), 3, 'nothing changed on the primary');

my ($rc, $sb_script, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--backup-dir', 'bk', @standby, $db);
is($rc, 1, 'fix dry run on a standby: exit 1') or diag($err);
my ($rc2, $pr_script) = FkTest::fkscan('fix', '--strategy', 'delete', '--backup-dir', 'bk', $db);
# the scan's snapshot (its xids) may differ: a write may come between the runs
my $snap = qr/'\d+:\d+:[\d,]*'::pg_catalog\.pg_snapshot/;
like($sb_script, $snap, 'the script names the scan\'s snapshot');
is($sb_script =~ s/$snap/SNAPSHOT/gr, $pr_script =~ s/$snap/SNAPSHOT/gr,
   'the standby prints the same repair as the primary');
like($sb_script, qr/^COPY pg_temp\.fkscan_keys_1 \(k1\) FROM STDIN;\n3\n4\n\\\.$/m, 'with the orphan keys as data');

done_testing();
