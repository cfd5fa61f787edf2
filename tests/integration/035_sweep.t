# Long sweeps (issue #10): --max-rate holds its rate, --format jsonl streams
# each FK's line as it finishes, --max-time stops at the budget (finished
# FKs final, the rest "incomplete", exit 2), --state resumes a stopped or
# killed run to the same answer as an uninterrupted one, and --order
# decides which FKs finish first.  Every count is checked against the
# server's own anti-join.
use strict;
use warnings;
use File::Temp qw(tempdir tempfile);
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(usleep time);
use FkTest;
use FkOracle;
use FkSchema;

my $db = FkTest::new_db('sweep');
FkTest::psql($db, <<'SQL');
CREATE TABLE p (id bigint PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 20000) g;
CREATE TABLE tags (name text PRIMARY KEY);
INSERT INTO tags SELECT 'tag' || g FROM generate_series(1, 5000) g;
CREATE TABLE c1 (pid bigint REFERENCES p);
CREATE TABLE c2 (pid bigint REFERENCES p);
CREATE TABLE c3 (pid bigint REFERENCES p);
CREATE TABLE c4 (pid bigint REFERENCES p);
CREATE TABLE ct (tag text REFERENCES tags);
SET session_replication_role = replica;
INSERT INTO c1 SELECT CASE WHEN g <= 3 THEN 100000 + g ELSE g END FROM generate_series(1, 1000) g;
INSERT INTO c2 SELECT CASE WHEN g % 4000 = 0 THEN 200000 + g % 3 ELSE g END FROM generate_series(1, 20000) g;
INSERT INTO c3 SELECT g % 20000 + 1 FROM generate_series(1, 60000) g;
INSERT INTO c4 SELECT CASE WHEN g % 20000 = 7 THEN NULL WHEN g <= 7 THEN -g ELSE g % 20000 + 1 END
    FROM generate_series(1, 150000) g;
INSERT INTO ct SELECT 'tag' || (g % 5002 + 1) FROM generate_series(1, 5000) g;
ANALYZE;
SQL
my $rows_all = 20000 + 5000 + 1000 + 20000 + 60000 + 150000 + 5000;
my $dir = tempdir(CLEANUP => 1);

# The per-FK fields that must be equal between two runs of the same data.
sub comparable {
    my ($c) = @_;
    my %o = %$c;
    delete @o{qw(type tool database elapsed_s snapshot finished_at resumed resumed_chunks chunk_snapshots)};
    return \%o;
}

sub by_name { return { map { ($_->{table} => $_) } @_ } }

# The reference: one uninterrupted, unthrottled run.
my ($rc, $ref, $err) = FkTest::fkscan_json('scan', '-j', '2', $db);
is($rc, 1, 'reference run: exit 1') or diag($err);
FkOracle::check($db, $ref, 'reference');
my %ref = %{ by_name(@{ $ref->{constraints} }) };
is(scalar keys %ref, 5, 'five FKs');

# Start fkscan in the background; returns (pid, stdout file, stderr file).
my $scan_db;    # another database than $db
sub start_scan {
    my @args = @_;
    my ($outfh, $out) = tempfile(DIR => $dir);
    my ($errfh, $errf) = tempfile(DIR => $dir);
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>&', $outfh) or POSIX::_exit(127);
        open(STDERR, '>&', $errfh) or POSIX::_exit(127);
        exec($ENV{FKSCAN}, 'scan', @args, $scan_db // $db) or POSIX::_exit(127);
    }
    return ($pid, $out, $errf);
}

# ---- 1. --max-rate holds, and jsonl lines stream as FKs finish ----
my $rate = 25000;
my ($pid, $outf, $errf) = start_scan('-j', '2', '--max-rate', $rate, '--format', 'jsonl');
my ($first_at, $still_running);
for (1 .. 3000) {
    if (FkTest::slurp($outf) =~ /\A\{[^\n]*\}\n/) {
        $first_at = time;
        $still_running = waitpid($pid, POSIX::WNOHANG()) == 0;
        last;
    }
    usleep(10_000);
}
ok(defined $first_at, 'jsonl: a first line appeared');
ok($still_running, 'jsonl: ... while the scan was still running');
waitpid($pid, 0);
is($? >> 8, 1, 'throttled jsonl run: exit 1') or diag(FkTest::slurp($errf));
my @lines = map { JSON::PP->new->decode($_) } split /\n/, FkTest::slurp($outf);
my $summary = pop @lines;
is($summary->{type}, 'summary', 'jsonl: the summary comes last');
is(scalar @lines, 5, 'jsonl: a line per FK');
for my $l (@lines) {
    is_deeply(comparable($l), comparable($ref{ $l->{table} }),
              "jsonl: the line of $l->{table} is its JSON report object");
}
# the rate over the whole run (connections, catalog and all): never over
# it.  A floor would fail on a slow or sanitized build, never for a bug of
# the throttle: how close it gets is bench/rate.sh's to measure.
is($summary->{rows_read}, $rows_all, 'throttled: every row read');
cmp_ok($summary->{elapsed_s}, '>=', $rows_all / $rate * 0.9, 'throttled: it took its time');
cmp_ok($summary->{rows_per_s}, '<=', $rate * 1.10, "--max-rate $rate: at most 10% over");
diag(sprintf('--max-rate %d: achieved %.0f rows/s over %.1f s', $rate, $summary->{rows_per_s},
             $summary->{elapsed_s}));

# the text report says what rate it kept
($rc, my $rtext, $err) = FkTest::fkscan('scan', '-t', 'c1', '--max-rate', '1MB', $db);
is($rc, 1, 'text with --max-rate: exit 1') or diag($err);
like($rtext, qr/^Read 21000 rows \([\d.]+ MB\) at \d+ rows\/s, [\d.]+ MB\/s \(--max-rate 1MB\)\.$/m,
     'text: the achieved rate');

# ---- 1b. a reader that stops after the first line stops the scan ----
# (#14: `--format jsonl | head -1` ran to the end after the pipe broke)
{
    my $errf = "$dir/head.err";
    my $t = time;
    local @ENV{qw(DB)} = ($db);
    open(my $ph, '-|', 'bash', '-c',
         qq{"\$FKSCAN" scan -j 2 --max-rate $rate --format jsonl "\$DB" 2>"$errf" | head -1; echo "rc=\${PIPESTATUS[0]}"})
        or die "bash: $!";
    my @out = <$ph>;
    close($ph);
    my $took = time - $t;
    is(scalar @out, 2, 'jsonl | head -1: one line, then the exit status') or diag(@out);
    like($out[0] // '', qr/\A\{"type":"constraint"/, 'jsonl | head -1: the line is an FK\'s');
    is($out[1] // '', "rc=2\n", 'jsonl | head -1: fkscan exits 2 (stopped)');
    like(FkTest::slurp($errf), qr/^fkscan: canceling: the report's reader went away$/m,
         'jsonl | head -1: stderr says why it stopped');
    # the whole run needs ~10 s at this rate: stopping takes one 200 ms tick
    cmp_ok($took, '<', $rows_all / $rate / 2, 'jsonl | head -1: stopped long before the end')
        or diag("took $took s");
}

# ---- 2. --order: which FKs finish first (one job: one at a time) ----
for my $order (qw(size name catalog)) {
    ($rc, my $out, $err) = FkTest::fkscan('scan', '-j', '1', '--order', $order, '--format', 'jsonl', $db);
    is($rc, 1, "--order $order: exit 1") or diag($err);
    my @t = map { /"table":"([^"]+)"/ ? $1 : () } grep { /"type":"constraint"/ } split /\n/, $out;
    my @want = $order eq 'size' ? qw(c1 ct c2 c3 c4) : qw(c1 c2 c3 c4 ct);
    is("@t", "@want", "--order $order: FKs finish in that order");
}

# ---- 3. --max-time: a budget that runs out mid-scan ----
# parents take ~1 s at this rate, then c1, ct and c2 ~1 s more; c3 and c4
# need ~8 s: a 3.5 s budget ends inside them
my $state = "$dir/sweep.state";
my $t0 = time;
($rc, my $part, $err) = FkTest::fkscan_json('scan', '-j', '2', '--max-rate', $rate, '--max-time', '3.5s',
                                            '--state', $state, $db);
my $took = time - $t0;
is($rc, 2, '--max-time: exit 2 (incomplete)') or diag($err);
ok($part->{budget_expired}, '--max-time: budget_expired');
cmp_ok($took, '<', 3.5 + 3, '--max-time: stopped near the budget') or diag("took $took s");
like($err, qr/--max-time 3\.5 s reached/, '--max-time: stderr says so');
my (@final, @incomplete);
for my $c (@{ $part->{constraints} }) {
    if ($c->{status} eq 'incomplete') {
        push @incomplete, $c;
        is_deeply([@$c{qw(child_rows orphan_rows orphan_keys)}], [0, 0, 0],
                  "--max-time: $c->{table} incomplete, nothing half-counted");
    }
    else {
        push @final, $c;
    }
}
is_deeply([sort map { $_->{table} } @final], [qw(c1 c2 ct)], '--max-time: the smallest FKs finished');
is_deeply([sort map { $_->{table} } @incomplete], [qw(c3 c4)], '--max-time: the largest are incomplete');
FkOracle::check($db, { constraints => \@final }, '--max-time finished');
is($part->{totals}{incomplete}, 2, '--max-time: totals.incomplete');
is($part->{totals}{verdict}, 'error', '--max-time: verdict error');
my $schema = FkSchema::load(FkTest::source_dir() . '/src/schema/fkscan-scan.schema.json');
is_deeply([FkSchema::validate($schema, $part)], [], '--max-time: the report is valid against the schema');

# ---- 4. --state: the same file resumes the rest ----
($rc, my $resumed, $err) = FkTest::fkscan_json('scan', '-j', '2', '--state', $state, $db);
is($rc, 1, 'resumed: exit 1') or diag($err);
is($resumed->{resumed_constraints}, 3, 'resumed: three FKs from the state file');
for my $c (@{ $resumed->{constraints} }) {
    my $was_done = grep { $_->{table} eq $c->{table} } @final;
    is(!!$c->{resumed}, !!$was_done, "resumed: $c->{table} resumed or read");
    if ($was_done) {
        isnt($c->{snapshot}, $resumed->{snapshot}, "resumed: $c->{table} names the earlier snapshot");
        is($c->{snapshot}, $part->{snapshot}, "resumed: $c->{table} from the first run's snapshot");
    }
    else {
        is($c->{snapshot}, $resumed->{snapshot}, "resumed: $c->{table} read on this run's snapshot");
    }
    is_deeply(comparable($c), comparable($ref{ $c->{table} }), "resumed: $c->{table} as in an uninterrupted run");
}
is_deeply($resumed->{totals}, $ref->{totals}, 'resumed: the totals of an uninterrupted run');
is_deeply([FkSchema::validate($schema, $resumed)], [], 'resumed: the report is valid against the schema');
FkOracle::check($db, $resumed, 'resumed');
# everything is done now: a third run reads nothing
($rc, my $again, $err) = FkTest::fkscan_json('scan', '-j', '2', '--state', $state, $db);
is($rc, 1, 'all resumed: exit 1');
is($again->{resumed_constraints}, 5, 'all resumed: nothing read again');
is($again->{rows_read}, 0, 'all resumed: no row read');
is_deeply($again->{totals}, $ref->{totals}, 'all resumed: same totals');
# text: which parts came from which snapshot
($rc, my $text, $err) = FkTest::fkscan('scan', '--state', $state, $db);
like($text, qr/5 foreign keys finished in earlier runs \(--state\), not read again/, 'text: says what was resumed');

# ---- 5. kill -9 mid-run, then resume ----
my $state2 = "$dir/killed.state";
($pid, $outf, $errf) = start_scan('-j', '2', '--max-rate', $rate, '--state', $state2);
my $recorded = 0;
for (1 .. 3000) {
    $recorded = () = (-e $state2 ? FkTest::slurp($state2) : '') =~ /^end\t/mg;
    last if $recorded >= 2;
    usleep(10_000);
}
ok(waitpid($pid, POSIX::WNOHANG()) == 0, 'kill -9: the scan still runs');
kill 'KILL', $pid;
waitpid($pid, 0);
cmp_ok($recorded, '>=', 2, 'kill -9: the state file had finished FKs');
($rc, $resumed, $err) = FkTest::fkscan_json('scan', '-j', '2', '--state', $state2, $db);
is($rc, 1, 'after kill -9: exit 1') or diag($err);
cmp_ok($resumed->{resumed_constraints}, '>=', 2, 'after kill -9: finished FKs resumed');
for my $c (@{ $resumed->{constraints} }) {
    is_deeply(comparable($c), comparable($ref{ $c->{table} }), "after kill -9: $c->{table} as uninterrupted");
}
is_deeply($resumed->{totals}, $ref->{totals}, 'after kill -9: same totals');
FkOracle::check($db, $resumed, 'after kill -9');

# A record torn by a crash is dropped, and the FK read again.
open(my $fh, '>>', $state2) or die;
print {$fh} "fk\t12345\tpublic\tc9";
close $fh;
($rc, $resumed, $err) = FkTest::fkscan_json('scan', '--state', $state2, $db);
is($rc, 1, 'torn record: exit 1') or diag($err);
like($err, qr/dropping a record a crash left unfinished/, 'torn record: a warning');
is(FkTest::slurp($state2) =~ /c9/ ? 1 : 0, 0, 'torn record: cut off');

# ---- 6. state files that do not fit ----
($rc, my $out, $err) = FkTest::fkscan('scan', '-t', 'c1', '--state', $state, $db);
is($rc, 2, 'another selection: exit 2');
like($err, qr/state file ".*" belongs to another scan/, 'another selection: says so');
my $bad = "$dir/garbled.state";
open($fh, '>', $bad) or die;
print {$fh} "hello\nworld\n";
close $fh;
($rc, $out, $err) = FkTest::fkscan('scan', '--state', $bad, $db);
is($rc, 2, 'garbled state file: exit 2');
like($err, qr/state file ".*garbled.state" is not a valid fkscan state file \(line 1\)/, 'garbled: says so');
($rc, $out, $err) = FkTest::fkscan('scan', '--state', "$dir/no/such/dir/x.state", $db);
is($rc, 2, 'unwritable state file: exit 2');
like($err, qr/could not create state file/, 'unwritable: says so');

# ---- 7. resumed results keep samples, cascades and --compare ----
# A filter (-t orders) makes cascades reach outside the selection: the
# resumed run must find those tables again.
my $db2 = FkTest::new_db('sweep_cascade');
FkTest::psql($db2, <<'SQL');
CREATE TABLE customers (id int PRIMARY KEY);
INSERT INTO customers SELECT g FROM generate_series(1, 100) g;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers);
CREATE TABLE order_items (order_id int REFERENCES orders ON DELETE CASCADE, n int);
CREATE TABLE regions (code text, zone int, PRIMARY KEY (code, zone));
INSERT INTO regions VALUES ('n', 1), ('s', 2);
CREATE TABLE depots (code text, zone int, FOREIGN KEY (code, zone) REFERENCES regions MATCH FULL);
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE labels (name citext PRIMARY KEY);
INSERT INTO labels VALUES ('Red'), ('Blue');
CREATE TABLE labelled (label citext REFERENCES labels);
SET session_replication_role = replica;
INSERT INTO labelled VALUES ('red'), ('BLUE'), ('green');
INSERT INTO orders SELECT g, CASE WHEN g % 10 = 0 THEN 1000 + g ELSE g END FROM generate_series(1, 200) g;
INSERT INTO order_items SELECT g % 200 + 1, g FROM generate_series(1, 600) g;
INSERT INTO depots VALUES ('n', 1), ('e', 3), ('s', NULL), (NULL, NULL), ('w	x', 4);
SQL
my @sel = ('-t', 'orders', '-t', 'depots', '-t', 'labelled', '--compare', 'server');
($rc, my $ref2, $err) = FkTest::fkscan_json('scan', '-j', '2', @sel, $db2);
is($rc, 1, 'cascade reference: exit 1') or diag($err);
ok((grep { @{ $_->{cascade} } } @{ $ref2->{constraints} }), 'cascade reference: a cascade step');
is_deeply([sort map { $_->{method} } @{ $ref2->{constraints} }], [qw(bitmap hash server)],
          'cascade reference: integer, hashed and server-side FKs');
my $state3 = "$dir/cascade.state";
($rc, my $first, $err) = FkTest::fkscan_json('scan', '-j', '2', @sel, '--state', $state3, $db2);
is($rc, 1, 'cascade, recorded: exit 1') or diag($err);
($rc, my $second, $err) = FkTest::fkscan_json('scan', '-j', '2', @sel, '--state', $state3, $db2);
is($rc, 1, 'cascade, resumed: exit 1') or diag($err);
is($second->{resumed_constraints}, 3, 'cascade, resumed: every FK from the state file');
is($second->{rows_read}, 0, 'cascade, resumed: nothing read');
my %r2 = %{ by_name(@{ $ref2->{constraints} }) };
for my $c (@{ $second->{constraints} }) {
    my ($got, $want) = (comparable($c), comparable($r2{ $c->{table} }));
    delete $_->{compare}{server_elapsed_s} for $got, $want;
    delete $_->{compare}{ratio} for $got, $want;
    is_deeply($got, $want, "cascade, resumed: $c->{table} as uninterrupted (samples, cascade, compare)");
}
FkOracle::check($db2, $second, 'cascade, resumed');

# ---- 8. chunk records: one big child (an integer and a text FK in one
# pass), killed or stopped inside it, resumes chunk by chunk ----
my $version = FkTest::psql('postgres', 'SHOW server_version_num');
SKIP: {
skip('chunk records need TID Range Scans (PostgreSQL 14+); this server is ' . $version, 1)
    if $version < 140000;
my $db3 = FkTest::new_db('sweep_chunks');
FkTest::psql($db3, <<'SQL');
CREATE TABLE p (id bigint PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 20000) g;
CREATE TABLE tags (name text PRIMARY KEY);
INSERT INTO tags SELECT 'tag' || g FROM generate_series(1, 5000) g;
CREATE TABLE big (pid bigint REFERENCES p, tag text REFERENCES tags);
SET session_replication_role = replica;
INSERT INTO big SELECT CASE WHEN g % 9973 = 0 THEN 900000 + g % 5 ELSE g % 20000 + 1 END,
                       CASE WHEN g % 7919 = 0 THEN 'nope' || g % 3 WHEN g % 1000 = 0 THEN NULL
                            ELSE 'tag' || (g % 5000 + 1) END
    FROM generate_series(1, 100000) g;
ANALYZE;
SQL
($rc, my $ref3, $err) = FkTest::fkscan_json('scan', '-j', '2', $db3);
is($rc, 1, 'chunks reference: exit 1') or diag($err);
my %r3 = map { ($_->{constraint} => $_) } @{ $ref3->{constraints} };
my @slow = ('-j', '2', '--chunk-size', '80kB', '--max-rate', 20000);
sub check_chunk_resume {
    my ($what, $got) = @_;
    for my $c (@{ $got->{constraints} }) {
        cmp_ok($c->{resumed_chunks} // 0, '>=', 2, "$what: $c->{constraint} took recorded chunks");
        is(scalar @{ $c->{chunk_snapshots} // [] }, 1, "$what: $c->{constraint} names their snapshot");
        is_deeply(comparable($c), comparable($r3{ $c->{constraint} }),
                  "$what: $c->{constraint} as uninterrupted (counts, keys, samples)");
    }
    is_deeply($got->{totals}, $ref3->{totals}, "$what: same totals");
    is_deeply([FkSchema::validate($schema, $got)], [], "$what: valid against the schema");
    FkOracle::check($db3, $got, $what);
}
my $state4 = "$dir/chunks.state";
$scan_db = $db3;
($pid, $outf, $errf) = start_scan(@slow, '--state', $state4);
$scan_db = undef;
my $chunks = 0;
for (1 .. 3000) {
    $chunks = () = (-e $state4 ? FkTest::slurp($state4) : '') =~ /^end\tchunk$/mg;
    last if $chunks >= 3;
    usleep(10_000);
}
ok(waitpid($pid, POSIX::WNOHANG()) == 0, 'chunks, kill -9: the scan still runs');
kill 'KILL', $pid;
waitpid($pid, 0);
cmp_ok($chunks, '>=', 3, 'chunks, kill -9: chunk records written');
is(FkTest::slurp($state4) =~ /^fk\t/m ? 1 : 0, 0, 'chunks, kill -9: no FK finished');
# a chunk record torn by the crash is cut off
open($fh, '>>', $state4) or die;
print {$fh} "chunk\t1\t2\t3\t\\N\tx\ncfk\t9";
close $fh;
($rc, my $res3, $err) = FkTest::fkscan_json('scan', '-j', '2', '--chunk-size', '80kB', '--state', $state4, $db3);
is($rc, 1, 'chunks, after kill -9: exit 1') or diag($err);
like($err, qr/dropping a record a crash left unfinished/, 'chunks: the torn chunk record dropped');
cmp_ok($res3->{rows_read}, '<', $ref3->{rows_read}, 'chunks, after kill -9: recorded chunks not read again');
check_chunk_resume('chunks, after kill -9', $res3);
($rc, my $text3, $err) = FkTest::fkscan('scan', '--state', $state4, $db3);
like($text3, qr/2 foreign keys finished in earlier runs/, 'chunks: then the FK records supersede them');

# --max-time ending inside the big child, then a resume
my $state5 = "$dir/chunks-budget.state";
($rc, my $part3, $err) = FkTest::fkscan_json('scan', @slow, '--max-time', '3s', '--state', $state5, $db3);
is($rc, 2, 'chunks, --max-time: exit 2') or diag($err);
is($part3->{totals}{incomplete}, 2, 'chunks, --max-time: both FKs incomplete');
($rc, $res3, $err) = FkTest::fkscan_json('scan', '-j', '2', '--state', $state5, $db3);
is($rc, 1, 'chunks, after --max-time: exit 1') or diag($err);
check_chunk_resume('chunks, after --max-time', $res3);
($rc, $text3, $err) = FkTest::fkscan('scan', '-j', '2', '--chunk-size', '80kB', '--state', "$dir/text.state",
                                     '--max-time', '2s', '--max-rate', 20000, $db3);
($rc, $text3, $err) = FkTest::fkscan('scan', '-j', '2', '--state', "$dir/text.state", $db3);
like($text3, qr/read partly in earlier runs \(--state chunks/, 'chunks, text: says which parts came from earlier runs');

# the data changes between the runs: recorded orphans that have a parent
# now are orphans no more (integer keys re-checked, candidates confirmed)
my $state6 = "$dir/chunks-changed.state";
($rc, $part3, $err) = FkTest::fkscan_json('scan', @slow, '--max-time', '3s', '--state', $state6, $db3);
is($rc, 2, 'chunks, data changed: the first run stopped') or diag($err);
like(FkTest::slurp($state6), qr/^okey\t900004\t/m, 'chunks, data changed: an orphan key recorded');
like(FkTest::slurp($state6), qr/^ocand\t.*\t6e6f706532$/m, 'chunks, data changed: a candidate recorded');
FkTest::psql($db3, "INSERT INTO p VALUES (900004); INSERT INTO tags VALUES ('nope2');");
FkOracle::forget();
($rc, $res3, $err) = FkTest::fkscan_json('scan', '-j', '2', '--state', $state6, $db3);
is($rc, 1, 'chunks, data changed: exit 1') or diag($err);
ok((grep { ($_->{resumed_chunks} // 0) > 0 } @{ $res3->{constraints} }) == 2,
   'chunks, data changed: recorded chunks used');
FkOracle::check($db3, $res3, 'chunks, data changed');
cmp_ok($res3->{totals}{orphan_rows}, '<', $ref3->{totals}{orphan_rows}, 'chunks, data changed: fewer orphans');
}

# ---- 9. bad values ----
for my $case (['--max-time', 'foo', qr/invalid value "foo" for option --max-time/],
              ['--max-time', '0', qr/invalid value "0" for option --max-time/],
              ['--order', 'bogus', qr/invalid value "bogus" for option --order/]) {
    ($rc, $out, $err) = FkTest::fkscan('scan', $case->[0], $case->[1], $db);
    is($rc, 2, "$case->[0] $case->[1]: exit 2");
    like($err, qr/\Afkscan: error: /, "$case->[0] $case->[1]: an error line");
    like($err, $case->[2], "$case->[0] $case->[1]: names the value");
}
($rc, $out, $err) = FkTest::fkscan('audit', '--state', 'x', $db);
is($rc, 2, 'audit --state: exit 2 (scan only)');

done_testing();
