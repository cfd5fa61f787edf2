# Cascade chains: what deleting an FK's orphan rows would reach, level by
# level, by ON DELETE action; every count checked against SQL; a cycle ends.
use strict;
use warnings;
use Test::More;
use FkTest;

my $db = FkTest::new_db('cascade');
FkTest::psql($db, <<'SQL');
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);
CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders ON DELETE CASCADE);
CREATE TABLE shipments (id bigint PRIMARY KEY, item_id bigint REFERENCES order_items ON DELETE CASCADE);
CREATE TABLE item_notes (item_id bigint REFERENCES order_items ON DELETE SET NULL);
CREATE TABLE refunds (order_id bigint REFERENCES orders ON DELETE RESTRICT);
CREATE TABLE audits (order_ref text, order_id bigint REFERENCES orders);
INSERT INTO customers SELECT g FROM generate_series(1, 100) g;
SET session_replication_role = replica;
INSERT INTO orders SELECT g, g % 110 + 1 FROM generate_series(1, 1000) g;
INSERT INTO order_items SELECT g, g % 1000 + 1 FROM generate_series(1, 3000) g;
INSERT INTO shipments SELECT g, g % 3000 + 1 FROM generate_series(1, 2000) g;
INSERT INTO item_notes SELECT g % 3000 + 1 FROM generate_series(1, 500) g;
INSERT INTO refunds SELECT g + 99 FROM generate_series(1, 40) g;
INSERT INTO audits SELECT 'o', g * 7 % 1000 + 1 FROM generate_series(1, 300) g;

-- a cycle: x -> y -> x, both ON DELETE CASCADE, under a root with orphans
CREATE TABLE xp (id int PRIMARY KEY);
CREATE TABLE x (id int PRIMARY KEY, xp_id int REFERENCES xp, y_id int);
CREATE TABLE y (id int PRIMARY KEY, x_id int REFERENCES x ON DELETE CASCADE);
ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y ON DELETE CASCADE;
INSERT INTO xp VALUES (1);
INSERT INTO x SELECT g, CASE WHEN g <= 5 THEN 1 ELSE 2 END, g FROM generate_series(1, 10) g;
INSERT INTO y SELECT g, g FROM generate_series(1, 10) g;
SQL

my $orphan_orders = "SELECT o.id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id)";
my $dead_items = "SELECT i.id FROM order_items i WHERE i.order_id IN ($orphan_orders)";
my %want = (
    order_items => [1, 'CASCADE', "SELECT count(*) FROM order_items WHERE order_id IN ($orphan_orders)"],
    refunds => [1, 'RESTRICT', "SELECT count(*) FROM refunds WHERE order_id IN ($orphan_orders)"],
    audits => [1, 'NO ACTION', "SELECT count(*) FROM audits WHERE order_id IN ($orphan_orders)"],
    shipments => [2, 'CASCADE', "SELECT count(*) FROM shipments WHERE item_id IN ($dead_items)"],
    item_notes => [2, 'SET NULL', "SELECT count(*) FROM item_notes WHERE item_id IN ($dead_items)"],
);

my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', $db);
is($rc, 1, 'exit 1') or diag($err);
my ($root) = grep { $_->{constraint} eq 'orders_customer_id_fkey' } @{ $json->{constraints} };
ok($root->{orphan_rows} > 0, 'the root FK has orphans');
my %steps = map { $_->{table} => $_ } @{ $root->{cascade} };
is(scalar keys %steps, scalar keys %want, 'every dependent, once');
for my $t (sort keys %want) {
    my ($depth, $action, $sql) = @{ $want{$t} };
    my $n = FkTest::psql($db, $sql);
    ok($n > 0, "$t: the data has rows to reach");
    is($steps{$t}{depth}, $depth, "$t: depth $depth");
    is($steps{$t}{on_delete}, $action, "$t: ON DELETE $action");
    is($steps{$t}{rows}, $n, "$t: $n rows, as SQL counts them");
}
is($steps{order_items}{effect}, 'deleted', 'CASCADE: deleted');
is($steps{item_notes}{effect}, 'updated', 'SET NULL: updated');
is($steps{refunds}{effect}, 'blocking', 'RESTRICT: blocking');

# The cycle x -> y -> x ends, each FK followed once.
my ($x) = grep { $_->{constraint} eq 'x_xp_id_fkey' } @{ $json->{constraints} };
is($x->{orphan_rows}, 5, 'cycle root: 5 orphans');
my @chain = map { "$_->{depth}:$_->{table}:$_->{rows}" } @{ $x->{cascade} };
is_deeply(\@chain, ['1:y:5', '2:x:5'], 'the cycle is followed once around, then stops');

# The text report shows the chain.
my ($rc2, $out) = FkTest::fkscan('scan', '-t', 'orders', $db);
like($out, qr/deleting them would reach:/, 'text: the chain is shown');
like($out, qr/public\.shipments via shipments_item_id_fkey \(ON DELETE CASCADE\): \d+ rows deleted too/,
     'text: a second-level cascade');
like($out, qr/public\.refunds via refunds_order_id_fkey \(ON DELETE RESTRICT\): \d+ rows would block the delete/,
     'text: a blocking dependent');

done_testing();
