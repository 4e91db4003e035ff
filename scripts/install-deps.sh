#!/usr/bin/env bash
# Installs what cccd needs to build, run and test on Debian 12, and nothing twice.
# Idempotent: packages already present are skipped; safe to run on every start.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev
  libre-dev libmicrohttpd-dev libjansson-dev libssl-dev libsqlite3-dev libpq-dev
  libcurl4-openssl-dev libspandsp-dev libopus-dev libsndfile1-dev libmpg123-dev libspeexdsp-dev flite1-dev
  libphonenumber-dev libargon2-dev libcmocka-dev libpocketsphinx-dev pocketsphinx-en-us tzdata
  sip-tester baresip sox sqlite3 postgresql nginx-light kamailio wrk curl ca-certificates openssl iproute2 iptables procps psmisc
  gnuplot-nox
  systemd debhelper
)
# The test command (scripts/test.sh: CCCD_DEPS=test) also drives the web console in a
# headless browser (tests/integration/console.test.mjs) and speaks with two more voices
# (espeak-ng, flite: the labelled recordings of tests/data and the spoken answers of the
# speech tests are made with them); the demo and builds need none of these.
[ "${CCCD_DEPS:-}" = test ] && PKGS+=(chromium espeak-ng flite)
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm  >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # cccd's tests and scripts/cluster.sh run PostgreSQL clusters of their own
  # (tests/pg/pg-tmp.sh): the package's default cluster on port 5432 is not wanted.
  if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.d/cccd.conf ]; then
    $SUDO mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/cccd.conf >/dev/null
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's kamailio package enables and starts its own service, on port 5060 of every
  # address, where scripts/demo.sh's cccd listens: the tests and scripts/cluster.sh run
  # Kamailio themselves with deploy/kamailio/kamailio.cfg (docs/cluster.md).
  if [[ " ${missing[*]} " == *" kamailio "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
fi

# npm test dependencies, exactly as locked. A node_modules that is a symlink (a worktree
# sharing another checkout's) is that checkout's to install: npm ci through the link would
# empty the target and install a copy here instead.
if [ -L node_modules ]; then
  [ -d node_modules/tencentcloud-sdk-nodejs-intl-en ] || echo "install-deps: node_modules links to an empty directory: run npm ci where it points"
elif [ ! -d node_modules/tencentcloud-sdk-nodejs-intl-en ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
