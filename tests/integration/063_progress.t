# Progress: with -P a live line per phase on stderr (rows, MB, rate, ETA),
# never mixed into stdout; without a terminal and without -P, none.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use FkTest;

my $db = FkTest::new_db('progress');
FkTest::psql($db, <<'SQL');
CREATE TABLE p (id bigint PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 20000) g;
CREATE TABLE c (pid bigint REFERENCES p);
INSERT INTO c SELECT g % 20000 + 1 FROM generate_series(1, 300000) g;
SQL

# --max-rate keeps the scan going for a few progress ticks
my ($rc, $out, $err) = FkTest::fkscan('scan', '-P', '--max-rate', '150000', '--chunk-size', '64kB',
                                      '--format', 'json', $db);
is($rc, 0, '-P: exit 0');
my $json = eval { JSON::PP->new->decode($out) };
ok($json, '-P: stdout is only the JSON report');
cmp_ok($json->{rows_per_s}, '<=', 150000 * 1.05, '--max-rate 150000: the rate is held');
cmp_ok($json->{rows_read}, '==', 320000, 'every row of both tables was read');
like($err, qr/parents: \d+\/\d+ chunks, [\d.]+ M rows, \d+ MB, [\d.]+ M rows\/s, [\d.]+ s/, '-P: a parents line');
like($err, qr/children: \d+\/\d+ chunks, [\d.]+ M rows/, '-P: a children line');
my $version = FkTest::psql('postgres', 'SHOW server_version_num');
SKIP: {
    # the ETA comes from the pages of finished chunks; before 14 (no TID
    # range scans) a relation is one chunk, so there is none mid-relation
    skip("one chunk per relation before PostgreSQL 14 (this is $version): no ETA mid-table", 1)
        if $version < 140000;
    like($err, qr/ETA \d+ s/, '-P: an ETA while it runs');
}

# One chunk per relation (-j 1, as for a table above shared_buffers / 4):
# the ETA comes from the rows read against reltuples, on every major.
FkTest::psql($db, 'ANALYZE');
($rc, $out, $err) = FkTest::fkscan('scan', '-j', '1', '-P', '--max-rate', '150000', $db);
is($rc, 0, '-j 1 -P: exit 0');
like($err, qr/children: \d+\/1 chunks, [^\r\n]*ETA \d+ s/, '-j 1: an ETA mid-relation, from the estimate');

($rc, $out, $err) = FkTest::fkscan('scan', $db);
is($rc, 0, 'no -P: exit 0');
unlike($err, qr/chunks,/, 'no terminal, no -P: no progress');
($rc, $out, $err) = FkTest::fkscan('scan', '-P', '--no-progress', $db);
unlike($err, qr/chunks,/, '--no-progress wins when given last');

done_testing();
