# --baseline and --max-orphans-ratio: a gate that knows the orphans someone
# accepted.  The known/new split is checked against the server's own count
# of the violating rows (RI's test) before and after new orphans arrive.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;
use FkOracle;

my $tmp = tempdir(CLEANUP => 1);
my $db = FkTest::new_db('baseline');
FkTest::psql($db, <<'SQL');
CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE);
CREATE TABLE c (id serial PRIMARY KEY, pid int REFERENCES p);
CREATE TABLE pc (a int, b text, PRIMARY KEY (a, b));
CREATE TABLE "we ""ird" ("a'" int, b text, FOREIGN KEY ("a'", b) REFERENCES pc MATCH FULL);
CREATE TABLE r (k text);
INSERT INTO p SELECT g, 'c' || g FROM generate_series(1, 100) g;
INSERT INTO pc SELECT g, 'b' || g FROM generate_series(1, 20) g;
SET session_replication_role = replica;
INSERT INTO c (pid) SELECT g FROM generate_series(1, 110) g;        -- 10 orphans
INSERT INTO c (pid) VALUES (NULL), (NULL), (105);                   -- exempt, and one more
INSERT INTO "we ""ird" VALUES (1, 'b1'), (2, 'x'), (3, NULL), (NULL, NULL), (NULL, 'b4'), (9, 'b9');
INSERT INTO r SELECT 'c' || g FROM generate_series(95, 104) g;       -- 4 orphans (undeclared)
SQL
my @rel = ('--relation', 'r(k) -> p(code)');

# The server's violating rows per FK, by RI's own test (the oracle's).
sub server_orphans {
    my ($json) = @_;
    return { map { ($_->{constraint} => FkOracle::expected($db, $_)->{orphan_rows}) }
             grep { $_->{declared} } @{ $json->{constraints} } };
}
sub by_name { return { map { ($_->{constraint} => $_) } @{ $_[0]{constraints} } }; }

my ($rc, $first, $err) = FkTest::fkscan_json('scan', @rel, '--orphans-out', "$tmp/accepted.csv", $db);
is($rc, 1, 'first run: orphans, exit 1') or diag($err);
FkOracle::check($db, { constraints => [grep { $_->{declared} } @{ $first->{constraints} }] }, 'first run');
my $before = by_name($first);
is($before->{r_k_fkey}{orphan_rows}, 4, 'the undeclared relationship: 4 orphans');
ok(!exists $before->{c_pid_fkey}{known_orphan_rows}, 'no baseline: no known/new fields');

# Nothing new: exit 0, the known orphans still reported.
my ($rc2, $second) = FkTest::fkscan_json('scan', @rel, '--baseline', "$tmp/accepted.csv", $db);
is($rc2, 0, 'same orphans as the baseline: exit 0');
is($second->{totals}{verdict}, 'tolerated', 'verdict: tolerated');
is($second->{totals}{new_orphan_rows}, 0, 'totals: no new orphan rows');
is($second->{totals}{known_orphan_rows}, $first->{totals}{orphan_rows}, 'totals: every orphan is known');
is($second->{totals}{baseline}, "$tmp/accepted.csv", 'totals: the baseline named');
for my $c (@{ $second->{constraints} }) {
    my $n = $c->{constraint} =~ s/\n/\\n/gr;
    is($c->{orphan_rows}, $before->{$c->{constraint}}{orphan_rows}, "$n: still reported in full");
    is($c->{known_orphan_rows}, $c->{orphan_rows}, "$n: all known");
    is($c->{new_orphan_rows}, 0, "$n: none new");
    ok($c->{tolerated}, "$n: tolerated");
}
is(by_name($second)->{'we "ird_a\'_b_fkey'}{partial_null_rows}, 2, 'MATCH FULL mixed-NULL rows are orphans');

# New orphans arrive: exit 1, and only they count.
FkTest::psql($db, <<'SQL');
SET session_replication_role = replica;
INSERT INTO c (pid) VALUES (500), (501), (105);
INSERT INTO "we ""ird" VALUES (3, NULL), (7, NULL);
INSERT INTO r VALUES ('zz');
SQL
my ($rc3, $third, $err3) = FkTest::fkscan_json('scan', @rel, '--baseline', "$tmp/accepted.csv", $db);
is($rc3, 1, 'new orphans: exit 1') or diag($err3);
is($third->{totals}{verdict}, 'orphans', 'verdict: orphans');
my $after = by_name($third);
FkOracle::forget();    # the data changed
my $server = server_orphans($third);
my %new = (c_pid_fkey => 2, q{we "ird_a'_b_fkey} => 1, r_k_fkey => 1);
for my $name (sort keys %new) {
    my $c = $after->{$name};
    is($c->{new_orphan_rows}, $new{$name}, "$name: the new orphan rows");
    is($c->{known_orphan_rows} + $c->{new_orphan_rows}, $c->{orphan_rows}, "$name: known + new = all");
    is($c->{orphan_rows}, $server->{$name}, "$name: all, as the server counts") if defined $server->{$name};
    ok(!$c->{tolerated}, "$name: not tolerated");
}
# a key already known (105, (3, NULL)) in a new row is known: the key, not the row, was accepted
is($after->{c_pid_fkey}{known_orphan_rows}, $before->{c_pid_fkey}{orphan_rows} + 1, 'a new row with a known key is known');
($rc, my $out) = FkTest::fkscan('scan', @rel, '--baseline', "$tmp/accepted.csv", $db);
like($out, qr/^  14 orphan rows, 12 distinct keys; 2 new, 12 known \(--baseline\)$/m, 'text: new and known');
like($out, qr/^Limits --baseline \(no new orphan row passes\): exceeded \(3 foreign keys over their limits\)\.$/m,
     'text: the gate and why') or diag($out);
my @new_lines = $out =~ /^  new: (.*)$/mg;
is_deeply(\@new_lines, ['c_pid_fkey on public.c, 2 orphan rows not in the baseline',
                        'r_k_fkey on public.r, 1 orphan row not in the baseline',
                        q{"we ""ird_a'_b_fkey" on public."we ""ird", 1 orphan row not in the baseline}],
          'text: a line per FK with new orphans, names quoted') or diag($out);

# Limits apply to the new ones.
($rc) = FkTest::fkscan('scan', @rel, '-q', '--baseline', "$tmp/accepted.csv", '--max-orphans-per-fk', '2', $db);
is($rc, 0, '--max-orphans-per-fk 2 over the new ones: exit 0');
($rc) = FkTest::fkscan('scan', @rel, '-q', '--baseline', "$tmp/accepted.csv", '--max-orphans', '3', $db);
is($rc, 1, '--max-orphans 3: 4 new in all, exit 1');

# --max-orphans-ratio: of the rows with a key (NULL-exempt rows do not count).
($rc, my $json) = FkTest::fkscan_json('scan', '-c', 'c_pid_fkey', '--max-orphans-ratio', '0.1', $db);
my ($cp) = @{ $json->{constraints} };
my $base = $cp->{child_rows} - $cp->{null_rows};
is($base, 114, 'c: 114 rows with a key');
is($cp->{orphan_rows}, 14, 'c: 14 orphan rows');
is($rc, 1, '--max-orphans-ratio 0.1: 14 > 11 rows (11.4 rounded down), exit 1');
cmp_ok(abs($json->{totals}{max_orphans_ratio} - 0.1), '<', 1e-9, 'totals: max_orphans_ratio');
($rc) = FkTest::fkscan('scan', '-q', '-c', 'c_pid_fkey', '--max-orphans-ratio', '0.123', $db);
is($rc, 0, '--max-orphans-ratio 0.123: 14 <= 14.02, exit 0');
($rc) = FkTest::fkscan('scan', '-q', '-c', 'c_pid_fkey', '--max-orphans-ratio', '0.123', '--max-orphans', '13', $db);
is($rc, 1, 'with --max-orphans 13 too: both must hold, exit 1');
($rc) = FkTest::fkscan('scan', '-q', '-c', 'c_pid_fkey', '--max-orphans-ratio', '0.02', '--baseline',
                       "$tmp/accepted.csv", $db);
is($rc, 0, 'ratio over the new ones: 2 <= 2.28, exit 0');

# A JSON report as the baseline: with every key sampled it knows them all.
FkTest::fkscan('scan', @rel, '--sample', '1000', '--format', 'json', '--orphans-out', "$tmp/now.csv", $db);
my ($rc4, $stdout4) = FkTest::fkscan('scan', @rel, '--sample', '1000', '--format', 'json', $db);
open(my $fh, '>', "$tmp/now.json") or die;
print {$fh} $stdout4;
close $fh;
($rc, $json, $err) = FkTest::fkscan_json('scan', @rel, '--baseline', "$tmp/now.json", $db);
is($rc, 0, 'JSON report with every key sampled: exit 0') or diag($err);
is($json->{totals}{new_orphan_rows}, 0, 'JSON baseline: nothing new');
($rc, $json, $err) = FkTest::fkscan_json('scan', @rel, '--baseline', "$tmp/now.csv", $db);
is($json->{totals}{new_orphan_rows}, 0, 'CSV baseline of the same run: nothing new');
FkTest::fkscan('scan', @rel, '--format', 'json', '--orphans-out', "$tmp/x.csv", $db);
($rc4, $stdout4) = FkTest::fkscan('scan', @rel, '--format', 'json', $db);
open($fh, '>', "$tmp/sampled.json") or die;
print {$fh} $stdout4;
close $fh;
($rc, $json, $err) = FkTest::fkscan_json('scan', @rel, '-c', 'c_pid_fkey', '--baseline', "$tmp/sampled.json", $db);
like($err, qr/c_pid_fkey: the baseline is a JSON report that lists only sample keys/, 'sampled JSON: warned');
is($json->{constraints}[0]{known_orphan_rows}, 4 + 3, 'sampled JSON: only the rows of the 5 sampled keys are known (105 thrice)')
    or diag(explain($json->{constraints}[0]));
is($rc, 1, 'sampled JSON: the others are new, exit 1');

# Bad baselines: one line naming the file, exit 2.
open($fh, '>', "$tmp/bad.csv") or die;
print {$fh} "schema,table,constraint,relation,ctid,primary_key,key,where\r\npublic,c,c_pid_fkey,public.c,\"(0,1)\",{},not json,x\r\n";
close $fh;
open($fh, '>', "$tmp/other.csv") or die;
print {$fh} "relation,ctid,id,pid,where\r\n";
close $fh;
open($fh, '>', "$tmp/bad.json") or die;
print {$fh} '{"constraints": [';
close $fh;
for my $case (["$tmp/missing.csv", qr/could not read baseline file ".*missing\.csv": No such file/],
              ["$tmp/bad.csv", qr/baseline file ".*bad\.csv": line 2 is not an --orphans-out row/],
              ["$tmp/other.csv", qr/baseline file ".*other\.csv" is neither an fkscan JSON report nor an --orphans-out CSV file/],
              ["$tmp/bad.json", qr/baseline file ".*bad\.json" is not valid JSON: unexpected end at byte 17/]) {
    my ($file, $re) = @$case;
    ($rc, $out, $err) = FkTest::fkscan('scan', '--baseline', $file, $db);
    is($rc, 2, "baseline $file: exit 2");
    like($err, $re, "baseline $file: named");
}
($rc, $out, $err) = FkTest::fkscan('scan', '--max-orphans-ratio', '1.5', $db);
like($err, qr/invalid value "1.5" for option --max-orphans-ratio/, 'a ratio over 1 is refused');
($rc, $out, $err) = FkTest::fkscan('audit', '--baseline', "$tmp/accepted.csv", $db);
like($err, qr/option --baseline is only for "fkscan scan"/, '--baseline is for scan');

done_testing();
