#!/usr/bin/env bash
# Installs every Debian 12 package directord needs to build and test. Idempotent: when all are
# present it changes nothing and needs no network. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ccache pkg-config
  libboost-dev libssl-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libconfig++-dev libsnmp-dev
  libnftables-dev libnetfilter-conntrack-dev  # the nftables data plane: its transactions, conntrack's list
  libcap-dev libseccomp-dev  # privilege separation: each worker's capabilities and syscall filter
  libpcre2-dev  # the http checks' regex engine, keepalived's, so an imported regex means the same
  libnghttp2-dev  # HTTP/2 (framing, HPACK, flow control) for the grpc check and the http checks' http2
  # tests
  catch2 python3 iproute2 iputils-ping procps curl openssl
  clang-14 libclang-rt-14-dev  # libFuzzer, for tests/fuzz/run.sh
  # reference peers and tools the tests and benchmarks compare against
  ipvsadm keepalived snmp snmpd snmptrapd haproxy nginx-light wrk nftables conntrack
  bird2  # the routing daemon the scale-out tests announce through, and a BFD peer for the bfd check
  frr  # FRR's bfdd (the other BFD peer of the bfd check) and vrrpd (VRRP's second independent peer)
  dnsmasq-base  # a real DNS server for the dns check (the binary only: no service is installed)
  python3-aiosmtpd  # a real SMTP server for the smtp check and the mail alerts
  python3-grpcio  # a real gRPC server (with the health service) for the grpc check
  psmisc  # killall, which keepalived's own samples run as their vrrp_scripts (the import test)
  prometheus  # promtool checks the /metrics exposition (the server itself is not started)
  debhelper lintian  # the Debian package (debian/): dpkg-buildpackage, and lintian's checks of it
  chromium chromium-driver python3-selenium  # the status page's test in a real (headless) browser
  iptables  # the chaos run's delays (NFQUEUE: the kernel's nft queue statement and netem are absent here)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packages that ship a service (snmpd, prometheus, ...) are installed without starting it: the
# tests start what they need, on loopback, and stop it.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  own_policy=1
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
