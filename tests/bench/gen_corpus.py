#!/usr/bin/env python3
"""Generate a realistic syslog corpus for the matching benchmark (issue 5).

    python3 tests/bench/gen_corpus.py -n 1000000 --seed 1 \\
        --plain corpus.log --json corpus.json [--alert-rate 0.006] [--stats]

Lines from about 50 hosts and 40 programs (sshd, sudo, CRON, systemd,
kernel, postfix/*, nginx, haproxy, dhclient, NetworkManager, dockerd,
containerd, kubelet, named, chronyd, ntpd, auditd, postgres, mysqld,
redis-server, ...) with realistic variety: addresses, users, pids, paths,
durations, queue ids, container ids, HTTP requests. Most lines are the
routine chatter of a server fleet, including plenty of "near misses" that
carry words alert rules look for ("error", "failed", "denied", "invalid
user") without being alerts. About --alert-rate of the lines (default
0.6 %) are alert-worthy: OOM kills, segfaults, EXT4/XFS/Btrfs errors, I/O
errors, failed units, disk full, authentication failures, DNS/NTP/DB/
container trouble... (gen_rules.py writes rules for them).

Flavours, the same events in the same order:
  --plain FILE  RFC 3164 as rsyslog writes it with a PRI:
                <PRI>Mmm dd hh:mm:ss host prog[pid]: msg
  --json FILE   rsyslog %jsonmesg% of the same line, as rsyslog 8.2302
                renders it: msg keeps the blank after "tag:", '/' is escaped
                as '\\/', and programname stops at a '/' ("postfix/smtpd[12]:"
                has programname "postfix").
With neither, plain lines go to stdout. Same --seed, same output (Python
3 stdlib only; about 4-6 s per million lines for both flavours).
"""

import argparse
import calendar
import random
import sys
import time

R = random.Random()
rr = R.random


def ri(a, b):
    """randint, without random.randint's overhead (this is the hot path)."""
    return a + int(rr() * (b - a + 1))


def rc(seq):
    return seq[int(rr() * len(seq))]


# --------------------------------------------------------------------------
# vocabulary (gen_rules.py imports SERVICES, so per-service rules fit)

HOSTS = (["web%02d" % i for i in range(1, 13)] + ["api%02d" % i for i in range(1, 7)] +
         ["db%02d" % i for i in range(1, 5)] + ["cache%02d" % i for i in range(1, 4)] +
         ["mq01", "mq02"] + ["k8s-node%02d" % i for i in range(1, 11)] +
         ["k8s-master%02d" % i for i in range(1, 4)] + ["mail01", "mail02", "ns1", "ns2",
         "lb01", "lb02", "bastion01", "backup01", "ci01", "ci02", "mon01", "nfs01"])
HOST_IP = {h: "10.20.%d.%d" % (i // 200, 10 + i % 200) for i, h in enumerate(HOSTS)}

USERS = ["deploy", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
         "ivan", "judy", "oscar", "peggy", "trent", "victor", "walter", "ansible",
         "jenkins", "backup", "nagios", "zabbix", "git", "svc-monitor", "www-data"]
BAD_USERS = ["admin", "test", "user", "oracle", "ubuntu", "pi", "guest", "support",
             "ftpuser", "postgres", "git", "mysql", "hadoop", "tomcat", "administrator",
             "www", "nagios", "test1", "user1", "dev", "steam", "minecraft", "ec2-user"]
# systemd units that get per-service alert rules
SERVICES = ["nginx", "postgresql@15-main", "mysql", "redis-server", "docker", "containerd",
            "kubelet", "named", "chrony", "postfix", "ssh", "cron", "rsyslog", "haproxy",
            "keepalived", "memcached", "elasticsearch", "grafana-server", "prometheus",
            "node_exporter", "php8.2-fpm", "apache2", "rabbitmq-server", "mongod",
            "zookeeper", "kafka", "etcd", "fail2ban", "nfs-server", "bacula-fd"]
OTHER_UNITS = ["apt-daily.service", "apt-daily-upgrade.service", "logrotate.service",
               "man-db.service", "fstrim.service", "systemd-tmpfiles-clean.service",
               "certbot.service", "phpsessionclean.service", "e2scrub_all.service",
               "sysstat-collect.service", "motd-news.service", "dpkg-db-backup.service"]
UNIT_DESC = {"apt-daily.service": "Daily apt download activities",
             "apt-daily-upgrade.service": "Daily apt upgrade and clean activities",
             "logrotate.service": "Rotate log files", "man-db.service": "Daily man-db regeneration",
             "fstrim.service": "Discard unused blocks on filesystems from /etc/fstab",
             "systemd-tmpfiles-clean.service": "Cleanup of Temporary Directories",
             "certbot.service": "Certbot", "phpsessionclean.service": "Clean php session files",
             "e2scrub_all.service": "Online ext4 Metadata Check for All Filesystems",
             "sysstat-collect.service": "system activity accounting tool",
             "motd-news.service": "Message of the Day",
             "dpkg-db-backup.service": "Daily dpkg database backup service"}
DISKS = ["sda", "sdb", "sdc", "sdd", "nvme0n1", "nvme1n1", "vda", "vdb"]
PARTS = ["sda1", "sda2", "sdb1", "sdc1", "dm-0", "dm-1", "dm-2", "nvme0n1p1", "nvme0n1p2",
         "vda1", "vdb1", "md0"]
MOUNTS = ["/", "/var", "/var/lib/postgresql", "/var/lib/docker", "/var/log", "/srv",
          "/home", "/data", "/var/lib/mysql", "/tmp", "/var/spool/postfix", "/backup"]
COMMS = ["java", "python3", "node", "postgres", "mysqld", "redis-server", "php-fpm8.2",
         "nginx", "dockerd", "containerd-shim", "kubelet", "elasticsearch", "ruby",
         "gunicorn", "uwsgi", "celery", "mongod", "beam.smp", "chrome", "ffmpeg"]
LIBS = ["libc.so.6", "libpthread.so.0", "libstdc++.so.6.0.30", "libssl.so.3",
        "libcrypto.so.3", "libpython3.11.so.1.0", "libjvm.so", "libz.so.1.2.13"]
NICS = ["eth0", "eth1", "ens3", "ens192", "eno1", "enp3s0", "bond0"]
DRIVERS = ["e1000e", "igb", "ixgbe", "virtio_net", "bnx2x", "mlx5_core", "r8169"]
PODS = ["web-7d9f8b6c5d-x2k4p", "api-5c6b7d8f9-qq7zt", "worker-66d4b9c8f7-m9n2s",
        "redis-0", "postgres-0", "ingress-nginx-controller-7f8d9c-abcde",
        "coredns-5d78c9869d-8xk2l", "prometheus-k8s-0", "fluentd-9kx2p",
        "cronjob-report-28345678-zx9q1", "batch-import-28345700-7lm3k", "kafka-1"]
NAMESPACES = ["default", "prod", "staging", "kube-system", "monitoring", "ingress-nginx",
              "data"]
IMAGES = ["registry.example.com/app/web:1.42.0", "registry.example.com/app/api:2.7.3",
          "docker.io/library/redis:7.2", "quay.io/prometheus/node-exporter:v1.7.0",
          "registry.example.com/batch/import:latest", "docker.io/library/postgres:15.5"]
ZONES = ["example.com", "example.net", "corp.example.com", "10.in-addr.arpa",
         "internal.example.org", "shop.example.com", "dev.example.com"]
QNAMES = ["www.example.com", "api.example.com", "mail.example.com", "cdn.example.net",
          "db01.corp.example.com", "_ldap._tcp.corp.example.com", "ntp.example.com",
          "login.example.org", "updates.example.com", "registry.example.com",
          "grafana.corp.example.com", "s3.eu-west-1.amazonaws.com", "github.com",
          "deb.debian.org", "security.debian.org", "k8s-api.corp.example.com"]
PATHS = ["/", "/index.html", "/api/v1/orders", "/api/v1/users/%d", "/api/v1/cart",
         "/static/js/app.%x.js", "/static/css/main.%x.css", "/images/p/%d.jpg",
         "/login", "/logout", "/health", "/metrics", "/search?q=shoes&page=%d",
         "/product/%d", "/checkout", "/favicon.ico", "/robots.txt", "/wp-login.php",
         "/.env", "/api/v2/items?limit=50&offset=%d", "/ws/notifications",
         "/admin/reports/daily", "/sitemap.xml", "/api/v1/error-reports"]
UAS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Safari/537.36",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) Version/17.1 Safari/605.1.15",
       "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
       "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
       "curl/7.88.1", "Prometheus/2.48.0", "kube-probe/1.28", "python-requests/2.31.0",
       "Go-http-client/1.1", "Googlebot/2.1 (+http://www.google.com/bot.html)"]
MAILDOMS = ["example.com", "example.net", "gmail.com", "outlook.com", "corp.example.com",
            "yahoo.com", "mail.example.org"]
CRON_CMDS = ["   cd / && run-parts --report /etc/cron.hourly",
             "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then "
             "/usr/lib/php/sessionclean; fi",
             "/usr/local/bin/backup.sh >/dev/null 2>&1",
             "test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )",
             "/usr/lib/sysstat/debian-sa1 1 1", "/opt/scripts/rotate-reports --quiet",
             "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
             "/usr/bin/certbot -q renew", "/usr/local/bin/check_raid.sh"]
SUDO_CMDS = ["/usr/bin/systemctl restart nginx", "/usr/bin/apt-get update",
             "/usr/bin/journalctl -u kubelet -n 200", "/usr/bin/tail -f /var/log/syslog",
             "/usr/bin/docker ps", "/usr/sbin/service postgresql status",
             "/usr/bin/cat /etc/shadow", "/usr/bin/vim /etc/nginx/nginx.conf",
             "/usr/bin/kubectl get pods -A", "/usr/local/bin/deploy.sh --env prod"]

# program -> syslog facility
FAC = {"kernel": 0, "sshd": 4, "sudo": 10, "su": 10, "CRON": 9, "systemd": 3,
       "systemd-logind": 4, "systemd-coredump": 3, "systemd-journald": 3,
       "systemd-resolved": 3, "systemd-oomd": 3, "systemd-timesyncd": 3,
       "postfix/smtpd": 2, "postfix/qmgr": 2, "postfix/smtp": 2, "postfix/cleanup": 2,
       "postfix/pickup": 2, "postfix/master": 2, "postfix/postfix-script": 2,
       "postfix/bounce": 2, "nginx": 23, "haproxy": 16, "dhclient": 3,
       "NetworkManager": 3, "dockerd": 3, "containerd": 3, "kubelet": 3, "named": 3,
       "chronyd": 3, "ntpd": 3, "auditd": 3, "audit": 13, "rsyslogd": 5, "smartd": 3,
       "mdadm": 3, "postgres": 16, "mysqld": 3, "redis-server": 3, "keepalived": 3,
       "fail2ban.actions": 3, "php-fpm": 3, "snapd": 3, "multipathd": 3, "useradd": 10,
       "passwd": 10, "usermod": 10, "zed": 3, "sm-notify": 3}

_pids = {}


def dpid(host, prog):
    """A daemon's pid on a host: stable, as a long-running daemon's is."""
    k = (host, prog)
    p = _pids.get(k)
    if p is None:
        p = _pids[k] = ri(300, 4000)
    return p


def ip_int():
    return "10.%d.%d.%d" % (ri(0, 40), ri(0, 255), ri(1, 254))


def ip_ext():
    a = ri(1, 223)
    if a in (10, 127):
        a += 1
    return "%d.%d.%d.%d" % (a, ri(0, 255), ri(0, 255), ri(1, 254))


def hexs(n):
    return "%0*x" % (n, R.getrandbits(4 * n))


def qid():
    return "%X" % R.getrandbits(40)


def ktime():
    """Some kernel lines carry the printk time (imklog), some do not."""
    return "[%6d.%06d] " % (ri(10, 9000000), ri(0, 999999)) if rr() < 0.7 else ""


def kwords():
    """Realistic pid-less kernel line prefix for a process: comm[pid]."""
    return "%s[%d]" % (rc(COMMS), ri(300, 4000000))


# Each generator returns (program, pid or None, severity, message). "host"
# is the module global HOST, set per line before the call.
HOST = "web01"

# ------------------------------------------------------------ routine lines


def g_nginx_access():
    st = R.random()
    status = (200 if st < 0.78 else 304 if st < 0.86 else 301 if st < 0.9 else 404 if st < 0.975
              else 499 if st < 0.98 else 401 if st < 0.99 else 403 if st < 0.997 else
              rc((500, 502, 503, 504)))
    path = rc(PATHS)
    if "%" in path:
        path = path % ri(1, 99999)
    t = TS_CLF
    return ("nginx", None, 6,
            '%s - %s [%s] "%s %s HTTP/%s" %d %d "%s" "%s"' % (
                ip_ext() if rr() < 0.8 else ip_int(), "-" if rr() < 0.9 else rc(USERS), t,
                "GET" if rr() < 0.8 else rc(("POST", "PUT", "HEAD", "DELETE")), path,
                "1.1" if rr() < 0.7 else "2.0", status, ri(0, 250000),
                "-" if rr() < 0.5 else "https://www.example.com/", rc(UAS)))


def g_haproxy():
    return ("haproxy", dpid(HOST, "haproxy"), 6,
            '%s:%d [%s] fe_https~ be_app/srv%d %d/0/%d/%d/%d %d %d - - ---- %d/%d/%d/%d/0 0/0 '
            '"GET %s HTTP/1.1"' % (ip_ext(), ri(1024, 65535), TS_HAP, ri(1, 4), ri(0, 30),
                                   ri(0, 3), ri(1, 900), ri(1, 1000), rc((200, 200, 200, 304, 404)),
                                   ri(200, 90000), ri(1, 900), ri(1, 800), ri(0, 40), ri(0, 10),
                                   rc(PATHS).replace("%d", "1").replace("%x", "ab")))


def g_sshd():
    x = rr()
    pid = ri(1000, 4000000)
    if x < 0.16:
        u = rc(USERS)
        return ("sshd", pid, 6, "Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:%s"
                % (u, ip_int(), ri(1024, 65535), hexs(43)))
    if x < 0.32:
        return ("sshd", pid, 6, "pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)"
                % (rc(USERS), ri(1000, 1100)))
    if x < 0.46:
        return ("sshd", pid, 6, "pam_unix(sshd:session): session closed for user %s" % rc(USERS))
    if x < 0.56:
        return ("sshd", pid, 6, "Received disconnect from %s port %d:11: disconnected by user"
                % (ip_int(), ri(1024, 65535)))
    if x < 0.64:
        return ("sshd", pid, 6, "Disconnected from user %s %s port %d"
                % (rc(USERS), ip_int(), ri(1024, 65535)))
    if x < 0.74:
        return ("sshd", pid, 6, "Connection closed by %s port %d [preauth]" % (ip_ext(), ri(1024, 65535)))
    if x < 0.82:
        return ("sshd", pid, 3, "error: kex_exchange_identification: read: Connection reset by peer")
    if x < 0.88:
        return ("sshd", pid, 6, "Connection closed by invalid user %s %s port %d [preauth]"
                % (rc(BAD_USERS), ip_ext(), ri(1024, 65535)))
    if x < 0.93:
        return ("sshd", pid, 6, "Disconnected from authenticating user root %s port %d [preauth]"
                % (ip_ext(), ri(1024, 65535)))
    if x < 0.97:
        return ("sshd", pid, 6, "Received disconnect from %s port %d:11: Bye Bye [preauth]"
                % (ip_ext(), ri(1024, 65535)))
    return ("sshd", pid, 6, "error: Received disconnect from %s port %d:3: "
            "com.jcraft.jsch.JSchException: Auth fail for methods 'publickey,password' [preauth]"
            % (ip_ext(), ri(1024, 65535)))


def g_sudo():
    u = rc(USERS)
    x = rr()
    pid = ri(1000, 4000000)
    if x < 0.45:
        return ("sudo", pid, 5, "%8s : PWD=/home/%s ; USER=root ; COMMAND=%s" % (u, u, rc(SUDO_CMDS)))
    if x < 0.75:
        return ("sudo", pid, 6, "pam_unix(sudo:session): session opened for user root(uid=0) by %s(uid=%d)"
                % (u, ri(1000, 1100)))
    return ("sudo", pid, 6, "pam_unix(sudo:session): session closed for user root")


def g_cron():
    x = rr()
    pid = ri(1000, 4000000)
    if x < 0.4:
        return ("CRON", pid, 6, "(%s) CMD (%s)" % (rc(("root", "root", "www-data", "backup")), rc(CRON_CMDS)))
    if x < 0.7:
        return ("CRON", pid, 6, "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
    if x < 0.97:
        return ("CRON", pid, 6, "pam_unix(cron:session): session closed for user root")
    return ("CRON", pid, 6, "(CRON) INFO (No MTA installed, discarding output)")


def g_systemd():
    x = rr()
    u = rc(OTHER_UNITS)
    if x < 0.2:
        n = ri(1, 90000)
        return ("systemd", 1, 6, "Started session-%d.scope - Session %d of User %s." % (n, n, rc(USERS)))
    if x < 0.35:
        return ("systemd", 1, 6, "Starting %s - %s..." % (u, UNIT_DESC[u]))
    if x < 0.5:
        return ("systemd", 1, 6, "Finished %s - %s." % (u, UNIT_DESC[u]))
    if x < 0.65:
        return ("systemd", 1, 6, "%s: Deactivated successfully." % u)
    if x < 0.72:
        return ("systemd", 1, 6, "%s: Consumed %d.%03ds CPU time." % (u, ri(0, 90), ri(0, 999)))
    if x < 0.8:
        return ("systemd", 1, 6, "session-%d.scope: Deactivated successfully." % ri(1, 90000))
    if x < 0.86:
        return ("systemd", 1, 6, "Reloading %s.service - %s..." % (rc(SERVICES), "service"))
    if x < 0.9:
        return ("systemd", ri(1000, 99999), 6, "Startup finished in %dms." % ri(20, 900))
    if x < 0.95:
        return ("systemd", 1, 6, "run-containerd-runc-k8s.io-%s-runc.%s.mount: Deactivated successfully."
                % (hexs(64), hexs(6)))
    return ("systemd", 1, 6, "Created slice user-%d.slice - User Slice of UID %d." % ((ri(1000, 1100),) * 2))


def g_logind():
    x = rr()
    n = ri(1, 90000)
    if x < 0.4:
        return ("systemd-logind", dpid(HOST, "logind"), 6, "New session %d of user %s." % (n, rc(USERS)))
    if x < 0.7:
        return ("systemd-logind", dpid(HOST, "logind"), 6, "Session %d logged out. Waiting for processes to exit." % n)
    return ("systemd-logind", dpid(HOST, "logind"), 6, "Removed session %d." % n)


def g_kernel():
    x = rr()
    if x < 0.45:
        return ("kernel", None, 4, "%s[UFW BLOCK] IN=%s OUT= MAC=%s SRC=%s DST=%s LEN=%d TOS=0x00 PREC=0x00 "
                "TTL=%d ID=%d PROTO=TCP SPT=%d DPT=%d WINDOW=%d RES=0x00 SYN URGP=0"
                % (ktime(), rc(NICS), ":".join(hexs(2) for _ in range(14)), ip_ext(),
                   HOST_IP[HOST], ri(40, 60), ri(30, 250), ri(1, 65535), ri(1024, 65535),
                   rc((22, 23, 25, 445, 3389, 5900, 8080, 6379, 1433)), ri(1024, 65535)))
    if x < 0.6:
        return ("kernel", None, 6, "%sdevice veth%s entered promiscuous mode" % (ktime(), hexs(7)))
    if x < 0.72:
        return ("kernel", None, 6, "%sdocker0: port %d(veth%s) entered %s state"
                % (ktime(), ri(1, 30), hexs(7), rc(("blocking", "forwarding", "disabled"))))
    if x < 0.8:
        return ("kernel", None, 6, "%seth0: renamed from veth%s" % (ktime(), hexs(7)))
    if x < 0.86:
        return ("kernel", None, 5, '%saudit: type=1400 audit(%d.%03d:%d): apparmor="STATUS" operation='
                '"profile_replace" info="same as current profile, skipping" profile="unconfined" '
                'name="docker-default" pid=%d comm="apparmor_parser"'
                % (ktime(), EPOCH, ri(0, 999), ri(100, 99999), ri(1000, 4000000)))
    if x < 0.9:
        return ("kernel", None, 6, "%sIPv6: ADDRCONF(NETDEV_CHANGE): veth%s: link becomes ready" % (ktime(), hexs(7)))
    if x < 0.94:
        return ("kernel", None, 4, "%sTCP: request_sock_TCP: Possible SYN flooding on port %d. Sending cookies.  "
                "Check SNMP counters." % (ktime(), rc((443, 80, 8443))))
    if x < 0.97:
        return ("kernel", None, 6, "%snfs: server %s OK" % (ktime(), rc(("nfs01", "filer02"))))
    return ("kernel", None, 6, "%sEXT4-fs (%s): mounted filesystem %s-%s-%s-%s-%s r/w with ordered data mode. "
            "Quota mode: none." % (ktime(), rc(PARTS), hexs(8), hexs(4), hexs(4), hexs(4), hexs(12)))


def g_postfix():
    x = rr()
    q = qid()
    if x < 0.2:
        return ("postfix/smtpd", ri(1000, 4000000), 6, "connect from %s[%s]" % (rc(("unknown", "mail-ed1-f41.google.com", "mx.example.net")), ip_ext()))
    if x < 0.38:
        return ("postfix/smtpd", ri(1000, 4000000), 6, "disconnect from %s[%s] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
                % (rc(("unknown", "mail-ed1-f41.google.com", "mx.example.net")), ip_ext()))
    if x < 0.5:
        return ("postfix/qmgr", dpid(HOST, "qmgr"), 6, "%s: from=<%s@%s>, size=%d, nrcpt=1 (queue active)"
                % (q, rc(USERS), rc(MAILDOMS), ri(800, 90000)))
    if x < 0.64:
        return ("postfix/smtp", ri(1000, 4000000), 6, "%s: to=<%s@%s>, relay=%s[%s]:25, delay=%.1f, delays=0.02/0/%.2f/%.2f, "
                "dsn=2.0.0, status=sent (250 2.0.0 OK  %d %s - gsmtp)"
                % (q, rc(USERS), rc(MAILDOMS), rc(("gmail-smtp-in.l.google.com", "mx1.example.net")),
                   ip_ext(), rr() * 3, rr(), rr(), ri(1600000000, 1800000000), hexs(12)))
    if x < 0.72:
        return ("postfix/cleanup", ri(1000, 4000000), 6, "%s: message-id=<%s@%s>" % (q, hexs(24), rc(MAILDOMS)))
    if x < 0.8:
        return ("postfix/smtpd", ri(1000, 4000000), 4, "NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 Service unavailable; "
                "Client host [%s] blocked using zen.spamhaus.org; from=<%s@%s> to=<%s@example.com> proto=ESMTP helo=<%s>"
                % ((ip_ext(),) * 2 + (rc(BAD_USERS), rc(MAILDOMS), rc(USERS), "ylmf-pc")))
    if x < 0.88:
        return ("postfix/smtpd", ri(1000, 4000000), 4, "warning: hostname %s.example.net does not resolve to address %s: "
                "Name or service not known" % (hexs(6), ip_ext()))
    if x < 0.94:
        return ("postfix/smtpd", ri(1000, 4000000), 6, "lost connection after AUTH from unknown[%s]" % ip_ext())
    return ("postfix/smtp", ri(1000, 4000000), 6, "%s: to=<%s@%s>, relay=none, delay=%d, delays=%d/0/30/0, dsn=4.4.1, "
            "status=deferred (connect to mx.%s[%s]:25: Connection timed out)"
            % (q, rc(USERS), rc(MAILDOMS), ri(30, 9000), ri(0, 9000), rc(MAILDOMS), ip_ext()))


def g_dhclient():
    x = rr()
    ip, gw = HOST_IP[HOST], "10.20.0.1"
    nic = rc(NICS[:3])
    if x < 0.35:
        return ("dhclient", dpid(HOST, "dhclient"), 6, "DHCPREQUEST for %s on %s to %s port 67" % (ip, nic, gw))
    if x < 0.7:
        return ("dhclient", dpid(HOST, "dhclient"), 6, "DHCPACK of %s from %s" % (ip, gw))
    return ("dhclient", dpid(HOST, "dhclient"), 6, "bound to %s -- renewal in %d seconds." % (ip, ri(600, 43200)))


def g_nm():
    x = rr()
    ts = "%d.%04d" % (EPOCH, ri(0, 9999))
    if x < 0.5:
        return ("NetworkManager", dpid(HOST, "NM"), 6, "<info>  [%s] dhcp4 (%s): state changed bound -> bound" % (ts, rc(NICS[:3])))
    if x < 0.8:
        return ("NetworkManager", dpid(HOST, "NM"), 6, "<info>  [%s] device (veth%s): carrier: link connected" % (ts, hexs(7)))
    return ("NetworkManager", dpid(HOST, "NM"), 4, "<warn>  [%s] device (veth%s): failed to find device %d '%s' with udev"
            % (ts, hexs(7), ri(10, 900), "veth" + hexs(7)))


def g_dockerd():
    x = rr()
    ts = TS_ISO_NS
    if x < 0.4:
        return ("dockerd", dpid(HOST, "dockerd"), 6, 'time="%s" level=info msg="ignoring event" container=%s module=libcontainerd '
                'namespace=moby topic=/tasks/delete type="*events.TaskDelete"' % (ts, hexs(64)))
    if x < 0.6:
        return ("dockerd", dpid(HOST, "dockerd"), 6, 'time="%s" level=info msg="Container failed to exit within 10s of signal 15 - '
                'using the force" container=%s' % (ts, hexs(64)))
    if x < 0.8:
        return ("dockerd", dpid(HOST, "dockerd"), 4, 'time="%s" level=warning msg="cleaning up after shim disconnected" id=%s '
                'namespace=moby' % (ts, hexs(64)))
    return ("dockerd", dpid(HOST, "dockerd"), 3, 'time="%s" level=error msg="Not continuing with pull after error: '
            'context canceled"' % ts)


def g_containerd():
    x = rr()
    ts = TS_ISO_NS
    if x < 0.6:
        return ("containerd", dpid(HOST, "containerd"), 6, 'time="%s" level=info msg="loading plugin \\"io.containerd.event.v1.publisher\\"..." '
                'runtime=io.containerd.runc.v2 type=io.containerd.event.v1' % ts)
    return ("containerd", dpid(HOST, "containerd"), 6, 'time="%s" level=info msg="shim disconnected" id=%s namespace=k8s.io'
            % (ts, hexs(64)))


def g_kubelet():
    x = rr()
    pod = rc(PODS)
    ns = rc(NAMESPACES)
    k = "%s %s" % (TS_KLOG, dpid(HOST, "kubelet"))
    if x < 0.3:
        return ("kubelet", dpid(HOST, "kubelet"), 6, 'I%s kubelet.go:2457] "SyncLoop (PLEG): event for pod" pod="%s/%s" '
                'event={"ID":"%s-%s","Type":"ContainerStarted","Data":"%s"}' % (k, ns, pod, hexs(8), hexs(12), hexs(64)))
    if x < 0.5:
        return ("kubelet", dpid(HOST, "kubelet"), 6, 'I%s kubelet.go:2431] "SyncLoop UPDATE" source="api" pods=["%s/%s"]'
                % (k, ns, pod))
    if x < 0.65:
        return ("kubelet", dpid(HOST, "kubelet"), 6, 'I%s reconciler_common.go:258] "operationExecutor.VerifyControllerAttachedVolume '
                'started for volume \\"kube-api-access-%s\\"" pod="%s/%s"' % (k, hexs(5), ns, pod))
    if x < 0.8:
        return ("kubelet", dpid(HOST, "kubelet"), 4, 'W%s reflector.go:535] object-"%s"/"%s-config": watch of *v1.ConfigMap ended '
                'with: very short watch: object-"%s"/"%s-config": Unexpected watch close - watch lasted less than a second and '
                'no items received' % (k, ns, pod.split("-")[0], ns, pod.split("-")[0]))
    if x < 0.92:
        return ("kubelet", dpid(HOST, "kubelet"), 3, 'E%s cadvisor_stats_provider.go:444] "Partial failure issuing cadvisor.ContainerInfoV2" '
                'err="partial failures: [\\"/kubepods.slice/kubepods-burstable.slice/%s\\": RecentStats: unable to find data in '
                'memory cache]"' % (k, hexs(32)))
    return ("kubelet", dpid(HOST, "kubelet"), 6, 'I%s prober.go:107] "Probe failed" probeType="Readiness" pod="%s/%s" '
            'podUID="%s-%s" containerName="app" probeResult="failure" output="Get \\"http://10.244.%d.%d:8080/ready\\": '
            'context deadline exceeded (Client.Timeout exceeded while awaiting headers)"'
            % (k, ns, pod, hexs(8), hexs(4), ri(0, 9), ri(2, 250)))


def g_named():
    x = rr()
    if x < 0.55:
        q = rc(QNAMES)
        return ("named", dpid(HOST, "named"), 6, "client @0x7f%s %s#%d (%s): query: %s IN %s + (%s)"
                % (hexs(10), ip_int(), ri(1024, 65535), q, q, rc(("A", "AAAA", "A", "MX", "SRV", "PTR")), HOST_IP[HOST]))
    if x < 0.7:
        return ("named", dpid(HOST, "named"), 3, "error (network unreachable) resolving './DNSKEY/IN': 2001:%x:%x::%x#53"
                % (ri(1, 0xffff), ri(1, 0xffff), ri(1, 0xff)))
    if x < 0.8:
        return ("named", dpid(HOST, "named"), 6, "zone %s/IN: loaded serial %d" % (rc(ZONES), ri(2026010100, 2026122999)))
    if x < 0.9:
        return ("named", dpid(HOST, "named"), 6, "client @0x7f%s %s#%d (%s): query (cache) '%s/A/IN' denied"
                % ((hexs(10), ip_ext(), ri(1024, 65535)) + (rc(QNAMES),) * 2))
    return ("named", dpid(HOST, "named"), 6, "lame-servers: info: lame server resolving '%s' (in '%s'?): %s#53"
            % (rc(QNAMES), rc(ZONES), ip_ext()))


def g_time():
    x = rr()
    if x < 0.45:
        return ("chronyd", dpid(HOST, "chronyd"), 6, "Selected source %s (%d.debian.pool.ntp.org)" % (ip_ext(), ri(0, 3)))
    if x < 0.7:
        return ("chronyd", dpid(HOST, "chronyd"), 6, "Source %s replaced with %s (%d.debian.pool.ntp.org)"
                % (ip_ext(), ip_ext(), ri(0, 3)))
    if x < 0.85:
        return ("ntpd", dpid(HOST, "ntpd"), 6, "Soliciting pool server %s" % ip_ext())
    return ("systemd-timesyncd", dpid(HOST, "timesyncd"), 6, "Initial synchronization to time server %s:123 (ntp.example.com)."
            % ip_int())


def g_audit():
    x = rr()
    a = "audit(%d.%03d:%d)" % (EPOCH, ri(0, 999), ri(1000, 999999))
    if x < 0.4:
        return ("kernel", None, 5, "%saudit: type=1130 %s: pid=1 uid=0 auid=4294967295 ses=4294967295 subj=unconfined "
                "msg='unit=%s comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'"
                % (ktime(), a, rc(OTHER_UNITS)[:-8]))
    if x < 0.75:
        return ("audit", None, 5, "type=USER_START msg=%s: pid=%d uid=0 auid=%d ses=%d subj=unconfined msg='op=PAM:session_open "
                "grantors=pam_selinux,pam_loginuid,pam_keyinit,pam_limits,pam_systemd,pam_unix acct=\"%s\" exe=\"/usr/sbin/sshd\" "
                "hostname=%s addr=%s terminal=ssh res=success'" % (a, ri(1000, 4000000), ri(1000, 1100), ri(1, 9000),
                                                                    rc(USERS), ip_int(), ip_int()))
    if x < 0.9:
        return ("audit", None, 5, "type=CRED_DISP msg=%s: pid=%d uid=0 auid=0 ses=%d subj=unconfined msg='op=PAM:setcred "
                "grantors=pam_permit acct=\"root\" exe=\"/usr/sbin/cron\" hostname=? addr=? terminal=cron res=success'"
                % (a, ri(1000, 4000000), ri(1, 9000)))
    return ("auditd", dpid(HOST, "auditd"), 5, "Audit daemon rotating log files")


def g_postgres():
    x = rr()
    p = ri(1000, 4000000)
    if x < 0.35:
        return ("postgres", p, 6, "[%d-1] app@appdb LOG:  duration: %d.%03d ms  statement: SELECT o.id, o.total FROM orders o "
                "WHERE o.customer_id = %d ORDER BY o.created_at DESC LIMIT 50" % (p, ri(1, 3000), ri(0, 999), ri(1, 999999)))
    if x < 0.55:
        return ("postgres", p, 6, "[%d-1] [unknown]@[unknown] LOG:  connection received: host=%s port=%d"
                % (p, ip_int(), ri(1024, 65535)))
    if x < 0.72:
        return ("postgres", p, 6, "[%d-2] app@appdb LOG:  connection authorized: user=app database=appdb "
                "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)" % p)
    if x < 0.87:
        return ("postgres", p, 6, "[%d-3] app@appdb LOG:  disconnection: session time: 0:%02d:%02d.%03d user=app database=appdb host=%s port=%d"
                % (p, ri(0, 59), ri(0, 59), ri(0, 999), ip_int(), ri(1024, 65535)))
    if x < 0.95:
        return ("postgres", dpid(HOST, "pgckpt"), 6, "[%d-1] LOG:  checkpoint complete: wrote %d buffers (%.1f%%); 0 WAL file(s) added, "
                "0 removed, %d recycled; write=%d.%03d s, sync=0.%03d s, total=%d.%03d s"
                % (dpid(HOST, "pgckpt"), ri(10, 9000), rr() * 10, ri(0, 5), ri(1, 269), ri(0, 999), ri(0, 999), ri(1, 269), ri(0, 999)))
    return ("postgres", p, 4, "[%d-1] app@appdb ERROR:  duplicate key value violates unique constraint \"orders_ref_key\"" % p)


def g_mysql():
    x = rr()
    if x < 0.5:
        return ("mysqld", dpid(HOST, "mysqld"), 4, "%s %d [Warning] [MY-010055] [Server] IP address '%s' could not be resolved: "
                "Name or service not known" % (TS_ISO_US, ri(10, 99999), ip_int()))
    return ("mysqld", dpid(HOST, "mysqld"), 6, "%s %d [Note] [MY-010914] [Server] Aborted connection %d to db: 'shop' user: 'app' "
            "host: '%s' (Got an error reading communication packets)." % (TS_ISO_US, ri(10, 99999), ri(1, 999999), ip_int()))


def g_redis():
    x = rr()
    p = dpid(HOST, "redis")
    if x < 0.4:
        return ("redis-server", p, 6, "%d:M %s * %d changes in %d seconds. Saving..." % (p, TS_REDIS, ri(1, 10000), rc((60, 300, 900))))
    if x < 0.7:
        return ("redis-server", p, 6, "%d:M %s * Background saving started by pid %d" % (p, TS_REDIS, ri(1000, 4000000)))
    return ("redis-server", p, 6, "%d:M %s * Background saving terminated with success" % (p, TS_REDIS))


def g_misc():
    x = rr()
    if x < 0.12:
        return ("rsyslogd", dpid(HOST, "rsyslogd"), 6, '[origin software="rsyslogd" swVersion="8.2302.0" x-pid="%d" '
                'x-info="https://www.rsyslog.com"] rsyslogd was HUPed' % dpid(HOST, "rsyslogd"))
    if x < 0.22:
        return ("systemd-journald", dpid(HOST, "journald"), 6, "Data hash table of /var/log/journal/%s/system.journal has a fill "
                "level at 75.0 (%d of %d items, %d file size, %d bytes per hash table item), suggesting rotation."
                % (hexs(32), ri(1000, 99999), ri(1000, 99999), ri(10000, 99999999), ri(100, 999)))
    if x < 0.34:
        return ("smartd", dpid(HOST, "smartd"), 6, "Device: /dev/%s [SAT], SMART Usage Attribute: 194 Temperature_Celsius "
                "changed from %d to %d" % (rc(DISKS[:4]), ri(28, 45), ri(28, 45)))
    if x < 0.46:
        return ("systemd-resolved", dpid(HOST, "resolved"), 6, "Using degraded feature set UDP instead of UDP+EDNS0 for DNS "
                "server %s." % ip_int())
    if x < 0.58:
        return ("php-fpm", dpid(HOST, "php-fpm"), 5, "[pool www] child %d started" % ri(1000, 4000000))
    if x < 0.68:
        return ("snapd", dpid(HOST, "snapd"), 6, "storehelpers.go:769: cannot refresh: snap has no updates available: "
                '"core20", "lxd", "snapd"')
    if x < 0.8:
        return ("fail2ban.actions", dpid(HOST, "f2b"), 6, "NOTICE  [sshd] Unban %s" % ip_ext())
    if x < 0.88:
        return ("keepalived", dpid(HOST, "keepalived"), 6, "VRRP_Script(chk_haproxy) succeeded")
    if x < 0.94:
        return ("multipathd", dpid(HOST, "multipathd"), 6, "mpatha: sdb - tur checker reports path is up")
    return ("systemd-coredump", ri(1000, 4000000), 6, "Removed old coredump core.%s.%d.%s.%d.zst."
            % (rc(COMMS), ri(1000, 1100), hexs(32), ri(1000, 99999)))


ROUTINE = [
    (30, g_nginx_access), (6, g_haproxy), (9, g_sshd), (3, g_sudo), (7, g_cron), (9, g_systemd),
    (2, g_logind), (6, g_kernel), (6, g_postfix), (1.5, g_dhclient), (1.5, g_nm), (3, g_dockerd),
    (1.5, g_containerd), (6, g_kubelet), (4, g_named), (1.5, g_time), (3, g_audit),
    (3.5, g_postgres), (0.8, g_mysql), (0.8, g_redis), (2, g_misc),
]

# ------------------------------------------------------------ alert lines


def a_oom():
    x = rr()
    c = rc(COMMS)
    p = ri(300, 4000000)
    if x < 0.35:
        return ("kernel", None, 3, "%sOut of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, "
                "shmem-rss:0kB, UID:%d pgtables:%dkB oom_score_adj:%d"
                % (ktime(), p, c, ri(10 ** 5, 10 ** 8), ri(10 ** 5, 10 ** 7), ri(0, 9999), ri(0, 1100), ri(100, 90000), rc((0, 0, 900, -998))))
    if x < 0.55:
        return ("kernel", None, 3, "%sMemory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, "
                "file-rss:%dkB, shmem-rss:0kB, UID:0 pgtables:%dkB oom_score_adj:%d"
                % (ktime(), p, c, ri(10 ** 5, 10 ** 8), ri(10 ** 5, 10 ** 7), ri(0, 9999), ri(100, 9000), rc((0, 999, -997))))
    if x < 0.75:
        return ("kernel", None, 4, "%s%s invoked oom-killer: gfp_mask=0x%x(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=%d"
                % (ktime(), c, ri(0x100000, 0x1fffff), rc((0, 0, 900))))
    if x < 0.88:
        return ("kernel", None, 6, "%soom-kill:constraint=CONSTRAINT_%s,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                "task_memcg=/system.slice/%s.service,task=%s,pid=%d,uid=%d"
                % (ktime(), rc(("NONE", "MEMCG")), rc(SERVICES), c, p, ri(0, 1100)))
    if x < 0.95:
        return ("systemd-oomd", dpid(HOST, "oomd"), 6, "Killed /user.slice/user-%d.slice/session-%d.scope due to memory pressure for "
                "/user.slice/user-%d.slice being %d.%02d%% > 50.00%% for > 20s with reclaim activity"
                % (ri(1000, 1100), ri(1, 9000), ri(1000, 1100), ri(50, 99), ri(0, 99)))
    return ("kernel", None, 4, "%s%s: page allocation failure: order:%d, mode:0x%x(GFP_ATOMIC|__GFP_NOWARN), nodemask=(null)"
            % (ktime(), rc(COMMS), ri(0, 4), ri(0x800, 0xfff)))


def a_crash():
    x = rr()
    c = rc(COMMS)
    if x < 0.45:
        return ("kernel", None, 6, "%s%s[%d]: segfault at %x ip %s sp %s error %d in %s[%s+%x]"
                % (ktime(), c, ri(300, 4000000), rc((0, 8, 0x10, R.getrandbits(44))), hexs(16), hexs(16),
                   rc((4, 6, 14, 15)), rc(LIBS), hexs(12), ri(0x10000, 0x1fffff)))
    if x < 0.6:
        return ("kernel", None, 6, "%straps: %s[%d] general protection fault ip:%s sp:%s error:0 in %s[%s+%x]"
                % (ktime(), c, ri(300, 4000000), hexs(12), hexs(12), rc(LIBS), hexs(12), ri(0x10000, 0x1fffff)))
    if x < 0.7:
        return ("kernel", None, 6, "%straps: %s[%d] trap invalid opcode ip:%s sp:%s error:0 in %s[%s+%x]"
                % (ktime(), c, ri(300, 4000000), hexs(12), hexs(12), rc(LIBS), hexs(12), ri(0x10000, 0x1fffff)))
    if x < 0.9:
        return ("systemd-coredump", ri(1000, 4000000), 2, "Process %d (%s) of user %d dumped core." % (ri(300, 4000000), c, ri(0, 1100)))
    return ("kernel", None, 4, "%straps: %s[%d] trap divide error ip:%s sp:%s error:0 in %s[%s+%x]"
            % (ktime(), c, ri(300, 4000000), hexs(12), hexs(12), rc(LIBS), hexs(12), ri(0x10000, 0x1fffff)))


def a_kernel_bug():
    x = rr()
    if x < 0.2:
        return ("kernel", None, 0, "%swatchdog: BUG: soft lockup - CPU#%d stuck for %ds! [%s:%d]"
                % (ktime(), ri(0, 63), ri(22, 90), rc(("kworker/3:1", "ksoftirqd/0", "java", "migration/2")), ri(10, 4000000)))
    if x < 0.45:
        return ("kernel", None, 3, "%sINFO: task %s:%d blocked for more than %d seconds."
                % (ktime(), rc(("jbd2/sda1-8", "kworker/u16:2", "postgres", "rsync", "xfsaild/dm-0")), ri(10, 4000000), rc((120, 241, 362))))
    if x < 0.55:
        return ("kernel", None, 0, "%sKernel panic - not syncing: %s" % (ktime(), rc(("Fatal exception", "Out of memory and no killable processes...",
                                                                                     "hung_task: blocked tasks"))))
    if x < 0.7:
        return ("kernel", None, 3, "%srcu: INFO: rcu_%s self-detected stall on CPU" % (ktime(), rc(("sched", "preempt"))))
    if x < 0.85:
        return ("kernel", None, 0, "%sBUG: unable to handle page fault for address: %s" % (ktime(), hexs(16)))
    return ("kernel", None, 4, "%sWARNING: CPU: %d PID: %d at %s:%d %s+0x%x/0x%x"
            % (ktime(), ri(0, 31), ri(1, 4000000), rc(("mm/page_alloc.c", "fs/ext4/inode.c", "net/core/dev.c")), ri(100, 9000),
               rc(("__alloc_pages", "ext4_evict_inode", "dev_watchdog")), ri(16, 900), ri(900, 2000)))


def a_fs():
    x = rr()
    d = rc(PARTS)
    if x < 0.2:
        return ("kernel", None, 3, "%sEXT4-fs error (device %s): %s:%d: inode #%d: comm %s: %s"
                % (ktime(), d, rc(("ext4_find_entry", "ext4_lookup", "ext4_validate_block_bitmap", "__ext4_get_inode_loc")),
                   ri(100, 5000), ri(2, 9999999), rc(COMMS), rc(("reading directory lblock 0", "bad extra_isize 65535 (inode size 256)",
                                                                  "checksum invalid", "unable to read itable block"))))
    if x < 0.3:
        return ("kernel", None, 2, "%sEXT4-fs (%s): Remounting filesystem read-only" % (ktime(), d))
    if x < 0.4:
        return ("kernel", None, 3, "%sAborting journal on device %s-8." % (ktime(), d))
    if x < 0.48:
        return ("kernel", None, 4, "%sEXT4-fs warning (device %s): ext4_end_bio:%d: I/O error %d writing to inode %d starting block %d)"
                % (ktime(), d, ri(300, 400), rc((5, 10)), ri(2, 9999999), ri(1, 99999999)))
    if x < 0.58:
        return ("kernel", None, 1, "%sXFS (%s): %s" % (ktime(), d, rc(("Corruption detected. Unmount and run xfs_repair",
                                                                        "Filesystem has been shut down due to log error (0x2).",
                                                                        "log I/O error -5"))))
    if x < 0.66:
        return ("kernel", None, 3, '%sXFS (%s): metadata I/O error in "xfs_trans_read_buf_map" at daddr 0x%x len 8 error %d'
                % (ktime(), d, R.getrandbits(30), rc((5, 117))))
    if x < 0.76:
        return ("kernel", None, 3, "%sBTRFS error (device %s): bdev /dev/%s errs: wr %d, rd %d, flush 0, corrupt %d, gen 0"
                % (ktime(), d, d, ri(0, 90), ri(0, 90), ri(0, 9)))
    if x < 0.84:
        return ("kernel", None, 4, "%sBTRFS warning (device %s): csum failed root %d ino %d off %d csum 0x%s expected csum 0x%s mirror 1"
                % (ktime(), d, ri(5, 300), ri(257, 999999), ri(0, 99999999), hexs(8), hexs(8)))
    if x < 0.88:
        return (rc(("backup.sh", "rsync", "CRON")), ri(1000, 4000000), 3, "%s: cannot %s '%s/%s': Read-only file system"
                % (rc(("touch", "rsync", "mkdir")), rc(("touch", "create", "open")), rc(MOUNTS).rstrip("/"), hexs(6)))
    if x < 0.93:
        return ("kernel", None, 4, "%snfs: server %s not responding, %s" % (ktime(), rc(("nfs01", "filer02")), rc(("still trying", "timed out"))))
    return ("kernel", None, 3, "%sJBD2: Error -5 detected when updating journal superblock for %s-8." % (ktime(), d))


def a_block():
    x = rr()
    d = rc(DISKS)
    if x < 0.2:
        return ("kernel", None, 3, "%s%s, dev %s, sector %d op 0x%d:(%s) flags 0x%x phys_seg %d prio class 0"
                % (ktime(), rc(("blk_update_request: I/O error", "critical medium error")),
                   d, ri(0, 2 * 10 ** 9), rc((0, 1)), rc(("READ", "WRITE")), rc((0, 0x800, 0x4800)), ri(1, 32)))
    if x < 0.3:
        return ("kernel", None, 3, "%sI/O error, dev %s, sector %d op 0x1:(WRITE) flags 0x%x phys_seg %d prio class 2"
                % (ktime(), d, ri(0, 2 * 10 ** 9), rc((0, 0x800)), ri(1, 32)))
    if x < 0.4:
        return ("kernel", None, 3, "%sBuffer I/O error on dev %s, logical block %d, %s"
                % (ktime(), rc(PARTS), ri(0, 10 ** 8), rc(("async page read", "lost async page write", "lost sync page write"))))
    if x < 0.5:
        n = ri(1, 8)
        return ("kernel", None, 3, "%sata%d.00: failed command: %s" % (ktime(), n, rc(("READ FPDMA QUEUED", "WRITE FPDMA QUEUED", "FLUSH CACHE EXT"))))
    if x < 0.56:
        return ("kernel", None, 3, "%sata%d.00: exception Emask 0x0 SAct 0x%x SErr 0x0 action 0x%d frozen"
                % (ktime(), ri(1, 8), R.getrandbits(20), rc((0, 6))))
    if x < 0.6:
        return ("kernel", None, 4, "%sata%d: hard resetting link" % (ktime(), ri(1, 8)))
    if x < 0.68:
        return ("kernel", None, 3, "%ssd %d:0:%d:0: [%s] tag#%d FAILED Result: hostbyte=DID_%s driverbyte=DRIVER_OK cmd_age=%ds"
                % (ktime(), ri(0, 6), ri(0, 3), d, ri(0, 31), rc(("OK", "BAD_TARGET", "TIME_OUT", "NO_CONNECT")), ri(0, 60)))
    if x < 0.73:
        return ("kernel", None, 3, "%ssd %d:0:%d:0: [%s] tag#%d Sense Key : Medium Error [current]"
                % (ktime(), ri(0, 6), ri(0, 3), d, ri(0, 31)))
    if x < 0.8:
        return ("kernel", None, 4, "%snvme nvme%d: I/O %d QID %d timeout, %s"
                % (ktime(), ri(0, 1), ri(0, 1023), ri(1, 16), rc(("aborting", "reset controller", "completion polled"))))
    if x < 0.84:
        return ("kernel", None, 2, "%snvme nvme%d: controller is down; will reset: CSTS=0x%x, PCI_STATUS=0x%x"
                % (ktime(), ri(0, 1), rc((3, 0xffffffff)), rc((0x10, 0xffff))))
    if x < 0.88:
        return ("kernel", None, 2, "%smd/raid%d:md%d: Disk failure on %s, disabling device." % (ktime(), rc((1, 5, 10)), ri(0, 3), rc(PARTS)))
    if x < 0.91:
        return ("mdadm", dpid(HOST, "mdadm"), 1, "DegradedArray event detected on md device /dev/md%d" % ri(0, 3))
    if x < 0.95:
        return ("smartd", dpid(HOST, "smartd"), 2, "Device: /dev/%s [SAT], %d Currently unreadable (pending) sectors"
                % (rc(DISKS[:4]), ri(1, 900)))
    if x < 0.97:
        return ("smartd", dpid(HOST, "smartd"), 2, "Device: /dev/%s [SAT], SMART Failure: %s"
                % (rc(DISKS[:4]), rc(("FAILURE PREDICTION THRESHOLD EXCEEDED", "DATA CHANNEL IMPENDING FAILURE"))))
    return ("multipathd", dpid(HOST, "multipathd"), 3, "checker failed path 8:%d in map mpath%s" % (ri(0, 255), rc("abcd")))


def a_hw():
    x = rr()
    nic = rc(NICS)
    if x < 0.15:
        return ("kernel", None, 2, "%smce: [Hardware Error]: Machine check events logged" % ktime())
    if x < 0.3:
        return ("kernel", None, 3, "%sEDAC MC%d: %d %s memory read error on CPU_SrcID#%d_Ha#0_Chan#%d_DIMM#%d (channel:%d slot:%d page:0x%x "
                "offset:0x0 grain:32 syndrome:0x0)" % (ktime(), ri(0, 1), ri(1, 9), rc(("CE", "CE", "CE", "UE")), ri(0, 1), ri(0, 3),
                                                        ri(0, 1), ri(0, 3), ri(0, 1), R.getrandbits(24)))
    if x < 0.42:
        return ("kernel", None, 4, "%sCPU%d: %s temperature above threshold, cpu clock throttled (total events = %d)"
                % (ktime(), ri(0, 63), rc(("Core", "Package")), ri(1, 99999)))
    if x < 0.55:
        return ("kernel", None, 3, "%s%s %s %s: NIC Link is Down" % (ktime(), rc(DRIVERS), "0000:%02x:00.%d" % (ri(1, 0x3f), ri(0, 1)), nic))
    if x < 0.63:
        return ("kernel", None, 2, "%se1000e 0000:00:1f.6 %s: Detected Hardware Unit Hang:" % (ktime(), nic))
    if x < 0.71:
        return ("kernel", None, 4, "%sNETDEV WATCHDOG: %s (%s): transmit queue %d timed out %d ms"
                % (ktime(), nic, rc(DRIVERS), ri(0, 15), ri(5000, 9000)))
    if x < 0.82:
        return ("kernel", None, 4, "%snf_conntrack: nf_conntrack: table full, dropping packet" % ktime())
    if x < 0.9:
        return ("kernel", None, 4, "%sTCP: out of memory -- consider tuning tcp_mem" % ktime())
    if x < 0.95:
        return ("kernel", None, 4, "%sbond0: (slave %s): link status definitely down, disabling slave" % (ktime(), nic))
    return ("kernel", None, 1, "%sthermal thermal_zone%d: critical temperature reached (%d C), shutting down" % (ktime(), ri(0, 3), ri(95, 120)))


def a_diskfull():
    x = rr()
    m = rc(MOUNTS)
    p = ri(1000, 4000000)
    if x < 0.14:
        return ("postgres", p, 0, "[%d-1] PANIC:  could not write to file \"pg_wal/xlogtemp.%d\": No space left on device" % (p, p))
    if x < 0.24:
        return ("postgres", p, 3, "[%d-1] app@appdb ERROR:  could not extend file \"base/16384/%d\": No space left on device"
                % (p, ri(16000, 99999)))
    if x < 0.34:
        return ("mysqld", dpid(HOST, "mysqld"), 3, "%s 0 [ERROR] [MY-012592] [InnoDB] Operating system error number 28 in a file "
                "operation." % TS_ISO_US)
    if x < 0.44:
        return ("dockerd", dpid(HOST, "dockerd"), 3, 'time="%s" level=error msg="failed to create container: write /var/lib/docker/'
                'overlay2/%s/committed: no space left on device"' % (TS_ISO_NS, hexs(64)))
    if x < 0.5:
        return ("rsyslogd", dpid(HOST, "rsyslogd"), 3, "file '/var/log/%s.log': write error - see https://www.rsyslog.com/solving-rsyslog-write-errors/ "
                "for help OS error: No space left on device [v8.2302.0 try https://www.rsyslog.com/e/2027 ]" % rc(("syslog", "auth", "kern")))
    if x < 0.58:
        return ("nginx", None, 2, "%s [crit] %d#%d: *%d pwrite() \"/var/lib/nginx/body/%010d\" failed (28: No space left on device)"
                % (TS_NGX, dpid(HOST, "nginx"), dpid(HOST, "nginx"), ri(1, 9999999), ri(1, 9999999)))
    if x < 0.66:
        return ("kernel", None, 2, "%sEXT4-fs warning (device %s): ext4_dx_add_entry:%d: Directory (ino: %d) index full, reach max htree level :2"
                % (ktime(), rc(PARTS), ri(2000, 3000), ri(2, 9999999)))
    if x < 0.74:
        return ("auditd", dpid(HOST, "auditd"), 1, "Audit daemon has no space left on logging partition")
    if x < 0.82:
        return ("postfix/cleanup", p, 2, "warning: %s: write queue file: No space left on device" % qid())
    if x < 0.9:
        return ("kubelet", dpid(HOST, "kubelet"), 4, 'W%s %d eviction_manager.go:349] "Eviction manager: attempting to reclaim" resourceName="%s"'
                % (TS_KLOG, dpid(HOST, "kubelet"), rc(("ephemeral-storage", "nodefs.available", "imagefs.available", "memory"))))
    return (rc(("backup.sh", "rsync", "CRON", "tar")), ri(1000, 4000000), 3, "%s: write error: No space left on device"
            % rc(("/backup/db-%d.tar.gz" % ri(1, 99), m + "/tmp.%s" % hexs(6), "/var/tmp/export.csv")))


def a_ssh():
    x = rr()
    p = ri(1000, 4000000)
    ip = ip_ext()
    if x < 0.3:
        return ("sshd", p, 6, "Failed password for invalid user %s from %s port %d ssh2" % (rc(BAD_USERS), ip, ri(1024, 65535)))
    if x < 0.45:
        return ("sshd", p, 6, "Failed password for root from %s port %d ssh2" % (ip, ri(1024, 65535)))
    if x < 0.52:
        return ("sshd", p, 6, "Failed password for %s from %s port %d ssh2" % (rc(USERS), ip if rr() < 0.6 else ip_int(), ri(1024, 65535)))
    if x < 0.64:
        return ("sshd", p, 6, "Invalid user %s from %s port %d" % (rc(BAD_USERS), ip, ri(1024, 65535)))
    if x < 0.7:
        return ("sshd", p, 3, "error: maximum authentication attempts exceeded for %s from %s port %d ssh2 [preauth]"
                % (rc(("root", "invalid user admin", "invalid user test")), ip, ri(1024, 65535)))
    if x < 0.74:
        return ("sshd", p, 6, "Accepted password for root from %s port %d ssh2" % (ip_int(), ri(1024, 65535)))
    if x < 0.77:
        return ("sshd", p, 6, "Accepted publickey for root from %s port %d ssh2: RSA SHA256:%s" % (ip, ri(1024, 65535), hexs(43)))
    if x < 0.82:
        return ("sshd", p, 6, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=%s"
                % (ip, rc(("root", "deploy", "alice"))))
    if x < 0.86:
        return ("sshd", p, 3, "fatal: Timeout before authentication for %s port %d" % (ip, ri(1024, 65535)))
    if x < 0.9:
        return ("sshd", p, 3, "error: Bad protocol version identification 'GET / HTTP/1.1' from %s port %d" % (ip, ri(1024, 65535)))
    if x < 0.94:
        return ("sshd", p, 4, "pam_faillock(sshd:auth): Consecutive login failures for user %s account temporarily locked"
                % rc(("root", "deploy", "alice")))
    if x < 0.97:
        return ("sshd", p, 3, "error: Could not load host key: /etc/ssh/ssh_host_%s_key" % rc(("ecdsa", "ed25519", "rsa")))
    return ("sshd", p, 2, "fatal: no hostkeys available -- exiting.")


def a_priv():
    x = rr()
    u = rc(USERS)
    p = ri(1000, 4000000)
    if x < 0.2:
        return ("sudo", p, 1, "%8s : %d incorrect password attempts ; TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=%s"
                % (u, rc((1, 2, 3)), ri(0, 9), u, rc(SUDO_CMDS)))
    if x < 0.32:
        return ("sudo", p, 1, "%8s : user NOT in sudoers ; TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=%s"
                % (u, ri(0, 9), u, rc(SUDO_CMDS)))
    if x < 0.47:
        return ("sudo", p, 5, "pam_unix(sudo:auth): authentication failure; logname=%s uid=%d euid=0 tty=/dev/pts/%d ruser=%s rhost=  user=%s"
                % (u, ri(1000, 1100), ri(0, 9), u, u))
    if x < 0.57:
        return ("sudo", p, 5, "%8s : TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=%s"
                % (u, ri(0, 9), u, rc(("/bin/bash", "/usr/bin/su -", "/bin/sh", "/usr/bin/bash -i"))))
    if x < 0.67:
        return ("su", p, 4, "FAILED SU (to root) %s on pts/%d" % (u, ri(0, 9)))
    if x < 0.74:
        return ("su", p, 5, "pam_unix(su:auth): authentication failure; logname=%s uid=%d euid=0 tty=/dev/pts/%d ruser=%s rhost=  user=root"
                % (u, ri(1000, 1100), ri(0, 9), u))
    if x < 0.82:
        return ("useradd", p, 6, "new user: name=%s, UID=%d, GID=%d, home=/home/%s, shell=/bin/bash, from=/dev/pts/%d"
                % ((rc(BAD_USERS), ri(1000, 1100), ri(1000, 1100), rc(BAD_USERS), ri(0, 9))))
    if x < 0.9:
        return ("usermod", p, 6, "add '%s' to group '%s'" % (u, rc(("sudo", "docker", "adm", "wheel"))))
    return ("passwd", p, 5, "pam_unix(passwd:chauthtok): password changed for %s" % rc(("root", u)))


def a_systemd():
    x = rr()
    s = rc(SERVICES) if rr() < 0.85 else rc(OTHER_UNITS)[:-8]
    if x < 0.32:
        return ("systemd", 1, 3, "%s.service: Failed with result '%s'." % (s, rc(("exit-code", "signal", "timeout", "core-dump", "oom-kill"))))
    if x < 0.56:
        code = rc(("killed", "dumped", "exited"))
        st = {"killed": rc(("9/KILL", "15/TERM", "6/ABRT")), "dumped": rc(("11/SEGV", "6/ABRT")), "exited": "%d/%s" % rc(((1, "FAILURE"), (2, "INVALIDARGUMENT"), (203, "EXEC")))}[code]
        return ("systemd", 1, 5, "%s.service: Main process exited, code=%s, status=%s" % (s, code, st))
    if x < 0.68:
        return ("systemd", 1, 3, "%s.service: Start request repeated too quickly." % s)
    if x < 0.76:
        return ("systemd", 1, 3, "Failed to start %s.service - %s." % (s, s.split("@")[0].replace("-", " ").title()))
    if x < 0.83:
        return ("systemd", 1, 3, "Dependency failed for %s.service - %s." % (s, s.split("@")[0].title()))
    if x < 0.9:
        return ("systemd", 1, 2, "%s.service: Watchdog timeout (limit %dmin)!" % (s, ri(1, 5)))
    if x < 0.95:
        return ("systemd", 1, 4, "%s.service: State 'stop-sigterm' timed out. Killing." % s)
    return ("systemd-journald", dpid(HOST, "journald"), 4, "File /var/log/journal/%s/system.journal corrupted or uncleanly shut down, "
            "renaming and replacing." % hexs(32))


def a_cron():
    x = rr()
    p = ri(1000, 4000000)
    if x < 0.4:
        return ("CRON", p, 3, "(CRON) error (grandchild #%d failed with exit status %d)" % (ri(1000, 4000000), rc((1, 2, 127))))
    if x < 0.7:
        return ("CRON", p, 3, "(root) MAIL (mailed %d bytes of output but got status 0x%04x from MTA#012)" % (ri(10, 9999), rc((0x4b, 0x100))))
    return ("CRON", p, 2, "(CRON) error (can't fork)")


def a_mail():
    x = rr()
    p = ri(1000, 4000000)
    q = qid()
    if x < 0.15:
        return ("postfix/smtpd", p, 4, "warning: unknown[%s]: SASL %s authentication failed: %s"
                % (ip_ext(), rc(("LOGIN", "PLAIN")), rc(("UGFzc3dvcmQ6", "authentication failure"))))
    if x < 0.25:
        return ("postfix/smtpd", p, 2, "fatal: open /etc/postfix/%s.db: No such file or directory" % rc(("virtual", "sasl_passwd", "transport")))
    if x < 0.32:
        return ("postfix/master", dpid(HOST, "master"), 0, "panic: %s" % rc(("master_spawn: at process limit", "myfree: corrupt or unallocated memory block")))
    if x < 0.5:
        return ("postfix/smtp", p, 5, "%s: to=<%s@%s>, relay=%s[%s]:25, delay=%.1f, delays=0.1/0/0.2/0.3, dsn=5.1.1, status=bounced "
                "(host %s[%s] said: 550 5.1.1 <%s@%s>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))"
                % (q, rc(BAD_USERS), rc(MAILDOMS), "mx.example.net", ip_ext(), rr(), "mx.example.net", ip_ext(), rc(BAD_USERS), rc(MAILDOMS)))
    if x < 0.6:
        return ("postfix/smtpd", p, 4, "NOQUEUE: reject: RCPT from unknown[%s]: 454 4.7.1 <%s@%s>: Relay access denied; from=<%s@%s> "
                "to=<%s@%s> proto=ESMTP helo=<%s>" % (ip_ext(), rc(BAD_USERS), rc(MAILDOMS), rc(BAD_USERS), rc(MAILDOMS),
                                                       rc(BAD_USERS), rc(MAILDOMS), "localhost"))
    if x < 0.7:
        return ("postfix/qmgr", dpid(HOST, "qmgr"), 4, "warning: mail for [%s]:25 is using up %d of %d active queue entries"
                % (ip_ext(), ri(15000, 20000), 20000))
    if x < 0.78:
        return ("postfix/smtp", p, 4, "warning: TLS library problem: error:0A000086:SSL routines::certificate verify failed:"
                "../ssl/statem/statem_clnt.c:1889:")
    if x < 0.86:
        return ("postfix/smtpd", p, 4, "warning: not enough free space in mail queue: %d bytes < 1.5*message size limit" % ri(1000, 99999999))
    if x < 0.93:
        return ("postfix/smtp", p, 3, "%s: to=<%s@%s>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=5.4.6, status=bounced "
                "(mail for %s loops back to myself)" % (q, rc(USERS), HOST + ".example.com", HOST + ".example.com"))
    return ("postfix/postfix-script", p, 2, "fatal: the Postfix mail system is not running")


def a_nginx():
    x = rr()
    w = dpid(HOST, "nginx")
    c = ri(1, 99999999)
    up = "http://10.20.%d.%d:8080" % (ri(0, 3), ri(10, 200))
    if x < 0.2:
        return ("nginx", None, 3, "%s [error] %d#%d: *%d upstream timed out (110: Connection timed out) while reading response header "
                "from upstream, client: %s, server: www.example.com, request: \"GET %s HTTP/1.1\", upstream: \"%s/\", host: \"www.example.com\""
                % (TS_NGX, w, w, c, ip_ext(), "/api/v1/orders", up))
    if x < 0.35:
        return ("nginx", None, 3, "%s [error] %d#%d: *%d connect() failed (111: Connection refused) while connecting to upstream, client: %s, "
                "server: api.example.com, request: \"POST /api/v1/cart HTTP/1.1\", upstream: \"%s/api/v1/cart\", host: \"api.example.com\""
                % (TS_NGX, w, w, c, ip_ext(), up))
    if x < 0.45:
        return ("nginx", None, 3, "%s [error] %d#%d: *%d no live upstreams while connecting to upstream, client: %s, server: www.example.com, "
                "request: \"GET / HTTP/1.1\", upstream: \"http://backend/\", host: \"www.example.com\"" % (TS_NGX, w, w, c, ip_ext()))
    if x < 0.55:
        return ("nginx", None, 2, "%s [crit] %d#%d: *%d connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) "
                "while connecting to upstream, client: %s" % (TS_NGX, w, w, c, ip_ext()))
    if x < 0.62:
        return ("nginx", None, 0, "%s [emerg] %d#%d: bind() to 0.0.0.0:%d failed (98: Address already in use)" % (TS_NGX, w, w, rc((80, 443))))
    if x < 0.7:
        return ("nginx", None, 1, "%s [alert] %d#%d: worker process %d exited on signal %d%s"
                % (TS_NGX, w, w, ri(1000, 4000000), rc((9, 11, 6)), rc(("", " (core dumped)"))))
    if x < 0.78:
        return ("nginx", None, 2, "%s [crit] %d#%d: accept4() failed (24: Too many open files)" % (TS_NGX, w, w))
    if x < 0.85:
        return ("nginx", None, 1, "%s [alert] %d#%d: %d worker_connections are not enough" % (TS_NGX, w, w, rc((768, 1024, 4096))))
    if x < 0.93:
        return ("nginx", None, 4, "%s [error] %d#%d: *%d limiting requests, excess: %d.%03d by zone \"api\", client: %s, server: api.example.com, "
                "request: \"GET /api/v1/orders HTTP/1.1\"" % (TS_NGX, w, w, c, ri(10, 50), ri(0, 999), ip_ext()))
    return ("nginx", None, 2, "%s [crit] %d#%d: *%d SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) "
            "while SSL handshaking, client: %s, server: 0.0.0.0:443" % (TS_NGX, w, w, c, ip_ext()))


def a_net():
    x = rr()
    ts = "%d.%04d" % (EPOCH, ri(0, 9999))
    nic = rc(NICS[:3])
    if x < 0.2:
        return ("dhclient", dpid(HOST, "dhclient"), 3, "No DHCPOFFERS received.")
    if x < 0.3:
        return ("dhclient", dpid(HOST, "dhclient"), 4, "DHCPNAK from 10.20.0.1 (xid=0x%s)" % hexs(8))
    if x < 0.5:
        return ("NetworkManager", dpid(HOST, "NM"), 4, "<warn>  [%s] device (%s): Activation: failed for connection 'Wired connection %d'"
                % (ts, nic, ri(1, 3)))
    if x < 0.65:
        return ("NetworkManager", dpid(HOST, "NM"), 4, "<warn>  [%s] dhcp4 (%s): request timed out" % (ts, nic))
    if x < 0.75:
        return ("NetworkManager", dpid(HOST, "NM"), 3, "<error> [%s] device (%s): %s" % (ts, nic, rc(("Couldn't initialize supplicant interface",
                                                                                                  "ip-config-unavailable"))))
    if x < 0.85:
        return ("NetworkManager", dpid(HOST, "NM"), 6, "<info>  [%s] manager: NetworkManager state is now DISCONNECTED" % ts)
    return ("keepalived", dpid(HOST, "keepalived"), 4, "(VI_%d) Entering %s STATE" % (ri(1, 3), rc(("FAULT", "MASTER", "BACKUP", "FAULT"))))


def a_container():
    x = rr()
    ts = TS_ISO_NS
    if x < 0.15:
        return ("dockerd", dpid(HOST, "dockerd"), 3, 'time="%s" level=error msg="Handler for POST /v1.43/containers/%s/start returned error: '
                'failed to create task for container: failed to create shim task: OCI runtime create failed"' % (ts, hexs(12)))
    if x < 0.25:
        return ("dockerd", dpid(HOST, "dockerd"), 3, 'time="%s" level=fatal msg="Error starting daemon: error initializing graphdriver: '
                'driver not supported"' % ts)
    if x < 0.35:
        return ("dockerd", dpid(HOST, "dockerd"), 3, 'time="%s" level=error msg="stream copy error: reading from a closed fifo"' % ts)
    if x < 0.45:
        return ("containerd", dpid(HOST, "containerd"), 3, 'time="%s" level=error msg="failed to delete" cmd="/usr/bin/containerd-shim-runc-v2 '
                '-namespace moby -address /run/containerd/containerd.sock -publish-binary /usr/bin/containerd -id %s -bundle '
                '/run/containerd/io.containerd.runtime.v2.task/moby/%s delete" error="exit status 1"' % (ts, hexs(64), hexs(64)))
    if x < 0.55:
        return ("dockerd", dpid(HOST, "dockerd"), 4, 'time="%s" level=warning msg="Health check for container %s error: timed out starting '
                'health check for container %s"' % (ts, hexs(64), hexs(64)))
    pod, ns = rc(PODS), rc(NAMESPACES)
    k = "%s %d" % (TS_KLOG, dpid(HOST, "kubelet"))
    if x < 0.68:
        return ("kubelet", dpid(HOST, "kubelet"), 3, 'E%s pod_workers.go:1300] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" '
                'for \\"app\\" with CrashLoopBackOff: \\"back-off 5m0s restarting failed container=app pod=%s_%s(%s)\\"" pod="%s/%s"'
                % (k, pod, ns, hexs(8), ns, pod))
    if x < 0.76:
        return ("kubelet", dpid(HOST, "kubelet"), 3, 'E%s remote_image.go:180] "PullImage from image service failed" err="rpc error: code = '
                'NotFound desc = failed to pull and unpack image \\"%s\\"" image="%s"' % (k, rc(IMAGES), rc(IMAGES)))
    if x < 0.81:
        return ("kubelet", dpid(HOST, "kubelet"), 3, 'E%s kubelet.go:2855] "Container runtime network not ready" networkReady="NetworkReady=false '
                'reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"' % k)
    if x < 0.86:
        return ("kubelet", dpid(HOST, "kubelet"), 3, 'E%s kubelet.go:2373] "Skipping pod synchronization" err="PLEG is not healthy: pleg was last '
                'seen active %dm%d.%ds ago; threshold is 3m0s"' % (k, ri(3, 9), ri(0, 59), ri(0, 9)))
    if x < 0.91:
        return ("kubelet", dpid(HOST, "kubelet"), 6, 'I%s kubelet_node_status.go:669] "Recording event message for node" node="%s" '
                'event="%s"' % (k, HOST, rc(("NodeNotReady", "NodeHasDiskPressure", "NodeHasInsufficientMemory"))))
    if x < 0.96:
        return ("kubelet", dpid(HOST, "kubelet"), 3, 'E%s nestedpendingoperations.go:348] Operation for "{volumeName:kubernetes.io/csi/%s '
                'podName: nodeName:}" failed. No retries permitted until %s (durationBeforeRetry 2m2s). Error: MountVolume.SetUp failed for '
                'volume "pvc-%s" (UniqueName: "kubernetes.io/csi/%s") pod "%s" (UID: "%s") : rpc error: code = Internal desc = mount failed: '
                'exit status 32' % (k, hexs(8), TS_ISO_NS, hexs(8), hexs(8), pod, hexs(8)))
    return ("kubelet", dpid(HOST, "kubelet"), 6, 'I%s kubelet.go:1528] "System OOM encountered, victim process: %s, pid: %d"'
            % (k, rc(COMMS), ri(1000, 4000000)))


def a_dns_time():
    x = rr()
    z = rc(ZONES)
    if x < 0.15:
        return ("named", dpid(HOST, "named"), 3, "zone %s/IN: refresh: failure trying master %s#53 (source 0.0.0.0#0): timed out" % (z, ip_int()))
    if x < 0.22:
        return ("named", dpid(HOST, "named"), 1, "zone %s/IN: expired" % z)
    if x < 0.3:
        return ("named", dpid(HOST, "named"), 3, "transfer of '%s/IN' from %s#53: failed while receiving responses: REFUSED" % (z, ip_int()))
    if x < 0.36:
        return ("named", dpid(HOST, "named"), 2, "loading configuration: failure")
    if x < 0.44:
        return ("named", dpid(HOST, "named"), 3, "validating %s/DNSKEY: no valid signature found" % z)
    if x < 0.5:
        return ("named", dpid(HOST, "named"), 2, "zone %s/IN: not loaded due to errors." % z)
    if x < 0.62:
        return ("chronyd", dpid(HOST, "chronyd"), 4, "System clock wrong by %s%d.%06d seconds" % (rc(("", "-")), ri(1, 9000), ri(0, 999999)))
    if x < 0.72:
        return ("chronyd", dpid(HOST, "chronyd"), 4, "Can't synchronise: no selectable sources")
    if x < 0.8:
        return ("chronyd", dpid(HOST, "chronyd"), 4, "No suitable source for synchronisation")
    if x < 0.88:
        return ("ntpd", dpid(HOST, "ntpd"), 3, "no servers can be used, system clock unsynchronized")
    if x < 0.94:
        return ("ntpd", dpid(HOST, "ntpd"), 5, "kernel reports TIME_ERROR: 0x%x: Clock Unsynchronized" % rc((0x41, 0x2041)))
    return ("systemd-timesyncd", dpid(HOST, "timesyncd"), 4, "Timed out waiting for reply from %s:123 (ntp.example.com)." % ip_int())


def a_audit():
    x = rr()
    a = "audit(%d.%03d:%d)" % (EPOCH, ri(0, 999), ri(1000, 999999))
    if x < 0.25:
        return ("kernel", None, 4, '%saudit: type=1400 %s: apparmor="DENIED" operation="%s" profile="%s" name="%s" pid=%d comm="%s" '
                'requested_mask="%s" denied_mask="%s" fsuid=%d ouid=0' % (ktime(), a, rc(("open", "exec", "mknod")),
                                                                         rc(("/usr/sbin/named", "/usr/sbin/mysqld", "docker-default", "/usr/bin/man")),
                                                                         rc(("/etc/ssl/private/key.pem", "/proc/1/environ", "/var/lib/x")),
                                                                         ri(1000, 4000000), rc(COMMS), "r", "r", ri(0, 1100)))
    if x < 0.4:
        return ("kernel", None, 4, "%saudit: type=1400 %s: avc:  denied  { %s } for  pid=%d comm=\"%s\" name=\"%s\" scontext=system_u:system_r:"
                "httpd_t:s0 tcontext=system_u:object_r:var_t:s0 tclass=file permissive=0"
                % (ktime(), a, rc(("read", "write", "getattr")), ri(1000, 4000000), rc(COMMS), rc(("index.html", "cfg", "data.db"))))
    if x < 0.6:
        return ("audit", None, 5, "type=USER_AUTH msg=%s: pid=%d uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:authentication "
                "grantors=? acct=\"%s\" exe=\"/usr/sbin/sshd\" hostname=%s addr=%s terminal=ssh res=failed'"
                % (a, ri(1000, 4000000), rc(BAD_USERS + ["root"]), ip_ext(), ip_ext()))
    if x < 0.72:
        return ("audit", None, 4, "type=ANOM_ABEND msg=%s: auid=4294967295 uid=%d gid=%d ses=4294967295 subj=unconfined pid=%d comm=\"%s\" "
                "exe=\"/usr/bin/%s\" sig=%d res=1" % (a, ri(0, 1100), ri(0, 1100), ri(1000, 4000000), rc(COMMS), rc(COMMS), rc((6, 11))))
    if x < 0.82:
        return ("kernel", None, 4, "%saudit: audit_backlog=%d > audit_backlog_limit=8192" % (ktime(), ri(8193, 9000)))
    if x < 0.9:
        return ("kernel", None, 4, "%susb %d-%d: new %s-speed USB device number %d using xhci_hcd"
                % (ktime(), ri(1, 4), ri(1, 8), rc(("high", "full", "super")), ri(2, 40)))
    if x < 0.95:
        return ("kernel", None, 4, "%s%s: module verification failed: signature and/or required key missing - tainting kernel"
                % (ktime(), rc(("rootkit_x", "nvidia", "vboxdrv", "zfs"))))
    return ("kernel", None, 4, "%sdevice %s entered promiscuous mode" % (ktime(), rc(NICS)))


def a_db():
    x = rr()
    p = ri(1000, 4000000)
    if x < 0.2:
        return ("postgres", p, 3, "[%d-1] %s@appdb FATAL:  password authentication failed for user \"%s\""
                % (p, rc(("app", "report", "postgres")), rc(("app", "report", "postgres"))))
    if x < 0.3:
        return ("postgres", p, 3, "[%d-1] app@appdb ERROR:  deadlock detected" % p)
    if x < 0.37:
        return ("postgres", p, 3, "[%d-1] app@appdb FATAL:  sorry, too many clients already" % p)
    if x < 0.43:
        return ("postgres", p, 3, "[%d-1] app@appdb FATAL:  the database system is in recovery mode" % p)
    if x < 0.5:
        return ("postgres", dpid(HOST, "pgckpt"), 4, "[%d-1] LOG:  checkpoints are occurring too frequently (%d seconds apart)"
                % (dpid(HOST, "pgckpt"), ri(2, 29)))
    if x < 0.55:
        return ("postgres", p, 3, "[%d-1] replicator@[unknown] ERROR:  requested WAL segment %s has already been removed" % (p, hexs(24).upper()))
    if x < 0.62:
        return ("mysqld", dpid(HOST, "mysqld"), 3, "%s 0 [ERROR] [MY-010262] [Server] Can't start server: Bind on TCP/IP port: Address already in use"
                % TS_ISO_US)
    if x < 0.68:
        return ("mysqld", dpid(HOST, "mysqld"), 2, "%s UTC - mysqld got signal %d ;" % (TS_ISO_US[:19].replace("T", " "), rc((6, 11))))
    if x < 0.74:
        return ("mysqld", dpid(HOST, "mysqld"), 3, "%s %d [ERROR] [MY-013140] [Server] Table './shop/%s' is marked as crashed and should be repaired"
                % (TS_ISO_US, ri(10, 99999), rc(("orders", "sessions", "carts"))))
    if x < 0.8:
        return ("mysqld", dpid(HOST, "mysqld"), 3, "%s %d [ERROR] [MY-010584] [Repl] Replica SQL for channel '': Worker 1 failed executing "
                "transaction 'ANONYMOUS' at source log binlog.%06d, end_log_pos %d; Error 'Duplicate entry' on query."
                % (TS_ISO_US, ri(10, 99), ri(1, 999), ri(1000, 99999999)))
    rp = dpid(HOST, "redis")
    if x < 0.86:
        return ("redis-server", rp, 3, "%d:M %s # Background saving error" % (rp, TS_REDIS))
    if x < 0.92:
        return ("redis-server", rp, 3, "%d:M %s # Can't save in background: fork: Cannot allocate memory" % (rp, TS_REDIS))
    if x < 0.96:
        return ("redis-server", rp, 4, "%d:S %s # Connection with master lost." % (rp, TS_REDIS))
    return ("redis-server", rp, 3, "%d:M %s # OOM command not allowed when used memory > 'maxmemory'." % (rp, TS_REDIS))


def a_lb():
    x = rr()
    b = rc(("be_app", "be_api", "be_static"))
    if x < 0.45:
        return ("haproxy", dpid(HOST, "haproxy"), 1, "Server %s/srv%d is DOWN, reason: Layer%d %s, check duration: %dms. %d active and 0 backup "
                "servers left. %d sessions active, 0 requeued, 0 remaining in queue."
                % (b, ri(1, 4), rc((4, 7)), rc(("connection problem, info: \"Connection refused\"", "timeout", "wrong status, code: 503, info: \"Service Unavailable\"")),
                   ri(0, 2000), ri(0, 3), ri(0, 90)))
    if x < 0.6:
        return ("haproxy", dpid(HOST, "haproxy"), 0, "backend %s has no server available!" % b)
    if x < 0.75:
        return ("haproxy", dpid(HOST, "haproxy"), 5, "Server %s/srv%d is UP, reason: Layer7 check passed, code: 200, check duration: %dms. %d active "
                "and 0 backup servers online. 0 sessions requeued, 0 total in queue." % (b, ri(1, 4), ri(1, 90), ri(1, 4)))
    if x < 0.85:
        return ("fail2ban.actions", dpid(HOST, "f2b"), 5, "NOTICE  [%s] Ban %s" % (rc(("sshd", "postfix-sasl", "nginx-http-auth")), ip_ext()))
    if x < 0.93:
        return ("rsyslogd", dpid(HOST, "rsyslogd"), 4, "action 'action-%d-builtin:omfwd' suspended (module 'builtin:omfwd'), retry 0. There should be "
                "messages before this one giving the reason for suspension. [v8.2302.0 try https://www.rsyslog.com/e/2007 ]" % ri(1, 9))
    return ("rsyslogd", dpid(HOST, "rsyslogd"), 4, "imjournal: %d messages lost due to rate-limiting (%d allowed within %d seconds)"
            % (ri(1, 99999), 20000, 600))


def a_misc():
    x = rr()
    if x < 0.25:
        return ("php-fpm", dpid(HOST, "php-fpm"), 4, "[pool www] server reached pm.max_children setting (%d), consider raising it"
                % rc((5, 20, 50)))
    if x < 0.4:
        return ("php-fpm", dpid(HOST, "php-fpm"), 4, "[pool www] child %d exited on signal 11 (SIGSEGV) after %d.%06d seconds from start"
                % (ri(1000, 4000000), ri(0, 90000), ri(0, 999999)))
    if x < 0.55:
        return ("zed", ri(1000, 4000000), 3, "eid=%d class=%s pool='%s' vdev=%s size=%d offset=%d priority=0 err=%d flags=0x%x"
                % (ri(1, 99999), rc(("checksum", "io", "data")), rc(("tank", "rpool")), rc(PARTS), rc((4096, 8192, 131072)),
                   ri(10 ** 6, 10 ** 12), rc((0, 5, 52)), ri(0x80, 0x1000)))
    if x < 0.7:
        return ("dmeventd", dpid(HOST, "dmeventd"), 4, "WARNING: Thin pool vg0-%s-tpool data is now %d.%02d%% full."
                % (rc(("pool0", "docker")), ri(80, 100), ri(0, 99)))
    if x < 0.85:
        return ("certbot", ri(1000, 4000000), 3, "Failed to renew certificate %s with error: %s"
                % (rc(("www.example.com", "api.example.com", "mail.example.net")),
                   rc(("Some challenges have failed.", "urn:ietf:params:acme:error:rateLimited"))))
    return ("kernel", None, 4, "%sTCP: %s: Possible SYN flooding on port %d. Dropping request.  Check SNMP counters."
            % (ktime(), rc(("request_sock_TCP", "request_sock_TCPv6")), rc((22, 25))))


ALERTS = [
    (4, a_misc),
    (8, a_oom), (8, a_crash), (3, a_kernel_bug), (8, a_fs), (10, a_block), (5, a_hw), (9, a_diskfull),
    (16, a_ssh), (7, a_priv), (14, a_systemd), (3, a_cron), (6, a_mail), (7, a_nginx), (4, a_net),
    (8, a_container), (6, a_dns_time), (6, a_audit), (7, a_db), (4, a_lb),
]

# ------------------------------------------------------------ time stamps

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
EPOCH = 0
TS_3164 = TS_3339 = TS_CLF = TS_HAP = TS_ISO_NS = TS_ISO_US = TS_KLOG = TS_NGX = TS_REDIS = ""


def set_time(t):
    """Refresh every timestamp rendering when the second changes."""
    global EPOCH, TS_3164, TS_3339, TS_CLF, TS_HAP, TS_ISO_NS, TS_ISO_US, TS_KLOG, TS_NGX, TS_REDIS
    EPOCH = t
    g = time.gmtime(t)
    mon = MONTHS[g.tm_mon - 1]
    TS_3164 = "%s %2d %02d:%02d:%02d" % (mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)
    TS_3339 = "%04d-%02d-%02dT%02d:%02d:%02d+00:00" % g[:6]
    TS_CLF = "%02d/%s/%04d:%02d:%02d:%02d +0000" % (g.tm_mday, mon, g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)
    TS_HAP = "%02d/%s/%04d:%02d:%02d:%02d.%03d" % (g.tm_mday, mon, g.tm_year, g.tm_hour, g.tm_min, g.tm_sec, ri(0, 999))
    TS_ISO_NS = "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ" % (g[:6] + (ri(0, 999999999),))
    TS_ISO_US = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (g[:6] + (ri(0, 999999),))
    TS_KLOG = "%02d%02d %02d:%02d:%02d.%06d   " % (g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec, ri(0, 999999))
    TS_NGX = "%04d/%02d/%02d %02d:%02d:%02d" % g[:6]
    TS_REDIS = "%02d %s %04d %02d:%02d:%02d.%03d" % (g.tm_mday, mon, g.tm_year, g.tm_hour, g.tm_min, g.tm_sec, ri(0, 999))


def jesc(s):
    """JSON string body as rsyslog writes it: it escapes '/' too."""
    if "\\" in s or '"' in s:
        s = s.replace("\\", "\\\\").replace('"', '\\"')
    return s.replace("/", "\\/")


JSON_FMT = ('{ "msg": " %s", "rawmsg": "%s", "timereported": "%s", "hostname": "%s", "syslogtag": "%s", '
            '"inputname": "imtcp", "fromhost": "%s", "fromhost-ip": "%s", "pri": "%d", "syslogfacility": "%d", '
            '"syslogseverity": "%d", "timegenerated": "%s", "programname": "%s", "protocol-version": "0", '
            '"structured-data": "-", "app-name": "%s", "procid": "%s", "msgid": "-", "uuid": null, "$!": null }\n')


def generate(n, seed, alert_rate, plain_out, json_out, stats=None, start=None):
    """Write n lines to the open text files plain_out / json_out (either may be None)."""
    global HOST
    R.seed(seed)
    _pids.clear()
    t = float(start if start is not None else calendar.timegm((2026, 11, 27, 0, 0, 0)))
    # the whole fleet logs about 500 lines/s: a million lines is ~33 minutes
    step = 2.0 / 500
    set_time(int(t))
    rfuncs = [f for _, f in ROUTINE]
    rweights = [w for w, _ in ROUTINE]
    afuncs = [f for _, f in ALERTS]
    aweights = [w for w, _ in ALERTS]
    hosts = HOSTS
    # busier hosts log more: web and k8s nodes dominate
    hweights = [5 if h.startswith(("web", "k8s-node", "lb")) else 2 if h.startswith(("api", "db", "mail")) else 1
                for h in hosts]
    done = 0
    chunk = 20000
    while done < n:
        k = min(chunk, n - done)
        hs = R.choices(hosts, weights=hweights, k=k)
        is_alert = [rr() < alert_rate for _ in range(k)]
        nal = sum(is_alert)
        rf = iter(R.choices(rfuncs, weights=rweights, k=k - nal))
        af = iter(R.choices(afuncs, weights=aweights, k=nal))
        pbuf, jbuf = [], []
        for i in range(k):
            t += rr() * step
            it = int(t)
            if it != EPOCH:
                set_time(it)
            HOST = h = hs[i]
            f = next(af) if is_alert[i] else next(rf)
            prog, pid, sev, msg = f()
            if stats is not None:
                stats[f.__name__] = stats.get(f.__name__, 0) + 1
            pri = FAC.get(prog, 3) * 8 + sev
            tag = "%s[%d]:" % (prog, pid) if pid is not None else prog + ":"
            raw = "<%d>%s %s %s %s" % (pri, TS_3164, h, tag, msg)
            if plain_out is not None:
                pbuf.append(raw)
            if json_out is not None:
                # rsyslog's programname (and app-name) stop at a '/':
                # "postfix/smtpd[1234]:" gives "postfix" (parser.permitSlashInProgramName="off")
                pname = prog.split("/", 1)[0]
                jbuf.append(JSON_FMT % (jesc(msg), jesc(raw), TS_3339, h, jesc(tag), h, HOST_IP[h], pri, pri >> 3,
                                        pri & 7, TS_3339, pname, pname, pid if pid is not None else "-"))
        if plain_out is not None:
            plain_out.write("\n".join(pbuf))
            plain_out.write("\n")
        if json_out is not None:
            json_out.write("".join(jbuf))
        done += k


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("-n", "--lines", type=int, default=1000000, help="lines to write (default 1000000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--alert-rate", type=float, default=0.006,
                    help="share of alert-worthy lines (default 0.006); routine lines add a few matches too")
    ap.add_argument("--plain", metavar="FILE", help="write the RFC 3164 flavour here")
    ap.add_argument("--json", metavar="FILE", help="write the rsyslog %%jsonmesg%% flavour here")
    ap.add_argument("--stats", action="store_true", help="print lines per generator to stderr")
    args = ap.parse_args()
    if args.lines < 0 or not 0 <= args.alert_rate <= 1:
        ap.error("bad --lines or --alert-rate")
    po = open(args.plain, "w", encoding="ascii", newline="\n", buffering=1 << 20) if args.plain else None
    jo = open(args.json, "w", encoding="ascii", newline="\n", buffering=1 << 20) if args.json else None
    if po is None and jo is None:
        po = sys.stdout
    stats = {} if args.stats else None
    t0 = time.monotonic()
    generate(args.lines, args.seed, args.alert_rate, po, jo, stats)
    for f in (po, jo):
        if f is not None and f is not sys.stdout:
            f.close()
    if stats is not None:
        for k, v in sorted(stats.items(), key=lambda kv: -kv[1]):
            print("%-16s %9d" % (k, v), file=sys.stderr)
        print("%d lines in %.1fs" % (args.lines, time.monotonic() - t0), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
