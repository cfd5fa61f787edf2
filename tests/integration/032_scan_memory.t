# --memory-limit: a hashed key space too big for the limit is split into
# passes; the answer is the same as one pass's, and the client stays smaller.
use strict;
use warnings;
use Test::More;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('scan_memory');
FkTest::psql($db, <<'SQL');
CREATE TABLE parent (id uuid PRIMARY KEY, a int, b text, n bigint, UNIQUE (a, b), UNIQUE (n));
INSERT INTO parent SELECT md5(g::text)::uuid, g, 'b' || g, g FROM generate_series(1, 300000) g;
CREATE TABLE child (pid uuid REFERENCES parent, a int, b text, n bigint REFERENCES parent (n),
    FOREIGN KEY (a, b) REFERENCES parent (a, b) MATCH FULL);
SET session_replication_role = replica;
INSERT INTO child SELECT md5((g % 300500)::text)::uuid, g % 300700, 'b' || (g % 300700), g % 300800
    FROM generate_series(1, 600000) g;
INSERT INTO child VALUES (NULL, 1, NULL, NULL), (NULL, NULL, NULL, NULL);
RESET session_replication_role;
ANALYZE;
SQL

my ($rc1, $one) = FkTest::fkscan_json('scan', '-j', '2', $db);
my ($rc2, $many, $err) = FkTest::fkscan_json('scan', '-j', '2', '--memory-limit', '8MB', '-v', $db);
is($rc1, 1, 'one pass: exit 1');
is($rc2, 1, 'several passes: exit 1') or diag($err);
is($one->{key_passes}, 1, 'the default limit needs one pass');
cmp_ok($many->{key_passes}, '>', 1, 'a tiny limit forces several passes');
like($err, qr/key pass 2 of/, 'the log names the passes');
for my $i (0 .. $#{ $one->{constraints} }) {
    my ($x, $y) = ($one->{constraints}[$i], $many->{constraints}[$i]);
    for my $k (qw(status child_rows null_rows partial_null_rows orphan_rows orphan_keys)) {
        is($y->{$k}, $x->{$k}, "$x->{constraint}: $k is the same in $many->{key_passes} passes");
    }
}
FkOracle::check($db, $many, 'several passes');
# Peak RSS above an empty scan's (libpq, threads, buffers) is the key sets'.
my $empty = FkTest::new_db('scan_memory_empty');
my ($rc0, $base) = FkTest::fkscan_json('scan', '-j', '2', $empty);
SKIP: {
    # sanitizers keep freed memory in quarantine and add shadow memory
    skip "memory is not measurable under $ENV{FKSCAN_SANITIZE} sanitizer", 2 if $ENV{FKSCAN_SANITIZE};
    cmp_ok($many->{client_peak_rss_kb}, '<', $one->{client_peak_rss_kb},
           'several passes use less memory');
    cmp_ok($many->{client_peak_rss_kb} - $base->{client_peak_rss_kb}, '<=', 8 * 1024,
           'key sets stay within --memory-limit');
}
note("peak RSS: empty $base->{client_peak_rss_kb} kB, one pass $one->{client_peak_rss_kb} kB, "
     . "$many->{key_passes} passes $many->{client_peak_rss_kb} kB");

my ($rc, $out, $e) = FkTest::fkscan('scan', '--memory-limit', 'banana', $db);
is($rc, 2, '--memory-limit banana: exit 2');
like($e, qr/invalid value "banana" for option --memory-limit/, '--memory-limit banana: named');

done_testing();
