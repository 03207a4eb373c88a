#!/usr/bin/env bash
# Installs every Debian 12 package directord needs to build and test. Idempotent: when all are
# present it changes nothing and needs no network. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ccache pkg-config
  libboost-dev libssl-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libconfig++-dev libsnmp-dev
  # tests
  catch2 python3 iproute2 iputils-ping procps curl openssl
  clang-14 libclang-rt-14-dev  # libFuzzer, for tests/fuzz/run.sh
  # reference peers and tools the tests and benchmarks compare against
  ipvsadm keepalived snmp snmpd snmptrapd haproxy nginx-light wrk nftables
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
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
