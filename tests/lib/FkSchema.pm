# FkSchema: a JSON Schema validator for the subset fkscan's schemas use
# (src/schema/*.schema.json), in core Perl.
#
# Keywords: type (one name or a list; "integer" is a number with no
# fraction), required, properties, additionalProperties, items, enum,
# minimum, and $ref to "#/..." in the same document (evaluated beside its
# sibling keywords, as in draft 2020-12).  Annotations (description, title,
# $schema, $id, $comment, $defs, examples, default) are skipped.  Any other
# keyword dies: a schema must not rely on what this validator would ignore.
#
#   my $schema = FkSchema::load("$src/src/schema/fkscan-scan.schema.json");
#   my @errors = FkSchema::validate($schema, $data);             # the root
#   my @errors = FkSchema::validate($schema, $line, '#/$defs/x'); # a part
#
# Each error is "JSON-pointer-of-the-value: what is wrong".  Values must
# come straight from JSON::PP's decoder, untouched: the type of a scalar is
# read from its flags (a number used as a string would look like both).
package FkSchema;

use strict;
use warnings;
use B ();
use Carp;
use JSON::PP ();

my %ANNOTATION = map { $_ => 1 }
    ('$schema', '$id', '$comment', '$defs', 'title', 'description', 'examples', 'default');
my %KEYWORD = map { $_ => 1 }
    ('type', 'required', 'properties', 'additionalProperties', 'items', 'enum', 'minimum', '$ref');
my %TYPE = map { $_ => 1 } qw(null boolean object array string number integer);

sub load {
    my ($file) = @_;
    open(my $fh, '<:raw', $file) or croak "open $file: $!";
    local $/;
    my $text = <$fh>;
    close $fh;
    return JSON::PP->new->decode($text);
}

# The JSON type of a decoded value.
sub json_type {
    my ($v) = @_;
    return 'null' unless defined $v;
    return 'boolean' if JSON::PP::is_bool($v);
    return 'object' if ref $v eq 'HASH';
    return 'array' if ref $v eq 'ARRAY';
    croak "not a decoded JSON value: $v" if ref $v;
    my $flags = B::svref_2object(\$v)->FLAGS;
    return 'string' if $flags & B::SVf_POK;
    return 'integer' if $flags & B::SVf_IOK;
    return 'number' if ($flags & B::SVf_NOK) && $v != int($v);
    return 'integer' if $flags & B::SVf_NOK;
    return 'string';
}

# The schema a "#/a/b" reference names.
sub resolve {
    my ($root, $ref) = @_;
    croak "only local references are supported: $ref" unless $ref =~ m{\A#(/.*)?\z};
    my $path = $1 // '';
    my $node = $root;
    for my $token ($path eq '' ? () : split(m{/}, substr($path, 1))) {
        $token =~ s/~1/\//g;
        $token =~ s/~0/~/g;
        croak "unresolvable reference $ref" unless ref $node eq 'HASH' && exists $node->{$token};
        $node = $node->{$token};
    }
    return $node;
}

sub same_value {
    my ($a, $b) = @_;
    my ($ta, $tb) = (json_type($a), json_type($b));
    $ta = 'number' if $ta eq 'integer';
    $tb = 'number' if $tb eq 'integer';
    return 0 if $ta ne $tb;
    return 1 if $ta eq 'null';
    return (!!$a == !!$b) if $ta eq 'boolean';
    return $a == $b if $ta eq 'number';
    return $a eq $b if $ta eq 'string';
    croak 'enum values must be scalars';
}

sub check {
    my ($root, $schema, $v, $path, $errors) = @_;
    if (JSON::PP::is_bool($schema)) {
        push @$errors, "$path: no value is allowed here" unless $schema;
        return;
    }
    croak "$path: a schema must be an object or a boolean" unless ref $schema eq 'HASH';
    for my $k (sort keys %$schema) {
        croak "unsupported schema keyword \"$k\"" unless $KEYWORD{$k} || $ANNOTATION{$k};
    }
    check($root, resolve($root, $schema->{'$ref'}), $v, $path, $errors) if exists $schema->{'$ref'};

    my $type = json_type($v);
    if (exists $schema->{type}) {
        my @want = ref $schema->{type} ? @{ $schema->{type} } : ($schema->{type});
        $TYPE{$_} or croak "unknown type \"$_\"" for @want;
        if (!grep { $_ eq $type || ($_ eq 'number' && $type eq 'integer') } @want) {
            push @$errors, "$path: $type, not " . join(' or ', @want);
            return;
        }
    }
    if (exists $schema->{enum} && !grep { same_value($_, $v) } @{ $schema->{enum} }) {
        my $shown = $type eq 'string' ? "\"$v\"" : $type eq 'null' ? 'null' : $type =~ /object|array/ ? $type : "$v";
        push @$errors, "$path: $shown is not one of "
            . join(', ', map { defined $_ ? "\"$_\"" : 'null' } @{ $schema->{enum} });
    }
    if (exists $schema->{minimum} && ($type eq 'integer' || $type eq 'number')
        && $v < $schema->{minimum}) {
        push @$errors, "$path: $v is less than the minimum $schema->{minimum}";
    }
    if ($type eq 'object') {
        for my $name (@{ $schema->{required} // [] }) {
            push @$errors, "$path: \"$name\" is required" unless exists $v->{$name};
        }
        my $props = $schema->{properties} // {};
        for my $name (sort keys %$v) {
            if (exists $props->{$name}) {
                check($root, $props->{$name}, $v->{$name}, "$path/$name", $errors);
            }
            elsif (exists $schema->{additionalProperties}) {
                check($root, $schema->{additionalProperties}, $v->{$name}, "$path/$name", $errors);
            }
        }
    }
    if ($type eq 'array' && exists $schema->{items}) {
        check($root, $schema->{items}, $v->[$_], "$path/$_", $errors) for 0 .. $#$v;
    }
}

sub validate {
    my ($root, $data, $at) = @_;
    my @errors;
    check($root, resolve($root, $at // '#'), $data, '', \@errors);
    return @errors;
}

# Every property of every object schema, as [pointer, schema]: for tests
# that each one is documented.
sub properties {
    my ($root) = @_;
    my @out;
    my $walk;
    $walk = sub {
        my ($node, $ptr) = @_;
        return unless ref $node eq 'HASH';
        for my $k (sort keys %$node) {
            my $sub = $node->{$k};
            if ($k eq 'properties' || $k eq '$defs') {
                for my $name (sort keys %$sub) {
                    push @out, ["$ptr/$k/$name", $sub->{$name}] if $k eq 'properties';
                    $walk->($sub->{$name}, "$ptr/$k/$name");
                }
            }
            elsif (ref $sub eq 'HASH') {
                $walk->($sub, "$ptr/$k");
            }
        }
    };
    $walk->($root, '#');
    return @out;
}

1;
