#!/bin/sh
# Install what omkapture needs to build and test, from Debian 12 packages,
# skipping what is already there. Run as root (or it uses sudo).
set -eu

PKGS="gcc make cmake pkg-config libc6-dev
libpcre2-dev libyajl-dev libcurl4-openssl-dev ca-certificates
libcmocka-dev python3 rsyslog bsdutils
dpkg-dev file openssl
clang libclang-rt-14-dev
valgrind"
# dpkg-dev and file: the .deb's Depends come from dpkg-shlibdeps, which
# CPack runs through `file` (integration/package).
# openssl: integration/hardening makes its self-signed certificates with it.
# valgrind: the valgrind/* tests (integration tests under memcheck, run-all.sh).
# clang and libclang-rt-14-dev: the fuzz build (tests/fuzz, OMK_FUZZ).
# Debian 12's clang is clang-14; libFuzzer and the sanitizer runtimes
# (libclang_rt.fuzzer-x86_64.a) are in libclang-rt-14-dev, which clang
# only recommends (and recommends are not installed here).
# Wanted, not required: the rule prefilter falls back to its own literal
# scanner without Vectorscan (which Debian builds for some CPUs only); rpm
# (rpmbuild) makes the .rpm too, which integration/package then checks.
# llvm-14 has llvm-symbolizer: file:line in sanitizer stack traces.
OPTIONAL="libvectorscan-dev rpm llvm-14"

missing=""
for p in $PKGS $OPTIONAL; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all build and test packages are installed"
	exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "deps: installing:$missing"
# Installing rsyslog must not start a system rsyslogd on this machine:
# the tests start their own. policy-rc.d 101 = "do not start services".
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	added_policy=1
fi
trap '[ $added_policy = 1 ] && $SUDO rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
required=""
for p in $missing; do
	case " $OPTIONAL " in
	*" $p "*) ;;
	*) required="$required $p" ;;
	esac
done
if [ -n "$required" ]; then
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $required >/dev/null
fi
for p in $OPTIONAL; do
	case " $missing " in
	*" $p "*)
		$SUDO apt-get install -y -qq --no-install-recommends "$p" >/dev/null ||
			echo "deps: $p is not available here; building without it"
		;;
	esac
done
echo "deps: done"
