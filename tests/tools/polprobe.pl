#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Helper of tests/e2e/policy_kernel.sh (docs/testing.md): draws test tuples
# from a gateway's classification table (docs/policy-json.md), asks
# `segplan policy query` for each, sends them as real packets from inside a
# network namespace, and compares what the kernel did with what query said.
#
#   polprobe.pl host PREFIX N | KEY PREFIX N...    host N of PREFIX, as ADDR/LEN
#   polprobe.pl pick INVENTORY COUNT SEED          > site ids, spread over the city
#   polprobe.pl tuples INVENTORY TABLE.json SEED TARGET   > tuples.tsv
#   polprobe.pl query SEGPLAN INVENTORY GATEWAY DATE MODE < tuples > verdicts
#       (DATE YYYY-MM-DD judges expiry on that day; an RFC 3339 time, with a
#       T, is the instant every connection opens at: query --time)
#   polprobe.pl send TIMEOUT_MS                    < tuples > outcomes
#   polprobe.pl seen                       < nft -j -n list table inet probe
#   polprobe.pl counters                   < nft -j or segplan status --json
#   polprobe.pl judge TABLE.json TUPLES VERDICTS OUTCOMES SEEN [COUNTERS]
#   polprobe.pl kernel TUPLES OUTCOMES SEEN   > id, the kernel's verdict, outcome
#   polprobe.pl cap TABLE.json TUPLES VERDICTS  > tuples within the limits' buckets
#   polprobe.pl instant MARGIN TABLE.json...    > now (RFC 3339), no window edge near
#   polprobe.pl serve ADDR PORT      a TCP server answering "segplan: LINE"
#   polprobe.pl talk SRC DST PORT    one exchange with it; prints the answer
#
# A tuple line (tab-separated): id family proto arg src dst srcns dstns
# target side. proto is tcp, udp, icmp, icmpv6 or an IP protocol number;
# arg the destination port or the ICMP type ("-" for whole protocols);
# srcns/dstns name the namespace holding the address ("up" for the uplink,
# else the local segment's name); target/side say which rule the tuple was
# drawn for and how (in: the rule's own match; out-*: just outside it).
use strict;
use warnings;
use Socket qw(:all);
use Errno qw(EINPROGRESS ECONNREFUSED EAGAIN);
use IO::Select;
use JSON::PP;
use Time::HiRes qw(time);

my %PROTO = (tcp => 6, udp => 17, icmp => 1, icmpv6 => 58);
my %PROTO_NAME = reverse %PROTO;

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!\n";
	local $/;
	return scalar <$fh>;
}

# One CSV line (RFC 4180: quoted fields may hold commas and doubled quotes).
sub csv_fields {
	my ($line) = @_;
	return split(/,/, $line, -1) if index($line, '"') < 0;
	my @f;
	while ($line =~ /\G(?:"((?:[^"]|"")*)"|([^,]*))(,|$)/g) {
		my $v = defined $1 ? $1 =~ s/""/"/gr : $2;
		push @f, $v;
		last if $3 eq '';
	}
	return @f;
}

sub read_csv {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!\n";
	chomp(my $head = <$fh>);
	my @cols = csv_fields($head);
	my @rows;
	while (my $line = <$fh>) {
		chomp $line;
		$line =~ s/\r$//;
		next if $line eq '';
		my @f = csv_fields($line);
		my %r;
		@r{@cols} = @f;
		push @rows, \%r;
	}
	return @rows;
}

sub read_tsv {
	my ($fh) = @_;
	my @t;
	while (my $line = <$fh>) {
		chomp $line;
		next if $line eq '';
		my %r;
		@r{qw(id fam proto arg src dst srcns dstns target side)} = split /\t/, $line;
		push @t, \%r;
	}
	return @t;
}

# --- addresses ----------------------------------------------------------

sub prefix_bytes {
	my ($prefix) = @_;
	my ($addr, $len) = split m{/}, $prefix;
	my $af = $addr =~ /:/ ? AF_INET6 : AF_INET;
	return ($af, inet_pton($af, $addr), $len);
}

# The address HOST (a small number) inside PREFIX.
sub host_in {
	my ($prefix, $host) = @_;
	my ($af, $bytes, $len) = prefix_bytes($prefix);
	my @b = unpack('C*', $bytes);
	# the network address plus HOST (not only /24s: 10.5.38.192/27 + 10 is .202)
	my $bits = unpack('B*', pack('C*', @b));
	@b = unpack('C*', pack('B*', substr($bits, 0, $len) . ('0' x (length($bits) - $len))));
	my $carry = $host;
	for (my $i = $#b; $i >= 0 && $carry; $i--) {
		my $v = $b[$i] + ($carry & 0xff);
		$carry = ($carry >> 8) + ($v >> 8);
		$b[$i] = $v & 0xff;
	}
	return inet_ntop($af, pack('C*', @b));
}

sub overlaps {
	my ($p, $q) = @_;
	my ($af1, $b1, $l1) = prefix_bytes($p);
	my ($af2, $b2, $l2) = prefix_bytes($q);
	return 0 if $af1 != $af2;
	my $len = $l1 < $l2 ? $l1 : $l2;
	my $bits1 = unpack('B*', $b1);
	my $bits2 = unpack('B*', $b2);
	return substr($bits1, 0, $len) eq substr($bits2, 0, $len);
}

# A range of a table ("FIRST-LAST" or a prefix) as [family, first, last],
# the addresses packed (so that string comparison orders them).
sub range_bounds {
	my ($r) = @_;
	if (my ($first, $last) = $r =~ /^([^-\/]+)-([^-\/]+)$/) {
		my $af = $first =~ /:/ ? AF_INET6 : AF_INET;
		return [$af, inet_pton($af, $first), inet_pton($af, $last)];
	}
	my ($af, $bytes, $len) = prefix_bytes($r =~ m{/} ? $r : $r =~ /:/ ? "$r/128" : "$r/32");
	my $bits = unpack('B*', $bytes);
	my $lo = substr($bits, 0, $len) . ('0' x (length($bits) - $len));
	my $hi = substr($bits, 0, $len) . ('1' x (length($bits) - $len));
	return [$af, pack('B*', $lo), pack('B*', $hi)];
}

sub in_ranges {
	my ($addr, $ranges) = @_;
	my $af = $addr =~ /:/ ? AF_INET6 : AF_INET;
	my $a = inet_pton($af, $addr);
	for my $r (@$ranges) {
		return 1 if $r->[0] == $af && $a ge $r->[1] && $a le $r->[2];
	}
	return 0;
}

# The packed address plus DELTA (-1 or 1); undef past either end.
sub addr_step {
	my ($bytes, $delta) = @_;
	my @b = unpack('C*', $bytes);
	for (my $i = $#b; $i >= 0; $i--) {
		my $v = $b[$i] + $delta;
		if ($v >= 0 && $v <= 255) {
			$b[$i] = $v;
			return pack('C*', @b);
		}
		$b[$i] = $v & 0xff;
	}
	return undef;
}

# Can a test host hold this address? Unicast space only (no this-network,
# loopback, link-local, multicast or reserved), and not the links the
# namespaces of gateway_ns.sh use between the gateway and "up".
my @NOT_A_HOST = map { range_bounds($_) } qw(0.0.0.0/8 127.0.0.0/8 169.254.0.0/16 224.0.0.0/3
    10.99.254.0/30 fd99:ffff::/64);
sub usable_host {
	my ($addr) = @_;
	return 0 if in_ranges($addr, \@NOT_A_HOST);
	return 1 if $addr !~ /:/;
	# IPv6: global unicast (2000::/3) and unique local (fc00::/7)
	return in_ranges($addr, [range_bounds('2000::/3'), range_bounds('fc00::/7')]);
}

# The /24 or /64 at the start of PREFIX (END=0) or just past its end (END=1).
sub edge_net {
	my ($prefix, $past) = @_;
	my ($af, $bytes, $len) = prefix_bytes($prefix);
	my $bits = unpack('B*', $bytes);
	my $net = $af == AF_INET ? 24 : 64;
	if ($past) {
		# add 1 at bit LEN-1: the first address after the prefix
		my $head = substr($bits, 0, $len);
		my $n = length($head) - 1;
		$n-- while $n >= 0 && substr($head, $n, 1) eq '1';
		die "no address after $prefix\n" if $n < 0;
		substr($head, $n) = '1' . ('0' x (length($head) - $n - 1));
		$bits = $head . ('0' x (length($bits) - $len));
	}
	return inet_ntop($af, pack('B*', $bits)) . "/$net";
}

# The /24 or /64 at the end of PREFIX.
sub last_net {
	my ($prefix) = @_;
	my ($af, $bytes, $len) = prefix_bytes($prefix);
	my $bits = unpack('B*', $bytes);
	my $net = $af == AF_INET ? 24 : 64;
	return $prefix if $len >= $net;
	$bits = substr($bits, 0, $len) . ('1' x ($net - $len)) . ('0' x (length($bits) - $net));
	return inet_ntop($af, pack('B*', $bits)) . "/$net";
}

# family, bit string and length of a prefix, for fast overlap tests
sub prefix_bits {
	my ($af, $bytes, $len) = prefix_bytes($_[0]);
	return ($af, unpack('B*', $bytes), $len);
}

# The pseudo-zone of a net outside the city plan: RFC 1918, RFC 6598 and
# RFC 4193 ranges are private-external, documentation ranges special, the
# rest internet (as the compiler's outside ranges, docs/policy.md).
sub outside_zone {
	my ($net) = @_;
	for my $p (qw(10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 100.64.0.0/10 fc00::/7)) {
		return 'private-external' if overlaps($net, $p);
	}
	for my $p (qw(192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32 198.18.0.0/15)) {
		return 'special' if overlaps($net, $p);
	}
	return 'internet';
}

# --- drawing tuples -------------------------------------------------------

# Deterministic on every machine and perl: the minimal standard generator
# (Park and Miller, CACM 31(10), 1988); every product stays below 2^47.
my $rng_state = 1;

sub rng_seed { $rng_state = $_[0] % 2147483646 + 1 }

sub rng {
	my ($n) = @_;
	$rng_state = $rng_state * 48271 % 2147483647;
	return int($rng_state / 2147483647 * $n);
}

sub shuffled {
	my @a = @_;
	for (my $i = $#a; $i > 0; $i--) {
		my $j = rng($i + 1);
		@a[$i, $j] = @a[$j, $i];
	}
	return @a;
}

# ICMP types that may start a connection in conntrack (echo, timestamp,
# information, address mask; ICMPv6 echo and node information query): the
# other types are ct state invalid when new and never reach a policy rule.
my %ICMP_OTHER_FAMILY = (4 => {8 => 128, 13 => 139}, 6 => {128 => 8, 139 => 13});

sub zone_match {
	my ($list, $ep) = @_;
	return 1 if !ref($list) && $list eq 'any';
	for my $z (@$list) {
		return 1 if $z eq $ep->{zone} || ($z eq 'dc' && $ep->{dc});
	}
	return 0;
}

# Does a rule's side (from or to) match an endpoint? Zones by the endpoint's
# zone; the table's named sets (objects, hosts, labels, groups, except) only
# for endpoints that are one exact address, by membership.
# A network endpoint matches a set when the hosts drawn from it (10-13) lie
# in the set, in one of its families (remembered per endpoint and set).
sub side_match {
	my ($rule, $side, $ep, $sets) = @_;
	return 1 if zone_match($rule->{$side}, $ep);
	for my $name (@{$rule->{"${side}_sets"} // []}) {
		my $in = $ep->{in_set}{$name} //= do {
			my $r = $sets->{$name} // [];
			$ep->{exact} ? in_ranges($ep->{addr}, $r)
			    : (grep { $ep->{$_} && in_ranges(host_in($ep->{$_}, 10), $r)
				    && in_ranges(host_in($ep->{$_}, 13), $r) } 4, 6) ? 1 : 0;
		};
		return 1 if $in;
	}
	return 0;
}

sub scope_holds {
	my ($scope, $a, $b, $gw_district) = @_;
	return 1 if $scope eq 'any';
	return $a->{local} && $b->{local} if $scope eq 'same-site';
	return ($a->{district} // '') eq $gw_district && ($b->{district} // '') eq $gw_district
	    if $scope eq 'same-district';
	return $b->{dc} if $scope eq 'dc-only';
	die "unknown scope $scope\n";
}

# The probes of a rule's services: [family-or-0, proto, arg, side].
sub service_probes {
	my ($svc) = @_;
	my (@in, @out);
	if (!ref $svc) {
		push @in, [0, 'tcp', 1 + rng(65535), 'in'], [0, 'udp', 1 + rng(65535), 'in'],
		    [4, 'icmp', 8, 'in'], [6, 'icmpv6', 128, 'in'];
		return (\@in, \@out);
	}
	my @ports = @{$svc->{ports}};
	for my $r (@ports) {
		my $p = $PROTO_NAME{$r->{proto}} // $r->{proto};
		my $inside = sub {
			my ($proto, $n) = @_;
			return grep { $_->{proto} == $proto && $n >= $_->{from} && $n <= $_->{to} } @ports;
		};
		push @in, [0, $p, $r->{from}, 'in'];
		push @in, [0, $p, $r->{to}, 'in'] if $r->{to} != $r->{from};
		push @in, [0, $p, int(($r->{from} + $r->{to}) / 2), 'in'] if $r->{to} - $r->{from} > 1;
		for my $n ($r->{from} - 1, $r->{to} + 1) {
			push @out, [0, $p, $n, 'out-port'] if $n >= 1 && $n <= 65535 && !$inside->($r->{proto}, $n);
		}
		my $other = $r->{proto} == 6 ? 17 : 6;
		push @out, [0, $PROTO_NAME{$other}, $r->{from}, 'out-proto'] if !$inside->($other, $r->{from});
	}
	for my $fam (4, 6) {
		my $key = $fam == 4 ? 'icmp' : 'icmpv6';
		my $okey = $fam == 4 ? 'icmpv6' : 'icmp';
		my %listed = map { $_ => 1 } @{$svc->{$okey}};
		for my $t (@{$svc->{$key}}) {
			push @in, [$fam, $key, $t, 'in'];
			my $o = $ICMP_OTHER_FAMILY{$fam}{$t};
			push @out, [10 - $fam, $okey, $o, 'out-family'] if defined $o && !$listed{$o};
		}
	}
	for my $p (@{$svc->{protocols}}) {
		push @in, [0, $p, '-', 'in'];
		push @out, [0, 253, '-', 'out-proto'];
	}
	return (\@in, \@out);
}

sub cmd_tuples {
	my ($inv, $table_path, $seed, $target) = @_;
	rng_seed($seed);
	my $table = decode_json(slurp($table_path));
	my $gw = $table->{gateway};
	my $gw_district = $table->{district};
	my %site = map { $_->{id} => $_ } read_csv("$inv/sites.csv");
	my @plan = read_csv("$inv/addressplan.csv");
	my @segs = read_csv("$inv/segments.csv");
	# Every segment by its address range, for the named sets' exact addresses
	# below: such an address may lie at a site the draw does not pick.
	my @seg_ranges = sort { $a->[0] <=> $b->[0] || $a->[1] cmp $b->[1] }
	    map { my $s = $_; map { [@{range_bounds($s->{$_})}, $s] } grep { $s->{$_} } qw(ipv4 ipv6) } @segs;
	my $seg_of = sub {
		my ($addr) = @_;
		my $af = $addr =~ /:/ ? AF_INET6 : AF_INET;
		my $x = inet_pton($af, $addr);
		my ($lo, $hi) = (0, scalar @seg_ranges);
		while ($lo < $hi) {
			my $m = int(($lo + $hi) / 2);
			my $r = $seg_ranges[$m];
			if ($r->[0] < $af || ($r->[0] == $af && $r->[1] le $x)) { $lo = $m + 1 } else { $hi = $m }
		}
		my $r = $lo > 0 ? $seg_ranges[$lo - 1] : undef;
		return $r && $r->[0] == $af && $x ge $r->[1] && $x le $r->[2] ? $r->[3] : undef;
	};
	my @eps;
	my @taken = grep { $_ } map { ($_->{ipv4}, $_->{ipv6}) } @segs;
	# A city of hundreds of sites: the far ends come from every data centre,
	# up to three sites of the gateway's district and a dozen others (drawn),
	# so that drawing stays fast; a small inventory keeps every site.
	my %far;
	if (keys %site > 30) {
		my @others = shuffled(sort grep { $_ ne $gw } keys %site);
		my @dc = grep { $site{$_}{type} eq 'data_centre' } @others;
		my @near = grep { $site{$_}{district} eq ($gw_district // '') && $site{$_}{type} ne 'data_centre' } @others;
		$far{$_} = 1 for @dc, @near[0 .. ($#near < 2 ? $#near : 2)];
		for my $o (@others) {
			last if keys %far >= @dc + 15;
			$far{$o} = 1;
		}
	}
	for my $s (@segs) {
		next if %far && $s->{site} ne $gw && !$far{$s->{site}};
		my $st = $site{$s->{site}};
		my $local = $s->{site} eq $gw;
		push @eps, {zone => $s->{zone}, site => $s->{site}, district => $st->{district},
			dc => $st->{type} eq 'data_centre', local => $local,
			ns => $local ? $s->{name} : 'up', 4 => $s->{ipv4} || undef, 6 => $s->{ipv6} || undef};
	}
	for my $p (grep { $_->{zone} =~ /^vpn-/ } @plan) {
		my $fam = $p->{prefix} =~ /:/ ? 6 : 4;
		my ($ep) = grep { $_->{zone} eq $p->{zone} } @eps;
		if (!$ep) {
			$ep = {zone => $p->{zone}, dc => 0, local => 0, ns => 'up'};
			push @eps, $ep;
		}
		$ep->{$fam} = $p->{prefix};
		push @taken, $p->{prefix};
	}
	my @city = map { $_->{prefix} } grep { $_->{zone} eq 'city' } @plan;
	my @taken_bits = map { [prefix_bits($_)] } @taken;
	my $free = sub {
		my ($net) = @_;
		my @n = prefix_bits($net);
		for my $t (@taken_bits) {
			next if $t->[0] != $n[0];
			my $len = $t->[2] < $n[2] ? $t->[2] : $n[2];
			return 0 if substr($t->[1], 0, $len) eq substr($n[1], 0, $len);
		}
		return 1;
	};
	my $in_city = sub {
		my ($net) = @_;
		return grep { overlaps($net, $_) } @city;
	};
	# unassigned: the first (else the last) net of each city prefix that no
	# segment or pool holds, and the last net of a few zones' own prefixes
	# (inside a zone's plan, outside every segment); outside the plan: the
	# net just past each city prefix (internet or private-external by its
	# range) and fixed nets of the pseudo-zones internet, private-external and
	# special, where the plan leaves them out
	for my $c (@city) {
		my $fam = $c =~ /:/ ? 6 : 4;
		my ($first) = grep { $free->($_) } edge_net($c, 0), last_net($c);
		die "no unassigned net in $c\n" if !$first;
		push @eps, {zone => 'unassigned', dc => 0, local => 0, ns => 'up', $fam => $first};
		my $past = edge_net($c, 1);
		push @eps, {zone => outside_zone($past), dc => 0, local => 0, ns => 'up', $fam => $past}
		    if !$in_city->($past);
	}
	my @zone_nets = grep { $_->{zone} !~ /^(city|vpn-.*)$/ } @plan;
	for my $p ((shuffled(@zone_nets))[0 .. 5]) {
		next if !$p;
		my $net = last_net($p->{prefix});
		my $fam = $net =~ /:/ ? 6 : 4;
		push @eps, {zone => 'unassigned', dc => 0, local => 0, ns => 'up', $fam => $net}
		    if $free->($net) && !grep { ($_->{$fam} // '') eq $net } @eps;
	}
	for my $x (['internet', '11.22.33.0/24', '2a0b:11::/64'],
		['private-external', '172.16.5.0/24', 'fd12:3456::/64'],
		['private-external', '192.168.77.0/24', undef],
		['private-external', '100.127.77.0/24', undef],
		['special', '198.51.100.0/24', '2001:db8:77::/64']) {
		my %ep = (zone => $x->[0], dc => 0, local => 0, ns => 'up');
		for my $net (grep { defined } @$x[1, 2]) {
			next if $in_city->($net) || grep { ($_->{4} // '') eq $net || ($_->{6} // '') eq $net } @eps;
			$ep{$net =~ /:/ ? 6 : 4} = $net;
		}
		push @eps, \%ep if $ep{4} || $ep{6};
	}
	# Far ends from the table's named sets (objects, hosts, labels, site
	# groups, external networks, exclusions): the first and last address of
	# their ranges and the addresses just outside, each an endpoint of one
	# exact address, in turn over the sets, at most 60. Each takes the zone,
	# site and namespace of the segment (or pool) it lies in.
	my %sets = map { $_->{name} => [map { range_bounds($_) } @{$_->{ranges}}] } @{$table->{sets} // []};
	if (%sets) {
		my @self = map { range_bounds($_) } @{$table->{lists}{self} // []};
		my @city_r = map { range_bounds($_) } @city;
		# the sets with fewest ranges first (hosts, labels, objects), and of
		# each its own addresses before those just outside: one at this
		# gateway's site or district (where same-site and same-district rules
		# can match it) and one elsewhere first, then the others
		my $near = sub {
			my $sg = $seg_of->($_[0]);
			return $sg && ($sg->{site} eq $gw || ($site{$sg->{site}}{district} // '') eq ($gw_district // ''));
		};
		my (@queues, %have);
		for my $name (sort { @{$sets{$a}} <=> @{$sets{$b}} || $a cmp $b } keys %sets) {
			my (@in, @out);
			for my $r (@{$sets{$name}}) {
				my ($af, $lo, $hi) = @$r;
				push @in, map { inet_ntop($af, $_) } $lo, $hi;
				push @out, map { inet_ntop($af, $_) } grep { defined } addr_step($lo, -1), addr_step($hi, 1);
			}
			my @n = shuffled(grep { $near->($_) } @in);
			my @f = shuffled(grep { !$near->($_) } @in);
			push @queues, [grep { defined } shift(@n), shift(@f), @n, @f, shuffled(@out)];
		}
		my $exact = 0;
		while ($exact < 60 && grep { @$_ } @queues) {
			for my $q (@queues) {
				my $addr = shift @$q // next;
				next if $have{$addr}++ || !usable_host($addr) || in_ranges($addr, \@self);
				my $fam = $addr =~ /:/ ? 6 : 4;
				my $host = $addr . ($fam == 4 ? '/32' : '/128');
				my ($in) = grep { $_->{$fam} && !$_->{exact} && overlaps($host, $_->{$fam}) } @eps;
				if (!$in && (my $sg = $seg_of->($addr))) {
					my $st = $site{$sg->{site}};
					$in = {zone => $sg->{zone}, site => $sg->{site}, district => $st->{district},
						dc => $st->{type} eq 'data_centre', local => 0, ns => 'up'};
				}
				# in a local segment: not the gateway's, the network's or the
				# namespace's own address (hosts below 10), not broadcast
				next if $in && $in->{local} && (in_ranges($addr, [range_bounds(host_in($in->{$fam}, 0) . '-' . host_in($in->{$fam}, 9))])
				    || ($fam == 4 && inet_pton(AF_INET, $addr) eq range_bounds($in->{$fam})->[2]));
				my %ep = $in ? %$in : (zone => (in_ranges($addr, \@city_r) ? 'unassigned' : outside_zone($host)),
				    dc => 0, local => 0, ns => 'up');
				delete @ep{4, 6};
				push @eps, {%ep, exact => 1, addr => $addr, $fam => $addr};
				last if ++$exact >= 60;
			}
		}
	}
	my @pairs;
	for my $a (@eps) {
		for my $b (@eps) {
			next if $a == $b || (!$a->{local} && !$b->{local});
			# two addresses of one segment talk without the gateway
			next if $a->{local} && $b->{local} && $a->{ns} eq $b->{ns};
			next if !(($a->{4} && $b->{4}) || ($a->{6} && $b->{6}));
			push @pairs, [$a, $b];
		}
	}
	my (@out, %dup);
	my $emit = sub {
		my ($a, $b, $probe, $target, $side) = @_;
		for my $fam (4, 6) {
			next if !$a->{$fam} || !$b->{$fam} || ($probe->[0] && $probe->[0] != $fam);
			my $proto = $probe->[1];
			next if ($proto eq 'icmp' && $fam == 6) || ($proto eq 'icmpv6' && $fam == 4);
			my $src = $a->{exact} ? $a->{addr} : host_in($a->{$fam}, 10 + rng(4));
			my $dst = $b->{exact} ? $b->{addr} : host_in($b->{$fam}, 10 + rng(4));
			my $key = join ' ', $fam, $proto, $probe->[2], $src, $dst;
			next if $dup{$key}++;
			push @out, [$fam, $proto, $probe->[2], $src, $dst, $a->{ns}, $b->{ns}, $target,
				$side eq 'drawn' ? $probe->[3] : $side];
		}
	};
	my @pool;
	for my $rule (@{$table->{rules}}) {
		# a gateway service is judged in the input chain, to the gateway's own
		# addresses, which no receiver here observes
		next if $rule->{gateway};
		my (@in, @scope, @zone);
		for my $pair (shuffled(@pairs)) {
			my ($a, $b) = @$pair;
			my $f = side_match($rule, 'from', $a, \%sets);
			my $t = side_match($rule, 'to', $b, \%sets);
			my $s = scope_holds($rule->{scope}, $a, $b, $gw_district);
			push @in, $pair if $f && $t && $s;
			push @scope, $pair if $f && $t && !$s;
			push @zone, $pair if $f + $t == 1 && $s;
		}
		# one pair in each direction (outward, inward, local), then any
		my (@pick, %seen_dir);
		for my $pair (@in) {
			my $dir = ($pair->[0]{local} ? 'l' : 'r') . ($pair->[1]{local} ? 'l' : 'r');
			push @pick, $pair if !$seen_dir{$dir}++;
		}
		push @pick, grep { my $p = $_; !grep { $_ == $p } @pick } @in;
		splice(@pick, 4) if @pick > 4;
		my ($pin, $pout) = service_probes($rule->{services});
		push @pool, @$pin;
		for my $pair (@pick) {
			my @i = shuffled(@$pin);
			my @o = shuffled(@$pout);
			$emit->(@$pair, $_, $rule->{id}, 'drawn') for @i[0 .. ($#i < 3 ? $#i : 3)];
			$emit->(@$pair, $_, $rule->{id}, 'drawn') for @o[0 .. ($#o < 3 ? $#o : 3)];
		}
		for my $pair ((shuffled(@scope))[0 .. 1]) {
			$emit->(@$pair, $pin->[rng(scalar @$pin)], $rule->{id}, 'out-scope') if $pair;
		}
		for my $pair ((shuffled(@zone))[0 .. 1]) {
			$emit->(@$pair, $pin->[rng(scalar @$pin)], $rule->{id}, 'out-zone') if $pair;
		}
	}
	my @drawn = @out;
	@out = ();
	# ICMP messages that open no connection (replies and errors): invalid
	# when unsolicited, whatever the rules say; a few of each type
	my @none = ([4, 'icmp', 0, 'in'], [4, 'icmp', 3, 'in'], [4, 'icmp', 11, 'in'],
		[4, 'icmp', 14, 'in'], [6, 'icmpv6', 129, 'in'], [6, 'icmpv6', 1, 'in'],
		[6, 'icmpv6', 2, 'in'], [6, 'icmpv6', 3, 'in']);
	for my $probe (@none) {
		for (1 .. 2) {
			my $pair = $pairs[rng(scalar @pairs)];
			$emit->(@$pair, $probe, '-', 'random');
		}
	}
	# every far end at no site (VPN pools, unassigned nets, outside the plan)
	# in a few tuples of its own, in both directions
	my @local = grep { $_->{local} } @eps;
	for my $ep (grep { !$_->{site} && !$_->{exact} } @eps) {
		for my $i (1 .. 3) {
			my $l = $local[rng(scalar @local)];
			$emit->($i % 2 ? ($l, $ep) : ($ep, $l), $pool[rng(scalar @pool)], '-', 'random');
		}
	}
	# every address drawn from a named set in a tuple of its own
	for my $ep (grep { $_->{exact} } @eps) {
		my $fam = $ep->{addr} =~ /:/ ? 6 : 4;
		my @l = grep { $_->{$fam} && $_ != $ep && !($ep->{local} && $_->{ns} eq $ep->{ns}) } @local;
		next if !@l;
		my $l = $l[rng(scalar @l)];
		$emit->(rng(2) ? ($l, $ep) : ($ep, $l), $pool[rng(scalar @pool)], '-', 'random');
	}
	# more drawn for the rules than room left (a policy of many rules): the
	# first tuple drawn inside each rule, and a random part of the others,
	# in their order
	my $room = $target - @out;
	$room = 0 if $room < 0;
	if (@drawn > $room) {
		my %first;
		my @must = grep { $drawn[$_][8] eq 'in' && !$first{$drawn[$_][7]}++ } 0 .. $#drawn;
		my %must = map { $_ => 1 } @must;
		my $left = $room - @must;
		my @keep = (@must, $left > 0 ? (shuffled(grep { !$must{$_} } 0 .. $#drawn))[0 .. $left - 1] : ());
		@drawn = @drawn[sort { $a <=> $b } @keep];
	}
	@out = (@drawn, @out);
	# fill up with random pairs and services
	my $tries = 0;
	while (@out < $target && $tries++ < 100 * $target) {
		my $pair = $pairs[rng(scalar @pairs)];
		my $r = rng(20);
		my $probe = $r == 0 ? $none[rng(scalar @none)] : $r > 4 ? $pool[rng(scalar @pool)]
		    : [0, rng(2) ? 'tcp' : 'udp', 1 + rng(65535), 'in'];
		$emit->(@$pair, $probe, '-', 'random');
	}
	my $id = 0;
	for my $t (@out) {
		print join("\t", ++$id, @$t), "\n";
	}
}

# --- choosing gateways -------------------------------------------------------

# COUNT sites of INVENTORY, deterministic for SEED and spread: every data
# centre, every site with exceptions in policy.yaml, then greedily the site
# that adds most of what is not yet covered: its district, its type, its
# set of zones (with or without guest, school, servers), in a seeded order.
sub cmd_pick {
	my ($inv, $count, $seed) = @_;
	rng_seed($seed);
	my @sites = read_csv("$inv/sites.csv");
	my %zones;
	push @{$zones{$_->{site}}}, $_->{zone} for read_csv("$inv/segments.csv");
	my %exc;
	if (open(my $fh, '<', "$inv/policy.yaml")) {
		my $in = 0;
		while (my $line = <$fh>) {
			$in = 1, next if $line =~ /^sites:/;
			$in = 0 if $line =~ /^\S/;
			$exc{$1} = 1 if $in && $line =~ /^  (\S+):\s*$/;
		}
	}
	my (@pick, %have, %picked);
	my $take = sub {
		my ($s) = @_;
		push @pick, $s->{id};
		$picked{$s->{id}} = 1;
		$have{"d:$s->{district}"} = $have{"t:$s->{type}"} = 1;
		$have{'z:' . join(',', sort @{$zones{$s->{id}} // []})} = 1;
	};
	$take->($_) for grep { $_->{type} eq 'data_centre' || $exc{$_->{id}} } @sites;
	my @order = shuffled(@sites);
	while (@pick < $count) {
		my ($best, $score) = (undef, -1);
		for my $s (@order) {
			next if $picked{$s->{id}};
			my $z = 'z:' . join(',', sort @{$zones{$s->{id}} // []});
			my $n = 2 * !$have{"d:$s->{district}"} + 2 * !$have{"t:$s->{type}"} + !$have{$z};
			($best, $score) = ($s, $n) if $n > $score;
		}
		last if !$best;
		$take->($best);
	}
	splice(@pick, $count) if @pick > $count;
	print "$_\n" for @pick;
}

# --- asking the evaluator -------------------------------------------------

# One line of verdicts per tuple: id, the gateway's verdict, passes, rule,
# by, the overall verdict and where it was decided.
sub verdict_line {
	my ($t, $gw, $q) = @_;
	my ($g) = grep { $_->{site} eq $gw } @{$q->{gateways}};
	die "tuple $t->{id}: gateway $gw does not judge it\n" if !$g;
	return join("\t", $t->{id}, $g->{verdict}, $g->{passes} ? 1 : 0, $g->{rule} // '-',
		$g->{by}, $q->{verdict}, $q->{decided_at} // '-') . "\n";
}

sub cmd_query {
	my ($segplan, $inv, $gw, $date, $mode) = @_;
	my $when = $date =~ /T/ ? '--time' : '--date';
	my @tuples = read_tsv(\*STDIN);
	# `segplan policy query --batch` loads the city once; without it, one
	# process per tuple (POLPROBE_QUERY_SINGLE=1 forces that)
	my $help = `"$segplan" policy query --help 2>&1`;
	if (!$ENV{POLPROBE_QUERY_SINGLE} && $help =~ /--batch/) {
		require File::Temp;
		my ($in, $in_path) = File::Temp::tempfile(UNLINK => 1);
		for my $t (@tuples) {
			my $arg = $t->{proto} =~ /^(tcp|udp|icmp|icmpv6)$/ ? $t->{arg} : '-';
			print $in join(' ', $t->{src}, $t->{dst}, $t->{proto}, $arg), "\n";
		}
		close $in;
		open(my $fh, '-|', 'sh', '-c', 'exec "$0" policy query "$1" --batch "$2" "$3" --mode "$4" <"$5"',
			$segplan, $inv, $when, $date, $mode, $in_path) or die "$segplan: $!\n";
		for my $t (@tuples) {
			my $line = <$fh> // die "query --batch ended before tuple $t->{id}\n";
			print verdict_line($t, $gw, decode_json($line));
		}
		close $fh or die "query --batch failed\n";
		return;
	}
	for my $t (@tuples) {
		my @cmd = ($segplan, 'policy', 'query', $inv, '--src', $t->{src}, '--dst', $t->{dst},
			'--proto', $t->{proto}, $when, $date, '--mode', $mode, '--json');
		push @cmd, '--dport', $t->{arg} if $t->{proto} eq 'tcp' || $t->{proto} eq 'udp';
		push @cmd, '--type', $t->{arg} if $t->{proto} =~ /^icmp/;
		open(my $fh, '-|', @cmd) or die "$segplan: $!\n";
		local $/;
		my $text = <$fh>;
		close $fh or die "query failed for tuple $t->{id}: @cmd\n";
		print verdict_line($t, $gw, decode_json($text));
	}
}

# --- sending --------------------------------------------------------------

sub sockaddr_of {
	my ($fam, $addr, $port) = @_;
	return $fam == 4 ? pack_sockaddr_in($port, inet_pton(AF_INET, $addr))
	    : pack_sockaddr_in6($port, inet_pton(AF_INET6, $addr));
}

sub csum {
	my ($data) = @_;
	$data .= "\0" if length($data) % 2;
	my $sum = 0;
	$sum += $_ for unpack('n*', $data);
	$sum = ($sum >> 16) + ($sum & 0xffff) while $sum >> 16;
	return ~$sum & 0xffff;
}

# The key of a packet we sent, as an ICMP error quotes it back (RFC 792,
# RFC 4443 2.4: the error carries the start of the offending packet).
sub quote_key {
	my ($proto, $src, $dst, $l4) = @_;
	if ($proto == 6 || $proto == 17) {
		my ($sport, $dport) = unpack('n n', $l4);
		return "$proto|$src|$dst|$sport|$dport";
	}
	if ($proto == 1 || $proto == 58) {
		my (undef, undef, undef, $ident) = unpack('C C n n', $l4);
		return "$proto|$src|$dst|$ident";
	}
	return "$proto|$src|$dst";
}

# An ICMP error type: 1 + the code send gives it (v4 destination unreachable:
# host unreachable; v6 destination unreachable: address unreachable), else 0.
sub icmp_error {
	my ($fam, $type) = @_;
	return $fam == 4 ? {3 => 2, 11 => 1, 12 => 1}->{$type} // 0
	    : {1 => 4, 2 => 1, 3 => 1, 4 => 1}->{$type} // 0;
}

sub cmd_send {
	my ($timeout_ms) = @_;
	my @tuples = read_tsv(\*STDIN);
	my (%by_key, %by_fd, %outcome, %reply_id, %tcp_start);
	my $answered = 0; # echo replies only: the warm-up's early end
	my $sel_r = IO::Select->new;
	my $sel_w = IO::Select->new;
	socket(my $raw4, PF_INET, SOCK_RAW, IPPROTO_ICMP) or die "raw icmp: $!\n";
	socket(my $raw6, PF_INET6, SOCK_RAW, IPPROTO_ICMPV6) or die "raw icmpv6: $!\n";
	$sel_r->add($raw4, $raw6);
	my @keep;
	for my $t (@tuples) {
		my $fam = $t->{fam};
		my $af = $fam == 4 ? PF_INET : PF_INET6;
		my $proto = $PROTO{$t->{proto}} // $t->{proto};
		my $s;
		if ($proto == 6 || $proto == 17) {
			socket($s, $af, ($proto == 6 ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, $proto)
			    or die "socket: $!\n";
			if (!bind($s, sockaddr_of($fam, $t->{src}, 0))) {
				$outcome{$t->{id}} = "senderr:bind:$!";
				next;
			}
			my $ok = connect($s, sockaddr_of($fam, $t->{dst}, $t->{arg}));
			die "connect $t->{dst}: $!\n" if !$ok && $! != EINPROGRESS;
			my ($sport) = $fam == 4 ? unpack_sockaddr_in(getsockname($s))
			    : unpack_sockaddr_in6(getsockname($s));
			if ($proto == 6) {
				$sel_w->add($s);
				$tcp_start{fileno $s} = time;
			} else {
				send($s, "segplan probe $t->{id}\n", 0) or $outcome{$t->{id}} = "senderr:$!";
				$sel_r->add($s);
			}
			$by_fd{fileno $s} = $t;
			$by_key{"$proto|$t->{src}|$t->{dst}|$sport|$t->{arg}"} = $t;
			push @keep, $s;
			next;
		}
		socket($s, $af, SOCK_RAW, $proto) or die "raw socket $proto: $!\n";
		if (!bind($s, sockaddr_of($fam, $t->{src}, 0))) {
			$outcome{$t->{id}} = "senderr:bind:$!";
			next;
		}
		my $msg;
		my $error = ($proto == 1 || $proto == 58) && icmp_error($fam, $t->{arg});
		if ($error) {
			# an ICMP error that no packet caused: it quotes a UDP datagram
			# from the tuple's destination (RFC 792, RFC 4443 2.4)
			my ($code, $word) = ($error - 1, $proto == 58 && $t->{arg} == 2 ? 1280 : 0);
			my $udp = pack('n n n n', 40000 + $t->{id} % 20000, 33434, 8, 0);
			my $quote = $fam == 4
			    ? pack('C C n n n C C n a4 a4', 0x45, 0, 28, $t->{id} & 0xffff, 0, 1, 17, 0,
				inet_pton(AF_INET, $t->{dst}), inet_pton(AF_INET, $t->{src})) . $udp
			    : pack('N n C C a16 a16', 6 << 28, 8, 17, 1, inet_pton(AF_INET6, $t->{dst}),
				inet_pton(AF_INET6, $t->{src})) . $udp;
			$msg = pack('C C n N', $t->{arg}, $code, 0, $word) . $quote;
			substr($msg, 2, 2) = pack('n', csum($msg)) if $proto == 1;
		} elsif ($proto == 1 || $proto == 58) {
			my $ident = $t->{id} & 0xffff;
			# echo and node information carry 8 bytes of data, timestamp three stamps
			my $body = $t->{arg} == 13 ? pack('N3', 0, 0, 0) : pack('a8', 'segplan');
			$msg = pack('C C n n n', $t->{arg}, 0, 0, $ident, 1) . $body;
			# the kernel fills the ICMPv6 checksum (RFC 3542 3.1), not ICMP's
			substr($msg, 2, 2) = pack('n', csum($msg)) if $proto == 1;
			$by_key{"$proto|$t->{src}|$t->{dst}|$ident"} = $t;
			$reply_id{"$fam|$t->{dst}|$ident"} = $t;
		} else {
			# GRE (RFC 2784) carrying nothing; any other protocol: a few bytes
			$msg = $proto == 47 ? pack('n n', 0, 0x0800) : 'segplan probe';
			$by_key{"$proto|$t->{src}|$t->{dst}"} = $t;
		}
		send($s, $msg, 0, sockaddr_of($fam, $t->{dst}, 0)) or $outcome{$t->{id}} = "senderr:$!";
		close $s;
	}
	my $deadline = time + $timeout_ms / 1000;
	while ((my $left = $deadline - time) > 0) {
		# a connection not answered within TIMEOUT of its own SYN is given up
		# (closed in SYN_SENT: nothing is sent), so that no SYN is sent twice
		# however long opening all the sockets took on a busy machine
		my $now = time;
		for my $s ($sel_w->handles) {
			next if $now - $tcp_start{fileno $s} < $timeout_ms / 1000;
			$sel_w->remove($s);
			close $s;
		}
		# all answered (the gateway's warm-up pings): nothing more to wait for
		last if $answered >= @tuples;
		$left = 0.05 if $left > 0.05;
		my ($rd, $wr) = IO::Select->select($sel_r, $sel_w, undef, $left);
		for my $s (@{$wr // []}) {
			my $t = $by_fd{fileno $s};
			my $err = unpack('i', getsockopt($s, SOL_SOCKET, SO_ERROR));
			$outcome{$t->{id}} //= $err == 0 ? 'answered' : $err == ECONNREFUSED ? 'refused'
			    : 'error:' . ($! = $err);
			$sel_w->remove($s);
		}
		for my $s (@{$rd // []}) {
			if ($s == $raw4 || $s == $raw6) {
				my $from = recv($s, my $pkt, 65535, 0);
				next if !defined $from;
				my ($fam, $icmp, $peer) = (4, $pkt, undef);
				if ($s == $raw4) {
					my $ihl = (unpack('C', $pkt) & 15) * 4;
					$peer = inet_ntop(AF_INET, substr($pkt, 12, 4));
					$icmp = substr($pkt, $ihl);
				} else {
					$fam = 6;
					(undef, my $a) = unpack_sockaddr_in6($from);
					$peer = inet_ntop(AF_INET6, $a);
				}
				next if length($icmp) < 8;
				my ($type, $code, undef, $ident) = unpack('C C n n', $icmp);
				my $is_err = $fam == 4 ? ($type == 3 || $type == 11 || $type == 12)
				    : ($type >= 1 && $type <= 4);
				if (!$is_err) {
					my $t = $reply_id{"$fam|$peer|$ident"};
					if ($t && ($type == 0 || $type == 14 || $type == 129) && !defined $outcome{$t->{id}}) {
						$outcome{$t->{id}} = 'answered';
						$answered++;
					}
					next;
				}
				my $q = substr($icmp, 8);
				my $key;
				if ($fam == 4 && length($q) >= 28) {
					my $ihl = (unpack('C', $q) & 15) * 4;
					$key = quote_key(unpack('C', substr($q, 9, 1)),
						inet_ntop(AF_INET, substr($q, 12, 4)), inet_ntop(AF_INET, substr($q, 16, 4)),
						substr($q, $ihl, 8));
				} elsif ($fam == 6 && length($q) >= 48) {
					$key = quote_key(unpack('C', substr($q, 6, 1)),
						inet_ntop(AF_INET6, substr($q, 8, 16)), inet_ntop(AF_INET6, substr($q, 24, 16)),
						substr($q, 40, 8));
				}
				my $t = defined $key ? $by_key{$key} : undef;
				next if !$t;
				my $prohibited = $fam == 4 ? ($type == 3 && $code == 13) : ($type == 1 && $code == 1);
				my $refused = $fam == 4 ? ($type == 3 && ($code == 2 || $code == 3))
				    : (($type == 1 && $code == 4) || ($type == 4 && $code == 1));
				$outcome{$t->{id}} = $prohibited ? "prohibited:$peer" : $refused ? 'refused'
				    : "icmp:$type/$code:$peer";
				next;
			}
			my $t = $by_fd{fileno $s};
			my $got = recv($s, my $buf, 2048, 0);
			next if !defined $got && $! == EAGAIN;
			$outcome{$t->{id}} //= defined $got ? 'answered' : $! == ECONNREFUSED ? 'refused'
			    : "error:$!";
			$sel_r->remove($s);
		}
	}
	print "$_->{id}\t", ($outcome{$_->{id}} // 'silent'), "\n" for @tuples;
}

# --- reading the kernel back ---------------------------------------------

# The receivers' sets (nft -j -n): one line per packet seen,
# "family proto src dst arg" as in the tuples.
sub cmd_seen {
	local $/;
	my $doc = decode_json(<STDIN>);
	for my $o (@{$doc->{nftables}}) {
		my $set = $o->{set} or next;
		my ($kind, $fam) = $set->{name} =~ /^(ports|icmp|proto)([46])$/ or next;
		for my $e (@{$set->{elem} // []}) {
			my $c = ref $e eq 'HASH' && $e->{elem} ? $e->{elem}{val} : $e;
			my @v = @{$c->{concat}};
			my ($src, $dst) = @v[0, 1];
			if ($kind eq 'ports') {
				print join("\t", $fam, $PROTO_NAME{$v[2]} // $v[2], $v[3], $src, $dst), "\n";
			} elsif ($kind eq 'icmp') {
				# with the code (gateway_ns.sh): an error counts only with the
				# code that send gives it, not as the kernel's answer to another
				# tuple between the same two addresses
				next if @v > 3 && icmp_error($fam, $v[2]) && $v[3] != icmp_error($fam, $v[2]) - 1;
				print join("\t", $fam, $fam == 4 ? 'icmp' : 'icmpv6', $v[2], $src, $dst), "\n";
			} else {
				print join("\t", $fam, $PROTO_NAME{$v[2]} // $v[2], '-', $src, $dst), "\n";
			}
		}
	}
}

# Packets per rule id: from `nft -j list chain` (comments "rule:<id>",
# "default") or from `segplan policy status --json` (rules[].id).
sub cmd_counters {
	local $/;
	my $doc = decode_json(<STDIN>);
	my %n;
	if ($doc->{nftables}) {
		for my $o (@{$doc->{nftables}}) {
			my $r = $o->{rule} or next;
			my ($id) = ($r->{comment} // '') =~ /^(?:rule:)?(\S+)/ or next;
			next if $id =~ /^fixed:/;
			for my $e (@{$r->{expr}}) {
				$n{$id} += $e->{counter}{packets} if ref $e eq 'HASH' && $e->{counter};
			}
		}
	} else {
		$n{$_->{id}} += $_->{packets} for @{$doc->{rules}};
	}
	print "$_\t$n{$_}\n" for sort keys %n;
}

# --- judging ----------------------------------------------------------------

sub read_map {
	my ($path, @cols) = @_;
	my %m;
	open(my $fh, '<', $path) or die "$path: $!\n";
	while (my $line = <$fh>) {
		chomp $line;
		my @f = split /\t/, $line;
		my %r;
		@r{@cols} = @f;
		$m{$f[0]} = \%r;
	}
	return %m;
}

# What the kernel did with a tuple: accept, drop or reject, from what the
# receiver saw (SEEN) and what the sender got back (OUTCOME).
sub kernel_verdict {
	my ($t, $o, $seen) = @_;
	my $delivered = $seen->{join "\t", @$t{qw(fam proto arg src dst)}};
	# a reply is due for TCP, UDP (the listener's or the port-unreachable
	# error), echo and timestamp requests
	my $reply_due = $t->{proto} =~ /^(tcp|udp)$/
	    || ($t->{proto} =~ /^icmp/ && $t->{arg} =~ /^(8|13|128)$/);
	if ($delivered) {
		return !$reply_due || $o eq 'answered' || $o eq 'refused' ? 'accept' : "delivered-but-$o";
	}
	# a reject answers TCP with a reset (the receiver saw nothing, so the
	# gateway sent it), everything else with admin-prohibited
	return $o =~ /^prohibited/ && $t->{proto} ne 'tcp' ? 'reject'
	    : $o eq 'refused' && $t->{proto} eq 'tcp' ? 'reject'
	    : $o eq 'silent' ? 'drop' : "not-delivered-$o";
}

sub read_seen {
	my ($path) = @_;
	my %seen;
	open(my $sf, '<', $path) or die "$path: $!\n";
	while (my $line = <$sf>) {
		chomp $line;
		$seen{$line} = 1;
	}
	return %seen;
}

# One line per tuple: id, the kernel's verdict, the sender's outcome.
sub cmd_kernel {
	my ($tuples_path, $outcomes_path, $seen_path) = @_;
	open(my $tf, '<', $tuples_path) or die "$tuples_path: $!\n";
	my @tuples = read_tsv($tf);
	my %outcome = read_map($outcomes_path, qw(id outcome));
	my %seen = read_seen($seen_path);
	for my $t (@tuples) {
		my $o = $outcome{$t->{id}}{outcome} // 'missing';
		print join("\t", $t->{id}, kernel_verdict($t, $o, \%seen), $o), "\n";
	}
}

sub cmd_judge {
	my ($table_path, $tuples_path, $verdicts_path, $outcomes_path, $seen_path, $counters_path) = @_;
	my $table = decode_json(slurp($table_path));
	open(my $tf, '<', $tuples_path) or die "$tuples_path: $!\n";
	my @tuples = read_tsv($tf);
	my %verdict = read_map($verdicts_path, qw(id verdict passes rule by overall decided_at));
	my %outcome = read_map($outcomes_path, qw(id outcome));
	my %seen = read_seen($seen_path);
	my ($pass, $fail, %row, %sent) = (0, 0);
	# the rules, then the limits before limited accepts (no tuple is over a
	# limit: polprobe.pl cap), then the default
	my @order = ((map { $_->{id} } @{$table->{rules}}),
	    (map { "limit:$_->{id}" } grep { $_->{limit} && $_->{limit}{rate} } @{$table->{rules}}), 'default');
	my %seen_id;
	@order = grep { !$seen_id{$_}++ } @order;
	for my $t (@tuples) {
		my $v = $verdict{$t->{id}} or die "no verdict for tuple $t->{id}\n";
		my $o = $outcome{$t->{id}}{outcome} // 'missing';
		my $kernel = kernel_verdict($t, $o, \%seen);
		my $want = $v->{passes} ? 'accept' : $v->{verdict};
		my $rule = $v->{by} eq 'rule' ? $v->{rule} : $v->{by};
		my $r = $row{$rule} //= {};
		$r->{n}++;
		$r->{v6}++ if $t->{fam} == 6;
		$r->{$kernel eq 'accept' ? 'acc' : 'den'}++;
		$sent{$rule}++;
		if ($t->{target} ne '-') {
			my $tr = $row{$t->{target}} //= {};
			$tr->{$t->{side} eq 'in' ? 'tin' : 'tout'}++;
			$tr->{tout_other}++ if $t->{side} ne 'in' && $rule ne $t->{target};
		}
		if ($kernel eq $want) {
			$pass++;
			next;
		}
		$fail++;
		$r->{bad}++;
		printf "MISMATCH tuple %d: %s %s %s -> %s %s: query (%s) says %s by %s (overall %s at %s), kernel %s (sender: %s, receiver %s)\n",
		    $t->{id}, $t->{proto}, $t->{arg}, $t->{src}, $t->{dst}, "[$t->{srcns} -> $t->{dstns}]",
		    $table->{gateway}, $want, $rule, $v->{overall}, $v->{decided_at}, $kernel, $o,
		    $seen{join "\t", @$t{qw(fam proto arg src dst)}} ? 'saw it' : 'saw nothing';
	}
	printf "%-22s %6s %5s %6s %6s %7s %8s %5s\n", 'RULE (deciding at ' . $table->{gateway} . ')',
	    'tuples', 'ipv6', 'passed', 'denied', 'aimed', 'outside', 'bad';
	for my $id (@order, grep { my $k = $_; !grep { $_ eq $k } @order } sort keys %row) {
		my $r = $row{$id} // {};
		printf "%-22s %6d %5d %6d %6d %7d %8d %5d\n", $id, map { $_ // 0 }
		    @$r{qw(n v6 acc den tin tout_other bad)};
	}
	print "TUPLES $pass $fail\n";
	# every rule decided at least one tuple, and one tuple drawn just outside
	# it went elsewhere
	for my $id (map { $_->{id} } @{$table->{rules}}) {
		my $r = $row{$id} // {};
		print "COVER $id ", ($r->{tin} ? 1 : 0), ' ', ($r->{n} ? 1 : 0), ' ',
		    ($r->{tout_other} ? 1 : 0), "\n";
	}
	if (defined $counters_path) {
		my %cnt = read_map($counters_path, qw(id packets));
		for my $id (@order) {
			my $got = $cnt{$id} ? $cnt{$id}{packets} : $sent{$id} ? 'none' : 0;
			print "COUNTER $id ", $sent{$id} // 0, " $got\n";
		}
		for my $id (sort keys %cnt) {
			(my $shown = $id) =~ s/ /_/g;
			print "COUNTER-UNKNOWN $shown\n" if !grep { $_ eq $id } @order;
		}
	}
}

# --- limits and time windows --------------------------------------------------

# The tuples a limited rule decides, no more than its bucket holds (its
# burst, or nft's default of 5 packets; per source address for a per-source
# limit, else one bucket for the rule and both families): what the kernel
# drops over a rate is no verdict query can give a single connection.
# Prints the tuples kept; "capped N" on stderr.
sub cmd_cap {
	my ($table_path, $tuples_path, $verdicts_path) = @_;
	my $table = decode_json(slurp($table_path));
	my %lim = map { $_->{id} => $_->{limit} } grep { $_->{limit} && $_->{limit}{rate} } @{$table->{rules}};
	my %verdict = read_map($verdicts_path, qw(id verdict passes rule by overall decided_at));
	open(my $tf, '<', $tuples_path) or die "$tuples_path: $!\n";
	my ($capped, %used) = (0);
	while (my $line = <$tf>) {
		my ($id, undef, undef, undef, $src) = split /\t/, $line;
		my $v = $verdict{$id} or die "no verdict for tuple $id\n";
		my $l = $v->{by} eq 'rule' && $v->{passes} ? $lim{$v->{rule}} : undef;
		if ($l) {
			my $key = $v->{rule} . ($l->{per_source} ? " $src" : '');
			if (++$used{$key} > ($l->{burst} || 5)) {
				$capped++;
				next;
			}
		}
		print $line;
	}
	print STDERR "capped $capped\n";
}

# Now, as an RFC 3339 instant for query --time, once no window of the
# tables opens or closes within MARGIN seconds (it sleeps past such an edge):
# what query judges at that instant the kernel judges moments later.
sub cmd_instant {
	my ($margin, @tables) = @_;
	require POSIX;
	my @edges;
	for my $path (@tables) {
		my $table = decode_json(slurp($path));
		for my $r (@{$table->{rules}}) {
			push @edges, map { ($_->[0], $_->[1] + 1) } @{$r->{window_spans} // []};
		}
	}
	while (1) {
		my $now = int(time);
		my @near = grep { $_ >= $now - 1 && $_ <= $now + $margin } @edges;
		if (!@near) {
			print POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $now), "\n";
			return;
		}
		my ($last) = sort { $b <=> $a } @near;
		sleep 1 + $last - $now;
	}
}

# --- a whole TCP exchange ---------------------------------------------------

sub cmd_serve {
	my ($addr, $port) = @_;
	require IO::Socket::IP;
	my $srv = IO::Socket::IP->new(LocalHost => $addr, LocalPort => $port, Listen => 16,
		ReuseAddr => 1, V6Only => 0) or die "listen $addr:$port: $@\n";
	while (my $c = $srv->accept) {
		my $line = <$c> // '';
		print $c "segplan: $line";
		close $c;
	}
}

sub cmd_talk {
	my ($src, $dst, $port) = @_;
	require IO::Socket::IP;
	my $c = IO::Socket::IP->new(LocalHost => $src, PeerHost => $dst, PeerPort => $port,
		Timeout => 3) or exit 1;
	print $c "hello from $src\n";
	my $sel = IO::Select->new($c);
	exit 1 if !$sel->can_read(3);
	my $line = <$c> // exit 1;
	print $line;
}

# host N of PREFIX, with the prefix length: "host 10.5.38.192/27 1" is
# 10.5.38.193/27; with KEY PREFIX N triples, "KEY ADDR/LEN" lines
sub cmd_host {
	if (@_ == 2) {
		my ($prefix, $n) = @_;
		print host_in($prefix, $n), '/', (split m{/}, $prefix)[1], "\n";
		return;
	}
	while (my ($key, $prefix, $n) = splice(@_, 0, 3)) {
		print "$key ", host_in($prefix, $n), '/', (split m{/}, $prefix)[1], "\n";
	}
}

my %cmds = (host => \&cmd_host, pick => \&cmd_pick, tuples => \&cmd_tuples, query => \&cmd_query,
	send => \&cmd_send, seen => \&cmd_seen, counters => \&cmd_counters, judge => \&cmd_judge,
	kernel => \&cmd_kernel, cap => \&cmd_cap, instant => \&cmd_instant, serve => \&cmd_serve,
	talk => \&cmd_talk);
my $cmd = shift // '';
die "usage: polprobe.pl " . join('|', sort keys %cmds) . " ...\n" if !$cmds{$cmd};
$cmds{$cmd}->(@ARGV);
