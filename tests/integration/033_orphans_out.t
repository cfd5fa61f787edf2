# --orphans-out: every orphan row, as CSV, parsed back and compared with the
# server's own violating rows; a file that cannot be written is an error and
# leaves nothing that looks complete.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;

my $db = FkTest::new_db('orphans_out');
FkTest::psql($db, <<'SQL');
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE p (id bigint PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 1000) g;
CREATE TABLE c (id serial PRIMARY KEY, pid bigint REFERENCES p, note text);
CREATE TABLE u (a int, b text, PRIMARY KEY (a, b));
INSERT INTO u VALUES (1, 'x'), (2, 'y');
CREATE TABLE "odd ""child""" ("k,1" int, "k;2" text, FOREIGN KEY ("k,1", "k;2") REFERENCES u MATCH FULL);
CREATE TABLE pc (id bigint, pid bigint REFERENCES p, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE pc1 PARTITION OF pc FOR VALUES FROM (0) TO (500);
CREATE TABLE pc2 PARTITION OF pc FOR VALUES FROM (500) TO (MAXVALUE);
CREATE TABLE pci (k citext PRIMARY KEY);
INSERT INTO pci VALUES ('Abc');
CREATE TABLE cci (k citext REFERENCES pci);
SET session_replication_role = replica;
INSERT INTO c (pid, note) SELECT g % 1030, CASE WHEN g % 3 = 0 THEN 'a,"b' || chr(10) || 'c' END
    FROM generate_series(1, 6000) g;
INSERT INTO "odd ""child""" VALUES (1, 'x'), (1, 'y'), (NULL, 'z'), (NULL, NULL), (3, 'q,"r');
INSERT INTO pc SELECT g, g + 10 FROM generate_series(1, 1000) g;
INSERT INTO cci VALUES ('abc'), ('ABC'), ('nope');
SQL

# A small RFC 4180 reader: fields, "" for a quote, quoted CR/LF; NULL is undef.
sub read_csv {
    my ($file) = @_;
    my $text = FkTest::slurp($file);
    my (@rows, @row, $field, $quoted);
    my $i = 0;
    my $n = length $text;
    while ($i < $n) {
        ($field, $quoted) = ('', 0);
        if (substr($text, $i, 1) eq '"') {
            $quoted = 1;
            $i++;
            while (1) {
                my $c = substr($text, $i++, 1);
                if ($c eq '"') {
                    if (substr($text, $i, 1) eq '"') { $field .= '"'; $i++; next; }
                    last;
                }
                $field .= $c;
            }
        }
        else {
            while ($i < $n && substr($text, $i, 1) !~ /[,\r\n]/) { $field .= substr($text, $i++, 1); }
        }
        push @row, ($quoted || $field ne '') ? $field : undef;
        my $sep = substr($text, $i, 1);
        if ($sep eq ',') { $i++; next; }
        $i += 2 if substr($text, $i, 2) eq "\r\n";
        push @rows, [@row];
        @row = ();
    }
    return \@rows;
}

# The server's violating rows of an FK: "relation|ctid" for each.
my %violation = (
    c_pid_fkey => q{SELECT c.tableoid::regclass || '|' || c.ctid FROM ONLY c
                    WHERE c.pid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM p WHERE p.id = c.pid)},
    'odd "child"_k,1_k;2_fkey' => q{SELECT c.tableoid::regclass || '|' || c.ctid FROM ONLY "odd ""child""" c
        WHERE ("k,1" IS NOT NULL AND "k;2" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM u WHERE u.a = c."k,1" AND u.b = c."k;2"))
           OR (("k,1" IS NULL) <> ("k;2" IS NULL))},
    pc_pid_fkey => q{SELECT c.tableoid::regclass || '|' || c.ctid FROM pc c
                     WHERE c.pid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM p WHERE p.id = c.pid)},
    cci_k_fkey => q{SELECT c.tableoid::regclass || '|' || c.ctid FROM ONLY cci c
                    WHERE NOT EXISTS (SELECT 1 FROM pci p WHERE p.k = c.k)},
);

my $dir = tempdir(CLEANUP => 1);
my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', '--orphans-out', "$dir/out/", $db);
is($rc, 1, 'directory mode: exit 1') or diag($err);
my %by = map { $_->{constraint} => $_ } @{ $json->{constraints} };
my @files = glob("$dir/out/*.csv");
is(scalar @files, 4, 'one file per FK with orphans');
ok(!glob("$dir/out/*.partial"), 'no partial file is left');
my %file = (
    c_pid_fkey => "$dir/out/public.c.c_pid_fkey.csv",
    pc_pid_fkey => "$dir/out/public.pc.pc_pid_fkey.csv",
    cci_k_fkey => "$dir/out/public.cci.cci_k_fkey.csv",
    # names with unusual characters: sanitised, and the OID added
    'odd "child"_k,1_k;2_fkey' => scalar((glob("$dir/out/public.odd__child_.odd__child__k_1_k_2_fkey-*.csv"))[0]),
);
my %table = (c_pid_fkey => 'c', 'odd "child"_k,1_k;2_fkey' => '"odd ""child"""',
             pc_pid_fkey => 'pc', cci_k_fkey => 'cci');
for my $fk (sort keys %violation) {
    my $f = $file{$fk};
    ok(defined $f && -f $f, "$fk: its file") or next;
    my $rows = read_csv($f);
    my $header = shift @$rows;
    is($header->[0], 'relation', "$fk: header starts with relation");
    is($header->[-1], 'where', "$fk: header ends with where");
    # fkscan runs with an empty search_path: its relation names are qualified
    my @got = sort map { ($_->[0] =~ s/^public\.//r) . "|$_->[1]" } @$rows;
    my @want = sort split /\n/, FkTest::psql($db, $violation{$fk});
    is_deeply(\@got, \@want, "$fk: exactly the server's violating rows");
    is(scalar @got, $by{$fk}{orphan_rows}, "$fk: as many rows as orphan_rows");
    # the WHERE predicates find their rows (the first ten)
    my $last = $#$rows < 9 ? $#$rows : 9;
    my $q = join(";\n", map { "SELECT count(*) FROM $table{$fk} WHERE $_->[-1]" } @$rows[0 .. $last]);
    my @n = split /\n/, FkTest::psql($db, $q);
    ok(!grep({ $_ ne '1' } @n), "$fk: the WHERE predicates select their rows") or diag("@n");
}

# One file: fixed columns, the FK named in each row, keys as JSON objects.
($rc, $json, $err) = FkTest::fkscan_json('scan', '--orphans-out', "$dir/all.csv", $db);
is($rc, 1, 'one file: exit 1') or diag($err);
my $rows = read_csv("$dir/all.csv");
is_deeply(shift @$rows, [qw(schema table constraint relation ctid primary_key key where)], 'one file: header');
is(scalar @$rows, $json->{totals}{orphan_rows}, 'one file: every orphan row');
my ($noted) = grep { $_->[2] eq 'c_pid_fkey' } @$rows;
like($noted->[5], qr/^\{"id": "\d+"\}$/, 'one file: the primary key as JSON');
like($noted->[6], qr/^\{"pid": "\d+"\}$/, 'one file: the key as JSON');

# A path that cannot be written: exit 2, and nothing that looks complete.
($rc, undef, $err) = FkTest::fkscan_json('scan', '--orphans-out', "$dir/no/such/dir/x.csv", $db);
is($rc, 2, 'unwritable path: exit 2');
like($err, qr/could not create .*x\.csv/, 'unwritable path: the error names the file');
ok(!-e "$dir/no/such/dir/x.csv", 'unwritable path: no file');

# The disk fills: exit 2, the error names the file, and nothing is left
# behind that looks complete (needs root to mount a tiny tmpfs).
SKIP: {
    my $tiny = "$dir/tiny";
    mkdir $tiny;
    skip 'mounting a tmpfs needs root', 4
        unless $> == 0 && system("mount -t tmpfs -o size=16k tmpfs $tiny 2>/dev/null") == 0;
    ($rc, undef, $err) = FkTest::fkscan_json('scan', '--orphans-out', "$tiny/all.csv", $db);
    is($rc, 2, 'disk full: exit 2');
    like($err, qr/could not write .*all\.csv\.partial.*No space left on device/, 'disk full: the error names the file and why');
    ok(!-e "$tiny/all.csv", 'disk full: no file that looks complete');
    ok(!-e "$tiny/all.csv.partial", 'disk full: the partial file is removed');
    system("umount $tiny");
}

done_testing();
