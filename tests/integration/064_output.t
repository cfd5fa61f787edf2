# What fkscan prints, with names and values made to attack a terminal:
# ESC sequences (clear screen, set title), BEL, the C1 CSI U+009B, newlines,
# quotes, trailing blanks and empty strings.  No output (text, JSON, JSON
# lines, audit, validate, log lines) may carry a raw control character, and
# every SQL it prints must run in psql and reach the very object and value
# it names (U&"..." identifiers, E'...' literals); the printed commands must
# run in sh, on the connection the user gave (minus the password).  Counts
# are checked against the server (FkOracle).  Also: the text report's state
# lines (triggers disabled / replica-only now, and what validate does), the
# audit summary naming each class, plurals.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use FkTest;
use FkOracle;

my $ESC = "\x1b";
my $CSI = "\xc2\x9b";    # U+009B in UTF-8
my $schema = "Sch${ESC}[2Jema";
my $parent = "par${ESC}]0;pwn\x07ent";
my $child = "ch${CSI}31mild\nx";
my $col = "k${ESC}ey \"q\"";
my $fk = "fk${CSI}'\"x";
my $clean_child = "trig${ESC}off";
my $nv_child = "not${CSI}valid";

# A raw control a terminal would act on: C0 other than newline, DEL, C1.
sub raw_controls {
    my ($text) = @_;
    my @bad = $text =~ /([\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f])/g;
    return scalar @bad;
}

# The test's own U&"..." for a name (independent of fkscan's).
sub u_ident {
    my ($name) = @_;
    utf8::decode(my $chars = $name);
    my $body = join '', map {
        my $o = ord $_;
        $_ eq '"' ? '""' : $_ eq '\\' ? '\\\\'
            : ($o < 0x20 || ($o >= 0x7f && $o <= 0x9f)) ? sprintf('\\%04X', $o) : $_
    } split //, $chars;
    utf8::encode($body);
    return ($chars =~ /[\x00-\x1f\x7f-\x9f]/ ? 'U&"' : '"') . $body . '"';
}

my $qs = FkTest::quote_ident($schema);
my $P = "$qs." . FkTest::quote_ident($parent);
my $C = "$qs." . FkTest::quote_ident($child);
my $C2 = "$qs." . FkTest::quote_ident($clean_child);
my $C3 = "$qs." . FkTest::quote_ident($nv_child);
my $K = FkTest::quote_ident($col);

# orphan values: each hostile, each shown as its own literal
my @orphans = ("val${ESC}[2J${ESC}]0;pwn\x07", "${CSI}31mred", 'b ', '', "it's", "nl\nx", 'back\\slash');
my $db = FkTest::new_db("out${ESC}put");
my $values = join(', ', map { '(' . FkTest::quote_literal($_) . ')' } @orphans);
FkTest::psql($db, <<SQL);
CREATE SCHEMA $qs;
-- the parent's collation differs from the child's: the SELECT names it (COLLATE)
CREATE COLLATION $qs."co${ESC}ll" FROM "C";
CREATE TABLE $P ($K text COLLATE $qs."co${ESC}ll" PRIMARY KEY);
INSERT INTO $P VALUES ('a'), ('b'), ('c');
CREATE TABLE $C (id serial, $K text);
ALTER TABLE $C ADD CONSTRAINT ${\ FkTest::quote_ident($fk)} FOREIGN KEY ($K) REFERENCES $P;
INSERT INTO $C ($K) VALUES ('a'), ('b'), (NULL);
SET session_replication_role = replica;
INSERT INTO $C ($K) VALUES $values;
RESET session_replication_role;
-- clean, its RI triggers disabled now
CREATE TABLE $C2 (id int, $K text REFERENCES $P);
INSERT INTO $C2 VALUES (1, 'a');
ALTER TABLE $C2 DISABLE TRIGGER ALL;
-- clean, NOT VALID
CREATE TABLE $C3 (id int, $K text);
INSERT INTO $C3 VALUES (1, 'c');
ALTER TABLE $C3 ADD CONSTRAINT "nv${ESC}fk" FOREIGN KEY ($K) REFERENCES $P NOT VALID;
SQL
my $norphans = scalar @orphans;
my $orphan_values = FkTest::psql($db, "SELECT count(*) FROM $C c WHERE $K IS NOT NULL AND NOT EXISTS (SELECT 1 FROM $P p WHERE p.$K = c.$K)");
is($orphan_values, $norphans, "the server sees $norphans orphan rows");

# ---- JSON: names exact, no raw control, counts as the server's ----
my ($rc, $out, $err) = FkTest::fkscan('scan', '-j', '2', '--format', 'json', $db);
is($rc, 1, 'json: exit 1') or diag($err);
is(raw_controls($out), 0, 'json: no raw control character (C1 as \\u009b)');
like($out, qr/\\u009b/, 'json: U+009B escaped');
my $json = JSON::PP->new->utf8->decode($out);
my ($jfk) = grep { $_->{constraint} eq do { my $n = $fk; utf8::decode($n); $n } } @{ $json->{constraints} };
ok($jfk, 'json: the constraint name decodes to the catalog name exactly');
my $jschema = $schema;
utf8::decode($jschema);
is($jfk && $jfk->{schema}, $jschema, 'json: the schema name exact');
# the oracle works on the names and keys as JSON gave them (bytes again)
my $bytes = JSON::PP->new->utf8->decode($out);
sub to_bytes {
    my ($j) = @_;
    for my $c (@{ $j->{constraints} }) {
        for my $k (qw(schema table constraint ref_schema ref_table)) { utf8::encode($c->{$k}) }
        for my $a (qw(columns ref_columns)) { utf8::encode($_) for @{ $c->{$a} } }
        for my $s (@{ $c->{sample} }) { defined $_ and utf8::encode($_) for @{ $s->{key} } }
    }
    return $j;
}
FkOracle::check($db, to_bytes($bytes), 'json');
($rc, $out, $err) = FkTest::fkscan('scan', '-j', '2', '--format', 'json', '--sample', '10', $db);
$bytes = to_bytes(JSON::PP->new->utf8->decode($out));
my %sample_keys = map { ($_->{key}[0] => 1) } map { @{ $_->{sample} } } grep { $_->{orphan_rows} } @{ $bytes->{constraints} };
is_deeply([sort keys %sample_keys], [sort @orphans], 'json: every hostile value in the sample, exact');

($rc, $out, $err) = FkTest::fkscan('scan', '-j', '2', '--format', 'jsonl', $db);
is($rc, 1, 'jsonl: exit 1');
is(raw_controls($out), 0, 'jsonl: no raw control character');

# ---- text: nothing raw, names as SQL, values as literals ----
($rc, $out, $err) = FkTest::fkscan('scan', '-j', '2', '--sample', '10', $db);
is($rc, 1, 'text: exit 1') or diag($err);
is(raw_controls($out), 0, 'text report: no raw control character');
is(raw_controls($err), 0, 'text: the summary line on stderr, no raw control character');
like($out, qr/^\Q${\ u_ident($fk)}\E on \Q${\ u_ident($schema)}.${\ u_ident($child)}\E \(/m,
     'text: names printed as U&"..." identifiers');
like($out, qr/^  7 orphan rows, 7 distinct keys$/m, 'text: counts');
like($out, qr/= 'b '$/m, 'text: a trailing blank is seen in its literal');
like($out, qr/= ''$/m, 'text: an empty string is seen');
like($out, qr/= E'val\\x1B\[2J\\x1B\]0;pwn\\x07'$/m, 'text: ESC and BEL as E escapes');
like($out, qr/= E'\\u009B31mred'$/m, 'text: CSI as an E escape');
# every literal printed is one of the orphan values: the server reads it back
my @lits = $out =~ /^    ctid \S+\s+.* = ((?:E?'(?:[^']|'')*'))$/mg;
is(scalar @lits, $norphans, 'text: a literal per orphan row');
my $list = join(', ', @lits);
is(@lits ? FkTest::psql($db, "SELECT count(*) FROM $C WHERE $K IN ($list) AND NOT EXISTS (SELECT 1 FROM $P p WHERE p.$K = $C.$K)") : 0,
   $norphans, 'text: the printed literals are exactly the orphan values (read back by the server)');
like($out, qr/^U&"trig\\001Boff_.* on .*: clean, but\n  its RI triggers are disabled now \(\d+ of \d+\): rows arrive unchecked; "fkscan validate --apply" re-enables them now$/m,
     'text: a clean FK whose triggers are disabled now is named, with what validate does');
like($out, qr/: clean, but\n  the constraint is NOT VALID; "fkscan validate --apply" validates it now$/m,
     'text: a clean NOT VALID FK is named');

# the printed SELECT runs and finds the orphans
my ($sql) = $out =~ /^  next: every orphan row as CSV, or a look in psql:\n    fkscan .*\n((?:    .*\n)+?    .*;)\n/m;
ok(defined $sql, 'text: the suggested SELECT');
is(raw_controls($sql // ''), 0, 'text: the suggested SELECT holds no raw control');
like($sql // '', qr/ COLLATE U&"Sch\\001B\[2Jema"\.U&"co\\001Bll"/, 'text: the parent\'s collation, a U& name');
(my $query = $sql // 'SELECT 1') =~ s/;\s*\z//;
is(eval { FkTest::psql($db, "SELECT count(*) FROM ($query) q") }, $norphans, 'text: the suggested SELECT runs and finds every orphan');

# the printed commands run in sh (dash on Debian) and select exactly this FK
my ($cmd) = $out =~ /^    (fkscan scan .*--orphans-out .*)$/m;
my ($fixcmd) = $out =~ /^  (fkscan fix .*)$/m;
my $work = tempdir(CLEANUP => 1);
mkdir "$work/bin";
symlink($ENV{FKSCAN}, "$work/bin/fkscan") or die "symlink: $!";
for my $command ($cmd, $fixcmd) {
    ok(defined $command, 'text: a command printed');
    next unless defined $command;
    is(raw_controls($command), 0, 'text: the command holds no raw control');
    local $ENV{PATH} = "$work/bin:$ENV{PATH}";
    my $dir = tempdir(DIR => $work);
    my $line = $command =~ /^fkscan scan/ ? "$command --format json" : $command;
    my ($crc, $cout, $cerr) = FkTest::run_command(['sh', '-c', "cd '$dir' && $line"]);
    if ($command =~ /^fkscan scan/) {
        is($crc, 1, 'sh: the scan command runs') or diag($cerr);
        my $one = eval { JSON::PP->new->utf8->decode($cout) };
        my @c = $one ? @{ $one->{constraints} } : ();
        is(scalar @c, 1, 'sh: the scan command selects exactly its FK');
        is($c[0] && $c[0]{orphan_rows}, $norphans, 'sh: its orphan rows');
    } else {
        ok($crc == 0 || $crc == 1, 'sh: the fix command runs (the dry run)') or diag("exit $crc: $cerr");
        like($cout, qr/BEGIN/, 'sh: the fix command prints its script');
    }
}

# ---- next: the connection the user gave, minus its password ----
my $conninfo = "host=$ENV{PGHOST} port=$ENV{PGPORT} user=$ENV{PGUSER} dbname='"
    . do { (my $d = $db) =~ s/(['\\])/\\$1/g; $d } . "' password=s3cret application_name=x";
($rc, $out, $err) = FkTest::fkscan('scan', '-j', '1', '-t', FkTest::quote_ident($schema) . '.*', $conninfo);
is($rc, 1, 'conninfo: exit 1') or diag($err);
unlike($out . $err, qr/s3cret/, 'conninfo: the password is never printed');
($cmd) = $out =~ /^    (fkscan scan .*--orphans-out .*)$/m;
like($cmd // '', qr/ -d .*host=/, 'conninfo: the next command keeps the host');
like($cmd // '', qr/ -d .*port=/, 'conninfo: ... the port');
like($cmd // '', qr/ -d .*user=/, 'conninfo: ... and the user');
{
    # followed elsewhere, the command still reaches this server
    local $ENV{PGHOST} = '/nonexistent';
    local $ENV{PGPORT} = '1';
    local $ENV{PATH} = "$work/bin:$ENV{PATH}";
    my $dir = tempdir(DIR => $work);
    my ($crc, $cout, $cerr) = FkTest::run_command(['sh', '-c', "cd '$dir' && $cmd --format json"]);
    is($crc, 1, 'conninfo: the next command runs with other PGHOST/PGPORT') or diag($cerr);
}
($rc, $out, $err) = FkTest::fkscan('scan', '-j', '1', '-h', $ENV{PGHOST}, '-p', $ENV{PGPORT}, '-U', $ENV{PGUSER},
                                   '-t', FkTest::quote_ident($schema) . '.*', $db);
($cmd) = $out =~ /^    (fkscan scan .*--orphans-out .*)$/m;
like($cmd // '', qr/ -h \S+ /, 'options: -h kept');
like($cmd // '', qr/ -p $ENV{PGPORT} /, 'options: -p kept');
like($cmd // '', qr/ -U $ENV{PGUSER} /, 'options: -U kept');

# ---- audit: text and JSON ----
($rc, $out, $err) = FkTest::fkscan('audit', $db);
is($rc, 1, 'audit: exit 1') or diag($err);
is(raw_controls($out), 0, 'audit text: no raw control character');
like($out, qr/\Q${\ u_ident($fk)}\E/, 'audit text: the name as a U& identifier');
like($out, qr/^3 foreign keys, 2 broken: 1 not valid, 1 with triggers disabled$/m,
     'audit: the summary names each class');
($rc, $out, $err) = FkTest::fkscan('audit', '--format', 'json', $db);
is(raw_controls($out), 0, 'audit JSON: no raw control character');
my $audit = JSON::PP->new->utf8->decode($out);
ok((grep { $_->{constraint} eq do { my $n = $fk; utf8::decode($n); $n } } @{ $audit->{constraints} }),
   'audit JSON: the name exact');

# ---- log lines: a hostile pattern in an error ----
($rc, $out, $err) = FkTest::fkscan('scan', '--strict-names', '-c', "no${ESC}]0;pwn\x07such", $db);
is($rc, 2, 'log: no match with --strict-names, exit 2');
like($err, qr/no\\x1B\]0;pwn\\x07such/, 'log: the pattern shown with its controls escaped');
is(raw_controls($err), 0, 'log: no raw control character on stderr');

# ---- validate: the plan prints SQL that runs on the very objects ----
($rc, $out, $err) = FkTest::fkscan('validate', '-j', '1', $db);
is($rc, 1, 'validate plan: exit 1') or diag($err);
is(raw_controls($out . $err), 0, 'validate: no raw control character');
like($out, qr/the catalog claims VALID, but the data is not: 7 orphan rows; not validated$/m,
     'validate: the dirty FK');
my @stmts = $out =~ /^  ((?:LOCK|ALTER) TABLE .*);$/mg;
ok(scalar(@stmts) >= 3, 'validate: statements printed') or diag($out);
ok(eval { FkTest::psql($db, "BEGIN;\n" . join(";\n", @stmts) . ";\nCOMMIT;"); 1 }, 'validate: the printed statements run in psql')
    or diag($@);
is(FkTest::psql($db, "SELECT count(*) FROM pg_trigger t JOIN pg_constraint k ON k.oid = t.tgconstraint
                      WHERE k.contype = 'f' AND t.tgenabled <> 'O'"), 0,
   'validate: the printed ENABLE TRIGGER statements enabled every RI trigger');
is(FkTest::psql($db, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"), 0,
   'validate: the printed VALIDATE validated the NOT VALID FK');

FkTest::psql('postgres', 'DROP DATABASE ' . FkTest::quote_ident($db));
done_testing();
