# Differential tests of "fkscan scan" on integer keys: for every FK, the
# counts must equal the server's own anti-join, whatever the shape of the
# data, the number of jobs, the chunk size or the fetch method.
use strict;
use warnings;
use Test::More;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('scan_int');
FkTest::psql($db, <<'SQL');
CREATE TABLE p8 (id bigint PRIMARY KEY);
INSERT INTO p8 SELECT g FROM generate_series(1, 20000) g;
INSERT INTO p8 VALUES (-5), (-1), (0), (4294967295), (4294967296), (-4294967296),
    (9223372036854775807), (-9223372036854775808);
CREATE TABLE p4 (id int PRIMARY KEY);
INSERT INTO p4 SELECT g FROM generate_series(-1000, 1000) g;
CREATE TABLE p2 (id smallint PRIMARY KEY);
INSERT INTO p2 SELECT g FROM generate_series(1, 300) g;
CREATE TABLE p_empty (id bigint PRIMARY KEY);

CREATE TABLE c_none (id serial, pid bigint REFERENCES p8);
CREATE TABLE c_all (id serial, pid bigint REFERENCES p8);
CREATE TABLE c_last (id serial, pid bigint REFERENCES p8);
CREATE TABLE c_empty (id serial, pid bigint REFERENCES p8);
CREATE TABLE c_to_empty (id serial, pid bigint REFERENCES p_empty);
CREATE TABLE c_nulls (id serial, pid bigint REFERENCES p8);
CREATE TABLE c_edges (id serial, pid bigint REFERENCES p8);
CREATE TABLE c_i4 (id serial, pid int REFERENCES p8);
CREATE TABLE c_i8_to_i2 (id serial, pid bigint REFERENCES p2);
CREATE TABLE c_multi (id serial,
    a bigint REFERENCES p8, b int REFERENCES p4, c smallint REFERENCES p2,
    d bigint CONSTRAINT c_multi_d_fkey REFERENCES p8);
CREATE TABLE emp (id bigint PRIMARY KEY, manager bigint REFERENCES emp);

-- orphans arrive the way bulk loads bring them: with RI triggers not firing
SET session_replication_role = replica;
INSERT INTO c_none (pid) SELECT CASE WHEN g % 10 = 0 THEN NULL ELSE g % 20000 + 1 END
    FROM generate_series(1, 30000) g;
INSERT INTO c_all (pid) SELECT 30000 + g % 5000 FROM generate_series(1, 12000) g;
INSERT INTO c_last (pid) SELECT g % 20000 + 1 FROM generate_series(1, 50000) g;
INSERT INTO c_last (pid) VALUES (20001), (20002), (20001);
INSERT INTO c_to_empty (pid) SELECT g FROM generate_series(1, 700) g;
INSERT INTO c_nulls (pid) SELECT NULL FROM generate_series(1, 500);
INSERT INTO c_edges (pid) VALUES (4294967295), (4294967296), (4294967297), (4294967294),
    (-4294967296), (-4294967297), (-4294967295), (9223372036854775807),
    (9223372036854775806), (-9223372036854775808), (-9223372036854775807),
    (-1), (-2), (0), (NULL), (2147483648), (-2147483649);
INSERT INTO c_i4 (pid) SELECT g FROM generate_series(-10, 25000, 7) g;
INSERT INTO c_i8_to_i2 (pid) VALUES (1), (300), (301), (32767), (32768), (-32769), (65537), (NULL);
INSERT INTO c_multi (a, b, c, d)
    SELECT g % 21000, g % 2100 - 1050, (g % 320)::smallint,
           CASE WHEN g % 3 = 0 THEN NULL ELSE g % 20500 END
    FROM generate_series(1, 40000) g;
INSERT INTO emp SELECT g, CASE WHEN g = 1 THEN NULL ELSE g / 2 + (g % 97 = 0)::int * 100000 END
    FROM generate_series(1, 5000) g;
RESET session_replication_role;
ANALYZE;
SQL

my $nfks = 14;
my @runs = (
    ['-j', '1'],
    ['-j', '2'],
    ['-j', '7'],
    ['-j', '1', '--chunk-size', '8kB'],
    ['-j', '2', '--chunk-size', '8kB'],
    ['-j', '7', '--chunk-size', '16kB'],
    ['-j', '2', '--chunk-size', '8kB', '--fetch', 'text'],
    ['-j', '2', '--chunk-size', '8kB', '--fetch', 'cursor'],
    ['-j', '3', '--fetch', 'cursor'],
);
for my $args (@runs) {
    my $label = "scan @$args";
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', @$args, '--format', 'json', $db);
    is($rc, 1, "$label: exit 1 (orphans found)") or diag($err);
    is(scalar @{ $json->{constraints} }, $nfks, "$label: every FK reported");
    is($json->{totals}{errors}, 0, "$label: no errors");
    FkOracle::check($db, $json, $label);
    my %methods = map { $_->{method} => 1 } @{ $json->{constraints} };
    ok(!$methods{server}, "$label: integer FKs never fall back to the server");
}

# --compare server: the server's own anti-join agrees, on the same snapshot.
{
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', '--compare', 'server', $db);
    is($rc, 1, '--compare server: exit 1') or diag($err);
    is($json->{totals}{disagreements}, 0, '--compare server: no disagreement');
    for my $c (@{ $json->{constraints} }) {
        ok($c->{compare}{agree}, "--compare server: $c->{constraint} agrees");
        is($c->{compare}{server_orphan_rows}, $c->{orphan_rows}, "--compare server: $c->{constraint} orphan rows");
        ok($c->{compare}{server_elapsed_s} >= 0, "--compare server: $c->{constraint} timed");
    }
    my ($rc2, $out) = FkTest::fkscan('scan', '--compare', 'server', '-t', 'c_last', $db);
    like($out, qr/c_last_pid_fkey: fkscan .* s, server .* s, ratio .*, same orphans/,
         '--compare server: the text report');
    my ($rc3, $o3, $e3) = FkTest::fkscan('scan', '--compare', 'client', $db);
    is($rc3, 2, '--compare client: exit 2');
    like($e3, qr/invalid value "client" for option --compare/, '--compare client: named');
}

# Exit codes follow the answer: 0 when the scanned FKs are clean.
my ($rc, $out, $err) = FkTest::fkscan('scan', '-t', 'c_none', $db);
is($rc, 0, 'clean table: exit 0') or diag($err);
like($out, qr/c_none_pid_fkey.*clean/, 'clean table: the text report names the FK');
($rc, $out, $err) = FkTest::fkscan('scan', '-t', 'c_last', $db);
is($rc, 1, 'orphans in the last page: exit 1');
like($out, qr/3 orphan rows, 2 distinct keys/, 'text report: counts of the FK');
like($out, qr/pid = 20001/, 'text report: a sample orphan row');

done_testing();
