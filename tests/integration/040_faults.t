# Faults in the middle of a scan: a worker's backend terminated, a statement
# timeout, the network cut under every connection, Ctrl-C while the workers
# connect, a table dropped between the catalog read and the scan, the server
# restarted.  Each must end in a clear "fkscan: error:" line (Ctrl-C: its
# own message) and exit 2 within a bound: never a hang, never a crash, never
# exit 0 or 1, and never "clean" for a foreign key that lost any of its work.
#
# "Mid-scan" is made deterministic.  --max-rate keeps a scan of a few
# hundred thousand rows streaming for seconds on any machine (1MB chunks:
# more than a Unix socket buffer holds, so the server's COPY mostly stays
# active while fkscan is throttled), and a server-side loop (wait_for_copy
# below, polling pg_stat_activity) finds a COPY in flight before acting.  A
# TCP proxy written here cuts connections, or holds the workers' until told.
# The dropped table uses a held ACCESS EXCLUSIVE lock, as 021_scan_snapshot.t
# does: fkscan waits for it after taking its snapshot and reading the foreign
# keys, and the drop is committed while it waits.
#
# The restart case runs on a private cluster (tests/harness/pgcluster.sh
# start/stop): restarting the shared one would break the tests that run
# beside this one.
use strict;
use warnings;
use Test::More;
use File::Path qw(remove_tree);
use File::Temp qw(tempfile);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time usleep);
use FkTest;
use FkOracle;

my $BOUND = 60;              # seconds a faulty scan may take to give up
my @children;                # background processes to kill if the test dies
my $private;                 # the private cluster of the restart case

# Nothing here may hang the suite: a last-resort watchdog.
$SIG{ALRM} = sub {
    kill 'KILL', @children;
    stop_private();
    BAIL_OUT('040_faults.t took more than 5 minutes');
};
alarm(300);

# The data: enough rows that --max-rate keeps the scan streaming for seconds.
my $setup_sql = <<'SQL';
CREATE TABLE parent (id bigint PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, 50000) g;
CREATE TABLE child (id bigint, pid bigint REFERENCES parent);
SET session_replication_role = replica;
INSERT INTO child SELECT g, g % 50000 + 1 FROM generate_series(1, 300000) g;
INSERT INTO child VALUES (0, 999999);
RESET session_replication_role;
ANALYZE;
-- Wait (bounded) until one of fkscan's sessions in this database is in a
-- COPY in one of the given states: 'active' (the server still sending), or
-- 'idle in transaction' (all of it sent into socket buffers, fkscan still
-- consuming it under --max-rate).  Then optionally terminate that backend,
-- an active one first.  Returns how many were seen (or terminated), 0 on
-- timeout.  pg_stat_clear_snapshot(): within one transaction,
-- pg_stat_activity is otherwise a frozen snapshot.
CREATE FUNCTION wait_for_copy(terminate bool, timeout_s float8, states text[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    deadline timestamptz := clock_timestamp() + timeout_s * interval '1 second';
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        IF terminate THEN
            SELECT count(pg_terminate_backend(a.pid)) INTO n
              FROM (SELECT pid FROM pg_stat_activity
                     WHERE datname = current_database() AND application_name = 'fkscan'
                       AND state = ANY (states) AND query LIKE 'COPY %'
                     ORDER BY state = 'active' DESC, pid LIMIT 1) a;
        ELSE
            SELECT count(*) INTO n FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'fkscan'
               AND state = ANY (states) AND query LIKE 'COPY %';
        END IF;
        IF n > 0 OR clock_timestamp() > deadline THEN
            RETURN n;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$;
SQL

my $db = FkTest::new_db('faults');
FkTest::psql($db, $setup_sql);

# fkscan in the background, with extra environment; returns a handle.
sub start_scan {
    my ($env, @args) = @_;
    my ($outfh, $out) = tempfile(UNLINK => 1);
    my ($errfh, $err) = tempfile(UNLINK => 1);
    my $t0 = time;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $ENV{$_} = $env->{$_} for keys %$env;
        open(STDIN, '<', '/dev/null') or POSIX::_exit(127);
        open(STDOUT, '>&', $outfh) or POSIX::_exit(127);
        open(STDERR, '>&', $errfh) or POSIX::_exit(127);
        { exec($ENV{FKSCAN}, 'scan', @args) }
        POSIX::_exit(127);
    }
    push @children, $pid;
    return { pid => $pid, out => $out, err => $err, t0 => $t0 };
}

# Wait for it, at most $BOUND seconds (then kill it: a hang).  Returns
# (exit code, stdout, stderr, seconds taken, hung?).
sub finish_scan {
    my ($s) = @_;
    my $hung = 0;
    while (waitpid($s->{pid}, POSIX::WNOHANG()) == 0) {
        if (time - $s->{t0} > $BOUND) {
            kill 'KILL', $s->{pid};
            waitpid($s->{pid}, 0);
            $hung = 1;
            last;
        }
        usleep(20_000);
    }
    my $status = $?;
    @children = grep { $_ != $s->{pid} } @children;
    my $rc = ($status & 127) ? 128 + ($status & 127) : $status >> 8;
    return ($rc, FkTest::slurp($s->{out}), FkTest::slurp($s->{err}), time - $s->{t0}, $hung);
}

# What fkscan's sessions are doing (for a diagnostic when a wait fails).
sub activity {
    my ($dbname) = @_;
    return FkTest::psql($dbname, "SELECT pid, state, wait_event_type, wait_event, "
        . "left(regexp_replace(query, '\\s+', ' ', 'g'), 100) FROM pg_stat_activity "
        . "WHERE datname = current_database() AND pid <> pg_backend_pid()");
}

# Wait (bounded) for a COPY of fkscan's, then optionally terminate it.
sub copy_seen {
    my ($dbname, $terminate, $states) = @_;
    $states //= '{active,idle in transaction}';
    my $n = FkTest::psql($dbname, "SELECT wait_for_copy($terminate, 15, '$states')");
    diag("no COPY seen; sessions:\n" . activity($dbname)) unless $n > 0;
    return $n;
}

sub error_lines { return grep { /^fkscan: error: / } split /\n/, $_[0]; }

# What every fault must end in.  $affected: the constraints that lost work.
# A JSON report must call each of them "error" and count them in
# totals.errors; a text report must say the answer is incomplete and show
# none of them clean.  No report at all is fine too (a run that could not
# start).
sub check_fault {
    my ($label, $res, $affected, $reason) = @_;
    my ($rc, $out, $err, $secs, $hung) = @$res;
    note("$label: exit $rc after " . sprintf('%.1f', $secs) . " s; stderr:\n$err");
    ok(!$hung, "$label: fkscan did not hang (finished in " . sprintf('%.1f', $secs) . " s)");
    cmp_ok($rc, '<', 128, "$label: not killed by a signal (a crash)");
    is($rc, 2, "$label: exit 2") or diag("stderr: $err\nstdout: $out");
    my @errors = error_lines($err);
    ok(@errors >= 1, "$label: stderr has an fkscan: error: line") or diag($err);
    like($err, $reason, "$label: the error says what happened") if $reason;
    unlike($err, qr/(AddressSanitizer|runtime error|ThreadSanitizer|Segmentation|Aborted)/,
           "$label: no crash or sanitizer report");
    # every line is fkscan's own: a message, its DETAIL or HINT, or a
    # tab-indented continuation of one (libpq's multi-line messages)
    my @stray = grep { !/^(fkscan: |DETAIL:  |HINT:  |\t)/ } split /\n/, $err;
    is(scalar @stray, 0, "$label: no stray lines on stderr") or diag(join("\n", @stray));
    if ($out !~ /\S/) {
        note("$label: no report printed");
        return;
    }
    if ($out =~ /^\s*\{/) {
        my $json = eval { decode_json($out) };
        ok($json, "$label: the report is valid JSON") or return;
        my %by = map { $_->{constraint} => $_ } @{ $json->{constraints} };
        for my $fk (@$affected) {
            my $c = $by{$fk};
            ok($c, "$label: $fk is in the report") or next;
            is($c->{status}, 'error', "$label: $fk has status error, not $c->{status}");
            ok(defined $c->{error} && length $c->{error}, "$label: $fk says why");
        }
        cmp_ok($json->{totals}{errors}, '>=', scalar @$affected, "$label: totals.errors counts them");
    }
    else {
        like($out, qr/answer is incomplete/, "$label: the report says the answer is incomplete");
        for my $fk (@$affected) {
            my @rows = grep { /\|\s*\Q$fk\E\s*\|/ } split /\n/, $out;
            ok(@rows && !grep({ /\|\s*clean\s*\|/ } @rows), "$label: $fk is not shown clean")
                or diag($out);
        }
    }
}

# No fkscan session may outlive its process.
sub no_sessions_left {
    my ($label, $dbname) = @_;
    my $left = -1;
    for (1 .. 250) {
        $left = FkTest::psql($dbname, "SELECT count(*) FROM pg_stat_activity WHERE "
                             . "datname = current_database() AND application_name = 'fkscan'");
        last if $left == 0;
        usleep(20_000);
    }
    is($left, 0, "$label: no fkscan session is left on the server");
}

# A session that holds a lock until told to go on.
sub open_session {
    my ($dbname) = @_;
    open(my $fh, '|-', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $dbname)
        or die "psql: $!";
    $fh->autoflush(1);
    return $fh;
}

sub wait_until {
    my ($dbname, $sql) = @_;
    for (1 .. 1000) {
        return 1 if FkTest::psql($dbname, $sql) > 0;
        usleep(20_000);
    }
    return 0;
}

my @throttled = ('--max-rate', '100000', '--lock-timeout', '30000');

# ---- 1. A worker's backend is terminated. ----
my $terminated = qr/^fkscan: error: worker \d: (FATAL:  )?(terminating connection due to administrator command|server closed the connection unexpectedly)$/m;
{
    # while it streams: usually the server is blocked on a full socket and
    # dies without a word (fkscan sees the connection close)
    my $s = start_scan({}, '-j', '2', '--chunk-size', '1MB', @throttled, '--format', 'json', $db);
    is(copy_seen($db, 'true'), 1, 'terminate: a worker was streaming, and its backend was terminated');
    my @res = finish_scan($s);
    check_fault('terminate one of two workers', \@res, ['child_pid_fkey'], $terminated);
    no_sessions_left('terminate one of two workers', $db);
}
{
    # the only worker: nothing is left to take over its chunks
    my $s = start_scan({}, '-j', '1', '--chunk-size', '1MB', @throttled, $db);
    is(copy_seen($db, 'true'), 1, 'terminate: the only worker was streaming, and its backend was terminated');
    my @res = finish_scan($s);
    check_fault('terminate the only worker', \@res, ['child_pid_fkey'], $terminated);
    no_sessions_left('terminate the only worker', $db);
}
{
    # small chunks: the server has sent all of a chunk and waits, idle in the
    # transaction, while fkscan still consumes it; the backend's FATAL
    # arrives behind the chunk's end, on a connection libpq thinks idle
    my $s = start_scan({}, '-j', '2', '--chunk-size', '256kB', @throttled, '--format', 'json', $db);
    is(copy_seen($db, 'true', '{idle in transaction}'), 1,
       'terminate: a worker consuming a finished COPY had its backend terminated');
    my @res = finish_scan($s);
    check_fault('terminate a worker between chunks', \@res, ['child_pid_fkey'], $terminated);
    no_sessions_left('terminate a worker between chunks', $db);
}

# ---- 2. A statement timeout. ----
# One chunk per table: each COPY streams for seconds at --max-rate, far past
# 50 ms (the server blocks on its full socket buffer meanwhile).
{
    my $s = start_scan({ PGOPTIONS => '-c statement_timeout=50' },
                       '-j', '2', '--chunk-size', '1GB', @throttled, $db);
    my @res = finish_scan($s);
    check_fault('statement_timeout = 50ms', \@res, ['child_pid_fkey'],
                qr/^fkscan: error: .*canceling statement due to statement timeout$/m);
    no_sessions_left('statement timeout', $db);
}

# ---- 3. The network drops: a proxy cuts every connection. ----
# A tiny TCP proxy on 127.0.0.1 forwards to the cluster's TCP port until it
# gets SIGUSR1, then closes every connection it carries (new ones are
# forwarded again, as after a network blip).  Given $max_accept, it accepts
# that many connections and holds the next ones in its listen queue (their
# connect() has succeeded, their startup gets no answer) until SIGUSR2.  It
# never outlives 120 s.
sub proxy_loop {
    my ($listen, $target_port, $max_accept) = @_;
    my $cut = 0;
    my $accepted = 0;
    local $SIG{USR1} = sub { $cut = 1 };
    local $SIG{USR2} = sub { $max_accept = undef };
    local $SIG{TERM} = sub { POSIX::_exit(0) };
    my %peer;
    my $sel = IO::Select->new($listen);
    my $close_pair = sub {
        my ($s) = @_;
        my $o = delete $peer{$s};
        for my $x (grep { defined } $s, $o) {
            delete $peer{$x};
            $sel->remove($x);
            shutdown($x, 2);
            close($x);
        }
    };
    my $deadline = time + 120;
    while (time < $deadline) {
        if ($cut) {
            my @socks = values %peer;
            %peer = ();
            for my $x (@socks) {
                $sel->remove($x);
                shutdown($x, 2);
                close($x);
            }
            $cut = 0;
        }
        if (defined $max_accept && $accepted >= $max_accept) {
            $sel->remove($listen) if $sel->exists($listen);
        }
        elsif (!$sel->exists($listen)) {
            $sel->add($listen);
        }
        my @ready = $sel->can_read(0.1);
        for my $s (@ready) {
            if ($s == $listen) {
                my $c = $listen->accept or next;
                $accepted++;
                my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $target_port,
                                              Proto => 'tcp', Timeout => 10);
                if (!$u) { close $c; next; }
                $peer{$c} = $u;
                $peer{$u} = $c;
                $sel->add($c, $u);
                next;
            }
            my $other = $peer{$s} or next;
            my $n = sysread($s, my $buf, 65536);
            if (!$n) { $close_pair->($s); next; }
            my $off = 0;
            while ($off < $n && !$cut) {
                my $w = syswrite($other, $buf, $n - $off, $off);
                if (!defined $w) {
                    next if $!{EINTR};
                    $close_pair->($s);
                    last;
                }
                $off += $w;
            }
        }
    }
    POSIX::_exit(0);
}

sub start_proxy {
    my ($target_port, $max_accept) = @_;
    my $listen = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0,
                                       Proto => 'tcp', ReuseAddr => 1)
        or die "proxy: cannot listen: $!";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        proxy_loop($listen, $target_port, $max_accept);
        POSIX::_exit(0);
    }
    push @children, $pid;
    my $port = $listen->sockport;
    close $listen;
    return ($pid, $port);
}

{
    my $role = 'fkscan_faults_net';
    my $pw = 'Net-Pw-4f2';
    FkTest::psql('postgres', "DROP ROLE IF EXISTS $role; CREATE ROLE $role LOGIN PASSWORD '$pw'");
    FkTest::psql($db, "GRANT SELECT ON parent, child TO $role");
    my ($proxy, $pport) = start_proxy($ENV{PGPORT});
    my $conninfo = "host=127.0.0.1 port=$pport user=$role password=$pw dbname=$db";

    # the proxy works: a whole scan through it
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', $conninfo);
    is($rc, 1, 'through the proxy: a normal scan works (exit 1)') or diag($err);
    FkOracle::check($db, $json, 'through the proxy');

    my $s = start_scan({ PGPASSFILE => '/nonexistent' }, '-j', '2', '--chunk-size', '1MB',
                       @throttled, '--format', 'json', $conninfo);
    cmp_ok(copy_seen($db, 'false'), '>', 0, 'network: fkscan is streaming');
    ok(kill('USR1', $proxy), 'network: the proxy is told to cut every connection');
    my @res = finish_scan($s);
    check_fault('network cut', \@res, ['child_pid_fkey'],
                qr/^fkscan: error: worker \d: (server closed the connection unexpectedly|could not receive data from server|connection lost|SSL SYSCALL|lost synchronization)/m);
    unlike($res[2], qr/\Q$pw\E/, 'network: the password is not printed');
    no_sessions_left('network cut', $db);

    kill 'TERM', $proxy;
    waitpid($proxy, 0);
    @children = grep { $_ != $proxy } @children;

    # ---- 3b. Ctrl-C while the workers connect. ----
    # The proxy lets the control and coordinator connections through and
    # holds the workers' until fkscan has taken Ctrl-C; then they connect,
    # import the snapshot, and fkscan must stop there: exit 2, no FK clean.
    my ($hold, $hport) = start_proxy($ENV{PGPORT}, 2);
    $s = start_scan({ PGPASSFILE => '/nonexistent' }, '-j', '2', '--format', 'json',
                    "host=127.0.0.1 port=$hport user=$role password=$pw dbname=$db");
    ok(wait_until($db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  . "AND application_name = 'fkscan' AND query LIKE 'LOCK TABLE %'"),
       'Ctrl-C while connecting: the coordinator has its locks, the workers are held');
    kill 'INT', $s->{pid};
    my $seen = 0;
    for (1 .. 500) {
        last if ($seen = FkTest::slurp($s->{err}) =~ /canceling: interrupted/);
        usleep(20_000);
    }
    ok($seen, 'Ctrl-C while connecting: fkscan took the signal');
    ok(kill('USR2', $hold), 'Ctrl-C while connecting: the workers may connect now');
    @res = finish_scan($s);
    my ($crc, $cout, $cerr, $csecs, $chung) = @res;
    note("Ctrl-C while connecting: exit $crc; stderr:\n$cerr");
    ok(!$chung, 'Ctrl-C while connecting: fkscan did not hang');
    cmp_ok($crc, '<', 128, 'Ctrl-C while connecting: not killed by a signal (a crash)');
    is($crc, 2, 'Ctrl-C while connecting: exit 2') or diag($cerr);
    unlike($cerr, qr/(AddressSanitizer|runtime error|ThreadSanitizer|Segmentation|Aborted)/,
           'Ctrl-C while connecting: no crash or sanitizer report');
    if ($cout =~ /\S/) {
        like($cout, qr/"interrupted": true/, 'Ctrl-C while connecting: the report says interrupted');
        unlike($cout, qr/"status": "clean"/, 'Ctrl-C while connecting: no FK reported clean');
    }
    kill 'TERM', $hold;
    waitpid($hold, 0);
    @children = grep { $_ != $hold } @children;
    no_sessions_left('Ctrl-C while connecting', $db);
    FkTest::psql($db, "REVOKE ALL ON parent, child FROM $role");
    FkTest::psql('postgres', "DROP ROLE $role");
}

# ---- 4. A table dropped between the catalog read and the scan (42P01). ----
# -t 'drop_*' keeps the other tables out.  fkscan takes its snapshot and
# reads the FKs, then waits for our lock; the table is dropped and the drop
# committed while it waits; its catalog (the snapshot's) still has the table.
for my $case (['drop_child', 'DROP TABLE drop_child', ['drop_child_pid_fkey']],
              ['drop_parent', 'DROP TABLE drop_parent CASCADE',
               ['drop_child_pid_fkey', 'drop_other_pid_fkey']]) {
    my ($victim, $drop, $affected) = @$case;
    FkTest::psql($db, <<'SQL');
SET client_min_messages = warning;
DROP TABLE IF EXISTS drop_child, drop_other, drop_parent;
CREATE TABLE drop_parent (id int PRIMARY KEY);
CREATE TABLE drop_child (pid int REFERENCES drop_parent);
CREATE TABLE drop_other (pid int REFERENCES drop_parent);
INSERT INTO drop_parent SELECT g FROM generate_series(1, 1000) g;
INSERT INTO drop_child SELECT g FROM generate_series(1, 1000) g;
INSERT INTO drop_other SELECT g FROM generate_series(1, 1000) g;
SQL
    my $locker = open_session($db);
    print $locker "BEGIN; LOCK TABLE $victim IN ACCESS EXCLUSIVE MODE;\n";
    ok(wait_until($db, FkTest::lock_held_sql($victim, 'AccessExclusiveLock')), "drop $victim: lock held");
    my $s = start_scan({}, '-j', '2', '-t', 'drop_*', '--lock-timeout', '30000', '--format', 'json', $db);
    ok(wait_until($db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  . "AND application_name = 'fkscan' AND wait_event_type = 'Lock'"),
       "drop $victim: fkscan waits for the lock, its catalog read");
    print $locker "SET client_min_messages = warning; $drop; COMMIT;\n";
    close($locker) or diag("psql (locker) failed");
    my @res = finish_scan($s);
    check_fault("drop $victim", \@res, $affected,
                qr/^fkscan: error: .*relation "public\.$victim" does not exist$/m);
    my @errors = error_lines($res[2]);
    is(scalar @errors, 1, "drop $victim: exactly one error line") or diag($res[2]);
    my $json = eval { decode_json($res[1]) };
    for my $c (grep { my $n = $_->{constraint}; grep { $_ eq $n } @$affected }
               @{ $json ? $json->{constraints} : [] }) {
        like($c->{error}, qr/relation "public\.$victim" does not exist/,
             "drop $victim: $c->{constraint}'s error names the table");
    }
    if ($victim eq 'drop_child') {
        my ($other) = grep { $_->{constraint} eq 'drop_other_pid_fkey' } @{ $json->{constraints} };
        is($other && $other->{status}, 'clean', 'drop drop_child: the other FK is still scanned, clean');
        is($other && $other->{child_rows}, 1000, 'drop drop_child: ... all of its rows');
    }
}
FkTest::psql($db, 'DROP TABLE IF EXISTS drop_child, drop_other, drop_parent');

# ---- 4b. Locks (#14 items 3, 4). ----
# A DDL issued while the parents are read queues behind the coordinator's
# ACCESS SHARE.  Workers took theirs right after importing the snapshot,
# so their COPY of the child never queues behind it: the scan finishes,
# then the DDL runs.  (Before, the workers' COPY waited for the DDL, the
# DDL for the coordinator, the coordinator for the workers: forever.)
{
    my $s = start_scan({}, '-j', '2', '-t', 'child', '--format', 'json', @throttled, $db);
    cmp_ok(copy_seen($db, 'false'), '>', 0, 'queued DDL: fkscan is streaming');
    my $ddl = open_session($db);
    print $ddl "ALTER TABLE child ADD COLUMN late_ddl int;\n";
    ok(wait_until($db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  . "AND query LIKE 'ALTER TABLE child%' AND wait_event_type = 'Lock'"), 'queued DDL: the ALTER waits for its lock');
    my ($rc, $out, $err, $secs, $hung) = finish_scan($s);
    ok(!$hung, sprintf('queued DDL: fkscan did not hang (%.1f s)', $secs));
    is($rc, 1, 'queued DDL: the scan finished, orphans found (exit 1)') or diag($err);
    my $json = eval { decode_json($out) };
    FkOracle::check($db, $json, 'queued DDL') if $json;
    close($ddl) or diag('psql (ALTER) failed');
    is(FkTest::psql($db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'child'::regclass "
                    . "AND attname = 'late_ddl'"), 1, 'queued DDL: then the ALTER ran');
    FkTest::psql($db, 'ALTER TABLE child DROP COLUMN late_ddl');
}

# A lock held elsewhere: --lock-timeout bounds the very first wait (the
# catalog query's pg_relation_size), for scan and audit alike.
{
    my $locker = open_session($db);
    print $locker "BEGIN; LOCK TABLE child IN ACCESS EXCLUSIVE MODE;\n";
    ok(wait_until($db, FkTest::lock_held_sql('child', 'AccessExclusiveLock')), 'held lock: taken');
    for my $cmd ('scan', 'audit') {
        my $t0 = time;
        my ($rc, $out, $err) = FkTest::run_command([$ENV{FKSCAN}, $cmd, '-t', 'child',
                                                    '--lock-timeout', '1s', $db], '');
        my $secs = time - $t0;
        is($rc, 2, "held lock, $cmd --lock-timeout 1s: exit 2") or diag($err);
        cmp_ok($secs, '<', 20, "held lock, $cmd: gave up after the timeout, not the lock ($secs s)");
        like($err, qr/^fkscan: error: .*lock timeout/m, "held lock, $cmd: says it was a lock timeout");
    }
    print $locker "ROLLBACK;\n";
    close($locker) or diag('psql (locker) failed');
}

# ---- 5. The server restarts mid-scan. ----
# On a private cluster: a restart would break the tests running in parallel
# on the shared one.
sub stop_private {
    return unless $private;
    my $script = FkTest::source_dir() . '/tests/harness/pgcluster.sh';
    FkTest::run_command([$script, 'stop', $private]);
    remove_tree($private);
    $private = undef;
}

sub as_pg_osuser {
    my ($osuser, @cmd) = @_;
    return $> == 0 ? ('runuser', '-u', $osuser, '--', @cmd) : @cmd;
}

SKIP: {
    my $script = FkTest::source_dir() . '/tests/harness/pgcluster.sh';
    $private = "/tmp/fkscan-040-restart-$$";
    remove_tree($private);
    my ($rc, $out, $err) = FkTest::run_command([$script, 'start', $private]);
    if ($rc != 0) {
        diag("cannot start a private cluster: $err");
        $private = undef;
        skip('no private cluster for the restart case', 1);
    }
    my %env = $out =~ /^export (\w+)='([^']*)'$/mg;
    local $ENV{PGHOST} = $env{PGHOST};
    local $ENV{PGPORT} = $env{PGPORT};
    my $rdb = FkTest::new_db('faults_restart');
    FkTest::psql($rdb, $setup_sql);

    my $s = start_scan({}, '-j', '2', '--chunk-size', '1MB', @throttled, $rdb);
    cmp_ok(copy_seen($rdb, 'false'), '>', 0, 'restart: fkscan is streaming');
    my ($prc, $pout, $perr) = FkTest::run_command([as_pg_osuser($env{FKSCAN_PG_OSUSER},
        "$env{FKSCAN_PG_BINDIR}/pg_ctl", '-D', "$private/data", '-l', "$private/server.log",
        '-m', 'fast', '-w', '-t', '60', 'restart')]);
    is($prc, 0, 'restart: pg_ctl restart -m fast') or diag("$pout$perr");
    my @res = finish_scan($s);
    check_fault('server restart', \@res, ['child_pid_fkey'],
                qr/^fkscan: error: .*(terminating connection due to administrator command|server closed the connection unexpectedly|no connection to the server)/m);

    # the server is back, and so is the answer
    my ($rc2, $json, $err2) = FkTest::fkscan_json('scan', '-j', '2', $rdb);
    is($rc2, 1, 'restart: a scan after the restart works (exit 1)') or diag($err2);
    FkOracle::check($rdb, $json, 'after the restart');
    stop_private();
}

alarm(0);
done_testing();

END { kill 'KILL', @children if @children; stop_private(); }
