# fkscan on a streaming hot standby: a primary and its standby of their own
# (tests/harness/pgcluster.sh start-standby), not the suite's cluster.
#
#  1. audit and scan read the standby (snapshot export/import in recovery):
#     in_recovery, the replay position at start and end, and counts equal to
#     the primary's own anti-join once the standby has replayed everything.
#  2. --max-lag: refused when the standby is behind (replay paused, then a
#     write on the primary), accepted with a larger bound, lag 0 when all
#     that was received is replayed.
#  3. An unlogged table's FK: an error saying why, the other FKs still right.
#  4. Recovery conflicts provoked on purpose (max_standby_streaming_delay =
#     100ms, hot_standby_feedback = off, an UPDATE + VACUUM on the primary of
#     a table no FK uses, while a throttled scan streams on the standby):
#     --consistency snapshot restarts, --retries 0 gives up (exit 2),
#     --consistency chunk re-reads chunks, each with the conflict arriving
#     as FATAL (sessions idle in transaction between chunks) and as ERROR (a
#     COPY still running); --pause-replay sees no conflict and always
#     resumes replay (at the end, on error, SIGINT, SIGTERM, a second
#     SIGINT, and when an error comes after the pause).
#
# Not labelled "threaded" (05x): runs in the plain and ASan builds.  The
# throttled scans make it take about as long under TSan (~30-45 s).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir tempfile);
use Time::HiRes qw(usleep time);
use JSON::PP;
use FkTest;
use FkOracle;

my $t_start = time;
my $pairdir = tempdir('fkscan-sb-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Stop both servers however the test ends (before File::Temp removes the
# directory: this END block is compiled later, so it runs first).
my $pair_started = 0;
END {
    local $?;
    if ($pair_started) {
        # on failure, what the servers said (conflicts, cancellations)
        if (!Test::More->builder->is_passing) {
            for my $log ("$pairdir/primary/server.log", "$pairdir/standby/server.log") {
                my @lines = -r $log ? split /\n/, FkTest::slurp($log) : ();
                @lines = grep { !/^\s*$/ } @lines[($#lines > 80 ? $#lines - 80 : 0) .. $#lines];
                diag("---- $log, last lines ----\n" . join("\n", @lines));
            }
        }
        FkTest::stop_standby_pair($pairdir);
    }
}
$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);    # END blocks still run

$pair_started = 1;
# psql and fkscan talk to the primary unless told otherwise
my %pair = FkTest::start_standby_pair($pairdir);
my $version = FkTest::psql('postgres', 'SHOW server_version_num');
my @standby = ('-h', $pair{FKSCAN_STANDBY_HOST}, '-p', $pair{FKSCAN_STANDBY_PORT});
note(sprintf 'primary and standby up in %.1f s', time - $t_start);

sub on_standby {
    my ($code) = @_;
    local $ENV{PGHOST} = $pair{FKSCAN_STANDBY_HOST};
    local $ENV{PGPORT} = $pair{FKSCAN_STANDBY_PORT};
    return $code->();
}
sub sb_psql { my @a = @_; return on_standby(sub { FkTest::psql(@a) }); }

sub wait_until {
    my ($what, $cond, $timeout) = @_;
    my $deadline = time + ($timeout // 30);
    while (time < $deadline) {
        return 1 if $cond->();
        usleep(50_000);
    }
    diag("timed out waiting for: $what");
    return 0;
}

# The standby has replayed everything the primary has committed so far.
sub replayed_to {
    my ($lsn) = @_;
    return sb_psql('postgres', "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn") eq 't';
}
sub wait_replayed {
    my $lsn = FkTest::primary_flush_lsn();
    return wait_until("standby replay up to $lsn", sub { replayed_to($lsn) }, 60);
}

sub lsn_value {
    my ($lsn) = @_;
    my ($hi, $lo) = $lsn =~ m{^([0-9A-F]+)/([0-9A-F]+)$}i or return -1;
    return hex($hi) * 4294967296 + hex($lo);
}

# ---------------------------------------------------------------------------
# Data, written on the primary.  child.pid: integers (bitmap), with orphans;
# tchild.code: text (hash: candidates confirmed on the server); noise: no FK,
# the table the conflict tests update and vacuum.
my $db = 'sb';
# No autovacuum on the primary: its cleanup records would cancel standby
# scans at random (max_standby_streaming_delay is 100ms below) and move the
# receive position while a test needs the standby caught up.
FkTest::psql('postgres', 'ALTER SYSTEM SET autovacuum = off');
FkTest::psql('postgres', 'SELECT pg_reload_conf()');
FkTest::psql('postgres', "CREATE DATABASE $db");
FkTest::psql($db, <<'SQL');
CREATE TABLE parent (id bigint PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, 20000) g;
CREATE TABLE child (id serial, pid bigint REFERENCES parent);
CREATE TABLE tparent (code text PRIMARY KEY);
INSERT INTO tparent SELECT 'k' || g FROM generate_series(1, 2000) g;
CREATE TABLE tchild (id serial, code text REFERENCES tparent);
CREATE TABLE noise (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off);
INSERT INTO noise SELECT g, 0 FROM generate_series(1, 20000) g;
SET session_replication_role = replica;
INSERT INTO child (pid) SELECT CASE WHEN g % 97 = 0 THEN NULL ELSE g % 20500 END
  FROM generate_series(1, 80000) g;
INSERT INTO tchild (code) SELECT 'k' || (g % 2100) FROM generate_series(1, 8000) g;
ANALYZE;
SQL
ok(wait_replayed(), 'the standby replayed the data');

my @scan = ('scan', '-j', '2', '--chunk-size', '256kB', '--format', 'json');

# ---------------------------------------------------------------------------
# 1. audit and scan on the standby
{
    my ($rc, $json, $err) = FkTest::fkscan_json(@scan, @standby, $db);
    is($rc, 1, 'scan on the standby: exit 1 (orphans)') or diag($err);
    ok($json && $json->{in_recovery}, 'in_recovery is true');
    is($json->{consistency}, 'snapshot', 'consistency: snapshot (the default)');
    is($json->{attempts}, 1, 'attempts: 1');
    is($json->{chunk_retries}, 0, 'chunk_retries: 0');
    like($json->{guarantee} // '', qr/\S/, 'a guarantee is stated');
    is($json->{jobs}, 2, 'two workers imported the standby snapshot');
    for my $end (qw(start end)) {
        my $r = $json->{replay}{$end} // {};
        like($r->{replay_lsn} // '', qr{^[0-9A-F]+/[0-9A-F]+$}i, "replay.$end.replay_lsn");
        like($r->{receive_lsn} // '', qr{^[0-9A-F]+/[0-9A-F]+$}i, "replay.$end.receive_lsn");
        ok(defined $r->{lag_s} && $r->{lag_s} >= 0, "replay.$end.lag_s is a duration");
    }
    ok(lsn_value($json->{replay}{end}{replay_lsn} // '') >= lsn_value($json->{replay}{start}{replay_lsn} // ''),
       'replay end is not before replay start');
    is(scalar @{ $json->{constraints} // [] }, 2, 'two FKs scanned');
    my %method = map { $_->{constraint} => $_->{method} } @{ $json->{constraints} // [] };
    is_deeply(\%method, { child_pid_fkey => 'bitmap', tchild_code_fkey => 'hash' },
              'bitmap and hash methods');
    FkOracle::check($db, $json, 'standby') if $json;

    # text output names the standby
    my ($trc, $text) = FkTest::fkscan('scan', @standby, $db);
    is($trc, 1, 'text scan on the standby: exit 1');
    like($text, qr/hot standby/i, 'the text report says hot standby');

    # the same scan on the primary: not in recovery, no replay section
    my ($prc, $pjson) = FkTest::fkscan_json(@scan, $db);
    is($prc, 1, 'scan on the primary: exit 1');
    ok($pjson && !$pjson->{in_recovery}, 'primary: in_recovery is false');
    ok($pjson && !exists $pjson->{replay}, 'primary: no replay section');

    my ($arc, $ajson, $aerr) = FkTest::fkscan_json('audit', @standby, $db);
    my ($parc, $pajson) = FkTest::fkscan_json('audit', $db);
    is($arc, 0, 'audit on the standby: exit 0') or diag($aerr);
    ok($ajson && $ajson->{in_recovery}, 'audit: in_recovery is true');
    my @fields = qw(schema table constraint ref_schema ref_table match validated enforced
                    triggers_enabled broken);
    my $summary = sub {
        my ($j) = @_;
        return [ map { my $c = $_; +{ map { $_ => $c->{$_} } @fields } }
                 sort { $a->{constraint} cmp $b->{constraint} } @{ $j->{constraints} // [] } ];
    };
    is_deeply($summary->($ajson // {}), $summary->($pajson // {}),
              'audit on the standby lists what the primary lists');
}

# ---------------------------------------------------------------------------
# 2. --max-lag
{
    # caught up (receive = replay), though the last replayed commit is old: lag 0
    ok(wait_until('last replayed commit older than 1.5 s', sub {
        sb_psql('postgres', 'SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() '
                . "AND now() - pg_last_xact_replay_timestamp() > interval '1.5 s'") eq 't' }),
       'standby idle and caught up');
    my ($rc, $json, $err) = FkTest::fkscan_json(@scan, '--max-lag', '1s', @standby, $db);
    is($rc, 1, '--max-lag 1s on a caught-up standby starts (lag 0 though the primary is idle)')
        or diag($err);
    is($json && $json->{replay}{start}{lag_s}, 0, 'lag_s 0 when everything received is replayed')
        if $json;

    # behind: replay paused, then a commit on the primary
    sb_psql('postgres', 'SELECT pg_wal_replay_pause()');
    FkTest::psql($db, 'INSERT INTO parent VALUES (1000000)');
    ok(wait_until('standby behind by more than 1.2 s', sub {
        sb_psql('postgres', 'SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() '
                . "AND now() - pg_last_xact_replay_timestamp() > interval '1.2 s'") eq 't' }),
       'the standby is behind');
    my $t0 = time;
    ($rc, my $out, $err) = FkTest::fkscan(@scan, '--max-lag', '1s', @standby, $db);
    is($rc, 2, '--max-lag 1s on a standby behind: exit 2');
    is($out, '', 'no report');
    my @errors = grep { /error/i } split /\n/, $err;
    is(scalar @errors, 1, 'one error line') or diag($err);
    like($errors[0] // '', qr/behind/i, 'the error says it is behind');
    like($errors[0] // '', qr/\d+(\.\d+)?\s*s\b/, 'the error gives the lag');
    ok(time - $t0 < 5, 'refused at once');

    for my $bound ('1h', '5min', '3600') {
        ($rc, $json, $err) = FkTest::fkscan_json(@scan, '--max-lag', $bound, @standby, $db);
        is($rc, 1, "--max-lag $bound on the same standby starts") or diag($err);
    }
    ok($json && $json->{replay}{start}{lag_s} > 1, 'replay.start.lag_s shows the lag') if $json;
    ok($json && $json->{replay}{start}{receive_lsn} ne $json->{replay}{start}{replay_lsn},
       'receive_lsn is ahead of replay_lsn') if $json;
    # while paused, the standby still has the old parents: the answer there
    # is the primary's answer before the insert (1000000 is no child's key)
    FkOracle::check($db, $json, 'standby behind') if $json;

    ($rc) = FkTest::fkscan(@scan, '--max-lag', 'soon', @standby, $db);
    is($rc, 2, '--max-lag soon: usage error');
    ($rc, undef, $err) = FkTest::fkscan(@scan, '--max-lag', '1s', $db);
    is($rc, 1, '--max-lag on a primary: no lag to measure, the scan runs') or diag($err);

    sb_psql('postgres', 'SELECT pg_wal_replay_resume()');
    ok(wait_replayed(), 'replay resumed and caught up');
}

# ---------------------------------------------------------------------------
# 3. Unlogged tables cannot be read on a standby
my $udb = 'sb_unlogged';
{
    FkTest::psql('postgres', "CREATE DATABASE $udb");
    FkTest::psql($udb, <<'SQL');
CREATE TABLE parent (id int PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, 1000) g;
CREATE TABLE child (id int, pid int REFERENCES parent);
CREATE UNLOGGED TABLE uchild (id int, pid int REFERENCES parent);
CREATE UNLOGGED TABLE uparent (id int PRIMARY KEY);
INSERT INTO uparent SELECT g FROM generate_series(1, 10) g;
CREATE UNLOGGED TABLE child_of_u (id int, uid int REFERENCES uparent);
SET session_replication_role = replica;
INSERT INTO child SELECT g, g % 1100 FROM generate_series(1, 5000) g;
INSERT INTO uchild SELECT g, g FROM generate_series(1, 100) g;
INSERT INTO child_of_u SELECT g, g FROM generate_series(1, 20) g;
SQL
    ok(wait_replayed(), 'replayed');
    my ($rc, $json, $err) = FkTest::fkscan_json(@scan, @standby, $udb);
    is($rc, 2, 'unlogged tables on the standby: exit 2');
    my %by = map { $_->{constraint} => $_ } @{ $json ? $json->{constraints} : [] };
    for my $fk (qw(uchild_pid_fkey child_of_u_uid_fkey)) {
        is($by{$fk} && $by{$fk}{status}, 'error', "$fk: status error");
        like($by{$fk} && $by{$fk}{error} // '', qr/unlogged/i, "$fk: the reason says unlogged");
        like($by{$fk} && $by{$fk}{error} // '', qr/standby|recovery/i, "$fk: ... and standby");
    }
    is($json && $json->{totals}{errors}, 2, 'totals.errors: 2') if $json;
    FkOracle::check($udb, { constraints => [ grep { $_->{status} ne 'error' } values %by ] },
                    'beside unlogged');
    ok($by{child_pid_fkey}, 'the logged FK was scanned');
    ($rc) = FkTest::fkscan('scan', @standby, '-t', 'child', $udb);
    is($rc, 1, 'the logged FK alone: exit 1');
    ($rc, $json) = FkTest::fkscan_json(@scan, $udb);
    is($rc, 1, 'the same database on the primary: exit 1 (unlogged tables read there)');
    FkOracle::check($udb, $json, 'primary, unlogged') if $json;
}

# ---------------------------------------------------------------------------
# 4. Recovery conflicts
sb_psql('postgres', "ALTER SYSTEM SET max_standby_streaming_delay = '100ms'");
sb_psql('postgres', 'SELECT pg_reload_conf()');
ok(wait_until('max_standby_streaming_delay = 100ms', sub {
    sb_psql('postgres', 'SHOW max_standby_streaming_delay') eq '100ms' }), 'standby delay 100ms');
is(sb_psql('postgres', 'SHOW hot_standby_feedback'), 'off', 'hot_standby_feedback off');

# 100k rows at 25k rows/s: about 4 s a scan
my @slow = (@scan, '--max-rate', '25000');

sub start_scan {
    my (@args) = @_;
    my ($outfh, $out) = tempfile(UNLINK => 1);
    my ($errfh, $err) = tempfile(UNLINK => 1);
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>&', $outfh) or POSIX::_exit(127);
        open(STDERR, '>&', $errfh) or POSIX::_exit(127);
        { exec($ENV{FKSCAN}, @args) }
        POSIX::_exit(127);
    }
    return { pid => $pid, out => $out, err => $err, t0 => time };
}

sub finish_scan {
    my ($s) = @_;
    waitpid($s->{pid}, 0);
    my $status = $?;
    my $rc = ($status & 127) ? 128 + ($status & 127) : $status >> 8;
    my $out = FkTest::slurp($s->{out});
    my $json = $out =~ /\S/ ? eval { JSON::PP->new->decode($out) } : undef;
    return ($rc, $json, FkTest::slurp($s->{err}), $out, time - $s->{t0});
}

# fkscan's workers hold a COPY's snapshot on the standby: the COPY is
# running ('active': the server blocked sending what the throttled client
# has not read yet) or done and waiting ('idle in transaction': all of a
# small chunk sits in the socket buffers).  $active: insist on a running one.
sub wait_streaming {
    my ($active) = @_;
    my $state = $active ? "state = 'active' AND query ~ '\"child\"'" : "state <> 'idle'";
    return wait_until('fkscan COPY on the standby', sub {
        sb_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fkscan' "
                . "AND $state AND query ~ '^COPY'") > 0 });
}

# Snapshot conflicts in the database so far.  A backend reports its own
# cancellation, and its statistics reach the shared counters at the latest
# when it exits: wait until no fkscan session is left first.
sub conflicts {
    wait_until('no fkscan session on the standby', sub {
        sb_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fkscan'") == 0 });
    return sb_psql('postgres', 'SELECT confl_snapshot FROM pg_stat_database_conflicts '
                   . "WHERE datname = '$db'");
}

# Dead rows in a table no FK touches, removed at once: cleanup records that
# conflict with every older snapshot in the database.
sub provoke_conflict {
    FkTest::psql($db, "UPDATE noise SET v = v + 1 WHERE id % 10 = 0;\nVACUUM noise;");
}

# 14 added pg_get_wal_replay_pause_state(); before, paused or not
sub replay_state {
    return sb_psql('postgres', 'SELECT pg_get_wal_replay_pause_state()') if $version >= 140000;
    return sb_psql('postgres', 'SELECT pg_is_wal_replay_paused()') eq 't' ? 'paused' : 'not paused';
}

# Each mode twice: small chunks (a conflict finds every session idle in
# transaction between a chunk's COPY and the next: FATAL, the connection is
# gone) and one big chunk per table (the child's COPY is still running:
# ERROR, "canceling statement").
my %variant = (fatal => ['--chunk-size', '256kB'], error => ['--chunk-size', '16MB']);

# Start a throttled scan on the standby, provoke a conflict while it reads,
# and return its (exit code, JSON, stderr, stdout).
sub scan_through_conflict {
    my ($label, $variant, @args) = @_;
    my $c0 = conflicts();
    my $s = start_scan(@slow, @{ $variant{$variant} }, @args, @standby, $db);
    ok(wait_streaming($variant eq 'error'), "$label: fkscan is reading");
    provoke_conflict();
    my ($rc, $json, $err, $out, $secs) = finish_scan($s);
    note(sprintf '%s: %.1f s, exit %d', $label, $secs, $rc);
    ok(conflicts() > $c0, "$label: the standby cancelled fkscan (confl_snapshot grew)");
    ok(wait_replayed(), "$label: replayed");
    return ($rc, $json, $err, $out);
}

sub check_counts {
    my ($label, $rc, $json) = @_;
    if ($json && $rc != 2) {
        FkOracle::check($db, $json, $label);
    }
    else {
        fail("$label: counts (no complete report)");
    }
}

for my $v (qw(fatal error)) {
    # 4a. snapshot: the whole scan restarts on a new snapshot
    my $label = "snapshot/$v";
    my ($rc, $json, $err) = scan_through_conflict($label, $v);
    is($rc, 1, "$label: exit 1 (survived the conflict)") or diag($err);
    ok($json && ($json->{attempts} // 0) >= 2, "$label: attempts >= 2")
        or diag('attempts: ', $json ? $json->{attempts} // 'none' : 'no report');
    is($json && $json->{consistency}, 'snapshot', "$label: consistency snapshot");
    is($json && $json->{chunk_retries}, 0, "$label: no chunk retries");
    like($json ? $json->{guarantee} // '' : '', qr/exact/i, "$label: exact guarantee");
    like($err, qr/^fkscan: warning:.*recovery conflict/mi, "$label: stderr reports the restart");
    check_counts($label, $rc, $json);

    # 4b. --retries 0: gives up
    $label = "retries 0/$v";
    my $out;
    ($rc, $json, $err, $out) = scan_through_conflict($label, $v, '--retries', '0');
    is($rc, 2, "$label: exit 2");
    like($err, qr/^fkscan: error:.*(recovery conflict|conflict with recovery)/mi,
         "$label: an error names the recovery conflict") or diag($err);
    unlike($out, qr/"status": "clean"/, "$label: nothing reported clean");

    # 4c. chunk: lost chunks are read again on fresh snapshots
    $label = "chunk/$v";
    ($rc, $json, $err) = scan_through_conflict($label, $v, '--consistency', 'chunk');
    is($rc, 1, "$label: exit 1 (survived the conflict)") or diag($err);
    is($json && $json->{consistency}, 'chunk', "$label: consistency chunk");
    ok($json && ($json->{chunk_retries} // 0) >= 1, "$label: chunk_retries >= 1")
        or diag('chunk_retries: ', $json ? $json->{chunk_retries} // 'none' : 'no report');
    is($json && $json->{attempts}, 1, "$label: no whole-scan restart");
    my $g = $json ? $json->{guarantee} // '' : '';
    ok($g =~ /parent/i && $g =~ /chunk/i && $g =~ /confirm/i,
       "$label: the weaker guarantee is stated") or diag("guarantee: $g");
    check_counts($label, $rc, $json);
}

# 4d. --pause-replay: no conflict, replay resumed at the end
{
    my $c0 = conflicts();
    my $s = start_scan(@slow, '--pause-replay', @standby, $db);
    ok(wait_streaming(), 'pause-replay: reading');
    is(replay_state(), 'paused', 'pause-replay: replay is paused during the scan');
    provoke_conflict();
    my ($rc, $json, $err) = finish_scan($s);
    is($rc, 1, 'pause-replay: exit 1') or diag($err);
    is(replay_state(), 'not paused', 'pause-replay: replay resumed after the scan');
    is($json && $json->{consistency}, 'paused-replay', 'pause-replay: consistency paused-replay');
    is($json && $json->{attempts}, 1, 'pause-replay: attempts 1');
    is($json && $json->{chunk_retries}, 0, 'pause-replay: chunk_retries 0');
    unlike($err, qr/conflict/i, 'pause-replay: no conflict reported');
    ok(wait_replayed(), 'replayed after the resume');
    FkOracle::check($db, $json, 'pause-replay') if $json;
}

# 4e. --pause-replay: replay resumed when the scan is interrupted
for my $case (['INT'], ['TERM'], ['INT', 'INT']) {
    my $name = join('+', map { "SIG$_" } @$case);
    my $s = start_scan(@slow, '--pause-replay', @standby, $db);
    ok(wait_streaming(), "$name: reading");
    is(replay_state(), 'paused', "$name: replay paused");
    for my $sig (@$case) {
        kill $sig, $s->{pid};
        usleep(100_000);
    }
    my ($rc, $json, $err, $out, $secs) = finish_scan($s);
    is($rc, 2, "$name: exit 2") or diag($err);
    ok($secs < 10, "$name: stopped promptly");
    unlike($out, qr/"status": "clean"/, "$name: nothing reported clean");
    is(replay_state(), 'not paused', "$name: replay resumed");
}

# 4f. --pause-replay and errors: resumed too; refused without the right
{
    my ($rc, $json, $err) = FkTest::fkscan_json(@scan, '--pause-replay', @standby, $udb);
    is($rc, 2, 'pause-replay with an unlogged FK: exit 2');
    is(replay_state(), 'not paused', 'pause-replay with an error: replay resumed');

    SKIP: {
        skip('pg_read_all_data is PostgreSQL 14+; this server is ' . $version, 1) if $version < 140000;
        # functions are per database: the grant is in the scanned one
        FkTest::psql($db, 'CREATE ROLE sbreader LOGIN; GRANT pg_read_all_data TO sbreader;'
                     . ' CREATE ROLE sbpauser LOGIN; GRANT pg_read_all_data TO sbpauser;'
                     . ' GRANT EXECUTE ON FUNCTION pg_wal_replay_pause(), pg_wal_replay_resume() TO sbpauser;');
        ok(wait_replayed(), 'roles replayed');
        ($rc, my $out, $err) = FkTest::as_role('sbreader', sub {
            FkTest::fkscan(@scan, '--pause-replay', @standby, $db) });
        is($rc, 2, 'pause-replay without EXECUTE: exit 2');
        like($err, qr/permission denied/i, '... permission denied');
        like($err, qr/superuser|EXECUTE/, '... and a hint naming what is needed');
        is($out, '', '... and no report');
        is(replay_state(), 'not paused', '... replay not left paused');
        ($rc, $json, $err) = FkTest::as_role('sbpauser', sub {
            FkTest::fkscan_json(@scan, '--pause-replay', @standby, $db) });
        is($rc, 1, 'pause-replay with EXECUTE granted: exit 1') or diag($err);
        is($json && $json->{consistency}, 'paused-replay', '... consistency paused-replay');
        is(replay_state(), 'not paused', '... replay resumed');
    }
}

# 4g. --pause-replay, paused, then an error before the scan: replay must
# still be resumed.  Here the role may pause and resume (as documented) but
# not read the pause state (EXECUTE on pg_get_wal_replay_pause_state()
# revoked from PUBLIC in the scanned database).
SKIP: {
    skip('pg_get_wal_replay_pause_state() and pg_read_all_data are PostgreSQL 14+', 1) if $version < 140000;
    FkTest::psql($db, 'CREATE ROLE sbpauser2 LOGIN; GRANT pg_read_all_data TO sbpauser2;'
                 . ' GRANT EXECUTE ON FUNCTION pg_wal_replay_pause(), pg_wal_replay_resume() TO sbpauser2;'
                 . ' REVOKE EXECUTE ON FUNCTION pg_get_wal_replay_pause_state() FROM PUBLIC;');
    ok(wait_replayed(), 'role and revoke replayed');
    my ($rc, $out, $err) = FkTest::as_role('sbpauser2', sub {
        FkTest::fkscan(@scan, '--pause-replay', @standby, $db) });
    is($rc, 2, 'pause state unreadable: exit 2') or diag($err);
    my $state = replay_state();
    is($state, 'not paused', '... and replay is not left paused') or diag($err);
    sb_psql('postgres', 'SELECT pg_wal_replay_resume()') if $state ne 'not paused';
    FkTest::psql($db, 'GRANT EXECUTE ON FUNCTION pg_get_wal_replay_pause_state() TO PUBLIC');
    ok(wait_replayed(), 'replayed');
}

# --max-rate also takes MB/s
{
    my ($rc, $json, $err) = FkTest::fkscan_json(@scan, '--max-rate', '50MB', @standby, $db);
    is($rc, 1, '--max-rate 50MB (MB/s) is accepted') or diag($err);
}

note(sprintf 'total %.1f s', time - $t_start);
done_testing();
