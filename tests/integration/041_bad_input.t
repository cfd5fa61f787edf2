# Bad input, for both commands where it applies: option values out of range
# or malformed, options of the other command, patterns that match nothing,
# patterns that are not UTF-8, unreachable databases and roles without the
# privileges a run needs.  Each failure exits 2 with exactly one
# "fkscan: error:" line that names the culprit (then DETAIL/HINT lines only).
# 001_cli.t covers --help, unknown options, -j/--format/--chunk-size's first
# cases, a missing database and passwords; 010_audit.t the audit's filters
# and --strict-names; 031_scan_privileges.t RLS.  This file covers the rest.
use strict;
use warnings;
use Test::More;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('bad_input');
FkTest::psql($db, <<'SQL');
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (pid int REFERENCES parent);
CREATE TABLE secret (pid int REFERENCES parent);
CREATE TABLE dirty (pid int REFERENCES parent);
INSERT INTO parent SELECT g FROM generate_series(1, 100) g;
INSERT INTO child SELECT g FROM generate_series(1, 100) g;
INSERT INTO secret SELECT g FROM generate_series(1, 100) g;
SET session_replication_role = replica;
INSERT INTO dirty VALUES (1), (1000), (1001);
SQL

sub error_lines { return grep { /^fkscan: error: / } split /\n/, $_[0]; }
sub stray_lines { return grep { !/^(fkscan: |DETAIL:  |HINT:  |\t)/ } split /\n/, $_[0]; }

# A failure: exit 2, nothing on stdout, exactly one error line, first,
# naming the culprit; only DETAIL/HINT lines besides.  $hint: the command
# whose --help the HINT names, or undef for no hint (connection errors).
sub failure {
    my ($label, $args, $culprit, %opt) = @_;
    my ($rc, $out, $err) = FkTest::fkscan(@$args);
    is($rc, 2, "$label: exit 2");
    is($out, '', "$label: nothing on stdout");
    my @errors = error_lines($err);
    is(scalar @errors, 1, "$label: exactly one error line") or diag($err);
    like($err, qr/\Afkscan: error: /, "$label: the error comes first");
    like($errors[0] // '', $culprit, "$label: names the culprit") or diag($err);
    if (exists $opt{hint}) {
        my $try = "fkscan $opt{hint} --help";
        like($err, qr/^HINT:  Try "\Q$try\E" for more information\.$/m, "$label: Try ... --help hint");
    }
    my @stray = stray_lines($err);
    is(scalar @stray, 0, "$label: no stray lines") or diag($err);
    return $err;
}

# ---- option values ----
for my $case (
    [['--chunk-size', '0'], qr/invalid value "0" for option --chunk-size/],
    [['--chunk-size=-8kB'], qr/invalid value "-8kB" for option --chunk-size/],
    [['--chunk-size', '99999999999TB'], qr/invalid value "99999999999TB" for option --chunk-size/],
    [['--sample', '-1'], qr/--sample must be in range 0\.\.\d+/],
    [['--sample', 'x'], qr/invalid value "x" for option --sample/],
    [['--sample', '1000001'], qr/--sample must be in range 0\.\.1000000/],
    [['--format', 'xml'], qr/invalid value "xml" for option --format/],
    [['--fetch', 'foo'], qr/invalid value "foo" for option --fetch/],
    [['--compare', 'client'], qr/invalid value "client" for option --compare/],
    [['--memory-limit', 'banana'], qr/invalid value "banana" for option --memory-limit/],
    [['--memory-limit', '0'], qr/invalid value "0" for option --memory-limit/],
    [['--memory-limit', '512kB'], qr/invalid value "512kB" for option --memory-limit/],
    [['--lock-timeout', '-1'], qr/invalid value "-1" for option --lock-timeout/],
    [['--lock-timeout', '10parsecs'], qr/invalid value "10parsecs" for option --lock-timeout/],
    [['--lock-timeout', '0'], qr/invalid value "0" for option --lock-timeout/],
    # one number reader (#14 item 14): plain decimals in a sane range only
    (map { [['--max-rate', $_], qr/invalid value "\Q$_\E" for option --max-rate/] }
         'inf', 'nan', '1e-300', '1e6', '0x10', ' 5', '+5', '0.5', '0.001MB', '99999999999999999999', '5 MB'),
    (map { [['--max-time', $_], qr/invalid value "\Q$_\E" for option --max-time/] } 'inf', '1e3', ' 5s', '0x10'),
    (map { [['--chunk-size', $_], qr/invalid value "\Q$_\E" for option --chunk-size/] } ' 1MB', '+1MB', '1.5MB', '1e6'),
    (map { [['--lock-timeout', $_], qr/invalid value "\Q$_\E" for option --lock-timeout/] } ' 5', '+5', 'inf'),
    (map { [['-j', $_], qr/invalid value "\Q$_\E" for option -j\/--jobs/] } ' 2', '+2'),
    [['--lock-timeout', '0.4ms'], qr/invalid value "0.4ms" for option --lock-timeout/],
    [['--retries', '-1'], qr/--retries must be in range 0\.\.\d+/],
    [['--consistency', 'sometimes'], qr/invalid value "sometimes" for option --consistency/],
    [['--max-lag', '5parsecs'], qr/invalid value "5parsecs" for option --max-lag/],
    [['--max-rate', '0'], qr/invalid value "0" for option --max-rate/],
    [['--max-rate', 'fast'], qr/invalid value "fast" for option --max-rate/],
    [['-j', '1.5'], qr{invalid value "1\.5" for option -j/--jobs}],
    [['--jobs='], qr{invalid value "" for option -j/--jobs}],
    [['-j', '-3'], qr{-j/--jobs must be in range 1\.\.\d+}],
    [['-Z'], qr/invalid option -- 'Z'/],
    [['--bogus'], qr/unrecognized option "--bogus"/],
) {
    my ($args, $culprit) = @$case;
    failure("scan @$args", ['scan', @$args, $db], $culprit, hint => 'scan');
}
# an option without its value, last on the line
failure('scan DB --fetch', ['scan', $db, '--fetch'], qr/option "--fetch" requires an argument/,
        hint => 'scan');
failure('audit DB -n', ['audit', $db, '-n'], qr/option -n requires an argument/, hint => 'audit');

# the audit: its own values, and the options only a scan has
failure('audit --format jsonl', ['audit', '--format', 'jsonl', $db],
        qr/invalid value "jsonl" for option --format/, hint => 'audit');
failure('audit --bogus=1', ['audit', '--bogus=1', $db], qr/unrecognized option "--bogus=1"/,
        hint => 'audit');
for my $case ([['-j', '4'], '-j/--jobs'], [['-j0'], '-j/--jobs'], [['--jobs=99999'], '-j/--jobs'],
              [['--fetch', 'text'], '--fetch'], [['--sample', '3'], '--sample'],
              [['--chunk-size', '1MB'], '--chunk-size'], [['--memory-limit', 'banana'], '--memory-limit'],
              [['--compare', 'server'], '--compare'],
              [['--max-rate', '10'], '--max-rate'], [['-P'], '-P/--progress'],
              [['--no-progress'], '--no-progress'], [['--pause-replay'], '--pause-replay']) {
    my ($args, $name) = @$case;
    failure("audit @$args", ['audit', @$args, $db], qr/option \Q$name\E is only for "fkscan scan"/,
            hint => 'audit');
}

# ---- patterns ----
# Matching nothing is fine without --strict-names: exit 0, an empty answer.
for my $case (['-t', 'nosuch'], ['-n', 'nosuch'], ['-c', 'nosuch*'], ['-N', '*'], ['-T', '*'],
              ['-n', 'pg_catalog']) {
    my ($rc, $out, $err) = FkTest::fkscan('scan', @$case, $db);
    is($rc, 0, "scan @$case matching nothing: exit 0") or diag($err);
    like($out, qr/^No foreign keys in scope\.$/m, "scan @$case: says no foreign keys in scope");
    is(scalar error_lines($err), 0, "scan @$case: no error");
    my ($jrc, $json) = FkTest::fkscan_json('scan', @$case, $db);
    is($jrc, 0, "scan @$case --format json: exit 0");
    is_deeply($json && $json->{constraints}, [], "scan @$case --format json: no constraints");
    ($rc, $out, $err) = FkTest::fkscan('audit', @$case, $db);
    is($rc, 0, "audit @$case matching nothing: exit 0");
    is($out, "0 foreign keys\n", "audit @$case: 0 foreign keys");
}
# With --strict-names, an error naming the pattern (010_audit.t: the audit).
for my $case (['-t', 'nosuch'], ['-n', 'nosuch'], ['-c', 'nosuch*'], ['-t', 'public.nosuch'],
              ['-n', 'pg_catalog'], ['-t', 'x"y;z\'--']) {
    failure("scan --strict-names @$case", ['scan', '--strict-names', @$case, $db],
            qr/^fkscan: error: no matching foreign keys found for pattern "\Q$case->[1]\E"$/);
}
# ... each unmatched pattern named, the matched ones not.
{
    my ($rc, $out, $err) = FkTest::fkscan('scan', '--strict-names', '-t', 'child', '-n', 'nope',
                                          '-c', 'NoSuch*', $db);
    is($rc, 2, 'scan --strict-names, two unmatched of three: exit 2');
    is($out, '', 'scan --strict-names, two unmatched of three: nothing on stdout');
    is_deeply([sort(error_lines($err))],
              ['fkscan: error: no matching foreign keys found for pattern "NoSuch*"',
               'fkscan: error: no matching foreign keys found for pattern "nope"'],
              'scan --strict-names: one line per unmatched pattern, no other');
}
# A pattern with too many dots, or bytes that are not UTF-8.
failure('scan -t a.b.c', ['scan', '-t', 'a.b.c', $db],
        qr/^fkscan: error: improper qualified name \(too many dotted names\): a\.b\.c$/);
for my $case (['scan', '-t', "\xff"], ['scan', '-c', "ok\xc3"], ['audit', '-n', "\xed\xa0\x80"],
              ['audit', '-T', "x\xf5\x80\x80\x80"]) {
    my ($cmd, $opt, $pat) = @$case;
    # shown, never sent raw to the terminal: each stray byte as \xNN
    (my $shown = $pat) =~ s/([\x80-\xff])/sprintf('\\x%02X', ord $1)/ge;
    failure("$cmd $opt <not UTF-8>", [$cmd, $opt, $pat, $db],
            qr/^fkscan: error: invalid pattern "\Q$shown\E": not valid UTF-8$/);
}
{
    my ($rc, $out, $err) = FkTest::fkscan('audit', '-c', "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", $db);
    is($rc, 0, 'a pattern in valid 2, 3 and 4-byte UTF-8 is fine') or diag($err);
}

# ---- connections ----
for my $cmd ('audit', 'scan') {
    failure("$cmd -p abc", [$cmd, '-p', 'abc', $db],
            qr/invalid integer value "abc" for connection option "port"/);
    failure("$cmd with an unknown conninfo keyword", [$cmd, "dbname=$db bogus=1"],
            qr/invalid connection option "bogus"/);
    failure("$cmd of a database that does not exist (URI)", [$cmd, 'postgresql:///fkscan_no_such_db'],
            qr/database "fkscan_no_such_db" does not exist/);
}

# ---- privileges ----
my $role = 'fkscan_bad_input';
FkTest::psql('postgres', "DROP ROLE IF EXISTS $role; CREATE ROLE $role LOGIN");
FkTest::psql($db, "GRANT SELECT ON parent, child, dirty TO $role");

# A role without CONNECT on the database.
my $noconn = FkTest::new_db('bad_input_noconnect');
FkTest::psql($noconn, "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (pid int REFERENCES p); "
             . "REVOKE CONNECT ON DATABASE bad_input_noconnect FROM PUBLIC");
for my $cmd ('audit', 'scan') {
    my $err = FkTest::as_role($role, sub {
        failure("$cmd as a role without CONNECT", [$cmd, $noconn],
                qr/permission denied for database "bad_input_noconnect"/) });
    like($err, qr/^DETAIL:  .*CONNECT privilege/m, "$cmd without CONNECT: DETAIL says why");
    unlike($err, qr/^DETAIL:  DETAIL:/m, "$cmd without CONNECT: one DETAIL prefix");
}
# A database that accepts no connections at all.
FkTest::psql('postgres', 'ALTER DATABASE bad_input_noconnect ALLOW_CONNECTIONS false');
for my $cmd ('audit', 'scan') {
    failure("$cmd of a database not accepting connections", [$cmd, $noconn],
            qr/database "bad_input_noconnect" is not currently accepting connections/);
}
FkTest::psql('postgres', 'ALTER DATABASE bad_input_noconnect ALLOW_CONNECTIONS true');
FkTest::psql('postgres', 'DROP DATABASE bad_input_noconnect');

# A role without SELECT on one child table: that FK alone is in error, the
# others are scanned exactly, exit 2 (incomplete); one error line naming it.
{
    my ($rc, $json, $err) = FkTest::as_role($role, sub { FkTest::fkscan_json('scan', '-j', '2', $db) });
    is($rc, 2, 'no SELECT on a table: exit 2');
    my @errors = error_lines($err);
    is(scalar @errors, 1, 'no SELECT on a table: exactly one error line') or diag($err);
    like($errors[0] // '', qr/^fkscan: error: .*permission denied for table secret$/,
         'no SELECT on a table: the error names it');
    is(scalar(stray_lines($err)), 0, 'no SELECT on a table: no stray lines') or diag($err);
    my %by = map { $_->{table} => $_ } @{ $json->{constraints} };
    is($by{secret}{status}, 'error', 'no SELECT on a table: its FK has status error');
    like($by{secret}{error}, qr/permission denied for table secret/, 'no SELECT on a table: and says why');
    is($by{secret}{orphan_rows}, 0, 'no SELECT on a table: no invented orphans');
    is($json->{totals}{errors}, 1, 'no SELECT on a table: one FK in error');
    my @others = grep { $_->{table} ne 'secret' } @{ $json->{constraints} };
    is(scalar @others, 2, 'no SELECT on a table: the two other FKs are reported');
    FkOracle::check($db, { constraints => \@others }, 'no SELECT on a table, the others');

    # the text report says so too
    my ($trc, $out) = FkTest::as_role($role, sub { FkTest::fkscan('scan', $db) });
    is($trc, 2, 'no SELECT on a table, text: exit 2');
    like($out, qr/answer is incomplete/, 'no SELECT on a table, text: the answer is incomplete');
    like($out, qr/^\s*public\.secret\s*\|.*\|\s*error\s*\|/m, 'no SELECT on a table, text: its row says error');

    # the audit reads only the catalog: it needs no SELECT
    my ($arc, $ajson, $aerr) = FkTest::as_role($role, sub { FkTest::fkscan_json('audit', $db) });
    is($arc, 0, 'no SELECT on a table: the audit still works (exit 0)') or diag($aerr);
    is(scalar @{ $ajson->{constraints} }, 3, 'no SELECT on a table: the audit lists every FK');
}

# A role allowed too few connections for -j: a scan needs a control and a
# coordinator connection besides its workers.
# Backends exit a moment after their clients: wait (bounded) until none of
# the role's is left, so that the limit counts only the next run's.
sub no_sessions_of {
    my ($who) = @_;
    for (1 .. 500) {
        return 1 if FkTest::psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE usename = '$who'") == 0;
        select(undef, undef, undef, 0.02);
    }
    return 0;
}
{
    FkTest::psql('postgres', "ALTER ROLE $role CONNECTION LIMIT 2");
    ok(no_sessions_of($role), 'connection limit: no session of the role is left');
    my ($rc, $out, $err) = FkTest::as_role($role, sub {
        FkTest::fkscan('scan', '-j', '2', '-t', 'child', '-t', 'dirty', $db) });
    is($rc, 2, 'connection limit: no worker can connect: exit 2');
    like($err, qr/too many connections for role "$role"/, 'connection limit: says why');
    like($err, qr/^fkscan: error: no worker could connect/m, 'connection limit: says no worker connected');
    unlike($out, qr/\bclean\b/, 'connection limit: nothing reported clean');

    # one of two workers can: the scan goes on with it, and the answer is whole
    FkTest::psql('postgres', "ALTER ROLE $role CONNECTION LIMIT 3");
    ok(no_sessions_of($role), 'connection limit: no session of the role is left');
    my $json;
    ($rc, $json, $err) = FkTest::as_role($role, sub {
        FkTest::fkscan_json('scan', '-j', '2', '-t', 'child', '-t', 'dirty', $db) });
    is($rc, 1, 'connection limit: one worker of two: exit 1, the answer is complete') or diag($err);
    like($err, qr/^fkscan: warning: only 1 of 2 workers could connect/m, 'connection limit: a warning says so');
    FkOracle::check($db, $json, 'connection limit, one worker');
}

FkTest::psql($db, "REVOKE ALL ON parent, child, dirty FROM $role");
FkTest::psql('postgres', "DROP ROLE $role");
done_testing();
