# Differential tests for every kind of FK the server accepts: key types
# (client hash with server confirmation, or the server's own anti-join when
# the client cannot reproduce equality), composite keys and MATCH rules,
# partitions, inheritance, unique targets, hostile names.
use strict;
use warnings;
use Test::More;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('scan_types');
my $has_icu = FkTest::psql($db, "SELECT count(*) FROM pg_collation WHERE collprovider = 'i'") > 0;
FkTest::psql($db, <<'SQL');
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');

-- one parent per type, one child each; orphans planted with triggers off
CREATE TABLE p_uuid (k uuid PRIMARY KEY);
CREATE TABLE c_uuid (k uuid REFERENCES p_uuid);
CREATE TABLE p_text (k text PRIMARY KEY);
CREATE TABLE c_text (k text REFERENCES p_text);
CREATE TABLE c_varchar (k varchar(20) REFERENCES p_text);
CREATE TABLE p_char (k char(6) PRIMARY KEY);
CREATE TABLE c_char (k char(3) REFERENCES p_char);
CREATE TABLE c_text_to_char (k text REFERENCES p_char);
CREATE TABLE p_num (k numeric PRIMARY KEY);
CREATE TABLE c_num (k numeric(10,3) REFERENCES p_num);
CREATE TABLE c_int_to_num (k int REFERENCES p_num);
CREATE TABLE p_date (k date PRIMARY KEY);
CREATE TABLE c_date (k date REFERENCES p_date);
CREATE TABLE p_ts (k timestamp PRIMARY KEY);
CREATE TABLE c_ts (k timestamp REFERENCES p_ts);
CREATE TABLE p_tstz (k timestamptz PRIMARY KEY);
CREATE TABLE c_tstz (k timestamptz REFERENCES p_tstz);
CREATE TABLE c_ts_to_tstz (k timestamp REFERENCES p_tstz);
CREATE TABLE p_bytea (k bytea PRIMARY KEY);
CREATE TABLE c_bytea (k bytea REFERENCES p_bytea);
CREATE TABLE p_bool (k bool PRIMARY KEY);
CREATE TABLE c_bool (k bool REFERENCES p_bool);
CREATE TABLE p_float (k float8 PRIMARY KEY);
CREATE TABLE c_float (k float8 REFERENCES p_float);
CREATE TABLE p_enum (k mood PRIMARY KEY);
CREATE TABLE c_enum (k mood REFERENCES p_enum);
CREATE TABLE p_citext (k citext PRIMARY KEY);
CREATE TABLE c_citext (k citext REFERENCES p_citext);
CREATE TABLE p_jsonb (k jsonb PRIMARY KEY);
CREATE TABLE c_jsonb (k jsonb REFERENCES p_jsonb);

-- composite keys, MATCH SIMPLE and FULL, a UNIQUE target in another order
CREATE TABLE p_comp (a int, b text, c bigint, PRIMARY KEY (a, b), UNIQUE (c, a));
CREATE TABLE c_simple (a int, b text, FOREIGN KEY (a, b) REFERENCES p_comp);
CREATE TABLE c_full (a int, b text, FOREIGN KEY (a, b) REFERENCES p_comp MATCH FULL);
CREATE TABLE c_uniq (x smallint, y bigint, FOREIGN KEY (x, y) REFERENCES p_comp (a, c));

-- partitions on both sides, and a plain inheritance child of a parent
CREATE TABLE pp (id bigint PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE pp1 PARTITION OF pp FOR VALUES FROM (MINVALUE) TO (1000);
CREATE TABLE pp2 PARTITION OF pp FOR VALUES FROM (1000) TO (MAXVALUE);
CREATE TABLE pc (id serial, pid bigint REFERENCES pp) PARTITION BY HASH (id);
CREATE TABLE pc1 PARTITION OF pc FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE pc2 PARTITION OF pc FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE pcomp (a int, b text, PRIMARY KEY (a, b)) PARTITION BY LIST (a);
CREATE TABLE pcomp1 PARTITION OF pcomp FOR VALUES IN (1, 2, 3);
CREATE TABLE pcomp2 PARTITION OF pcomp DEFAULT;
CREATE TABLE c_pcomp (a int, b text, FOREIGN KEY (a, b) REFERENCES pcomp);
CREATE TABLE inh_parent (id int PRIMARY KEY);
CREATE TABLE inh_child () INHERITS (inh_parent);
CREATE TABLE c_inh (pid int REFERENCES inh_parent);

-- hostile names everywhere
CREATE SCHEMA "we""ird. sch;ema";
CREATE TABLE "we""ird. sch;ema"."Pa rent$$" ("k""ey" int, "sélect" text, PRIMARY KEY ("k""ey", "sélect"));
CREATE TABLE "we""ird. sch;ema"."ch.ild\" ("o'k" int, "select" text,
    CONSTRAINT "fk; DROP TABLE x; --" FOREIGN KEY ("o'k", "select")
    REFERENCES "we""ird. sch;ema"."Pa rent$$");
CREATE TABLE "user" ("table" bigint PRIMARY KEY);
CREATE TABLE "Order" ("from" bigint CONSTRAINT "Order→user" REFERENCES "user");

SET session_replication_role = replica;
INSERT INTO p_uuid SELECT md5(g::text)::uuid FROM generate_series(1, 3000) g;
INSERT INTO c_uuid SELECT md5((g % 3100)::text)::uuid FROM generate_series(1, 9000) g;
INSERT INTO c_uuid VALUES (NULL);
INSERT INTO p_text SELECT 'k' || g FROM generate_series(1, 2000) g;
INSERT INTO p_text VALUES (''), ('ab'), ('ünï');
INSERT INTO c_text SELECT 'k' || (g % 2050) FROM generate_series(1, 6000) g;
INSERT INTO c_text VALUES (''), ('ab '), ('AB'), ('ünï'), ('ünï '), (NULL);
INSERT INTO c_varchar VALUES ('k1'), ('k9999'), ('ab'), ('ab ');
INSERT INTO p_char VALUES ('ab'), ('abc'), ('x');
INSERT INTO c_char VALUES ('ab'), ('ab '), ('abc'), ('x'), ('y'), (' ab');
INSERT INTO c_text_to_char VALUES ('ab'), ('ab   '), ('abcd'), ('x'), (' x');
INSERT INTO p_num VALUES (1), (2.5), (-3.125), (0), (1000000), (0.001);
INSERT INTO c_num VALUES (1.000), (2.500), (2.501), (-3.125), (0.000), (-0.000), (1000000.000), (0.001), (7), (NULL);
INSERT INTO c_int_to_num VALUES (1), (2), (0), (1000000), (5);
INSERT INTO p_date SELECT d::date FROM generate_series('2024-01-01'::date, '2024-03-01', '1 day') d;
INSERT INTO c_date VALUES ('2024-01-05'), ('2023-12-31'), ('2024-03-02'), ('infinity');
INSERT INTO p_ts VALUES ('2024-01-01 10:00'), ('2024-01-01 10:00:00.5'), ('infinity');
INSERT INTO c_ts VALUES ('2024-01-01 10:00'), ('2024-01-01 10:00:00.500'), ('2024-01-01 10:00:00.501'), ('infinity'), ('-infinity');
INSERT INTO p_tstz VALUES ('2024-01-01 10:00+00'), ('2024-06-01 12:00+02');
INSERT INTO c_tstz VALUES ('2024-01-01 11:00+01'), ('2024-06-01 10:00+00'), ('2024-06-01 10:00+01');
INSERT INTO c_ts_to_tstz VALUES ('2024-01-01 10:00'), ('2024-01-01 11:00');
INSERT INTO p_bytea VALUES ('\x00'), ('\x0001'), ('');
INSERT INTO c_bytea VALUES ('\x00'), ('\x000100'), (''), ('\x01');
INSERT INTO p_bool VALUES (true);
INSERT INTO c_bool VALUES (true), (false), (false), (NULL);
INSERT INTO p_float VALUES (0), (1.5), ('NaN'), ('Infinity');
INSERT INTO c_float VALUES ('-0'), (1.5), ('NaN'), ('-Infinity'), ('Infinity'), (2);
INSERT INTO p_enum VALUES ('ok'), ('happy');
INSERT INTO c_enum VALUES ('ok'), ('sad'), ('happy'), ('sad');
INSERT INTO p_citext VALUES ('Abc'), ('x');
INSERT INTO c_citext VALUES ('abc'), ('ABC'), ('X'), ('y');
INSERT INTO p_jsonb VALUES ('{"a": 1.0}'), ('[1, 2]');
INSERT INTO c_jsonb VALUES ('{"a": 1.00}'), ('{"a": 2}'), ('[1,2]');
INSERT INTO p_comp SELECT g, 'b' || g, g * 10 FROM generate_series(1, 500) g;
INSERT INTO c_simple SELECT g % 520, 'b' || (g % 510) FROM generate_series(1, 3000) g;
INSERT INTO c_simple VALUES (1, NULL), (NULL, 'zz'), (NULL, NULL), (9999, NULL);
INSERT INTO c_full SELECT g % 505, 'b' || (g % 505) FROM generate_series(1, 2000) g;
INSERT INTO c_full VALUES (1, NULL), (NULL, 'zz'), (NULL, NULL), (NULL, NULL), (9999, NULL);
INSERT INTO c_uniq VALUES (1, 10), (2, 20), (2, 30), (3, NULL), (600, 6000), (NULL, NULL);
INSERT INTO pp SELECT g FROM generate_series(1, 2000) g;
INSERT INTO pc (pid) SELECT g % 2100 FROM generate_series(1, 8000) g;
INSERT INTO pcomp SELECT g % 6, 'v' || g FROM generate_series(1, 300) g;
INSERT INTO c_pcomp SELECT g % 7, 'v' || g FROM generate_series(1, 400) g;
INSERT INTO inh_parent VALUES (1), (2);
INSERT INTO inh_child VALUES (3), (4);
INSERT INTO c_inh VALUES (1), (2), (3), (4), (5);
INSERT INTO "we""ird. sch;ema"."Pa rent$$" VALUES (1, 'a'), (2, 'b');
INSERT INTO "we""ird. sch;ema"."ch.ild\" VALUES (1, 'a'), (2, 'b'), (2, 'a'), (3, 'c'), (NULL, 'x');
INSERT INTO "user" VALUES (1), (2);
INSERT INTO "Order" VALUES (1), (2), (3), (3);
RESET session_replication_role;
SQL

if ($has_icu) {
    FkTest::psql($db, <<'SQL');
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE p_ci (k text COLLATE ci PRIMARY KEY);
CREATE TABLE c_ci (k text COLLATE ci REFERENCES p_ci);
SET session_replication_role = replica;
INSERT INTO p_ci VALUES ('Hello'), ('x');
INSERT INTO c_ci VALUES ('hello'), ('HELLO'), ('X'), ('nope');
SQL
}

# Which method each FK must use: the client only where it can be exact.
my %method = (
    c_uuid_k_fkey => 'hash', c_text_k_fkey => 'hash', c_varchar_k_fkey => 'hash',
    c_char_k_fkey => 'hash', c_text_to_char_k_fkey => 'hash', c_num_k_fkey => 'hash',
    c_date_k_fkey => 'hash', c_ts_k_fkey => 'hash', c_tstz_k_fkey => 'hash',
    c_bytea_k_fkey => 'hash', c_bool_k_fkey => 'hash', c_float_k_fkey => 'hash',
    c_simple_a_b_fkey => 'hash', c_full_a_b_fkey => 'hash', c_uniq_x_y_fkey => 'hash',
    c_pcomp_a_b_fkey => 'hash', 'fk; DROP TABLE x; --' => 'hash',
    c_int_to_num_k_fkey => 'server', c_ts_to_tstz_k_fkey => 'server',
    c_citext_k_fkey => 'server', c_jsonb_k_fkey => 'server', c_ci_k_fkey => 'server',
    c_enum_k_fkey => 'hash',
    pc_pid_fkey => 'bitmap', c_inh_pid_fkey => 'bitmap', 'Order→user' => 'bitmap',
);

for my $args (['-j', '1'], ['-j', '2', '--chunk-size', '8kB'], ['-j', '3', '--fetch', 'cursor'],
              ['-j', '2', '--fetch', 'text']) {
    my $label = "scan @$args";
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', @$args, $db);
    is($rc, 1, "$label: exit 1") or diag($err);
    is($json->{totals}{errors}, 0, "$label: no errors") or diag($err);
    FkOracle::check($db, $json, $label);
    for my $c (@{ $json->{constraints} }) {
        my $want = $method{$c->{constraint}};
        next unless defined $want;
        my $got = $c->{method} eq 'roaring' ? 'bitmap' : $c->{method};
        is($got, $want, "$label: $c->{constraint} uses $want");
    }
}

# The inheritance child's rows do not satisfy the FK (RI reads FROM ONLY).
my ($rc, $json) = FkTest::fkscan_json('scan', '-t', 'c_inh', $db);
my ($inh) = @{ $json->{constraints} };
is($inh->{orphan_rows}, 3, 'rows of an inheritance child are not parents');

# MATCH FULL: the mixed-NULL rows are violations, counted on their own too.
($rc, $json) = FkTest::fkscan_json('scan', '-t', 'c_full', $db);
my ($full) = @{ $json->{constraints} };
is($full->{partial_null_rows}, 3, 'MATCH FULL: mixed NULL rows');
is($full->{null_rows}, 2, 'MATCH FULL: all-NULL rows are exempt');

done_testing();
