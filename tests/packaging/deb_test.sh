#!/usr/bin/env bash
# Builds the .deb with packaging/build-deb, installs it with apt into a fresh Debian 12
# minbase root (debootstrap), and checks what the package put there: the binary runs, the
# config files are conffiles the service user can read, the unit passes systemd-analyze
# verify, the service is enabled but skips its start while no database is configured, the
# man pages and the logrotate rules are sound, and, booted with systemd-nspawn, systemd
# starts, reloads and stops the service; then purges it. Needs root and the Debian
# mirror (SABAKAN_DEBIAN_MIRROR, default deb.debian.org); without them it fails, saying why.
# Usage: deb_test.sh WORK_DIR (the .deb, the logs and, while it runs, the root go there).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: deb_test.sh WORK_DIR}
mirror=${SABAKAN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$work"
work=$(cd "$work" && pwd)
root=$work/root

fail() {
    echo "deb_test: FAIL: $*" >&2
    exit 1
}
step() { echo "deb_test: $*"; }
in_root() { chroot "$root" "$@"; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, apt-get); run ctest as root"

# Never leave a mounted /proc behind, and never delete through one.
cleanup() {
    if mountpoint -q "$root/proc"; then
        umount "$root/proc" || umount -l "$root/proc" || true
    fi
    if mountpoint -q "$root/proc"; then
        echo "deb_test: $root/proc is still mounted; not deleting $root" >&2
    else
        rm -rf "$root"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cleanup

started=$SECONDS
step "building the package (log: $work/deb-build.log)"
"$src/packaging/build-deb" --out "$work" >"$work/build-deb.out" 2>&1 ||
    { cat "$work/build-deb.out" >&2; fail "packaging/build-deb failed"; }
cat "$work/build-deb.out"
deb=$(tail -n 1 "$work/build-deb.out")
[ -f "$deb" ] || fail "build-deb did not name a .deb on its last line"
version=$(dpkg-deb -f "$deb" Version)
step "built $(basename "$deb") in $((SECONDS - started)) s"

if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap \
        >/dev/null || fail "cannot install debootstrap with apt-get"
fi
t=$SECONDS
step "debootstrap --variant=minbase bookworm from $mirror (log: $work/debootstrap.log)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    fail "debootstrap failed: this test needs the Debian mirror $mirror" \
        "(set SABAKAN_DEBIAN_MIRROR to use another)"
}
step "debootstrap took $((SECONDS - t)) s"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"

# Installed with apt, as an operator would: dependencies come from the mirror and the
# maintainer scripts run. No systemd runs in the root, so nothing can be started there;
# what would happen at a start is checked below through the unit's ExecCondition.
apt_install() {
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "$@" >>"$work/apt.log" 2>&1 || {
        tail -n 30 "$work/apt.log" >&2
        fail "apt-get install $* failed in the root (log: $work/apt.log)"
    }
}
step "apt-get install ./$(basename "$deb")"
apt_install "/tmp/$(basename "$deb")"
# The tools the checks use, installed after sabakan so its install saw a bare system.
apt_install systemd man-db logrotate

step "checking the installed files"
[ "$(in_root sabakan --version)" = "sabakan ${version%-*}" ] ||
    fail "sabakan --version printed '$(in_root sabakan --version)', not 'sabakan ${version%-*}'"
for f in /usr/bin/sabakan /etc/sabakan/sabakan.ini /etc/sabakan/userlist.txt \
    /lib/systemd/system/sabakan.service /lib/systemd/system/sabakan.socket \
    /usr/libexec/sabakan/sabakan-has-databases \
    /etc/logrotate.d/sabakan /usr/share/man/man1/sabakan.1.gz \
    /usr/share/man/man5/sabakan.ini.5.gz /usr/share/doc/sabakan/copyright; do
    [ -f "$root$f" ] || fail "$f is missing"
done
for f in /etc/sabakan/sabakan.ini /etc/sabakan/userlist.txt /etc/logrotate.d/sabakan; do
    grep -qx "$f" "$root/var/lib/dpkg/info/sabakan.conffiles" || fail "$f is not a conffile"
done
in_root getent passwd sabakan >/dev/null || fail "no user sabakan"
in_root getent group sabakan >/dev/null || fail "no group sabakan"
# The config holds server passwords: readable by root and the service only.
for f in /etc/sabakan/sabakan.ini /etc/sabakan/userlist.txt; do
    perms=$(in_root stat -c '%U:%G %a' "$f")
    [ "$perms" = "root:sabakan 640" ] || fail "$f is $perms, expected root:sabakan 640"
done
perms=$(in_root stat -c '%U:%G %a' /var/log/sabakan)
[ "$perms" = "sabakan:sabakan 750" ] || fail "/var/log/sabakan is $perms"

step "checking the service"
out=$(in_root systemd-analyze verify sabakan.service 2>&1) ||
    fail "systemd-analyze verify sabakan.service: $out"
[ -z "$out" ] || fail "systemd-analyze verify sabakan.service warns: $out"
[ -L "$root/etc/systemd/system/multi-user.target.wants/sabakan.service" ] ||
    fail "the service is not enabled"
out=$(in_root systemd-analyze verify sabakan.socket 2>&1) ||
    fail "systemd-analyze verify sabakan.socket: $out"
[ -z "$out" ] || fail "systemd-analyze verify sabakan.socket warns: $out"
# Socket activation is the operator's choice: shipped, not enabled.
if [ -e "$root/etc/systemd/system/sockets.target.wants/sabakan.socket" ]; then
    fail "the package enabled sabakan.socket"
fi
# As systemd runs the unit: its ExecStartPre, as the service user.
out=$(in_root runuser -u sabakan -- sabakan --check /etc/sabakan/sabakan.ini 2>&1) ||
    fail "the packaged config does not pass sabakan --check as user sabakan: $out"
printf '[pgbouncer]\nlisten_prot = 6432\n' >"$root/tmp/bad.ini"
if in_root sabakan --check /tmp/bad.ini >/dev/null 2>&1; then
    fail "sabakan --check accepts a config with an unknown key"
fi
# The ExecCondition: the packaged config (no database) skips the start; one entry lets
# it through.
if in_root /usr/libexec/sabakan/sabakan-has-databases /etc/sabakan/sabakan.ini 2>/dev/null; then
    fail "the unit's ExecCondition would start the service with no database configured"
fi
sed 's/^;mastodon_production = /mastodon_production = /' "$root/etc/sabakan/sabakan.ini" \
    >"$root/root/configured.ini"
in_root /usr/libexec/sabakan/sabakan-has-databases /root/configured.ini ||
    fail "the unit's ExecCondition would skip the start of a configured service"
# Nothing of the package runs (no process has the root as its root directory).
for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
        fail "a process runs in the root after the install: $(tr '\0' ' ' <"$p/cmdline")"
    fi
done

step "checking the man pages and logrotate rules"
[ "$(in_root man -w sabakan)" = /usr/share/man/man1/sabakan.1.gz ] || fail "man -w sabakan"
[ "$(in_root man -w sabakan.ini)" = /usr/share/man/man5/sabakan.ini.5.gz ] ||
    fail "man -w sabakan.ini"
for page in /usr/share/man/man1/sabakan.1.gz /usr/share/man/man5/sabakan.ini.5.gz; do
    out=$(in_root sh -c "zcat $page | groff -man -Tutf8 -ww -z" 2>&1)
    [ -z "$out" ] || fail "groff warns about $page: $out"
done
# Every [pgbouncer] setting sabakan knows has an entry in sabakan.ini(5).
page=$(zcat "$root/usr/share/man/man5/sabakan.ini.5.gz")
missing=$(sed -n 's/.*"\([a-z0-9_]*\)", &s::.*/\1/p' "$src/src/config/settings_table.cpp" |
    while read -r k; do
        grep -q "^\\\\fB$k\\\\fR " <<<"$page" || echo "$k"
    done)
[ -z "$missing" ] || fail "sabakan.ini(5) does not describe: ${missing//$'\n'/ }"
out=$(in_root logrotate -d /etc/logrotate.d/sabakan 2>&1) || fail "logrotate -d: $out"
if grep -qi 'error' <<<"$out"; then fail "logrotate -d: $out"; fi

# Boots the root with systemd-nspawn so that systemd 252 itself runs the unit, with all its
# sandboxing: a oneshot unit drives sabakan.service and writes what it saw to /root/result,
# then powers off. The first start uses the config as installed (to be skipped), the rest
# a config with one database.
step "booting the root with systemd-nspawn to run the service"
if ! command -v systemd-nspawn >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        systemd-container >/dev/null || fail "cannot install systemd-container with apt-get"
fi
cat >"$root/root/selftest.sh" <<'SELFTEST'
exec >/root/result 2>&1
systemctl start sabakan
echo "unconfigured: $(systemctl show -p ActiveState --value sabakan)" \
    "$(systemctl show -p Result --value sabakan)"
cp /root/configured.ini /etc/sabakan/sabakan.ini
systemctl start sabakan && echo "started: $(systemctl is-active sabakan)"
systemctl reload sabakan && echo "reloaded"
# logrotate's postrotate SIGHUP makes sabakan create a new sabakan.log.
logrotate -f /etc/logrotate.d/sabakan
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /var/log/sabakan/sabakan.log ] && break; sleep 0.5; done
[ -e /var/log/sabakan/sabakan.log ] && [ -e /var/log/sabakan/sabakan.log.1 ] && echo "log reopened"
systemctl stop sabakan && echo "stopped: $(systemctl show -p Result --value sabakan)"
# Socket activation: the first connection starts the service on the socket's listener.
systemctl start sabakan.socket && echo "socket: $(systemctl is-active sabakan.socket)"
bash -c 'exec 3<>/dev/tcp/127.0.0.1/6432' && echo "connected"
for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(systemctl is-active sabakan)" = active ] && break; sleep 0.5; done
echo "activated: $(systemctl is-active sabakan)"
grep -q "listening on inherited 127.0.0.1:6432" /var/log/sabakan/sabakan.log && echo "inherited"
systemctl stop sabakan.socket sabakan && echo "socket stopped"
journalctl -u sabakan --no-pager
SELFTEST
cat >"$root/etc/systemd/system/sabakan-selftest.service" <<'UNIT'
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh /root/selftest.sh
ExecStopPost=/bin/systemctl poweroff
[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/sabakan-selftest.service \
    "$root/etc/systemd/system/multi-user.target.wants/sabakan-selftest.service"
# A logfile of the earlier checks must not make the rotation a no-op (notifempty).
echo "before rotation" >"$root/var/log/sabakan/sabakan.log"
in_root chown sabakan:sabakan /var/log/sabakan/sabakan.log
umount "$root/proc"
# --register=no --keep-unit: no systemd (nor D-Bus) runs on a CI host to register with.
timeout -k 30 300 systemd-nspawn -q --register=no --keep-unit -D "$root" -b --console=pipe \
    >"$work/nspawn.log" 2>&1 || fail "systemd-nspawn failed (log: $work/nspawn.log)"
mount -t proc proc "$root/proc"
result=$(cat "$root/root/result" 2>/dev/null) || fail "the self-test did not run (log: $work/nspawn.log)"
for want in "unconfigured: inactive exec-condition" "started: active" "reloaded" \
    "log reopened" "stopped: success" "socket: active" "connected" "activated: active" \
    "inherited" "socket stopped"; do
    grep -qF "$want" <<<"$result" || fail "under systemd, expected '$want'; got:
$result"
done
rm "$root/etc/systemd/system/multi-user.target.wants/sabakan-selftest.service"

step "purging the package"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sabakan >>"$work/apt.log" 2>&1 ||
    fail "apt-get purge sabakan failed (log: $work/apt.log)"
for f in /usr/bin/sabakan /etc/sabakan /var/log/sabakan \
    /etc/systemd/system/multi-user.target.wants/sabakan.service; do
    if [ -e "$root$f" ] || [ -L "$root$f" ]; then fail "$f is left after purge"; fi
done

step "PASS in $((SECONDS - started)) s"
