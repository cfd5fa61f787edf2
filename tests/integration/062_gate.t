# The pipeline gate and the machine-facing outputs: --max-orphans and
# --max-orphans-per-fk around their boundaries (exit 0 at the limit, 1 one
# below it, 2 for errors whatever the limits), the "tolerated" and
# "verdict" fields, --format jsonl read line by line, the summary line on
# stderr, and -q silencing it.
use strict;
use warnings;
use JSON::PP ();
use Test::More;
use File::Temp ();
use FkTest;

my $db = FkTest::new_db('gate');
my $role = 'fkscan_gate_reader';
FkTest::psql($db, <<"SQL");
DROP ROLE IF EXISTS $role;
CREATE ROLE $role LOGIN;
CREATE TABLE p (id int PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 10) g;
CREATE TABLE c0 (pid int REFERENCES p);
CREATE TABLE c2 (pid int REFERENCES p);
CREATE TABLE c3 (pid int REFERENCES p);
CREATE TABLE p_secret (id int PRIMARY KEY);
CREATE TABLE c_secret (pid int REFERENCES p_secret);
INSERT INTO c0 SELECT g FROM generate_series(1, 10) g;
SET session_replication_role = replica;
INSERT INTO c2 VALUES (1), (11), (12);
INSERT INTO c3 VALUES (13), (14), (14), (NULL);
RESET session_replication_role;
GRANT SELECT ON p, c0, c2, c3, c_secret TO $role;
SQL

# c2: 2 orphan rows, c3: 3 (one of them NULL-exempt is not), 5 in all.
my @scope = ('-T', '*secret');

sub gate {
    my ($label, $limits, $want_rc, $want_verdict, $want_tolerated) = @_;
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', @scope, @$limits, $db);
    is($rc, $want_rc, "$label: exit $want_rc") or diag($err);
    is($json->{totals}{verdict}, $want_verdict, "$label: verdict $want_verdict");
    is(!!$json->{totals}{tolerated}, $want_rc == 0, "$label: totals.tolerated");
    is($json->{totals}{orphan_rows}, 5, "$label: every orphan still counted");
    my %tol = map { $_->{table} => ($_->{tolerated} ? 1 : 0) } @{ $json->{constraints} };
    is_deeply(\%tol, $want_tolerated, "$label: tolerated per FK") if $want_tolerated;
    return $json;
}

my %none = (c0 => 1, c2 => 0, c3 => 0);
my %all = (c0 => 1, c2 => 1, c3 => 1);
my $j = gate('no limits', [], 1, 'orphans', \%none);
is($j->{totals}{max_orphans}, undef, 'no limits: max_orphans is null');
is($j->{totals}{max_orphans_per_fk}, undef, 'no limits: max_orphans_per_fk is null');
gate('--max-orphans 0', [qw(--max-orphans 0)], 1, 'orphans', \%none);
gate('--max-orphans 4', [qw(--max-orphans 4)], 1, 'orphans', \%all);
$j = gate('--max-orphans 5', [qw(--max-orphans 5)], 0, 'tolerated', \%all);
is($j->{totals}{max_orphans}, 5, '--max-orphans 5: in the totals');
gate('--max-orphans 2 (c3 alone is over)', [qw(--max-orphans 2)], 1, 'orphans',
     { c0 => 1, c2 => 1, c3 => 0 });
gate('--max-orphans-per-fk 0', [qw(--max-orphans-per-fk 0)], 1, 'orphans', \%none);
gate('--max-orphans-per-fk 2', [qw(--max-orphans-per-fk 2)], 1, 'orphans', { c0 => 1, c2 => 1, c3 => 0 });
$j = gate('--max-orphans-per-fk 3', [qw(--max-orphans-per-fk 3)], 0, 'tolerated', \%all);
is($j->{totals}{max_orphans_per_fk}, 3, '--max-orphans-per-fk 3: in the totals');
gate('both, at the limits', [qw(--max-orphans 5 --max-orphans-per-fk 3)], 0, 'tolerated', \%all);
gate('both, total over', [qw(--max-orphans 4 --max-orphans-per-fk 3)], 1, 'orphans', \%all);
gate('both, one FK over', [qw(--max-orphans 5 --max-orphans-per-fk 2)], 1, 'orphans',
     { c0 => 1, c2 => 1, c3 => 0 });
gate('huge limits', [qw(--max-orphans 9223372036854775807 --max-orphans-per-fk 9223372036854775807)],
     0, 'tolerated', \%all);

# Clean: exit 0 and verdict clean, limits or not.
for my $limits ([], [qw(--max-orphans 0)]) {
    my ($rc, $json) = FkTest::fkscan_json('scan', '-t', 'c0', @$limits, $db);
    is($rc, 0, "clean (@$limits): exit 0");
    is($json->{totals}{verdict}, 'clean', "clean (@$limits): verdict clean");
}

# Errors are never tolerated: a role that cannot read p_secret.
my ($rc, $json, $err) = FkTest::as_role($role, sub {
    FkTest::fkscan_json('scan', '--max-orphans', '1000000', '--max-orphans-per-fk', '1000000', $db) });
is($rc, 2, 'an error with huge limits: exit 2');
is($json->{totals}{verdict}, 'error', 'an error: verdict error');
ok(!$json->{totals}{tolerated}, 'an error: not tolerated');
my %by = map { $_->{table} => $_ } @{ $json->{constraints} };
ok(!$by{c_secret}{tolerated}, 'the FK in error: not tolerated');
ok($by{c2}{tolerated}, 'the others still within the limits');
# ... nor by a baseline that knows every orphan, nor by a ratio of 1
{
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    FkTest::fkscan('scan', '-q', '--orphans-out', "$dir/all.csv", $db);
    ($rc, $json) = FkTest::as_role($role, sub {
        FkTest::fkscan_json('scan', '--baseline', "$dir/all.csv", '--max-orphans-ratio', '1', $db) });
    is($rc, 2, 'an error with a baseline and --max-orphans-ratio 1: exit 2');
    is($json->{totals}{verdict}, 'error', 'with a baseline: verdict error');
}

# The text report: still every orphan, and what the limits made of them.
($rc, my $text, $err) = FkTest::fkscan('scan', @scope, '--max-orphans', '5', '--max-orphans-per-fk', '3', $db);
is($rc, 0, 'text, tolerated: exit 0');
like($text, qr/^  3 orphan rows, 2 distinct keys$/m, 'text, tolerated: the orphans are still listed');
like($text, qr/^  within --max-orphans-per-fk 3: tolerated$/m, 'text, tolerated: per FK');
like($text, qr/^Limits --max-orphans 5 and --max-orphans-per-fk 3: every orphan is within them, tolerated\.$/m,
     'text, tolerated: the verdict');
($rc, $text) = FkTest::fkscan('scan', @scope, '--max-orphans', '4', '--max-orphans-per-fk', '2', $db);
is($rc, 1, 'text, over: exit 1');
like($text, qr/^  over --max-orphans-per-fk 2$/m, 'text, over: the FK over its limit');
like($text, qr/^Limits --max-orphans 4 and --max-orphans-per-fk 2: exceeded \(5 orphan rows in all; 1 foreign key over 2\)\.$/m,
     'text, over: why');
($rc, $text) = FkTest::fkscan('scan', @scope, $db);
unlike($text, qr/^Limits/m, 'text, no limits: no limits line');

# --format jsonl: a line per FK, then the summary; each line parses alone.
($rc, my $out, $err) = FkTest::fkscan('scan', '-j', '2', @scope, '--format', 'jsonl', '--max-orphans', '5', $db);
is($rc, 0, 'jsonl: exit 0 (tolerated)') or diag($err);
like($out, qr/\A(?:\{[^\n]*\}\n)+\z/, 'jsonl: one object per line, each line ended');
my @lines = map { JSON::PP->new->decode($_) } split /\n/, $out;
is(scalar @lines, 4, 'jsonl: 3 FKs and the summary');
is_deeply([map { $_->{type} } @lines], [qw(constraint constraint constraint summary)], 'jsonl: the types, summary last');
# (lines come as FKs finish: the order is the scan's, sorted here)
is_deeply([sort map { $_->{table} } @lines[0 .. 2]], [qw(c0 c2 c3)], 'jsonl: every FK once');
@lines[0 .. 2] = sort { $a->{table} cmp $b->{table} } @lines[0 .. 2];
ok(!grep({ $_->{tool} ne 'fkscan' || $_->{database} ne $db } @lines), 'jsonl: every line names the tool and the database');
is_deeply($lines[-1]{totals}, { constraints => 3, with_orphans => 2, orphan_rows => 5, errors => 0, incomplete => 0, disagreements => 0,
                                 max_orphans => 5, max_orphans_per_fk => undef,
                                 tolerated => JSON::PP::true, verdict => 'tolerated' },
          'jsonl: the summary line has the totals');
ok(!exists $lines[-1]{constraints}, 'jsonl: the summary has no constraints[]');
# the constraint lines are the JSON report's objects, plus type, tool and database
my ($jrc, $full) = FkTest::fkscan_json('scan', '-j', '2', @scope, '--max-orphans', '5', $db);
for my $i (0 .. 2) {
    my %line = %{ $lines[$i] };
    my %obj = %{ $full->{constraints}[$i] };
    delete @line{qw(type tool database elapsed_s snapshot finished_at)};
    delete @obj{qw(elapsed_s snapshot finished_at)};
    is_deeply(\%line, \%obj, "jsonl: line $i is constraints[$i]");
}

# The summary line on stderr, for logs; stdout stays the report.
for my $format (qw(text json jsonl)) {
    ($rc, $out, $err) = FkTest::fkscan('scan', @scope, '--format', $format, $db);
    like($err, qr/\Afkscan: scan of "gate": 3 foreign keys, 2 with orphans \(5 rows\), 0 errors, \d+\.\d\d s\n\z/,
         "$format: one summary line on stderr");
    unlike($out, qr/fkscan: scan of/, "$format: not on stdout");
}
($rc, $out, $err) = FkTest::fkscan('scan', '-t', 'c2', '--max-orphans', '2', $db);
like($err, qr/\Afkscan: scan of "gate": 1 foreign key, 1 with orphans \(2 rows\), 0 errors, \d+\.\d\d s, tolerated by the limits\n\z/,
     'summary: singular, and tolerated');
($rc, $out, $err) = FkTest::fkscan('scan', '-t', 'c2', '--max-orphans', '1', $db);
like($err, qr/, over the limits\n\z/, 'summary: over the limits');
($rc, $out, $err) = FkTest::fkscan('scan', '-t', 'c0', $db);
like($err, qr/\Afkscan: scan of "gate": 1 foreign key, 0 with orphans \(0 rows\), 0 errors, \d+\.\d\d s\n\z/,
     'summary: clean');
($rc, $out, $err) = FkTest::as_role($role, sub { FkTest::fkscan('scan', $db) });
like($err, qr/^fkscan: scan of "gate": 4 foreign keys, 2 with orphans \(5 rows\), 1 error, \d+\.\d\d s$/m,
     'summary: with an error, after the error messages');
for my $q ('-q', '--quiet') {
    ($rc, $out, $err) = FkTest::fkscan('scan', @scope, $q, $db);
    is($rc, 1, "$q: exit 1");
    is($err, '', "$q: nothing on stderr");
    like($out, qr/^3 foreign keys: 1 clean, 2 with orphans/m, "$q: the report is still on stdout");
}

# Bad values and misplaced options: exit 2, one error line naming the culprit.
sub usage_error {
    my ($args, $culprit) = @_;
    my ($rc, $out, $err) = FkTest::fkscan(@$args);
    is($rc, 2, "@$args: exit 2");
    is($out, '', "@$args: nothing on stdout");
    my @errors = grep { /^fkscan: error: / } split /\n/, $err;
    is(scalar @errors, 1, "@$args: one error line") or diag($err);
    like($errors[0] // '', $culprit, "@$args: names the culprit");
}
usage_error(['scan', '--max-orphans', '-1', $db], qr/invalid value "-1" for option --max-orphans$/);
usage_error(['scan', '--max-orphans=1.5', $db], qr/invalid value "1\.5" for option --max-orphans$/);
usage_error(['scan', '--max-orphans-per-fk', 'many', $db], qr/invalid value "many" for option --max-orphans-per-fk/);
usage_error(['scan', '--max-orphans-per-fk', '', $db], qr/invalid value "" for option --max-orphans-per-fk/);
usage_error(['scan', '--max-orphans', '99999999999999999999', $db], qr/invalid value "9+" for option --max-orphans$/);
usage_error(['audit', '--max-orphans', '3', $db], qr/option --max-orphans is only for "fkscan scan"/);
usage_error(['audit', '--format', 'jsonl', $db], qr/invalid value "jsonl" for option --format/);

# --help mentions them, and still fits a screen.
($rc, $out) = FkTest::fkscan('scan', '--help');
like($out, qr/^\s+--max-orphans=NUM\s/m, 'scan --help: --max-orphans');
like($out, qr/^\s+--max-orphans-per-fk=NUM\s/m, 'scan --help: --max-orphans-per-fk');
like($out, qr/^\s+--format=text\|json\|jsonl\s/m, 'scan --help: jsonl');
cmp_ok(scalar(split /\n/, $out), '<=', 56, 'scan --help: fits a screen');
ok(!grep({ length > 80 } split /\n/, $out), 'scan --help: no line over 80 columns');

FkTest::psql($db, "DROP OWNED BY $role; DROP ROLE $role");
done_testing();
