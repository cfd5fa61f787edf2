#!/usr/bin/env perl
# procstat.pl: CPU counters for run.sh, read from /proc (Linux only).
#
#   procstat.pl PMPID [--after] [--wait PATTERN]
#
# Prints "SERVER BUSY" in clock ticks (getconf CLK_TCK):
#   SERVER  the postmaster's utime+stime+cutime+cstime plus utime+stime of
#           its live children.  A backend that exits is reaped by the
#           postmaster and its time moves into cutime/cstime, so the
#           difference of two readings counts every backend and parallel
#           worker that ran in between, dead or alive.
#   BUSY    every CPU's non-idle time from /proc/stat (user, nice, system,
#           irq, softirq, steal), to see how much else ran meanwhile.
# --wait PATTERN first waits (at most 5 s) until no child of the postmaster
# has PATTERN in its process title, i.e. the measured client's backends have
# exited and been reaped.  --after reads BUSY first, before its own work
# (the closing reading of a window); otherwise BUSY is read last (the opening
# one), so that this script's own CPU falls outside the window.
use strict;
use warnings;

my $pm = shift @ARGV or die "usage: procstat.pl PMPID [--after] [--wait PATTERN]\n";
my ($wait, $after);
while (@ARGV) {
    my $a = shift @ARGV;
    if ($a eq '--after') { $after = 1; }
    elsif ($a eq '--wait') { $wait = shift @ARGV; }
    else { die "procstat.pl: unknown argument $a\n"; }
}

sub busy {
    open(my $ps, '<', '/proc/stat') or die "procstat.pl: /proc/stat: $!\n";
    my $line = <$ps>;
    close $ps;
    my @c = split ' ', $line;
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    return $c[1] + $c[2] + $c[3] + $c[6] + $c[7] + ($c[8] // 0);
}
my $busy = $after ? busy() : undef;

sub children_stat {
    my @rows;
    for my $f (glob "/proc/[0-9]*/stat") {
        open(my $h, '<', $f) or next;
        my $s = <$h>;
        close $h;
        next unless defined $s;
        $s =~ s/^(\d+) \(.*\) //s or next;
        my $pid = $1;
        my @v = split / /, $s;
        # after "pid (comm) ": [0] state, [1] ppid, [11] utime, [12] stime,
        # [13] cutime, [14] cstime
        push @rows, [$pid, @v[1, 11, 12, 13, 14]];
    }
    return @rows;
}

sub busy_backend {
    my ($pattern) = @_;
    for my $r (children_stat()) {
        next unless $r->[1] == $pm;
        open(my $h, '<', "/proc/$r->[0]/cmdline") or next;
        local $/;
        my $cmd = <$h> // '';
        close $h;
        $cmd =~ tr/\0/ /;
        return 1 if index($cmd, $pattern) >= 0;
    }
    return 0;
}

if (defined $wait) {
    for (1 .. 250) {
        last unless busy_backend($wait);
        select(undef, undef, undef, 0.02);
    }
}

my $server = 0;
for my $r (children_stat()) {
    my ($pid, $ppid, $ut, $st, $cut, $cst) = @$r;
    if ($pid == $pm) { $server += $ut + $st + $cut + $cst; }
    elsif ($ppid == $pm) { $server += $ut + $st; }
}

$busy //= busy();
print "$server $busy\n";
