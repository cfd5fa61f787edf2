# The command line: --help and --version, bad usage, and connection
# failures.  Every failure must exit 2 with one "fkscan: error:" line that
# names the culprit, nothing on stdout, and never a password on stderr.
use strict;
use warnings;
use IO::Socket::INET;
use Test::More;
use FkTest;

my $db = FkTest::new_db('cli');

# --help and --version

my ($rc, $out, $err) = FkTest::fkscan('--help');
is($rc, 0, '--help: exit 0');
like($out, qr/^Usage:\n  fkscan COMMAND \[OPTION\]\.\.\. \[DBNAME \| CONNINFO\]$/m, '--help: usage line');
like($out, qr/^  audit\s+\S/m, '--help: lists audit');
like($out, qr/^  scan\s+\S/m, '--help: lists scan');
like($out, qr/^  fix\s+\S/m, '--help: lists fix');
like($out, qr/^  validate\s+\S/m, '--help: lists validate');
like($out, qr/Exit status: 0 .*1 .*\n?.*2 /s, '--help: explains the exit codes');
is($err, '', '--help: nothing on stderr');

($rc, $out, $err) = FkTest::fkscan('audit', '--help');
is($rc, 0, 'audit --help: exit 0');
like($out, qr/^  fkscan audit \[OPTION\]\.\.\. \[DBNAME \| CONNINFO\]$/m, 'audit --help: usage line');
for my $opt ('-n, --schema=PATTERN', '-N, --exclude-schema=PATTERN', '-t, --table=PATTERN',
             '-T, --exclude-table=PATTERN', '-c, --constraint=PATTERN', '--strict-names',
             '--format=text|json', '-d, --dbname=DBNAME', '-h, --host=HOSTNAME',
             '-p, --port=PORT', '-U, --username=USERNAME', '-w, --no-password', '-W, --password') {
    like($out, qr/^\s+\Q$opt\E\s/m, "audit --help: mentions $opt");
}
unlike($out, qr/--jobs/, 'audit --help: no scan-only options');
is($err, '', 'audit --help: nothing on stderr');

($rc, $out, $err) = FkTest::fkscan('scan', '--help');
is($rc, 0, 'scan --help: exit 0');
like($out, qr/^  fkscan scan \[OPTION\]\.\.\. \[DBNAME \| CONNINFO\]$/m, 'scan --help: usage line');
for my $opt ('-j, --jobs=NUM', '--chunk-size=SIZE', '--sample=NUM', '--lock-timeout=DURATION',
             '-P, --progress, --no-progress', '-t, --table=PATTERN', '--format=text|json|jsonl') {
    like($out, qr/^\s+\Q$opt\E\s/m, "scan --help: mentions $opt");
}
is($err, '', 'scan --help: nothing on stderr');

($rc, $out, $err) = FkTest::fkscan('fix', '--help');
is($rc, 0, 'fix --help: exit 0');
like($out, qr/^  fkscan fix \[OPTION\]\.\.\. --strategy=STRATEGY \[DBNAME \| CONNINFO\]$/m, 'fix --help: usage line');
for my $opt ('--strategy=delete|nullify|backfill|quarantine', '--quarantine-table=SCHEMA.NAME', '--apply', '--backup-dir=DIR', '--set=COLUMN=VALUE',
             '--cascade', '--batch-size=NUM', '--lock-timeout=DURATION', '--statement-timeout=DURATION', '-j, --jobs=NUM',
             '-t, --table=PATTERN', '-c, --constraint=PATTERN') {
    like($out, qr/^\s+\Q$opt\E\s/m, "fix --help: mentions $opt");
}
is($err, '', 'fix --help: nothing on stderr');

($rc, $out, $err) = FkTest::fkscan('validate', '--help');
is($rc, 0, 'validate --help: exit 0');
like($out, qr/^  fkscan validate \[OPTION\]\.\.\. \[DBNAME \| CONNINFO\]$/m, 'validate --help: usage line');
for my $opt ('--apply', '--lock-timeout=DURATION', '--lock-retries=NUM', '--statement-timeout=DURATION',
             '-j, --jobs=NUM', '-t, --table=PATTERN') {
    like($out, qr/^\s+\Q$opt\E\s/m, "validate --help: mentions $opt");
}
unlike($out, qr/--strategy/, 'validate --help: no fix-only options');
is($err, '', 'validate --help: nothing on stderr');

for my $flag ('--version', '-V') {
    ($rc, $out, $err) = FkTest::fkscan($flag);
    is($rc, 0, "$flag: exit 0");
    like($out, qr/\Afkscan \d+\.\d+\.\d+\n\z/, "$flag: one line, name and version");
    is($err, '', "$flag: nothing on stderr");
}

# Bad usage: exit 2, one error line naming the culprit, then the hint.

sub error_lines {
    my ($text) = @_;
    return grep { /^fkscan: error: / } split /\n/, $text;
}

sub usage_error {
    my ($args, $culprit, $hint_cmd) = @_;
    my $label = "usage error: fkscan @$args";
    my ($rc, $out, $err) = FkTest::fkscan(@$args);
    is($rc, 2, "$label: exit 2");
    is($out, '', "$label: nothing on stdout");
    my @errors = error_lines($err);
    is(scalar @errors, 1, "$label: exactly one error line") or diag($err);
    like($err, qr/\Afkscan: error: /, "$label: the error comes first");
    like($errors[0] // '', $culprit, "$label: names the culprit");
    my $try = $hint_cmd ? "fkscan $hint_cmd --help" : 'fkscan --help';
    like($err, qr/^HINT:  Try "\Q$try\E" for more information\.$/m, "$label: Try ... --help hint");
    my @other = grep { !/^(fkscan: error: |DETAIL:  |HINT:  )/ } split /\n/, $err;
    is(scalar @other, 0, "$label: no stray lines") or diag($err);
}

usage_error([], qr/no command given/, undef);
usage_error(['frobnicate'], qr/unrecognized command "frobnicate"/, undef);
usage_error(['frobnicate', '--help'], qr/unrecognized command "frobnicate"/, undef);
usage_error(['audit', '--bogus'], qr/unrecognized option "--bogus"/, 'audit');
usage_error(['scan', '--bogus=1'], qr/unrecognized option "--bogus=1"/, 'scan');
usage_error(['audit', '-Z'], qr/invalid option -- 'Z'/, 'audit');
usage_error(['scan', '-j', '0'], qr{-j/--jobs must be in range 1\.\.\d+}, 'scan');
usage_error(['scan', '-j', '99999'], qr{-j/--jobs must be in range 1\.\.\d+}, 'scan');
usage_error(['scan', '--jobs=many'], qr{invalid value "many" for option -j/--jobs}, 'scan');
usage_error(['audit', '--format', 'xml'], qr/invalid value "xml" for option --format/, 'audit');
usage_error(['scan', '--format=csv'], qr/invalid value "csv" for option --format/, 'scan');
usage_error(['scan', '--chunk-size', 'banana'], qr/invalid value "banana" for option --chunk-size/, 'scan');
usage_error(['scan', '--chunk-size', '1kB'], qr/invalid value "1kB" for option --chunk-size/, 'scan');
usage_error(['audit', $db, 'extra'], qr/too many command-line arguments \(first is "extra"\)/, 'audit');
usage_error(['audit', '-d', $db, 'extra'], qr/too many command-line arguments \(first is "extra"\)/, 'audit');
usage_error(['audit', '-t'], qr/option -t requires an argument/, 'audit');
usage_error(['fix', $db], qr/fkscan fix needs --strategy/, 'fix');
usage_error(['fix', '--strategy', 'burn'], qr/invalid value "burn" for option --strategy/, 'fix');
usage_error(['scan', '--apply'], qr/option --apply is only for "fkscan fix" and "fkscan validate"/, 'scan');
usage_error(['audit', '--statement-timeout', '1s'], qr/option --statement-timeout is only for "fkscan fix" and "fkscan validate"/, 'audit');
usage_error(['validate', '--strategy', 'delete'], qr/option --strategy is only for "fkscan fix"/, 'validate');
usage_error(['fix', '--strategy', 'delete', '--lock-retries', '2'], qr/option --lock-retries is only for "fkscan validate"/, 'fix');
usage_error(['fix', '--strategy', 'delete', '--batch-size', '0'], qr/--batch-size must be in range 1\.\.\d+/, 'fix');
usage_error(['fix', '--strategy', 'delete', '--format', 'json'], qr/option --format is not for "fkscan fix"/, 'fix');
usage_error(['validate', '--batch-size', '10'], qr/option --batch-size is only for "fkscan fix"/, 'validate');
usage_error(['fix', '--strategy', 'backfill', '--set', 'novalue'], qr/invalid value "novalue" for option --set/, 'fix');
usage_error(['fix', '--strategy', 'delete', '--orphans-out', 'x.csv'], qr/option --orphans-out is only for "fkscan scan"/, 'fix');
usage_error(['validate', '--lock-timeout', 'soon'], qr/invalid value "soon" for option --lock-timeout/, 'validate');
usage_error(['audit', '--lock-timeout', '0'], qr{invalid value "0" for option --lock-timeout}, 'audit');

# Connection failures: exit 2 and one clear error line.

sub conn_error {
    my ($label, $args, @want) = @_;
    my ($rc, $out, $err) = FkTest::fkscan(@$args);
    is($rc, 2, "$label: exit 2");
    is($out, '', "$label: nothing on stdout");
    my @errors = error_lines($err);
    is(scalar @errors, 1, "$label: exactly one error line") or diag($err);
    like($err, qr/\Afkscan: error: /, "$label: the error comes first");
    like($errors[0] // '', $_, "$label: error says $_") for @want;
    return $err;
}

conn_error('malformed conninfo', ['audit', 'host=x foo'],
           qr/missing "=" after "foo" in connection info string/);

# A port nothing listens on: bind one, note it, let it go.
my $sock = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
    or die "cannot find a free port: $!";
my $free_port = $sock->sockport;
close $sock;
conn_error('refused connection', ['audit', "host=127.0.0.1 port=$free_port dbname=$db"],
           qr/127\.0\.0\.1/, qr/port $free_port/, qr/Connection refused/);
conn_error('refused connection (-h/-p)', ['scan', '-h', '127.0.0.1', '-p', $free_port, $db],
           qr/Connection refused/);

conn_error('database that does not exist', ['audit', 'fkscan_no_such_db'],
           qr/database "fkscan_no_such_db" does not exist/);
conn_error('database that does not exist (-d, scan)', ['scan', '-d', 'fkscan_no_such_db'],
           qr/database "fkscan_no_such_db" does not exist/);
conn_error('role that does not exist', ['audit', '-U', 'fkscan_no_such_role', $db],
           qr/role "fkscan_no_such_role" does not exist/);

# Passwords: TCP on 127.0.0.1 asks for scram.  A wrong one must fail
# cleanly and never be echoed.
my $role = 'fkscan_cli_pw';
my $right = 'Right-Pw-7h3';
FkTest::psql('postgres', "DROP ROLE IF EXISTS $role; CREATE ROLE $role LOGIN PASSWORD '$right'");
my $wrong_conninfo = 'Wr0ng-In-Conninfo';
my $wrong_env = 'Wr0ng-In-Env';
{
    local $ENV{PGPASSFILE} = '/nonexistent/pgpass';
    delete local $ENV{PGPASSWORD};

    my $err = conn_error('bad password in conninfo',
        ['audit', "host=127.0.0.1 port=$ENV{PGPORT} user=$role dbname=$db password=$wrong_conninfo"],
        qr/password authentication failed for user "$role"/);
    unlike($err, qr/\Q$wrong_conninfo\E/, 'bad password in conninfo: not on stderr');
    unlike($err, qr/password=/, 'bad password in conninfo: the conninfo is not echoed');

    {
        local $ENV{PGPASSWORD} = $wrong_env;
        $err = conn_error('bad password in PGPASSWORD',
            ['audit', '-h', '127.0.0.1', '-U', $role, $db],
            qr/password authentication failed for user "$role"/);
        unlike($err, qr/\Q$wrong_env\E/, 'bad password in PGPASSWORD: not on stderr');

        $err = conn_error('bad password in PGPASSWORD (scan)',
            ['scan', '-h', '127.0.0.1', '-U', $role, $db],
            qr/password authentication failed for user "$role"/);
        unlike($err, qr/\Q$wrong_env\E/, 'bad password in PGPASSWORD (scan): not on stderr');
    }

    conn_error('no password and -w', ['audit', '-w', '-h', '127.0.0.1', '-U', $role, $db],
               qr/no password supplied/);

    # The right password gets in: the failures above were about the password.
    local $ENV{PGPASSWORD} = $right;
    my ($rc, $out, $err2) = FkTest::fkscan('audit', '-h', '127.0.0.1', '-U', $role, $db);
    is($rc, 0, 'right password: exit 0 (an empty database has no broken FK)') or diag($err2);
    is($out, "0 foreign keys\n", 'right password: the empty report');
    unlike($err2, qr/\Q$right\E/, 'right password: not on stderr');
}

FkTest::psql('postgres', "DROP ROLE $role");
done_testing();
