# The JSON Schema of "fkscan scan --format json" (src/schema/), checked
# against the real output of scans that cover its every branch: clean,
# orphans, errors, composite and MATCH FULL keys, the server method,
# --compare server, the pipeline limits, on a primary (no "replay"), and
# every line of --format jsonl against its $defs.  The validator itself
# (tests/lib/FkSchema.pm) is checked first on values it must reject.
use strict;
use warnings;
use JSON::PP ();
use Test::More;
use FkSchema;
use FkTest;

my $schema_file = FkTest::source_dir() . '/src/schema/fkscan-scan.schema.json';
my $schema = FkSchema::load($schema_file);

# ---- the schema document ----

is($schema->{'$schema'}, 'https://json-schema.org/draft/2020-12/schema', 'draft 2020-12');
my @props = FkSchema::properties($schema);
cmp_ok(scalar @props, '>', 60, 'the schema lists the fields');
for my $p (@props) {
    my ($ptr, $s) = @$p;
    my $doc = $s->{description};
    $doc //= FkSchema::resolve($schema, $s->{'$ref'})->{description} if $s->{'$ref'};
    ok(defined $doc && length $doc > 5, "$ptr: described") or diag("no description at $ptr");
}
ok(!grep({ JSON::PP::is_bool($_->[1]) || exists $_->[1]{additionalProperties}
             && !$_->[1]{additionalProperties} } @props),
   'no object forbids fields that later versions may add');

# ---- the validator rejects what it must ----

sub errors_of {
    my ($data, $at) = @_;
    return [FkSchema::validate($schema, JSON::PP->new->decode($data), $at)];
}
my $fk = '{"schema":"s","table":"t","constraint":"c","columns":["a"],"ref_schema":"s",'
    . '"ref_table":"p","ref_columns":["id"],"match":"simple","validated":true,'
    . '"triggers_enabled":true,"method":"bitmap","status":"clean","tolerated":true,'
    . '"child_rows":1,"null_rows":0,"partial_null_rows":0,"orphan_rows":0,"orphan_keys":0,'
    . '"sample":[],"cascade":[],"elapsed_s":0.5}';
is_deeply(errors_of($fk, '#/$defs/constraint'), [], 'validator: a good constraint passes');
my %bad = (
    'missing field' => [sub { $_[0] =~ s/"orphan_keys":0,//r }, qr{: "orphan_keys" is required}],
    'string for integer' => [sub { $_[0] =~ s/"child_rows":1/"child_rows":"1"/r }, qr{/child_rows: string, not integer}],
    'fraction for integer' => [sub { $_[0] =~ s/"child_rows":1/"child_rows":1.5/r }, qr{/child_rows: number, not integer}],
    'negative count' => [sub { $_[0] =~ s/"null_rows":0/"null_rows":-1/r }, qr{/null_rows: -1 is less than the minimum 0}],
    'unknown enum' => [sub { $_[0] =~ s/"status":"clean"/"status":"fine"/r }, qr{/status: "fine" is not one of}],
    'bad array item' => [sub { $_[0] =~ s/"columns":\["a"\]/"columns":["a",null]/r }, qr{/columns/1: null, not string}],
    'null for boolean' => [sub { $_[0] =~ s/"tolerated":true/"tolerated":null/r }, qr{/tolerated: null, not boolean}],
);
for my $case (sort keys %bad) {
    my ($mutate, $want) = @{ $bad{$case} };
    my $errors = errors_of($mutate->($fk), '#/$defs/constraint');
    is(scalar @$errors, 1, "validator: $case is one error") or diag(join("\n", @$errors));
    like($errors->[0] // '', $want, "validator: $case is named");
}
is_deeply(errors_of('{"receive_lsn":null,"replay_lsn":"0/3000148","lag_s":0}', '#/$defs/replay_position'),
          [], 'validator: a standby replay position');
is_deeply(errors_of('null', '#/$defs/replay_position'), [], 'validator: an unknown replay position');
ok(!eval { FkSchema::validate({ type => 'object', maxProperties => 1 }, {}); 1 }
   && $@ =~ /unsupported schema keyword "maxProperties"/, 'validator: dies on a keyword it does not know');

# ---- real scans ----

my $db = FkTest::new_db('schema');
my $role = 'fkscan_schema_reader';
FkTest::psql($db, <<"SQL");
CREATE EXTENSION IF NOT EXISTS citext;
DROP ROLE IF EXISTS $role;
CREATE ROLE $role LOGIN;
CREATE TABLE p (id bigint PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 50) g;
CREATE TABLE c_clean (pid bigint REFERENCES p);
INSERT INTO c_clean SELECT g FROM generate_series(1, 50) g;
CREATE TABLE c_int (pid bigint REFERENCES p);
CREATE TABLE u (a int, b text, PRIMARY KEY (a, b));
INSERT INTO u VALUES (1, 'x'), (2, 'y');
CREATE TABLE c_full (a int, b text, FOREIGN KEY (a, b) REFERENCES u MATCH FULL);
CREATE TABLE pci (k citext PRIMARY KEY);
INSERT INTO pci VALUES ('Abc');
CREATE TABLE cci (k citext REFERENCES pci);
CREATE TABLE p_secret (id int PRIMARY KEY);
CREATE TABLE c_secret (pid int REFERENCES p_secret);
SET session_replication_role = replica;
INSERT INTO c_int SELECT g FROM generate_series(40, 60) g;
INSERT INTO c_full VALUES (1, 'x'), (1, 'y'), (NULL, 'z'), (NULL, NULL), (3, 'q');
INSERT INTO cci VALUES ('abc'), ('nope');
INSERT INTO c_secret VALUES (1);
RESET session_replication_role;
GRANT SELECT ON p, c_clean, c_int, u, c_full, pci, cci, c_secret TO $role;
SQL

my @runs = (
    [clean => [qw(-t c_clean)], 0],
    [orphans => [], 1],
    [composite => [qw(-t c_full)], 1],
    ['server method' => [qw(-t cci)], 1],
    ['--compare server' => [qw(--compare server -T c_secret)], 1],
    [limits => [qw(--max-orphans 1000 --max-orphans-per-fk 100 -T c_secret)], 0],
    ['limits exceeded' => [qw(--max-orphans 5 -T c_secret)], 1],
    ['no foreign keys' => [qw(-t nosuch)], 0],
);
for my $run (@runs) {
    my ($label, $args, $want_rc) = @$run;
    my ($rc, $out, $err) = FkTest::fkscan('scan', '-j', '2', '--format', 'json', @$args, $db);
    is($rc, $want_rc, "$label: exit $want_rc") or diag($err);
    my $json = eval { JSON::PP->new->decode($out) };
    ok($json, "$label: JSON") or next;
    my @errors = FkSchema::validate($schema, $json);
    is_deeply(\@errors, [], "$label: valid against the schema") or diag(join("\n", @errors));
    ok(!exists $json->{replay}, "$label: no replay on a primary");
}

# Errors: a role that cannot read p_secret.
my ($rc, $out, $err) = FkTest::as_role($role, sub {
    FkTest::fkscan('scan', '-j', '2', '--format', 'json', '--max-orphans', '1000', $db) });
is($rc, 2, 'errors: exit 2, whatever the limits');
my $json = eval { JSON::PP->new->decode($out) };
my @errors = $json ? FkSchema::validate($schema, $json) : ('no JSON');
is_deeply(\@errors, [], 'errors: valid against the schema') or diag(join("\n", @errors));
my ($secret) = grep { $_->{table} eq 'c_secret' } @{ $json ? $json->{constraints} : [] };
is($secret->{status}, 'error', 'errors: the unreadable FK is in error');
ok(defined $secret->{error}, 'errors: with its reason');

# Every field the schema marks present is in some real output, and the
# optional ones were seen too (so the runs above cover the schema).
($rc, $out) = FkTest::fkscan('scan', '-j', '2', '--format', 'json', '--compare', 'server', '-T', 'c_secret', $db);
$json = JSON::PP->new->decode($out);
my %seen = map { %$_ } @{ $json->{constraints} };
ok(exists $seen{$_}, "a real report has \"$_\"") for qw(method_reason compare tolerated cascade);

# JSON lines: each line against its $defs.
($rc, $out, $err) = FkTest::fkscan('scan', '-j', '2', '--format', 'jsonl', '--compare', 'server', '-T', 'c_secret', $db);
is($rc, 1, 'jsonl: exit 1') or diag($err);
my @lines = split /\n/, $out;
is(scalar @lines, 5, 'jsonl: 4 FKs and a summary');
for my $i (0 .. $#lines) {
    my $line = eval { JSON::PP->new->decode($lines[$i]) };
    ok($line, "jsonl line $i: JSON") or next;
    my $type = $i == $#lines ? 'summary' : 'constraint';
    is($line->{type}, $type, "jsonl line $i: type $type");
    my @e = FkSchema::validate($schema, $line, "#/\$defs/jsonl_$type");
    is_deeply(\@e, [], "jsonl line $i: valid against \$defs/jsonl_$type") or diag(join("\n", @e));
}

FkTest::psql($db, "DROP OWNED BY $role; DROP ROLE $role") if $db;
done_testing();
