# --replica: one sweep spread over a primary and two streaming standbys of
# its own (tests/harness/pgcluster.sh start-standby DIR 2).
#
#  1. Every FK's counts equal the server's own RI check (FkOracle, on the
#     primary, once both standbys have replayed everything), every server
#     read a share (FKs, chunks, rows, bytes), each FK names its server;
#     the JSON report validates against the schema; the main connection
#     may be a standby and a replica the primary; --orphans-out gathers
#     every server's rows in one file; progress names each server's phases.
#  2. A standby stopped mid-sweep (pg_ctl stop -m immediate): the same
#     exact answer, a warning naming it, exit 1 (not 2), "lost" in JSON.
#  3. A server of another system (the suite's own cluster) is refused with
#     one line naming it; --pause-replay resumes every standby, after a
#     sweep, after that refusal and after Ctrl-C; --max-lag refuses a
#     replica held back, naming it.
#  4. --spread chunk: every FK's chunks over the three servers (each read
#     a share, progress shows it), the same exact counts, a window; a
#     standby lost mid-sweep loses only its chunks (same answer, warning,
#     exit 1); --pause-replay pauses both standbys for the sweep, the
#     window is what they were paused at, and replay runs again afterwards.
#  5. Misuse: with --state, a --replica naming a database, a malformed one,
#     on fix, --spread without --replica.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir tempfile);
use Time::HiRes qw(usleep time);
use POSIX ();
use JSON::PP;
use FkTest;
use FkOracle;
use FkSchema;

my $pairdir = tempdir('fkscan-rp-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my %suite = (host => $ENV{PGHOST}, port => $ENV{PGPORT});
my $started = 0;
END {
    local $?;
    FkTest::stop_standby_pair($pairdir) if $started;
}
$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);

$started = 1;
my %pair = FkTest::start_standby_pair($pairdir, 2);
my $primary = "host=$ENV{PGHOST} port=$ENV{PGPORT}";
my $sb1 = "host=$pair{FKSCAN_STANDBY_HOST} port=$pair{FKSCAN_STANDBY_PORT}";
my $sb2 = "host=$pair{FKSCAN_STANDBY2_HOST} port=$pair{FKSCAN_STANDBY2_PORT}";

sub on_server {
    my ($host, $port, $db, $sql) = @_;
    local $ENV{PGHOST} = $host;
    local $ENV{PGPORT} = $port;
    return FkTest::psql($db, $sql);
}
sub sb_psql {
    my ($n, $db, $sql) = @_;
    my $k = $n == 1 ? '' : $n;
    return on_server($pair{"FKSCAN_STANDBY${k}_HOST"}, $pair{"FKSCAN_STANDBY${k}_PORT"}, $db, $sql);
}
sub wait_replayed {
    my $lsn = FkTest::primary_flush_lsn();
    for my $n (1, 2) {
        my $t0 = time;
        usleep(50_000) until sb_psql($n, 'postgres', "SELECT pg_last_wal_replay_lsn() >= '$lsn'") eq 't'
            || time - $t0 > 60;
    }
}
sub paused {
    my ($n) = @_;
    return sb_psql($n, 'postgres', 'SELECT pg_is_wal_replay_paused()');
}

# Six child tables with orphans, keys of four kinds: six groups to share.
my $db = 'replicas';
FkTest::psql('postgres', 'ALTER SYSTEM SET autovacuum = off');
FkTest::psql('postgres', 'SELECT pg_reload_conf()');
FkTest::psql('postgres', "CREATE DATABASE $db");
FkTest::psql($db, <<'SQL');
CREATE TABLE p_int (id bigint PRIMARY KEY);
INSERT INTO p_int SELECT g FROM generate_series(1, 50000) g;
CREATE TABLE p_uuid (id uuid PRIMARY KEY);
INSERT INTO p_uuid SELECT md5(g::text)::uuid FROM generate_series(1, 20000) g;
CREATE TABLE p_text (code text PRIMARY KEY);
INSERT INTO p_text SELECT 'k' || g FROM generate_series(1, 20000) g;
CREATE TABLE p_comp (a int, b int, PRIMARY KEY (a, b));
INSERT INTO p_comp SELECT g, g % 7 FROM generate_series(1, 20000) g;
CREATE TABLE c_int1 (pid bigint REFERENCES p_int, pid2 bigint REFERENCES p_int);
CREATE TABLE c_int2 (pid bigint REFERENCES p_int);
CREATE TABLE c_uuid (pid uuid REFERENCES p_uuid);
CREATE TABLE c_text (code text REFERENCES p_text);
CREATE TABLE c_comp (a int, b int, FOREIGN KEY (a, b) REFERENCES p_comp);
CREATE TABLE c_mixed (pid bigint REFERENCES p_int, code text REFERENCES p_text);
SET session_replication_role = replica;
INSERT INTO c_int1 SELECT g % 60000, g % 50000 + 1 FROM generate_series(1, 60000) g;
INSERT INTO c_int2 SELECT g % 50007 FROM generate_series(1, 40000) g;
INSERT INTO c_uuid SELECT md5((g % 20011)::text)::uuid FROM generate_series(1, 25000) g;
INSERT INTO c_text SELECT 'k' || (g % 20013) FROM generate_series(1, 25000) g;
INSERT INTO c_comp SELECT g % 20000, g % 5 FROM generate_series(1, 25000) g;
INSERT INTO c_mixed SELECT g % 50100, CASE WHEN g % 3 = 0 THEN NULL ELSE 'k' || (g % 20100) END
  FROM generate_series(1, 20000) g;
ANALYZE;
SQL
wait_replayed();
my $schema = FkSchema::load(FkTest::source_dir() . '/src/schema/fkscan-scan.schema.json');

# ---- 1. one sweep, three servers ----
sub check_sweep {
    my ($label, $rc, $json, $err, @names) = @_;
    is($rc, 1, "$label: exit 1 (orphans)") or diag($err);
    FkOracle::check($db, $json, $label, 3);
    is(scalar @{ $json->{servers} }, 3, "$label: three servers");
    is_deeply([map { $_->{name} } @{ $json->{servers} }], ['main', 'replica 1', 'replica 2'],
              "$label: servers named in order");
    for my $s (@{ $json->{servers} }) {
        cmp_ok($s->{$_}, '>', 0, "$label: $s->{name} $_") for qw(constraints chunks rows_read bytes_read);
        ok(defined $s->{lsn_start} && defined $s->{lsn_end}, "$label: $s->{name} LSNs");
    }
    is_deeply([map { $_->{in_recovery} ? 1 : 0 } @{ $json->{servers} }], [@names],
              "$label: which servers are standbys");
    my %by = map { $_->{name} => $_->{constraints} } @{ $json->{servers} };
    my %seen;
    $seen{ $_->{server} }++ for @{ $json->{constraints} };
    is_deeply(\%seen, \%by, "$label: each constraint names a server, as the servers count them");
    # one child table, one server
    my %child;
    $child{ $_->{table} }{ $_->{server} } = 1 for @{ $json->{constraints} };
    is(scalar(grep { keys %$_ > 1 } values %child), 0, "$label: FKs of one child table on one server");
    is($json->{spread}, 'fk', "$label: spread fk");
    is($json->{snapshot}, undef, "$label: no single snapshot");
    like($json->{guarantee}, qr/exact per foreign key/, "$label: guarantee");
    is_deeply([FkSchema::validate($schema, $json)], [], "$label: the report validates");
}
{
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', '--sample', '3',
        '--replica', $sb1, '--replica', $sb2, $db);
    check_sweep('primary + 2 standbys', $rc, $json, $err, 0, 1, 1);
    is(scalar @{ $json->{constraints} }, 8, 'eight constraints');
}
{
    # the main connection on a standby, the primary as a replica
    local $ENV{PGHOST} = $pair{FKSCAN_STANDBY_HOST};
    local $ENV{PGPORT} = $pair{FKSCAN_STANDBY_PORT};
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '1', '--sample', '3', '--replica', $sb2,
        '--replica', $primary, $db);
    check_sweep('main on a standby', $rc, $json, $err, 1, 1, 0);
}
{
    my $out = "$pairdir/orphans.csv";
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '1', '--orphans-out', $out,
        '--replica', $sb1, '--replica', $sb2, $db);
    is($rc, 1, '--orphans-out: exit 1') or diag($err);
    my @lines = split /\r\n/, FkTest::slurp($out);
    my $sum = 0;
    $sum += $_->{orphan_rows} for @{ $json->{constraints} };
    is(scalar(@lines) - 1, $sum, '--orphans-out: one file, every server\'s orphan rows');
    my ($trc, $text) = FkTest::fkscan('scan', '-j', '1', '--replica', $sb1, '--replica', $sb2, $db);
    like($text, qr/^Spread over 3 servers \(--spread fk\): exact per foreign key/m, 'text: the servers block');
    like($text, qr/^ replica 2 +\| \S+ +\| standby +\|/m, 'text: a line per server');
    like($text, qr/\|\s+Server\s*$/m, 'text: a server column');
    my ($prc, $pout, $perr) = FkTest::fkscan('scan', '-P', '-j', '1', '--replica', $sb1, '--replica', $sb2, $db);
    like($perr, qr/replica 2: children: \d+\/\d+ chunks/, 'progress: each server\'s phases, named');
}

# ---- 2. a standby lost mid-sweep ----
# Runs a throttled sweep, stops standby 2 hard while it streams keys to
# fkscan, starts it again after the sweep; returns (rc, json, stderr).
sub sweep_losing_standby2 {
    my (@args) = @_;
    my ($outfh, $outfile) = tempfile(UNLINK => 1);
    my ($errfh, $errfile) = tempfile(UNLINK => 1);
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>&', $outfh) or POSIX::_exit(127);
        open(STDERR, '>&', $errfh) or POSIX::_exit(127);
        { exec($ENV{FKSCAN}, 'scan', '-j', '1', '--chunk-size', '256kB', '--max-rate', '40000',
               '--format', 'json', '--replica', $sb1, '--replica', $sb2, @args, $db) }
        POSIX::_exit(127);
    }
    my $t0 = time;
    usleep(50_000) until time - $t0 > 30 || sb_psql(2, 'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%' AND application_name = 'fkscan'") > 0;
    cmp_ok(time - $t0, '<', 30, "lost @args: standby 2 was streaming");
    my $osuser = $ENV{FKSCAN_PG_OSUSER} // 'postgres';
    my @pg_ctl = ("$ENV{FKSCAN_PG_BINDIR}/pg_ctl", '-D', "$pair{FKSCAN_STANDBY2_DIR}/data", '-l',
                  "$pair{FKSCAN_STANDBY2_DIR}/server.log", '-w');
    my @as = $> == 0 ? ('runuser', '-u', $osuser, '--') : ();
    my ($prc, $pout, $perr) = FkTest::run_command([@as, @pg_ctl, '-m', 'immediate', 'stop']);
    is($prc, 0, "lost @args: pg_ctl stop -m immediate") or diag("$pout$perr");
    waitpid($pid, 0);
    my $rc = $? >> 8;
    ($prc, $pout, $perr) = FkTest::run_command([@as, @pg_ctl, '-o', "-p $pair{FKSCAN_STANDBY2_PORT}", 'start']);
    is($prc, 0, "lost @args: standby 2 started again") or diag("$pout$perr");
    my $json = eval { decode_json(FkTest::slurp($outfile)) } // {};
    return ($rc, $json, FkTest::slurp($errfile));
}
{
    my ($rc, $json, $err) = sweep_losing_standby2();
    is($rc, 1, 'lost: exit 1, not 2') or diag($err);
    like($err, qr/^fkscan: warning: replica 2: the server was lost mid-sweep: its \d+ unfinished foreign keys? go(es)? to the other servers$/m,
         'lost: a warning names the server');
    FkOracle::check($db, $json, 'lost');
    is($json->{servers}[2]{lost}, JSON::PP::true, 'lost: servers[2].lost');
    is(scalar(grep { $_->{server} eq 'replica 2' } @{ $json->{constraints} }), $json->{servers}[2]{constraints},
       'lost: only what it finished is credited to it');
    is($json->{totals}{errors}, 0, 'lost: no errors');
}

# ---- 3. another system; --pause-replay ----
{
    # the suite's own cluster: another system, with a database of that name
    my $other = "host=$suite{host} port=$suite{port}";
    on_server($suite{host}, $suite{port}, 'postgres', "DROP DATABASE IF EXISTS $db");
    on_server($suite{host}, $suite{port}, 'postgres', "CREATE DATABASE $db");
    my ($rc, $out, $err) = FkTest::fkscan('scan', '--replica', $sb1, '--replica', $other, $db);
    is($rc, 2, 'other system: exit 2');
    like($err, qr/^fkscan: error: replica 2: not a server of the main server's system: system identifier \d+, not \d+$/m,
         'other system: one line naming it');
    is($out, '', 'other system: no report');

    # from standby 1, pausing it; then refused: replay runs again
    local $ENV{PGHOST} = $pair{FKSCAN_STANDBY_HOST};
    local $ENV{PGPORT} = $pair{FKSCAN_STANDBY_PORT};
    ($rc, $out, $err) = FkTest::fkscan('scan', '--pause-replay', '--replica', $other, $db);
    is($rc, 2, 'pause, then refused: exit 2');
    is(paused(1), 'f', 'pause, then refused: standby 1 replays again');
    my ($jrc, $json, $jerr) = FkTest::fkscan_json('scan', '--pause-replay', '--replica', $primary, $db);
    is($jrc, 1, 'pause-replay: exit 1') or diag($jerr);
    is($json->{consistency}, 'paused-replay', 'pause-replay: consistency');
    FkOracle::check($db, $json, 'pause-replay');
    is(paused(1), 'f', 'pause-replay: resumed after the sweep');
    on_server($suite{host}, $suite{port}, 'postgres', "DROP DATABASE $db");
}
{
    # Ctrl-C while both standbys are paused for a sweep: both replay again
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        { exec($ENV{FKSCAN}, 'scan', '-j', '1', '--max-rate', '20000', '--pause-replay',
               '--replica', $sb1, '--replica', $sb2, $db) }
        POSIX::_exit(127);
    }
    my $t0 = time;
    usleep(50_000) until time - $t0 > 30 || (paused(1) eq 't' && paused(2) eq 't');
    ok(paused(1) eq 't' && paused(2) eq 't', 'SIGINT: both standbys paused for the sweep');
    kill 'INT', $pid;
    waitpid($pid, 0);
    is($? >> 8, 2, 'SIGINT: exit 2');
    is(paused($_), 'f', "SIGINT: standby $_ replays again") for 1, 2;
}
{
    # --max-lag applies to every server: standby 2 held back is refused
    sb_psql(2, 'postgres', 'SELECT pg_wal_replay_pause()');
    FkTest::psql($db, 'CREATE TABLE lag_marker (x int)');
    my $lsn = FkTest::primary_flush_lsn();
    my $t0 = time;
    usleep(50_000) until time - $t0 > 30
        || sb_psql(2, 'postgres', "SELECT pg_last_wal_receive_lsn() >= '$lsn'") eq 't';
    my ($rc, $out, $err) = FkTest::fkscan('scan', '--max-lag', '0.001', '--replica', $sb1, '--replica', $sb2, $db);
    is($rc, 2, '--max-lag: exit 2');
    like($err, qr/^fkscan: error: replica 2: the standby is [\d.]+ s behind its primary, more than --max-lag 0\.0 s$/m,
         '--max-lag: one line naming the server');
    sb_psql(2, 'postgres', 'SELECT pg_wal_replay_resume()');
    FkTest::psql($db, 'DROP TABLE lag_marker');
    wait_replayed();
}

# ---- 4. --spread chunk ----
sub check_chunks {
    my ($label, $rc, $json, $err) = @_;
    is($rc, 1, "$label: exit 1") or diag($err);
    FkOracle::check($db, $json, $label);
    is($json->{spread}, 'chunk', "$label: spread chunk");
    ok(defined $json->{window}{start} && defined $json->{window}{end}, "$label: a window");
    like($json->{guarantee}, qr/confirmed at the end on one snapshot/, "$label: guarantee");
    is(scalar(grep { exists $_->{server} } @{ $json->{constraints} }), 0, "$label: no FK names one server");
    is_deeply([FkSchema::validate($schema, $json)], [], "$label: the report validates");
}
{
    wait_replayed();
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '1', '--chunk-size', '64kB', '--spread', 'chunk',
        '--replica', $sb1, '--replica', $sb2, $db);
    check_chunks('spread chunk', $rc, $json, $err);
    for my $s (@{ $json->{servers} }) {
        cmp_ok($s->{$_}, '>', 0, "spread chunk: $s->{name} $_") for qw(chunks rows_read bytes_read);
    }
    my $chunks = 0;
    $chunks += $_->{chunks} for @{ $json->{servers} };
    cmp_ok($chunks, '>=', 3, 'spread chunk: chunks shared');
    my ($prc, $pout, $perr) = FkTest::fkscan('scan', '-P', '-j', '1', '--chunk-size', '64kB', '--spread', 'chunk',
        '--replica', $sb1, '--replica', $sb2, $db);
    like($perr, qr/children \(main server \d+, replica 1 \d+, replica 2 \d+\): \d+\/\d+ chunks/,
         'spread chunk: progress shows each server\'s chunks');

    ($rc, $json, $err) = sweep_losing_standby2('--spread', 'chunk');
    check_chunks('spread chunk, lost', $rc, $json, $err);
    like($err, qr/^fkscan: warning: replica 2: the server was lost mid-sweep: its chunks go to the other servers$/m,
         'spread chunk, lost: a warning names the server');
    is($json->{servers}[2]{lost}, JSON::PP::true, 'spread chunk, lost: servers[2].lost');
    is($json->{totals}{errors}, 0, 'spread chunk, lost: no errors');

    # both standbys paused for the sweep: the window is where they stopped
    wait_replayed();
    ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '1', '--spread', 'chunk', '--pause-replay',
        '--replica', $sb1, '--replica', $sb2, $db);
    check_chunks('spread chunk, paused', $rc, $json, $err);
    is($json->{consistency}, 'paused-replay', 'spread chunk, paused: consistency');
    is($json->{servers}[$_]{lsn_start}, $json->{servers}[$_]{lsn_end}, "spread chunk, paused: server $_ held still")
        for 1, 2;
    is(paused($_), 'f', "spread chunk, paused: standby $_ replays again") for 1, 2;
}

# ---- 5. misuse ----
for my $case (
    [['scan', '--replica', $sb1, '--state', "$pairdir/st", $db], qr/--replica and --state cannot be used together/],
    [['scan', '--replica', "$sb1 dbname=other", $db], qr/--replica: it names a server, not a database/],
    [['scan', '--replica', 'host=', '--replica', 'nonsense', $db], qr/invalid value for option --replica: /],
    [['fix', '--strategy', 'delete', '--replica', $sb1, $db], qr/option --replica is only for "fkscan scan"/],
    [['scan', '--spread', 'chunk', $db], qr/option --spread needs --replica/],
) {
    my ($args, $re) = @$case;
    my ($rc, $out, $err) = FkTest::fkscan(@$args);
    is($rc, 2, "misuse: @$args[0..2]: exit 2");
    like($err, $re, "misuse: @$args[0..2]: says why");
}

done_testing();
