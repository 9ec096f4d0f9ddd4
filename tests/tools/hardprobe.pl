#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Helper of tests/e2e/gateway_hardening.sh: hand-made packets and small
# servers, run inside a network namespace. Packets leave through a packet
# socket (AF_PACKET, SOCK_DGRAM) with every IP field as given: source 0.0.0.0
# or ::, any TTL or hop limit, any source address, no route needed.
#
#   hardprobe.pl send IFACE DSTMAC SRC DST PROTO TTL KIND [ARGS] [-n COUNT]
#       KIND: ospf | vrrp | dhcp | data | udp SPORT DPORT | tcpsyn SPORT DPORT
#             | dccp SPORT DPORT | sctp SPORT DPORT
#             | icmp TYPE CODE [QSPORT QDPORT]  (an error quotes a UDP packet
#               DST:QDPORT -> SRC:QSPORT, as if SRC answered it)
#       DSTMAC: aa:bb:.. or "auto" (broadcast and multicast addresses).
#       -n COUNT sends COUNT copies, the source port (if any) counting up.
#   hardprobe.pl join IFACE GROUP...    joins multicast groups, then sleeps
#   hardprobe.pl udpserve ADDR PORT      answers every datagram "segplan: ..."
#   hardprobe.pl udpask SRC DST PORT     one datagram on a connected socket:
#       prints answered | refused | unreach:ERRNO | silent
#   hardprobe.pl serve ADDR PORT         TCP, answers every line, many per connection
#   hardprobe.pl hold SRC DST PORT FILE  connects, one exchange, waits for FILE,
#       a second exchange: prints "first second" (ok|none for each)
#   hardprobe.pl connects SRC DST PORT N [WAIT_MS]  N connections one after the
#       other: prints "connected C refused R silent S"
#   hardprobe.pl selftest                 checksums against known values
use strict;
use warnings;
use Socket qw(:all);
use IO::Select;
use Errno qw(ECONNREFUSED EHOSTUNREACH EACCES ENETUNREACH EINPROGRESS);
use Time::HiRes qw(time sleep);

use constant { AF_PACKET => 17, ETH_P_IP => 0x0800, ETH_P_IPV6 => 0x86dd };

sub csum {
	my ($data) = @_;
	$data .= "\0" if length($data) % 2;
	my $sum = 0;
	$sum += $_ for unpack('n*', $data);
	$sum = ($sum & 0xffff) + ($sum >> 16) while $sum >> 16;
	return ~$sum & 0xffff;
}

my @CRC32C;
for my $i (0 .. 255) {
	my $c = $i;
	$c = $c & 1 ? ($c >> 1) ^ 0x82f63b78 : $c >> 1 for 1 .. 8;
	$CRC32C[$i] = $c;
}

sub crc32c {
	my $crc = 0xffffffff;
	$crc = $CRC32C[($crc ^ $_) & 0xff] ^ ($crc >> 8) for unpack('C*', $_[0]);
	return ~$crc & 0xffffffff;
}

sub addr {
	my ($a) = @_;
	return $a =~ /:/ ? inet_pton(AF_INET6, $a) : inet_aton($a);
}

# the pseudo-header of TCP, UDP, DCCP and ICMPv6 checksums
sub pseudo {
	my ($src, $dst, $proto, $len) = @_;
	return length($src) == 16
		? $src . $dst . pack('N x3 C', $len, $proto)
		: $src . $dst . pack('x C n', $proto, $len);
}

sub with_csum {    # puts the checksum at OFFSET of a transport segment
	my ($seg, $off, $src, $dst, $proto) = @_;
	substr($seg, $off, 2) = pack('n', 0);
	substr($seg, $off, 2) = pack('n', csum(pseudo($src, $dst, $proto, length $seg) . $seg));
	return $seg;
}

sub ip_header {
	my ($src, $dst, $proto, $ttl, $plen) = @_;
	if (length($src) == 16) {
		return pack('N n C C', 6 << 28, $plen, $proto, $ttl) . $src . $dst;
	}
	my $h = pack('C C n n n C C n', 0x45, 0, 20 + $plen, int(rand(65535)), 0, $ttl, $proto, 0) . $src . $dst;
	substr($h, 10, 2) = pack('n', csum($h));
	return $h;
}

sub udp_seg {
	my ($src, $dst, $sport, $dport, $payload) = @_;
	return with_csum(pack('n n n n', $sport, $dport, 8 + length $payload, 0) . $payload, 6, $src, $dst, 17);
}

sub segment {
	my ($kind, $src, $dst, $proto, $args, $i) = @_;
	my ($a1, $a2, $a3, $a4) = @$args;
	my $v6 = length($src) == 16;
	if ($kind eq 'ospf') {    # an OSPFv2 / OSPFv3 hello header, checksum not checked by anyone
		return pack('C C n N N n n', $v6 ? 3 : 2, 1, 24, 0x0a63fe02, 0, 0, 0) . ("\0" x 8);
	}
	if ($kind eq 'vrrp') {    # VRRPv3 advertisement (RFC 5798 5.1) for VRID 1
		my $v = pack('C C C C n n', 0x31, 1, 100, 1, 100, 0) . ($v6 ? inet_pton(AF_INET6, 'fe80::1') : inet_aton('10.99.9.254'));
		return with_csum($v, 6, $src, $dst, 112);
	}
	if ($kind eq 'data') {
		return 'segplan' x 4;
	}
	if ($kind eq 'dhcp') {    # DHCPDISCOVER (RFC 2131)
		my $b = pack('C C C C N n n', 1, 1, 6, 0, 0x5e9a0000 + $i, 0, 0x8000) . ("\0" x 16)
			. pack('H12', '02005e9a0001') . ("\0" x 10) . ("\0" x 192)
			. pack('N', 0x63825363) . pack('C C C C', 53, 1, 1, 255);
		return udp_seg($src, $dst, 68, 67, $b);
	}
	if ($kind eq 'udp') {
		return udp_seg($src, $dst, $a1 + $i, $a2, 'segplan');
	}
	if ($kind eq 'tcpsyn') {
		my $t = pack('n n N N C C n n n', $a1 + $i, $a2, 0x5e9a0000 + $i, 0, 5 << 4, 0x02, 64240, 0, 0);
		return with_csum($t, 16, $src, $dst, 6);
	}
	if ($kind eq 'dccp') {    # DCCP-Request, X=1 (RFC 4340 5.1, 5.2), CsCov 0: whole packet
		my $d = pack('n n C C n C C n N N', $a1 + $i, $a2, 5, 0, 0, (0 << 1) | 1, 0, 0, 0x5e9a0000 + $i, 42);
		return with_csum($d, 6, $src, $dst, 33);
	}
	if ($kind eq 'sctp') {    # INIT (RFC 9260 3.3.2), verification tag 0, CRC32c (appendix A)
		my $s = pack('n n N N', $a1 + $i, $a2, 0, 0)
			. pack('C C n N N n n N', 1, 0, 20, 0x5e9a0001 + $i, 65536, 10, 10, 1);
		substr($s, 8, 4) = pack('V', crc32c($s));
		return $s;
	}
	if ($kind eq 'icmp') {
		my ($type, $code, $qs, $qd) = ($a1, $a2, $a3, $a4);
		my $body = pack('N', 0x5e9a0000 + $i) . 'segplan!';    # echo: id/seq; errors: unused
		if (defined $qs) {    # quoted: the packet DST:QD -> SRC:QS this error answers
			my $u = udp_seg($dst, $src, $qd, $qs, 'segplan');
			$body = pack('N', 0) . ip_header($dst, $src, 17, 64, length $u) . $u;
		}
		my $m = pack('C C n', $type, $code, 0) . $body;
		if ($v6) {
			return with_csum($m, 2, $src, $dst, 58);
		}
		substr($m, 2, 2) = pack('n', csum($m));
		return $m;
	}
	die "unknown kind $kind\n";
}

sub ifindex {
	my ($if) = @_;
	open(my $fh, '<', "/sys/class/net/$if/ifindex") or die "$if: $!\n";
	chomp(my $i = <$fh>);
	return $i;
}

sub auto_mac {
	my ($dst) = @_;
	return 'ff:ff:ff:ff:ff:ff' if $dst eq '255.255.255.255';
	if ($dst =~ /:/) {
		my @b = unpack('C16', inet_pton(AF_INET6, $dst));
		return sprintf('33:33:%02x:%02x:%02x:%02x', @b[12 .. 15]);
	}
	my @b = split /\./, $dst;
	return sprintf('01:00:5e:%02x:%02x:%02x', $b[1] & 0x7f, $b[2], $b[3]);
}

sub cmd_send {
	my $count = 1;
	my @a;
	while (@_) {
		my $x = shift;
		if ($x eq '-n') { $count = shift } else { push @a, $x }
	}
	my ($if, $mac, $src, $dst, $proto, $ttl, $kind, @args) = @a;
	$mac = auto_mac($dst) if $mac eq 'auto';
	my ($s, $d) = (addr($src), addr($dst));
	my $eth = length($s) == 16 ? ETH_P_IPV6 : ETH_P_IP;
	socket(my $sock, AF_PACKET, SOCK_DGRAM, unpack('n', pack('S', $eth))) or die "packet socket: $!\n";
	my $ll = pack('S n i S C C a8', AF_PACKET, $eth, ifindex($if), 0, 0, 6,
		pack('C6', map { hex } split /:/, $mac));
	for my $i (0 .. $count - 1) {
		my $seg = segment($kind, $s, $d, $proto, \@args, $i);
		my $pkt = ip_header($s, $d, $proto, $ttl, length $seg) . $seg;
		defined send($sock, $pkt, 0, $ll) or die "send: $!\n";
	}
}

sub cmd_join {
	my ($if, @groups) = @_;
	my $idx = ifindex($if);
	my @socks;
	for my $g (@groups) {
		if ($g =~ /:/) {
			socket(my $s, AF_INET6, SOCK_DGRAM, 0) or die "$!\n";
			setsockopt($s, IPPROTO_IPV6, 20, inet_pton(AF_INET6, $g) . pack('i', $idx))    # IPV6_JOIN_GROUP
				or die "join $g on $if: $!\n";
			push @socks, $s;
		} else {
			socket(my $s, AF_INET, SOCK_DGRAM, 0) or die "$!\n";
			setsockopt($s, IPPROTO_IP, 35, inet_aton($g) . inet_aton('0.0.0.0') . pack('i', $idx))    # IP_ADD_MEMBERSHIP, ip_mreqn
				or die "join $g on $if: $!\n";
			push @socks, $s;
		}
	}
	print "joined\n";
	STDOUT->flush;
	sleep 3600;
}

sub udp_socket {
	my ($a) = @_;
	my $fam = $a =~ /:/ ? AF_INET6 : AF_INET;
	socket(my $s, $fam, SOCK_DGRAM, 0) or die "$!\n";
	return ($s, $fam);
}

sub sa {
	my ($a, $port) = @_;
	return $a =~ /:/ ? pack_sockaddr_in6($port, inet_pton(AF_INET6, $a)) : pack_sockaddr_in($port, inet_aton($a));
}

sub cmd_udpserve {
	my ($addr, $port) = @_;
	my ($s) = udp_socket($addr);
	setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
	setsockopt($s, SOL_SOCKET, SO_BROADCAST, 1);
	bind($s, sa($addr, $port)) or die "bind $addr:$port: $!\n";
	$| = 1;
	while (1) {
		my $from = recv($s, my $buf, 2048, 0) // next;
		my ($p, $h) = length($from) > 16 ? unpack_sockaddr_in6($from) : unpack_sockaddr_in($from);
		my $who = length($from) > 16 ? inet_ntop(AF_INET6, $h) : inet_ntoa($h);
		print "from $who:$p\n";
		send($s, "segplan: $buf", 0, $from);
	}
}

sub cmd_udpask {
	my ($src, $dst, $port) = @_;
	my ($s) = udp_socket($dst);
	bind($s, sa($src, 0)) or die "bind $src: $!\n";
	connect($s, sa($dst, $port)) or die "connect: $!\n";
	send($s, "hello\n", 0);
	my $sel = IO::Select->new($s);
	if (!$sel->can_read(1.5)) { print "silent\n"; return }
	if (defined recv($s, my $buf, 2048, 0)) { print "answered\n"; return }
	my $e = $! + 0;
	print $e == ECONNREFUSED ? "refused\n" : $e == EHOSTUNREACH ? "unreach:EHOSTUNREACH\n"
		: $e == EACCES ? "unreach:EACCES\n" : "unreach:$e\n";
}

sub cmd_serve {
	my ($addr, $port) = @_;
	require IO::Socket::IP;
	my $srv = IO::Socket::IP->new(LocalHost => $addr, LocalPort => $port, Listen => 64,
		ReuseAddr => 1, V6Only => 0) or die "listen $addr:$port: $@\n";
	$SIG{CHLD} = 'IGNORE';
	while (my $c = $srv->accept) {
		if (fork() == 0) {
			while (my $line = <$c>) { print $c "segplan: $line" }
			exit 0;
		}
		close $c;
	}
}

sub exchange {
	my ($c, $what) = @_;
	print $c "$what\n" or return 0;
	my $sel = IO::Select->new($c);
	return 0 if !$sel->can_read(2);
	my $line = <$c> // return 0;
	return $line eq "segplan: $what\n";
}

sub cmd_hold {
	my ($src, $dst, $port, $file) = @_;
	require IO::Socket::IP;
	$SIG{PIPE} = 'IGNORE';
	my $c = IO::Socket::IP->new(LocalHost => $src, PeerHost => $dst, PeerPort => $port, Timeout => 3);
	my $first = $c && exchange($c, 'first') ? 'ok' : 'none';
	print "$first ";
	STDOUT->flush;
	sleep 0.1 until -e $file;
	print $c && exchange($c, 'second') ? "ok\n" : "none\n";
}

sub cmd_connects {
	my ($src, $dst, $port, $n, $wait) = @_;
	$wait = ($wait // 300) / 1000;
	my $fam = $dst =~ /:/ ? AF_INET6 : AF_INET;
	my %n = (connected => 0, refused => 0, silent => 0);
	for (1 .. $n) {
		socket(my $s, $fam, SOCK_STREAM | SOCK_NONBLOCK, 0) or die "$!\n";
		bind($s, sa($src, 0)) or die "bind $src: $!\n";
		if (connect($s, sa($dst, $port))) { $n{connected}++; next }
		die "connect: $!\n" if $! != EINPROGRESS;
		my $sel = IO::Select->new($s);
		if (!IO::Select->select(undef, $sel, undef, $wait)) { $n{silent}++; next }
		my $err = unpack('i', getsockopt($s, SOL_SOCKET, SO_ERROR));
		$n{$err == 0 ? 'connected' : $err == ECONNREFUSED ? 'refused' : 'silent'}++;
	}
	print "connected $n{connected} refused $n{refused} silent $n{silent}\n";
}

sub cmd_selftest {
	my $ok = crc32c('123456789') == 0xe3069283;
	# RFC 1071 example: 0001 f203 f4f5 f6f7 -> sum ddf2, checksum 220d
	$ok &&= csum(pack('H*', '0001f203f4f5f6f7')) == 0x220d;
	print $ok ? "ok\n" : "FAIL\n";
	exit($ok ? 0 : 1);
}

my $cmd = shift // '';
my %cmds = (send => \&cmd_send, join => \&cmd_join, udpserve => \&cmd_udpserve, udpask => \&cmd_udpask,
	serve => \&cmd_serve, hold => \&cmd_hold, connects => \&cmd_connects, selftest => \&cmd_selftest);
die "usage: hardprobe.pl send|join|udpserve|udpask|serve|hold|connects|selftest ...\n" if !$cmds{$cmd};
$cmds{$cmd}->(@ARGV);
