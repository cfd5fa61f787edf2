# FkOracle: the server's own answer for an FK, to compare fkscan with.
#
# For each constraint in a scan's JSON, build the anti-join RI itself would
# run (the FK's own operators, ONLY except for partitioned tables, the MATCH
# rule) and return the counts fkscan must report.  Tests call
# FkOracle::check($db, $json, $label), which runs one is() per count.
package FkOracle;

use strict;
use warnings;
use Test::More;
use FkTest;

sub qi { return FkTest::quote_ident(@_); }
sub ql { return FkTest::quote_literal(@_); }

# What the oracle needs from the catalog, in one psql run (each psql costs
# more than the query): the relkinds of child and parent ('p' for
# partitioned: no ONLY), then the FK's equality operators in key order, as
# "OPERATOR(schema.op)|rest" where rest is what follows the child column: a
# cast to the operator's right-hand type when the column's type differs
# (RI's ri_GenerateQual adds it: text -> char(n) compares as bpchar), then
# COLLATE <the referenced column's collation> where it has one (RI compares
# with the parent's).
sub catalog_facts {
    my ($db, $c) = @_;
    my $relkind = sub {
        my ($schema, $table) = @_;
        return "(SELECT c.relkind::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            . "WHERE n.nspname = @{[ql($schema)]} AND c.relname = @{[ql($table)]})";
    };
    my $rows = FkTest::psql($db, <<SQL);
SELECT @{[ $relkind->($c->{schema}, $c->{table}) ]} || '|' || @{[ $relkind->($c->{ref_schema}, $c->{ref_table}) ]};
SELECT format('OPERATOR(%I.%s)', n.nspname, o.oprname)
       || '|' || CASE WHEN ca.atttypid = o.oprright THEN ''
                      ELSE (SELECT format('::%I.%I', tn.nspname, t.typname) FROM pg_catalog.pg_type t
                            JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
                            WHERE t.oid = o.oprright) END
       || coalesce(' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname), '')
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class r ON r.oid = k.conrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
CROSS JOIN LATERAL unnest(k.conpfeqop, k.confkey) WITH ORDINALITY AS u(op, pkatt, i)
JOIN pg_catalog.pg_operator o ON o.oid = u.op
JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.pkatt
JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = k.conkey[u.i]
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE k.conname = @{[ql($c->{constraint})]} AND r.relname = @{[ql($c->{table})]}
  AND rn.nspname = @{[ql($c->{schema})]} AND k.contype = 'f' AND k.conparentid = 0
ORDER BY u.i;
SQL
    my ($kinds, @ops) = split /\n/, $rows;
    my ($ckind, $pkind) = split /\|/, $kinds;
    return ($ckind, $pkind, @ops);
}

# Returns a hashref: child_rows null_rows partial_null_rows orphan_rows orphan_keys.
# Cached per FK: tests scan the same unchanged data many ways; forget() after
# changing it.
my %cache;
sub forget { %cache = (); }

sub expected {
    my ($db, $c) = @_;
    my $id = join("\0", $db, $c->{schema}, $c->{table}, $c->{constraint});
    $cache{$id} //= compute($db, $c);
    return $cache{$id};
}

sub compute {
    my ($db, $c) = @_;
    my ($ckind, $pkind, @ops) = catalog_facts($db, $c);
    my $child = qi($c->{schema}) . '.' . qi($c->{table});
    my $parent = qi($c->{ref_schema}) . '.' . qi($c->{ref_table});
    my $conly = $ckind eq 'p' ? '' : 'ONLY';
    my $ponly = $pkind eq 'p' ? '' : 'ONLY';
    my @cc = map { 'c.' . qi($_) } @{ $c->{columns} };
    my @pc = map { 'p.' . qi($_) } @{ $c->{ref_columns} };
    my $all_not_null = join(' AND ', map { "$_ IS NOT NULL" } @cc);
    my $all_null = join(' AND ', map { "$_ IS NULL" } @cc);
    my $any_null = join(' OR ', map { "$_ IS NULL" } @cc);
    my ($exempt, $partial) = $c->{match} eq 'full'
        ? ("($all_null)", "(($any_null) AND NOT ($all_null))")
        : ("($any_null)", 'false');
    # "p.a OPERATOR(s.=) c.a [COLLATE x]": the COLLATE binds to the child side
    my $join = join(' AND ', map {
        my ($op, $rest) = split /\|/, $ops[$_], 2;
        "$pc[$_] $op $cc[$_]$rest" } 0 .. $#cc);
    my $keys = join(', ', @cc);
    my $row = FkTest::psql($db, <<SQL);
SELECT count(*), count(*) FILTER (WHERE $exempt), count(*) FILTER (WHERE $partial),
       count(*) FILTER (WHERE ($all_not_null) AND NOT EXISTS (SELECT 1 FROM $ponly $parent p WHERE $join)),
       (SELECT count(*) FROM (SELECT DISTINCT $keys FROM $conly $child c
           WHERE ($all_not_null) AND NOT EXISTS (SELECT 1 FROM $ponly $parent p WHERE $join)) d)
FROM $conly $child c
SQL
    my ($rows, $nulls, $partial_rows, $orphans, $keys_n) = split /\|/, $row;
    return {
        child_rows => $rows, null_rows => $nulls, partial_null_rows => $partial_rows,
        orphan_rows => $orphans + $partial_rows, orphan_keys => $keys_n,
    };
}

# Compare every constraint of a scan's JSON with the server's answer
# ($sample: the scan's --sample, default 5).
sub check {
    my ($db, $json, $label, $sample) = @_;
    $sample //= 5;
    my @checked;
    for my $c (@{ $json->{constraints} }) {
        my $name = "$label: $c->{table}.$c->{constraint}";
        $name =~ s/\n/\\n/g;    # names may hold newlines; TAP test names may not
        my $want = expected($db, $c);
        is($c->{status}, $want->{orphan_rows} > 0 ? 'orphans' : 'clean', "$name: status");
        for my $k (qw(child_rows null_rows partial_null_rows orphan_rows orphan_keys)) {
            is($c->{$k}, $want->{$k}, "$name: $k");
        }
        my $want_n = $c->{orphan_rows} < $sample ? $c->{orphan_rows} : $sample;
        is(scalar @{ $c->{sample} }, $want_n, "$name: sample size");
        push @checked, [$c, $name];
    }
    check_samples($db, @checked);
}

# Every sample row must exist at its ctid with its key, and be an orphan.
# One query per sample, all in one psql run, compared on the server (psql's
# output would lose trailing spaces): how many rows at its ctid hold its key.
sub check_samples {
    my ($db, @checked) = @_;
    my (@q, @who);
    for my $cn (@checked) {
        my ($c, $name) = @$cn;
        my $child = qi($c->{schema}) . '.' . qi($c->{table});
        for my $s (@{ $c->{sample} }) {
            my @conds = map {
                my $v = $s->{key}[$_];
                qi($c->{columns}[$_]) . '::text IS NOT DISTINCT FROM ' . (defined $v ? ql($v) : 'NULL')
            } 0 .. $#{ $c->{columns} };
            push @q, "SELECT count(*) FROM $child WHERE ctid = " . ql($s->{ctid}) . "::tid AND "
                . join(' AND ', @conds);
            push @who, [$s, $name];
        }
    }
    return unless @q;
    my @n = split /\n/, FkTest::psql($db, join(";\n", @q) . ';');
    for my $i (0 .. $#who) {
        my ($s, $name) = @{ $who[$i] };
        ok(($n[$i] // 0) >= 1, "$name: sample $s->{ctid} holds its key")
            or diag("no row at $s->{ctid} with key @{ $s->{key} }");
    }
}


1;
