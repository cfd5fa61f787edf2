# Trailing blanks across char(n), varchar and text keys (#14 item 1): RI
# casts each side to its input type of the FK's operator, so whether blanks
# count depends on that type, side by side.  A char(n) child of a text
# parent compares as text: the child's padding goes, the parent's blanks
# count ('a ' in the parent is not 'a').  Differential against the server
# (FkOracle: the FK's own operator and casts), VALIDATE CONSTRAINT, the
# --orphans-out rows and a cascade count.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;
use FkOracle;

my $db = FkTest::new_db('scan_blanks');
FkTest::psql($db, <<'SQL');
CREATE TABLE ptxt (v text PRIMARY KEY);
CREATE TABLE cch (id int PRIMARY KEY, v char(5));
CREATE TABLE pvc (v varchar(10) PRIMARY KEY);
CREATE TABLE cch3 (v char(3));
CREATE TABLE pbp (v char(4) PRIMARY KEY);
CREATE TABLE ctxt (v text);
CREATE TABLE cvc (v varchar(8));
CREATE TABLE cbp (v char(2));
CREATE TABLE pcomp (a int, b text, PRIMARY KEY (a, b));
CREATE TABLE ccomp (a int, b char(4));
-- a cascade through a text key into a char(n) child: t1's orphans are
-- deleted, and gch rows reach them only as RI compares them (as text)
CREATE TABLE root (id int PRIMARY KEY);
CREATE TABLE t1 (v text PRIMARY KEY, r int REFERENCES root);
CREATE TABLE gch (v char(5) REFERENCES t1 ON DELETE CASCADE);

SET session_replication_role = replica;
INSERT INTO ptxt VALUES ('a '), ('b'), ('c  '), (''), ('d');
INSERT INTO cch VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, ''), (5, 'b   '), (6, NULL), (7, 'd');
INSERT INTO pvc VALUES ('q '), ('r'), ('');
INSERT INTO cch3 VALUES ('q'), ('r'), ('r  '), (''), ('s');
INSERT INTO pbp VALUES ('a'), ('b '), ('');
INSERT INTO ctxt VALUES ('a'), ('a   '), ('b'), ('b  '), (''), ('  '), (' a'), ('c');
INSERT INTO cvc VALUES ('a '), ('b'), (''), ('x');
INSERT INTO cbp VALUES ('a'), ('b'), (''), ('z');
INSERT INTO pcomp VALUES (1, 'x '), (1, 'y'), (2, '');
INSERT INTO ccomp VALUES (1, 'x'), (1, 'y'), (1, 'y  '), (2, ''), (2, ' '), (3, 'y');
INSERT INTO root VALUES (1);
INSERT INTO t1 VALUES ('a ', 9), ('b', 9), ('c', 1), ('e ', 9);
INSERT INTO gch VALUES ('a'), ('b'), ('b  '), ('c'), ('e'), ('e ');
RESET session_replication_role;
ALTER TABLE cch ADD CONSTRAINT cch_fk FOREIGN KEY (v) REFERENCES ptxt NOT VALID;
ALTER TABLE cch3 ADD CONSTRAINT cch3_fk FOREIGN KEY (v) REFERENCES pvc NOT VALID;
ALTER TABLE ctxt ADD CONSTRAINT ctxt_fk FOREIGN KEY (v) REFERENCES pbp NOT VALID;
ALTER TABLE cvc ADD CONSTRAINT cvc_fk FOREIGN KEY (v) REFERENCES pbp NOT VALID;
ALTER TABLE cbp ADD CONSTRAINT cbp_fk FOREIGN KEY (v) REFERENCES pbp NOT VALID;
ALTER TABLE ccomp ADD CONSTRAINT ccomp_fk FOREIGN KEY (a, b) REFERENCES pcomp NOT VALID;
SQL

my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', $db);
is($rc, 1, 'orphans: exit 1') or diag($err);
FkOracle::check($db, $json, 'blanks');
my %by = map { $_->{constraint} => $_ } @{ $json->{constraints} };

# The issue's cases, by hand, besides the oracle: 2 orphans each.
is($by{cch_fk}{orphan_rows}, 2, "char(5) -> text: 'a' and 'c' match no 'a ' or 'c  '");
is($by{cch3_fk}{orphan_rows}, 2, "char(3) -> varchar(10): 'q' is not 'q ', and 's'");
for my $fk (qw(cch_fk cch3_fk ctxt_fk cvc_fk cbp_fk ccomp_fk)) {
    my ($table) = $fk =~ /^(.*)_fk$/;
    my ($valid) = FkTest::run_command(['psql', '-X', '-q', '-d', $db, '-c',
                                     "ALTER TABLE $table VALIDATE CONSTRAINT $fk"], '');
    is($valid == 0 ? 'clean' : 'orphans', $by{$fk}{status}, "$fk: VALIDATE CONSTRAINT agrees");
}

# --orphans-out: exactly the rows the server calls orphans.
my $dir = tempdir(CLEANUP => 1);
($rc, undef, $err) = FkTest::fkscan_json('scan', '-c', 'cch_fk', '--orphans-out', "$dir/o.csv", $db);
is($rc, 1, '--orphans-out: exit 1') or diag($err);
my @ids = map { /,public\.cch,"\(0,(\d+)\)"/ ? $1 : () } split /\n/, FkTest::slurp("$dir/o.csv");
my $want = FkTest::psql($db, "SELECT string_agg(ctid::text, ' ' ORDER BY ctid) FROM cch c "
                       . "WHERE v IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ptxt p WHERE p.v = c.v::text)");
is(join(' ', map { "(0,$_)" } sort { $a <=> $b } @ids), $want, '--orphans-out: the server\'s violating rows');

# Cascade: deleting t1's orphans ('a ', 'b', 'e ') reaches gch's rows equal
# to them as text ('b', 'b  ', 'e', 'e '), not 'a' (padding goes, 'a ' keeps its blank).
my ($t1) = grep { $_->{constraint} eq 't1_r_fkey' } @{ $json->{constraints} };
my ($step) = grep { $_->{table} eq 'gch' } @{ $t1->{cascade} || [] };
my $reach = FkTest::psql($db, "SELECT count(*) FROM gch g WHERE EXISTS (SELECT 1 FROM t1 "
                         . "WHERE t1.v = g.v::text AND NOT EXISTS (SELECT 1 FROM root WHERE root.id = t1.r))");
ok(defined $step, 'cascade: gch is reached');
is($step->{rows}, $reach, "cascade: $reach gch rows, as RI compares them");

done_testing();
