# The reports, byte for byte: text, JSON and JSON lines of one fixed
# database compared with tests/expected/060_*, after normalising what
# varies between runs (times, snapshot, jobs, versions).  Then the "next"
# hints of the text report are run as printed: the fkscan command line
# (through sh, so its quoting is tested too) and the SQL (through psql),
# and both must find exactly the scan's orphan rows.
#
# To accept a deliberate change of the reports:
#   FKSCAN_REGENERATE=1 ctest -R 060    (then review and commit the diff)
use strict;
use warnings;
use File::Temp qw(tempdir);
use JSON::PP ();
use Test::More;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('reports');
# Small tables loaded once, in one statement each: their ctids are fixed.
FkTest::psql($db, <<'SQL');
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY);
INSERT INTO shop.customers SELECT g FROM generate_series(1, 100) g;
CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int REFERENCES shop.customers);
CREATE TABLE shop.products (sku text PRIMARY KEY);
INSERT INTO shop.products VALUES ('A-1'), ('B-2'), ('C-3');
CREATE TABLE shop.order_lines (order_id int REFERENCES shop.orders, sku text REFERENCES shop.products, qty int);
CREATE TABLE shop."Warehouse" (region text, code int, PRIMARY KEY (region, code));
INSERT INTO shop."Warehouse" VALUES ('north', 1), ('south', 2);
CREATE TABLE shop."Stock Levels" ("Region" text, code int, n int,
    CONSTRAINT "Stock Warehouse FK" FOREIGN KEY ("Region", code) REFERENCES shop."Warehouse" MATCH FULL);
CREATE TABLE shop.events (id int, customer_id int REFERENCES shop.customers) PARTITION BY RANGE (id);
CREATE TABLE shop.events_1 PARTITION OF shop.events FOR VALUES FROM (0) TO (50);
CREATE TABLE shop.events_2 PARTITION OF shop.events FOR VALUES FROM (50) TO (100);
CREATE TABLE shop.tags (name citext PRIMARY KEY);
INSERT INTO shop.tags VALUES ('Red'), ('Blue');
CREATE TABLE shop.product_tags (sku text, tag citext REFERENCES shop.tags);
SET session_replication_role = replica;
INSERT INTO shop.orders SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE g * 3 END FROM generate_series(1, 40) g;
INSERT INTO shop.order_lines
    SELECT g % 40 + 10, (ARRAY['A-1', 'B-2', 'C-3', 'Z-9'])[g % 4 + 1], g FROM generate_series(1, 30) g;
INSERT INTO shop."Stock Levels" VALUES ('north', 1, 5), ('north', 2, 6), ('south', NULL, 7), (NULL, NULL, 8), ('east', 9, 1);
INSERT INTO shop.events SELECT g, g + 90 FROM generate_series(0, 99) g;
INSERT INTO shop.product_tags VALUES ('A-1', 'red'), ('B-2', 'BLUE'), ('C-3', 'green');
SQL

my $expected_dir = FkTest::source_dir() . '/tests/expected';
my $regenerate = $ENV{FKSCAN_REGENERATE};

# What differs from run to run, replaced by <name>.
sub normalise_text {
    my ($text) = @_;
    $text =~ s/^(fkscan scan of database "[^"]*") \(PostgreSQL [^,)]+(.*?)\), \d+ jobs?, [\d.]+ s$/$1 (PostgreSQL <version>$2), <jobs>, <elapsed>/m;
    # the Time column is the last one: its cells and its width
    $text =~ s/^( .* \| )[^|\n]*$/$1<time>/mg;
    $text =~ s/^(-[-+]*)\+-+$/$1+-------/mg;
    $text =~ s/: fkscan [\d.]+ s, server [\d.]+ s, ratio [\d.]+,/: fkscan <elapsed>, server <elapsed>, ratio <ratio>,/g;
    return $text;
}

sub normalise_json {
    my ($text) = @_;
    my $varies = join '|', qw(version server_version_num snapshot jobs elapsed_s rows_per_s bytes_per_s finished_at
                               client_peak_rss_kb server_elapsed_s ratio);
    $text =~ s/"($varies)":(\s*)(?:"[^"]*"|-?[\d.eE+-]+)/"$1":$2"<$1>"/g;
    return $text;
}

# Compare with tests/expected/$name (or write it under FKSCAN_REGENERATE).
sub golden {
    my ($name, $got, $label) = @_;
    my $file = "$expected_dir/$name";
    if ($regenerate) {
        mkdir $expected_dir;
        open(my $fh, '>:raw', $file) or die "write $file: $!";
        print {$fh} $got;
        close $fh or die "write $file: $!";
        pass("$label: regenerated $name");
        return;
    }
    my $want = -e $file ? FkTest::slurp($file) : '';
    return pass("$label: as in tests/expected/$name") if $got eq $want;
    fail("$label: as in tests/expected/$name");
    my $tmp = File::Temp->new;
    print {$tmp} $got;
    close $tmp;
    my (undef, $diff) = FkTest::run_command(['diff', '-u', $file, $tmp->filename]);
    diag("differences (- expected, + got); FKSCAN_REGENERATE=1 accepts them:\n$diff");
}

my @scan = ('scan', '-j', '2');

# Text: the table, details, next steps, totals.
my ($rc, $text, $err) = FkTest::fkscan(@scan, $db);
is($rc, 1, 'text: exit 1 (orphans)') or diag($err);
golden('060_scan.txt', normalise_text($text), 'text');

# JSON, and the same counts as the server's own anti-join.
($rc, my $json_text, $err) = FkTest::fkscan(@scan, '--format', 'json', $db);
is($rc, 1, 'json: exit 1') or diag($err);
golden('060_scan.json', normalise_json($json_text), 'json');
my $json = JSON::PP->new->decode($json_text);
FkOracle::check($db, $json, 'json');

# JSON lines.
($rc, my $jsonl, $err) = FkTest::fkscan(@scan, '--format', 'jsonl', $db);
is($rc, 1, 'jsonl: exit 1') or diag($err);
# lines stream as FKs finish, in an order the timing decides: compare them sorted
my @jsonl = split /(?<=\n)/, normalise_json($jsonl);
my $summary_line = pop @jsonl;
golden('060_scan.jsonl', join('', sort(@jsonl), $summary_line), 'jsonl');

# Text with limits (tolerated and not), --compare server, one sample row.
($rc, $text, $err) = FkTest::fkscan(@scan, '--sample', '1', '--compare', 'server',
                                    '--max-orphans', '200', '--max-orphans-per-fk', '7', $db);
is($rc, 1, 'text with limits: exit 1 (one FK over 7)') or diag($err);
golden('060_scan_limits.txt', normalise_text($text), 'text with limits');

# The next steps, as printed.  Each FK with orphans gets a command and a
# query; run them and compare with the scan's counts.
($rc, $text) = FkTest::fkscan(@scan, $db);
my %orphans = map { ("$_->{schema}.$_->{table}.$_->{constraint}" => $_->{orphan_rows}) }
    grep { $_->{status} eq 'orphans' } @{ $json->{constraints} };
my @blocks = $text =~ /^  next: every orphan row as CSV, or a look in psql:\n    (fkscan .*)\n((?:    .*\n)+?    .*;)\n/mg;
is(scalar @blocks, 2 * scalar(keys %orphans), 'a command and a query for each FK with orphans');

my $work = tempdir(CLEANUP => 1);
mkdir "$work/bin";
symlink($ENV{FKSCAN}, "$work/bin/fkscan") or die "symlink: $!";
while (my ($command, $sql) = splice(@blocks, 0, 2)) {
    my ($file) = $command =~ /--orphans-out (\S+)/;
    $file =~ s/^'(.*)'$/$1/;
    # the command in the shell, in a directory of its own, fkscan on PATH
    my $dir = tempdir(DIR => $work);
    local $ENV{PATH} = "$work/bin:$ENV{PATH}";
    my ($crc, $out, $cerr) = FkTest::run_command(['sh', '-c', "cd '$dir' && $command --format json"]);
    is($crc, 1, "$command: exit 1") or diag($cerr);
    my $one = eval { JSON::PP->new->decode($out) };
    my @c = $one ? @{ $one->{constraints} } : ();
    is(scalar @c, 1, "$command: exactly its foreign key");
    my $id = @c ? "$c[0]{schema}.$c[0]{table}.$c[0]{constraint}" : '?';
    ok(exists $orphans{$id}, "$command: an FK with orphans ($id)");
    my @lines = -f "$dir/$file" ? split /\n/, FkTest::slurp("$dir/$file") : ();
    is(scalar @lines, ($orphans{$id} // -1) + 1, "$command: writes $file, a header and every orphan row");

    # the query in psql: as many rows as orphan_rows
    (my $query = $sql) =~ s/;\s*\z//;
    my $n = FkTest::psql($db, "SELECT count(*) FROM ($query) AS q");
    is($n, $orphans{$id}, "$id: the SQL hint finds its $orphans{$id} orphan rows") or diag($sql);
}

done_testing();
