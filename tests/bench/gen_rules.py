#!/usr/bin/env python3
r"""Generate ~300 alert rules for the matching benchmark (issue 5), for
omkapture and, equivalently, for SEC.

    python3 tests/bench/gen_rules.py --omkapture bench.rules --sec bench.sec
        [--check] [--sec-action none|write:FILE] [--program-filters few|all|none] [--list]

The rules are written the way people write alert rules for a fleet: one
family per daemon or error class, several variants each (OOM kill in a
cgroup vs global, EXT4 vs XFS vs Btrfs, per-service systemd rules that
route failures to the owning team...), named captures used in title,
details and key, some (?i), alternations, anchors, \d+ captures, lookaheads,
`program =` on a few rules (--program-filters), `ignore =`, thresholds,
and a few `continue = yes` rules that note a line and let the specific
rules see it too. Specific
rules come before generic ones (first match wins). The vocabulary (units,
programs) is gen_corpus.py's, so most rules fire on that corpus.

omkapture rules match the message (the default `match_on = message`): the
text after "tag:" for a plain line, rsyslog's `msg` for JSON, so one rule
file serves both corpus flavours. SEC matches the whole input line, so each
SEC pattern is the omkapture regex behind a prefix that consumes the RFC
3164 header the way omkapture's decoder does:

    ^<PRI>Mmm dd hh:mm:ss host TAG:[ \t]*  then   (?:RE)       RE anchored with ^
                                                 .*?(?:RE)    otherwise

where TAG is `prog(?:\[pid\])?` restricted to the rule's `program =` list
when it has one, else any tag. A rule's `ignore = IG` becomes a negative
lookahead `(?!.*?(?:IG))` at the message start; `continue = yes` becomes
`continue=TakeNext`. Each SEC rule is `type=Single`, `ptype=RegExp`,
`desc=<rule name>`, and `action=none` (timing) or `action=write FILE %s $0`
(the per-line check: one "rule line" per match). So on the plain flavour
both tools match the same lines with the same rules; matching.py checks it.

--check writes the variant the per-line check uses with --dry-run: every
rule's details is `${raw}`, no threshold, `suppress = 0`, so each match is
one ticket that names its line. Matching is unchanged.
"""

import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_corpus import SERVICES  # noqa: E402

# Optional printk time some kernel lines carry: "[ 1234.567890] ".
KT = r"(?:\[\s*\d+\.\d+\] )?"
IP = r"[\d.]+"
# Headers seen by SEC (plain flavour): "<PRI>Mmm dd hh:mm:ss host ".
SEC_HDR = r"^<\d{1,3}>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ "
SEC_TAG_TAIL = r"(?:\[[^\]\s]*\])?:(?=[ \t]|$)[ \t]*"
SEC_TAG_ANY = r"[^\s:\[]+" + SEC_TAG_TAIL

RULES = []

TEAM = {"nginx": "Web", "haproxy": "Web", "php8.2-fpm": "Web", "apache2": "Web",
        "postgresql@15-main": "DBA", "mysql": "DBA", "redis-server": "DBA", "mongod": "DBA",
        "memcached": "DBA", "elasticsearch": "Search", "docker": "Platform",
        "containerd": "Platform", "kubelet": "Platform", "etcd": "Platform",
        "rabbitmq-server": "Messaging", "kafka": "Messaging", "zookeeper": "Messaging",
        "grafana-server": "Observability", "prometheus": "Observability",
        "node_exporter": "Observability", "rsyslog": "Observability"}


def rule(name, match, title, *, program=None, ignore=None, cont=False, details=None,
         key=None, email=None, due=None, threshold=None, suppress=None, queue=None,
         late=False, **fields):
    if details:
        details = details.replace("\n", "\\n")  # the template escape, not a line break
    RULES.append(dict(name=name, match=match, title=title, program=program, ignore=ignore,
                      cont=cont, details=details, key=key, email=email, due=due,
                      threshold=threshold, suppress=suppress, queue=queue, late=late,
                      fields=fields))


def lit(s):
    return re.escape(s)


# ---------------------------------------------------------------- kernel: memory
rule("oom-any", r"(?i)\bout of memory\b", "Out of memory on ${host}", program="kernel",
     cont=True, key="${host}", details="${line}", suppress="1h")
rule("oom-kill-memcg", r"Memory cgroup out of memory: Killed process (?<pid>\d+) \((?<comm>[^)]+)\)",
     "OOM in a memory cgroup on ${host}: ${comm} killed", program="kernel", key="${host}/${comm}",
     due="+4h", queue="Infra")
rule("oom-kill", r"Out of memory: Killed process (?<pid>\d+) \((?<comm>[^)]+)\) total-vm:(?<vm>\d+)kB, anon-rss:(?<rss>\d+)kB",
     "OOM killer on ${host} killed ${comm} (rss ${rss} kB)", program="kernel", key="${host}/${comm}",
     due="+4h", queue="Infra")
rule("oom-killer-invoked", "^" + KT + r"(?<comm>\S+) invoked oom-killer: gfp_mask=(?<gfp>0x[0-9a-f]+)",
     "${comm} invoked the OOM killer on ${host}", program="kernel", key="${host}", suppress="30m")
rule("oom-kill-summary", r"oom-kill:constraint=(?<constraint>\w+),.*,task=(?<task>[^,]+),pid=(?<pid>\d+),uid=(?<uid>\d+)",
     "OOM kill of ${task} on ${host} (${constraint})", program="kernel", key="${host}/${task}")
rule("oomd-kill", r"^Killed (?<unit>\S+) due to memory pressure for (?<slice>\S+) being (?<pct>[\d.]+)%",
     "systemd-oomd killed ${unit} on ${host}", program="systemd-oomd")
rule("page-alloc-failure", r"(?<comm>\S+): page allocation failure: order:(?<order>\d+), mode:(?<mode>0x[0-9a-f]+)",
     "Page allocation failure (order ${order}) on ${host}", program="kernel", key="${host}",
     threshold="3 in 10m")
rule("tcp-out-of-memory", r"TCP: out of memory -- consider tuning tcp_mem", "TCP out of memory on ${host}",
     program="kernel", key="${host}")
rule("kubelet-system-oom", r'"System OOM encountered, victim process: (?<comm>[^,]+), pid: (?<pid>\d+)"',
     "Kubelet saw a system OOM on ${host}: ${comm}", program="kubelet", queue="Platform")

# ---------------------------------------------------------------- crashes
rule("segfault", r"(?<comm>[^\s\[]+)\[(?<pid>\d+)\]: segfault at (?<addr>[0-9a-f]+) ip [0-9a-f]+ sp [0-9a-f]+ error (?<err>\d+) in (?<lib>[^\[\s]+)",
     "${comm} crashed (segfault in ${lib}) on ${host}", program="kernel", key="${host}/${comm}",
     details="${line}\nPID ${pid}, fault address ${addr}, error ${err}")
rule("gp-fault", r"traps: (?<comm>\S+)\[(?<pid>\d+)\] general protection fault ip:\S+ sp:\S+ error:\d+ in (?<lib>[^\[\s]+)",
     "${comm} crashed (general protection fault) on ${host}", program="kernel", key="${host}/${comm}")
rule("trap-invalid-opcode", r"traps: (?<comm>\S+)\[(?<pid>\d+)\] trap invalid opcode",
     "${comm} crashed (invalid opcode) on ${host}", program="kernel", key="${host}/${comm}")
rule("trap-divide-error", r"traps: (?<comm>\S+)\[(?<pid>\d+)\] trap divide error",
     "${comm} crashed (divide error) on ${host}", program="kernel", key="${host}/${comm}")
rule("coredump", r"^Process (?<pid>\d+) \((?<comm>[^)]+)\) of user (?<uid>\d+) dumped core",
     "${comm} dumped core on ${host}", program="systemd-coredump", key="${host}/${comm}")
rule("audit-anom-abend", r'^type=ANOM_ABEND msg=audit\([\d.:]+\): .*comm="(?<comm>[^"]*)" exe="(?<exe>[^"]*)" sig=(?<sig>\d+)',
     "${exe} aborted with signal ${sig} on ${host}", program="audit", key="${host}/${exe}")
rule("php-fpm-child-signal", r"\[pool (?<pool>[^\]]+)\] child (?<pid>\d+) exited on signal (?<sig>\d+) \((?<signame>SIG\w+)\)",
     "php-fpm pool ${pool} child died (${signame}) on ${host}", program="php-fpm", queue="Web")

# ---------------------------------------------------------------- kernel bugs
rule("soft-lockup", r"BUG: soft lockup - CPU#(?<cpu>\d+) stuck for (?<secs>\d+)s! \[(?<task>[^\]]+)\]",
     "Soft lockup on ${host} CPU ${cpu} (${task})", program="kernel", key="${host}", due="+1h")
rule("hung-task", r"INFO: task (?<task>\S+):(?<pid>\d+) blocked for more than (?<secs>\d+) seconds",
     "Hung task ${task} on ${host}", program="kernel", key="${host}/${task}", suppress="1h")
rule("kernel-panic", r"Kernel panic - not syncing: (?<why>.*)", "Kernel panic on ${host}: ${why}",
     program="kernel", due="+1h", key="${host}")
rule("rcu-stall", r"rcu: INFO: rcu_(?:sched|preempt) (?:self-)?detected stalls? on CPUs?",
     "RCU stall on ${host}", program="kernel", key="${host}")
rule("kernel-page-fault", r"BUG: unable to handle (?:page fault|kernel NULL pointer dereference) for address: (?<addr>[0-9a-f]+)",
     "Kernel oops on ${host}", program="kernel", key="${host}")
rule("kernel-warning", "^" + KT + r"WARNING: CPU: (?<cpu>\d+) PID: (?<pid>\d+) at (?<where>\S+)",
     "Kernel warning at ${where} on ${host}", program="kernel", key="${host}/${where}")

# ---------------------------------------------------------------- filesystems
rule("ext4-error", r"EXT4-fs error \(device (?<dev>[^)]+)\): (?<func>\w+):(?<ln>\d+): (?<what>.*)",
     "EXT4 error on ${host}:${dev} in ${func}", program="kernel", key="${host}/${dev}",
     details="${what}\nSeverity: ${severity}\nRaw: ${raw}", due="+4h", queue="Infra")
rule("ext4-remount-ro", r"EXT4-fs \((?<dev>[^)]+)\): Remounting filesystem read-only",
     "${host}:${dev} remounted read-only", program="kernel", key="${host}/${dev}", due="+1h", queue="Infra")
rule("ext4-htree-full", r"EXT4-fs warning \(device (?<dev>[^)]+)\): ext4_dx_add_entry:\d+: Directory \(ino: (?<ino>\d+)\) index full",
     "Directory index full on ${host}:${dev} (inode ${ino})", program="kernel", key="${host}/${dev}")
rule("ext4-io-warning", r"EXT4-fs warning \(device (?<dev>[^)]+)\): ext4_end_bio:\d+: I/O error (?<err>\d+) writing to inode (?<ino>\d+)",
     "EXT4 write error on ${host}:${dev}", program="kernel", key="${host}/${dev}")
rule("journal-abort", r"Aborting journal on device (?<dev>\S+)\.", "Journal aborted on ${host}:${dev}",
     program="kernel", key="${host}/${dev}", due="+1h")
rule("jbd2-error", r"JBD2: Error (?<err>-?\d+) detected when updating journal superblock for (?<dev>\S+)\.",
     "JBD2 error ${err} on ${host}:${dev}", program="kernel", key="${host}/${dev}")
rule("xfs-corruption", r"XFS \((?<dev>[^)]+)\): Corruption detected", "XFS corruption on ${host}:${dev}",
     program="kernel", key="${host}/${dev}", due="+1h")
rule("xfs-shutdown", r"XFS \((?<dev>[^)]+)\): (?:Filesystem has been shut down|log I/O error)",
     "XFS shut down on ${host}:${dev}", program="kernel", key="${host}/${dev}", due="+1h")
rule("xfs-metadata-io", r'XFS \((?<dev>[^)]+)\): metadata I/O error in "(?<fn>[^"]+)" at daddr (?<daddr>0x[0-9a-f]+) len \d+ error (?<err>\d+)',
     "XFS metadata I/O error on ${host}:${dev}", program="kernel", key="${host}/${dev}")
rule("btrfs-dev-errors", r"BTRFS error \(device (?<dev>[^)]+)\): bdev (?<bdev>\S+) errs: wr (?<wr>\d+), rd (?<rd>\d+), flush \d+, corrupt (?<corrupt>\d+)",
     "Btrfs device errors on ${host}:${bdev}", program="kernel", key="${host}/${bdev}",
     details="write errors ${wr}, read errors ${rd}, corrupt ${corrupt}\n${line}")
rule("btrfs-csum", r"BTRFS warning \(device (?<dev>[^)]+)\): csum failed root (?<root>\d+) ino (?<ino>\d+)",
     "Btrfs checksum failure on ${host}:${dev}", program="kernel", key="${host}/${dev}", threshold="3 in 1h")
rule("nfs-not-responding", r"nfs: server (?<server>\S+) not responding, (?:still trying|timed out)",
     "NFS server ${server} not responding (seen from ${host})", program="kernel", key="${server}")
rule("zfs-event", r"^eid=(?<eid>\d+) class=(?<class>checksum|io|data) pool='(?<pool>[^']+)' vdev=(?<vdev>\S+)",
     "ZFS ${class} error on ${host} pool ${pool} (${vdev})", program="zed", key="${host}/${pool}/${vdev}")
rule("lvm-thin-full", r"^WARNING: Thin pool (?<pool>\S+) data is now (?<pct>(?:9\d|100)\.\d+)% full",
     "Thin pool ${pool} at ${pct}% on ${host}", program="dmeventd", key="${host}/${pool}")

# ---------------------------------------------------------------- block devices
rule("kernel-io-any", r"(?i)\bi/o error\b", "I/O error on ${host}", program="kernel", cont=True,
     key="${host}", suppress="1h")
rule("blk-io-error", r"(?:blk_update_request: I/O error|critical medium error), dev (?<dev>\w+), sector (?<sector>\d+)",
     "Disk I/O error on ${host}:${dev}", program="kernel", key="${host}/${dev}",
     details="Sector ${sector}: ${line}", due="+4h", queue="Infra")
rule("io-error-dev", "^" + KT + r"I/O error, dev (?<dev>\w+), sector (?<sector>\d+) op 0x\d+:\((?<op>\w+)\)",
     "Disk ${op} error on ${host}:${dev}", program="kernel", key="${host}/${dev}", queue="Infra")
rule("buffer-io-error", r"Buffer I/O error on dev (?<dev>\w+), logical block (?<block>\d+)",
     "Buffer I/O error on ${host}:${dev}", program="kernel", key="${host}/${dev}")
rule("ata-failed-command", r"ata(?<port>\d+)\.\d+: failed command: (?<cmd>.+)",
     "ATA command failed on ${host} ata${port}: ${cmd}", program="kernel", key="${host}/ata${port}")
rule("ata-exception", r"ata(?<port>\d+)\.\d+: exception Emask (?<emask>0x[0-9a-f]+) SAct 0x[0-9a-f]+ SErr 0x[0-9a-f]+ action (?<action>0x[0-9a-f]+)",
     "ATA exception on ${host} ata${port}", program="kernel", key="${host}/ata${port}", threshold="2 in 10m")
rule("ata-hard-reset", r"ata(?<port>\d+): hard resetting link", "ATA link reset on ${host} ata${port}",
     program="kernel", key="${host}/ata${port}", threshold="3 in 1h")
rule("scsi-failed", r"sd (?<hctl>[\d:]+): \[(?<dev>\w+)\] tag#\d+ FAILED Result: hostbyte=(?<hostbyte>\w+) driverbyte=(?<drv>\w+)",
     "SCSI command failed on ${host}:${dev} (${hostbyte})", program="kernel", key="${host}/${dev}")
rule("scsi-medium-error", r"\[(?<dev>\w+)\] tag#\d+ Sense Key : Medium Error",
     "Medium error on ${host}:${dev}", program="kernel", key="${host}/${dev}", due="+4h")
rule("nvme-timeout", r"nvme (?<ctrl>nvme\d+): I/O (?<cid>\d+) QID (?<qid>\d+) timeout, (?<action>.+)",
     "NVMe timeout on ${host}:${ctrl} (${action})", program="kernel", key="${host}/${ctrl}")
rule("nvme-controller-down", r"nvme (?<ctrl>nvme\d+): controller is down; will reset",
     "NVMe controller down on ${host}:${ctrl}", program="kernel", key="${host}/${ctrl}", due="+1h")
rule("md-disk-failure", r"md/raid(?<level>\d+):(?<md>md\d+): Disk failure on (?<dev>\w+), disabling device",
     "RAID${level} ${md} lost ${dev} on ${host}", program="kernel", key="${host}/${md}", due="+4h")
rule("mdadm-degraded", r"^DegradedArray event detected on md device (?<md>/dev/md\d+)",
     "RAID array ${md} degraded on ${host}", program="mdadm", key="${host}/${md}", due="+4h")
rule("smart-pending", r"^Device: (?<dev>/dev/\w+) \[\w+\], (?<n>\d+) Currently unreadable \(pending\) sectors",
     "${n} pending sectors on ${host}:${dev}", program="smartd", key="${host}/${dev}", suppress="1d")
rule("smart-failure", r"^Device: (?<dev>/dev/\w+) \[\w+\], SMART Failure: (?<what>.+)",
     "SMART failure on ${host}:${dev}: ${what}", program="smartd", key="${host}/${dev}", due="+4h")
rule("multipath-path-failed", r"checker failed path (?<path>\d+:\d+) in map (?<map>\S+)",
     "Multipath ${map} lost path ${path} on ${host}", program="multipathd", key="${host}/${map}")

# ---------------------------------------------------------------- hardware
rule("mce", r"mce: \[Hardware Error\]: (?<what>.+)", "Machine check on ${host}: ${what}", program="kernel",
     key="${host}", due="+4h")
rule("edac-ue", r"EDAC (?<mc>MC\d+): (?<n>\d+) UE (?<what>.+?) on (?<dimm>\S+)",
     "Uncorrectable memory error on ${host} ${dimm}", program="kernel", key="${host}/${dimm}", due="+1h")
rule("edac-ce", r"EDAC (?<mc>MC\d+): (?<n>\d+) CE memory read error on (?<dimm>\S+)",
     "Correctable memory errors on ${host} ${dimm}", program="kernel", key="${host}/${dimm}",
     threshold="10 in 1h", suppress="1d")
rule("cpu-throttle", r"CPU(?<cpu>\d+): (?:Core|Package) temperature above threshold, cpu clock throttled",
     "CPU throttling on ${host}", program="kernel", key="${host}", threshold="5 in 10m")
rule("thermal-critical", r"thermal (?<zone>thermal_zone\d+): critical temperature reached \((?<temp>\d+) C\)",
     "Critical temperature ${temp} C on ${host}", program="kernel", key="${host}", due="+1h")
rule("nic-link-down", r"(?<drv>\w+) (?<pci>[0-9a-f:.]+) (?<nic>\w+): NIC Link is Down",
     "Link down on ${host}:${nic}", program="kernel", key="${host}/${nic}")
rule("nic-hw-hang", r"(?<pci>[0-9a-f:.]+) (?<nic>\w+): Detected Hardware Unit Hang",
     "NIC hang on ${host}:${nic}", program="kernel", key="${host}/${nic}")
rule("netdev-watchdog", r"NETDEV WATCHDOG: (?<nic>\w+) \((?<drv>[^)]+)\): transmit queue (?<q>\d+) timed out",
     "Transmit timeout on ${host}:${nic}", program="kernel", key="${host}/${nic}")
rule("conntrack-full", r"nf_conntrack: (?:nf_conntrack: )?table full, dropping packet",
     "Conntrack table full on ${host}", program="kernel", key="${host}", suppress="1h")
rule("bond-slave-down", r"(?<bond>bond\d+): \(slave (?<nic>\w+)\): link status definitely down",
     "${bond} lost ${nic} on ${host}", program="kernel", key="${host}/${bond}")
rule("syn-flood-ssh-smtp", r"TCP: request_sock_TCP(?:v6)?: Possible SYN flooding on port (?<port>22|25)\. Dropping request",
     "SYN flood on port ${port} of ${host}", program="kernel", key="${host}/${port}")

# ---------------------------------------------------------------- disk full
rule("pg-wal-no-space", r'PANIC:  could not write to file "(?<file>[^"]+)": No space left on device',
     "PostgreSQL on ${host} cannot write WAL: disk full", program="postgres", key="${host}", due="+1h", queue="DBA")
rule("pg-no-space", r'ERROR:  could not extend file "(?<file>[^"]+)": No space left on device',
     "PostgreSQL on ${host} cannot extend ${file}: disk full", program="postgres", key="${host}", queue="DBA")
rule("mysql-disk-full", r"\[InnoDB\] Operating system error number 28 in a file operation",
     "MySQL on ${host}: disk full", program="mysqld", key="${host}", queue="DBA")
rule("docker-no-space", r"(?i)no space left on device", "Docker on ${host}: disk full",
     program="dockerd containerd", key="${host}", queue="Platform")
rule("rsyslog-write-error", r"file '(?<file>[^']+)': write error .* OS error: (?<err>[^\[]+)",
     "rsyslog cannot write ${file} on ${host}", program="rsyslogd", key="${host}/${file}")
rule("nginx-no-space", r'\[crit\] \d+#\d+: \*\d+ pwrite\(\) "(?<file>[^"]+)" failed \(28: No space left on device\)',
     "nginx on ${host}: disk full", program="nginx", key="${host}", queue="Web")
rule("auditd-no-space", r"^Audit daemon has no space left on logging partition",
     "auditd on ${host}: log partition full", program="auditd", key="${host}", due="+1h")
rule("postfix-queue-write", r"warning: (?<qid>[0-9A-F]+): write queue file: No space left on device",
     "Postfix queue full on ${host}", program="postfix/cleanup", key="${host}")
rule("postfix-low-space", r"warning: not enough free space in mail queue: (?<bytes>\d+) bytes",
     "Postfix queue almost full on ${host}", program="postfix/smtpd", key="${host}")
rule("kubelet-eviction", r'"Eviction manager: attempting to reclaim" resourceName="(?<res>[^"]+)"',
     "Kubelet evicting pods on ${host} (${res})", program="kubelet", key="${host}/${res}", queue="Platform")

# ---------------------------------------------------------------- ssh
rule("auth-failure-any", r"(?i)authentication failure", "Authentication failure on ${host}", cont=True,
     key="${host}/${program}", threshold="20 in 10m", suppress="1h")
rule("sshd-failed-invalid-user", r"^Failed password for invalid user (?<user>\S+) from (?<ip>" + IP + r") port (?<port>\d+)",
     "SSH brute force from ${ip} on ${host}", program="sshd", key="${host}/${ip}", threshold="5 in 10m",
     suppress="30m", email="secops@example.com", queue="Security",
     details="${count} failed logins from ${ip} since ${first_seen}.\nLast: ${line}")
rule("sshd-failed-root", r"^Failed password for root from (?<ip>" + IP + r") port \d+",
     "SSH password guessing for root from ${ip} on ${host}", program="sshd", key="${host}/${ip}",
     threshold="3 in 10m", email="secops@example.com", queue="Security")
rule("sshd-failed-password", r"^Failed (?:password|publickey|keyboard-interactive/pam) for (?<user>\S+) from (?<ip>" + IP + r") port \d+",
     "Failed SSH login for ${user} from ${ip} on ${host}", program="sshd", ignore=r"from 10\.",
     key="${host}/${user}/${ip}", email="secops@example.com", queue="Security")
rule("sshd-invalid-user", r"^Invalid user (?<user>\S*) from (?<ip>" + IP + r")",
     "Unknown user ${user} tried SSH from ${ip} on ${host}", program="sshd", key="${host}/${ip}",
     threshold="10 in 10m", queue="Security")
rule("sshd-max-auth", r"^error: maximum authentication attempts exceeded for (?:invalid user )?(?<user>\S+) from (?<ip>" + IP + r")",
     "SSH max auth attempts for ${user} from ${ip} on ${host}", program="sshd", key="${host}/${ip}", queue="Security")
rule("sshd-root-password-login", r"^Accepted (?:password|keyboard-interactive/pam) for root from (?<ip>" + IP + r")",
     "Root logged in with a password over SSH on ${host} from ${ip}", program="sshd", due="+1h",
     email="secops@example.com", queue="Security")
rule("sshd-root-login-external", r"^Accepted publickey for root from (?<ip>" + IP + r")",
     "Root SSH login from outside on ${host} from ${ip}", program="sshd", ignore=r"from 10\.", due="+1h",
     queue="Security")
rule("sshd-pam-auth-failure", r"^pam_unix\(sshd:auth\): authentication failure;.* rhost=(?<rhost>\S+)\s+user=(?<user>\S+)",
     "PAM auth failure for ${user} from ${rhost} on ${host}", program="sshd", key="${host}/${rhost}",
     threshold="5 in 10m", queue="Security")
rule("sshd-preauth-timeout", r"^fatal: Timeout before authentication for (?<ip>" + IP + r")",
     "SSH pre-auth timeouts from ${ip} on ${host}", program="sshd", key="${host}/${ip}", threshold="5 in 10m")
rule("sshd-bad-protocol", r"^error: Bad protocol version identification '(?<what>[^']*)' from (?<ip>" + IP + r")",
     "Non-SSH traffic to sshd on ${host} from ${ip}", program="sshd", key="${host}/${ip}", suppress="1d")
rule("sshd-faillock", r"pam_faillock\(sshd:auth\): Consecutive login failures for user (?<user>\S+) account temporarily locked",
     "Account ${user} locked on ${host}", program="sshd", key="${host}/${user}", queue="Security")
rule("sshd-hostkey", r"^error: Could not load host key: (?<keyfile>\S+)", "sshd cannot load ${keyfile} on ${host}",
     program="sshd", key="${host}/${keyfile}")
rule("sshd-no-hostkeys", r"^fatal: no hostkeys available", "sshd cannot start on ${host}: no host keys",
     program="sshd", due="+1h")

# ---------------------------------------------------------------- privilege
rule("sudo-wrong-password", r"^\s*(?<user>\S+) : (?<n>\d+) incorrect password attempts? ; TTY=(?<tty>\S+) ; PWD=\S+ ; USER=(?<target>\S+) ; COMMAND=(?<cmd>.*)$",
     "sudo: ${n} wrong password(s) by ${user} on ${host}", program="sudo", key="${host}/${user}", queue="Security")
rule("sudo-not-in-sudoers", r"^\s*(?<user>\S+) : user NOT in sudoers ; TTY=(?<tty>\S+)",
     "${user} is not in sudoers on ${host}", program="sudo", key="${host}/${user}", queue="Security",
     email="secops@example.com")
rule("sudo-auth-failure", r"^pam_unix\(sudo:auth\): authentication failure; logname=(?<user>\S*)",
     "sudo authentication failure by ${user} on ${host}", program="sudo", key="${host}/${user}", threshold="3 in 10m")
rule("sudo-root-shell", r"^\s*(?<user>\S+) : TTY=\S+ ; PWD=\S+ ; USER=root ; COMMAND=(?<cmd>/(?:usr/)?bin/(?:ba|z)?sh\b.*|/usr/bin/su\b.*)$",
     "${user} opened a root shell on ${host}", program="sudo", key="${host}/${user}", suppress="8h", queue="Security")
rule("su-failed", r"^FAILED SU \(to (?<target>\S+)\) (?<user>\S+) on (?<tty>\S+)",
     "Failed su to ${target} by ${user} on ${host}", program="su", key="${host}/${user}", queue="Security")
rule("su-auth-failure", r"^pam_unix\(su(?:-l)?:auth\): authentication failure;.*ruser=(?<user>\S*)",
     "su authentication failure by ${user} on ${host}", program="su", key="${host}/${user}")
rule("useradd", r"^new user: name=(?<user>[^,]+), UID=(?<uid>\d+)", "New user ${user} (uid ${uid}) on ${host}",
     program="useradd", queue="Security")
rule("usermod-priv-group", r"^add '(?<user>[^']+)' to group '(?<group>sudo|wheel|adm|docker)'",
     "${user} added to ${group} on ${host}", program="usermod", queue="Security")
rule("passwd-changed", r"password changed for (?<user>\S+)", "Password changed for ${user} on ${host}",
     program="passwd", queue="Security")
rule("audit-user-auth-failed", r'^type=USER_AUTH msg=audit\([\d.:]+\): .*acct="(?<acct>[^"]*)" exe="(?<exe>[^"]*)" hostname=(?<rhost>\S+) addr=(?<addr>\S+) terminal=\S+ res=failed',
     "Audit: failed auth for ${acct} from ${addr} on ${host}", program="audit", key="${host}/${addr}",
     threshold="5 in 10m")

# ---------------------------------------------------------------- systemd, per service (team routing)
for svc in SERVICES:
    short = svc.split("@")[0].replace(".", "-")
    team = TEAM.get(svc, "Infra")
    e = lit(svc)
    rule("svc-%s-failed" % short, r"^" + e + r"\.service: Failed with result '(?<result>[^']+)'",
         "%s failed on ${host} (${result})" % svc, program="systemd", key="${host}", queue=team,
         due="+2h")
    rule("svc-%s-crashed" % short, r"^" + e + r"\.service: Main process exited, code=(?<code>killed|dumped), status=(?<status>\d+)/(?<sig>\w+)",
         "%s crashed on ${host} (${sig})" % svc, program="systemd", key="${host}", queue=team)
    rule("svc-%s-restart-loop" % short, r"^" + e + r"\.service: Start request repeated too quickly",
         "%s keeps failing to start on ${host}" % svc, program="systemd", key="${host}", queue=team,
         due="+1h")

# ---------------------------------------------------------------- systemd, generic
rule("unit-main-exited", r"^(?<unit>\S+)\.service: Main process exited, code=exited, status=(?<status>[1-9]\d*)/(?<st>\w+)",
     "${unit} exited with status ${status} on ${host}", program="systemd", key="${host}/${unit}")
rule("unit-failed-to-start", r"^Failed to start (?<unit>\S+)(?: - (?<desc>.*?))?\.?$",
     "${unit} failed to start on ${host}", program="systemd", key="${host}/${unit}")
rule("unit-dependency-failed", r"^Dependency failed for (?<unit>\S+)", "Dependency failed for ${unit} on ${host}",
     program="systemd", key="${host}/${unit}")
rule("unit-watchdog", r"^(?<unit>\S+): Watchdog timeout \(limit (?<limit>[^)]+)\)!",
     "Watchdog killed ${unit} on ${host}", program="systemd", key="${host}/${unit}")
rule("unit-stop-timeout", r"^(?<unit>\S+): State '(?<state>[^']+)' timed out\. Killing\.",
     "${unit} did not stop in time on ${host}", program="systemd", key="${host}/${unit}")
rule("journal-corrupted", r"^File (?<file>\S+) corrupted or uncleanly shut down",
     "Journal file corrupted on ${host}", program="systemd-journald", key="${host}")
rule("unit-failed", r"^(?<unit>\S+): Failed with result '(?<result>[^']+)'", "${unit} failed on ${host} (${result})",
     program="systemd", key="${host}/${unit}", late=True)
rule("unit-restart-loop", r"^(?<unit>\S+): Start request repeated too quickly", "${unit} keeps failing on ${host}",
     program="systemd", key="${host}/${unit}", late=True)

# ---------------------------------------------------------------- cron
rule("cron-grandchild-failed", r"^\(CRON\) error \(grandchild #(?<pid>\d+) failed with exit status (?<status>\d+)\)",
     "A cron job failed on ${host} (exit ${status})", program="CRON cron crond", key="${host}", threshold="3 in 1h")
rule("cron-mail-failed", r"^\((?<user>[^)]+)\) MAIL \(mailed \d+ bytes of output but got status (?<status>0x[0-9a-f]+) from MTA",
     "cron cannot mail output on ${host}", program="CRON cron crond", key="${host}", suppress="1d")
rule("cron-cant-fork", r"^\(CRON\) error \(can't fork\)", "cron cannot fork on ${host}", program="CRON cron crond",
     key="${host}", due="+1h")

# ---------------------------------------------------------------- mail
rule("postfix-sasl-failed", r"^warning: (?<client>\S+)\[(?<ip>" + IP + r")\]: SASL (?<mech>\w+) authentication failed",
     "SMTP AUTH brute force from ${ip} on ${host}", program="postfix/smtpd postfix/submission/smtpd",
     key="${host}/${ip}", threshold="5 in 10m", queue="Security")
rule("postfix-not-running", r"^fatal: the Postfix mail system is not running", "Postfix is not running on ${host}",
     program="postfix/postfix-script", due="+1h", queue="Mail")
rule("postfix-fatal", r"^fatal: (?<what>.+)", "Postfix fatal error on ${host}: ${what}",
     program="postfix/smtpd postfix/master postfix/qmgr postfix/smtp postfix/cleanup postfix/postfix-script",
     key="${host}/${program}", queue="Mail")
rule("postfix-panic", r"^panic: (?<what>.+)", "Postfix panic on ${host}: ${what}", program="postfix/master",
     due="+1h", queue="Mail")
rule("postfix-loops", r"status=bounced \(mail for (?<dom>\S+) loops back to myself\)",
     "Mail loop for ${dom} on ${host}", program="postfix/smtp postfix/local", key="${host}/${dom}", queue="Mail")
rule("postfix-bounced", r"^(?<qid>[0-9A-F]+): to=<(?<rcpt>[^>]*)>, .*status=bounced \((?<why>.*)\)$",
     "Mail to ${rcpt} bounced on ${host}", program="postfix/smtp", key="${host}", threshold="20 in 1h", queue="Mail")
rule("postfix-relay-denied", r"^NOQUEUE: reject: RCPT from (?<client>\S+)\[(?<ip>" + IP + r")\]: 454 4\.7\.1 <(?<rcpt>[^>]*)>: Relay access denied",
     "Relay attempts from ${ip} on ${host}", program="postfix/smtpd", key="${host}/${ip}", threshold="5 in 1h")
rule("postfix-queue-congestion", r"^warning: mail for (?<dest>\S+) is using up (?<n>\d+) of (?<max>\d+) active queue entries",
     "Postfix active queue congested by ${dest} on ${host}", program="postfix/qmgr", key="${host}/${dest}")
rule("postfix-tls-problem", r"warning: TLS library problem: (?<what>.+)", "TLS problems in Postfix on ${host}",
     program="postfix/smtp postfix/smtpd", key="${host}", threshold="10 in 1h")

# ---------------------------------------------------------------- nginx
rule("nginx-emerg", r"^\S+ \S+ \[emerg\] \d+#\d+: (?<what>.+)", "nginx cannot start on ${host}: ${what}",
     program="nginx", due="+1h", queue="Web")
rule("nginx-worker-signal", r"\[alert\] \d+#\d+: worker process (?<pid>\d+) exited on signal (?<sig>\d+)",
     "nginx worker died (signal ${sig}) on ${host}", program="nginx", key="${host}/${sig}", queue="Web")
rule("nginx-worker-connections", r"\[alert\] \d+#\d+: (?<n>\d+) worker_connections are not enough",
     "nginx out of worker connections on ${host}", program="nginx", key="${host}", queue="Web")
rule("nginx-too-many-files", r"\((?:24: )?Too many open files\)", "nginx out of file descriptors on ${host}",
     program="nginx", key="${host}", queue="Web")
rule("nginx-php-fpm-down", r"\[crit\] \d+#\d+: \*\d+ connect\(\) to (?<sock>unix:\S+) failed",
     "PHP-FPM socket down on ${host}", program="nginx", key="${host}/${sock}", queue="Web")
rule("nginx-ssl-handshake", r"\[crit\] \d+#\d+: \*\d+ SSL_do_handshake\(\) failed \((?<err>[^)]*)\)",
     "TLS handshake failures on ${host}", program="nginx",
     ignore=r"wrong version number|http request|unsupported protocol|no shared cipher|bad key share",
     key="${host}", queue="Web")
rule("nginx-upstream-timeout",
     r'\[error\] \d+#\d+: \*\d+ upstream timed out \(110: Connection timed out\) while (?<phase>[^,]+), client: (?<client>' + IP
     + r'), server: (?<server>[^,]+), request: "(?<request>[^"]*)", upstream: "(?<upstream>[^"]*)"',
     "Upstream ${upstream} timing out for ${server}", program="nginx", key="${upstream}", threshold="10 in 5m",
     queue="Web")
rule("nginx-upstream-refused", r'\[error\] \d+#\d+: \*\d+ connect\(\) failed \(111: Connection refused\) while connecting to upstream, .*upstream: "(?<upstream>[^"]*)"',
     "Upstream ${upstream} refusing connections", program="nginx", key="${upstream}", threshold="5 in 5m", queue="Web")
rule("nginx-no-live-upstreams", r'no live upstreams while connecting to upstream.*upstream: "(?<upstream>[^"]*)"',
     "No live upstreams for ${upstream} on ${host}", program="nginx", key="${host}/${upstream}", due="+1h", queue="Web")
rule("nginx-limit-req", r'limiting requests, excess: (?<excess>[\d.]+) by zone "(?<zone>[^"]+)", client: (?<client>' + IP + ")",
     "Rate limit zone ${zone} hit by ${client}", program="nginx", key="${zone}/${client}", threshold="50 in 1m")
rule("nginx-5xx", r'^(?<client>\S+) - \S+ \[[^\]]+\] "(?<method>[A-Z]+) (?<path>\S+) HTTP/[\d.]+" (?<status>50[0234]) ',
     "HTTP ${status} from nginx on ${host}", program="nginx", key="${host}/${status}", threshold="20 in 1m", queue="Web")
rule("nginx-crit", r"^\S+ \S+ \[crit\] \d+#\d+: (?<what>.+)", "nginx critical error on ${host}", program="nginx",
     key="${host}", queue="Web", late=True)

# ---------------------------------------------------------------- network
rule("dhcp-no-offers", r"^No DHCPOFFERS received", "DHCP: no offers on ${host}", program="dhclient", key="${host}")
rule("dhcp-nak", r"^DHCPNAK from (?<server>" + IP + ")", "DHCP NAK from ${server} on ${host}", program="dhclient",
     key="${host}")
rule("nm-activation-failed", r"<warn>\s+\[[\d.]+\] device \((?<dev>[^)]+)\): Activation: failed for connection '(?<conn>[^']+)'",
     "Network ${conn} failed on ${host}:${dev}", program="NetworkManager", key="${host}/${dev}")
rule("nm-dhcp-timeout", r"<warn>\s+\[[\d.]+\] dhcp4 \((?<dev>[^)]+)\): request timed out",
     "DHCP timeout on ${host}:${dev}", program="NetworkManager", key="${host}/${dev}")
rule("nm-error", r"^<error> \[[\d.]+\] (?<what>.+)", "NetworkManager error on ${host}: ${what}",
     program="NetworkManager", key="${host}")
rule("nm-disconnected", r"manager: NetworkManager state is now (?<state>DISCONNECTED|ASLEEP)",
     "${host} lost its network (${state})", program="NetworkManager", key="${host}")
rule("keepalived-fault", r"^\((?<vi>[^)]+)\) Entering FAULT STATE", "VRRP ${vi} in FAULT on ${host}",
     program="keepalived Keepalived_vrrp", key="${vi}", due="+1h")
rule("keepalived-master", r"^\((?<vi>[^)]+)\) Entering MASTER STATE", "VRRP ${vi} failed over to ${host}",
     program="keepalived Keepalived_vrrp", key="${vi}")

# ---------------------------------------------------------------- containers
rule("dockerd-fatal", r'level=fatal msg="(?<msg>(?:[^"\\]|\\.)*)"', "dockerd died on ${host}: ${msg}",
     program="dockerd", due="+1h", queue="Platform")
rule("dockerd-start-failed", r'level=error msg="Handler for POST (?<path>\S+/start) returned error: (?<err>(?:[^"\\]|\\.)*)"',
     "Container start failed on ${host}", program="dockerd", key="${host}", queue="Platform")
rule("dockerd-health-timeout", r'level=warning msg="Health check for container (?<id>[0-9a-f]{12})[0-9a-f]* error: (?<err>[^"]*)"',
     "Health check failing for ${id} on ${host}", program="dockerd", key="${host}/${id}", threshold="3 in 10m")
rule("containerd-delete-failed", r'level=error msg="failed to delete" cmd="[^"]*-id (?<id>[0-9a-f]{12})',
     "containerd failed to delete ${id} on ${host}", program="containerd", key="${host}")
rule("kubelet-crashloop", r'"Error syncing pod, skipping" err=.*CrashLoopBackOff.* pod="(?<pod>[^"]+)"',
     "Pod ${pod} crash-looping on ${host}", program="kubelet", key="${pod}", queue="Platform")
rule("kubelet-image-pull", r'"PullImage from image service failed" err=.* image="(?<image>[^"]+)"',
     "Image pull failing for ${image}", program="kubelet", key="${image}", queue="Platform")
rule("kubelet-cni-not-ready", r'"Container runtime network not ready"', "Pod network not ready on ${host}",
     program="kubelet", key="${host}", queue="Platform")
rule("kubelet-pleg", r"PLEG is not healthy: pleg was last seen active (?<ago>\S+) ago",
     "PLEG unhealthy on ${host}", program="kubelet", key="${host}", queue="Platform")
rule("kubelet-node-condition", r'"Recording event message for node" node="(?<node>[^"]+)" event="(?<event>NodeNotReady|NodeHas\w+Pressure|NodeHasInsufficientMemory)"',
     "Node ${node}: ${event}", program="kubelet", key="${node}/${event}", queue="Platform")
rule("kubelet-mount-failed", r'MountVolume\.SetUp failed for volume "(?<vol>[^"]+)"',
     "Volume ${vol} cannot mount on ${host}", program="kubelet", key="${vol}", queue="Platform")
rule("dockerd-error", r'level=error msg="(?<msg>(?:[^"\\]|\\.)*)"', "dockerd error on ${host}",
     program="dockerd", ignore=r"Not continuing with pull after error|context canceled|stream copy error",
     key="${host}", threshold="5 in 10m", late=True, queue="Platform")
rule("kubelet-error", r'^E\d{4} [\d:.]+\s+\d+ (?<src>[^\]]+)\] (?<what>.+)', "kubelet error on ${host}",
     program="kubelet", ignore=r"cadvisor_stats_provider|Partial failure|\"Unable to fetch container log stats\"",
     key="${host}/${src}", threshold="10 in 10m", late=True, queue="Platform")

# ---------------------------------------------------------------- dns, time
rule("named-refresh-failure", r"^zone (?<zone>\S+)/IN: refresh: failure trying master (?<master>\S+)",
     "Zone ${zone} cannot refresh from ${master}", program="named", key="${zone}", threshold="3 in 1h")
rule("named-zone-expired", r"^zone (?<zone>\S+)/IN: expired", "Zone ${zone} expired on ${host}", program="named",
     key="${host}/${zone}", due="+1h")
rule("named-xfer-failed", r"^transfer of '(?<zone>[^/]+)/IN' from (?<master>\S+): failed",
     "Zone transfer of ${zone} failed on ${host}", program="named", key="${host}/${zone}")
rule("named-config-failure", r"^loading configuration: failure", "named configuration broken on ${host}",
     program="named", due="+1h")
rule("named-dnssec", r"^validating (?<name>\S+): no valid signature found", "DNSSEC validation failing for ${name}",
     program="named", key="${name}", threshold="5 in 1h")
rule("named-zone-not-loaded", r"^zone (?<zone>\S+)/IN: not loaded due to errors", "Zone ${zone} not loaded on ${host}",
     program="named", key="${host}/${zone}")
rule("chrony-clock-wrong", r"^System clock wrong by (?<offset>-?\d+\.\d+) seconds", "Clock off by ${offset}s on ${host}",
     program="chronyd", key="${host}")
rule("chrony-no-sources", r"^(?:Can't synchronise: no selectable sources|No suitable source for synchronisation)",
     "chrony has no time source on ${host}", program="chronyd", key="${host}", suppress="1h")
rule("ntpd-unsync", r"^no servers can be used, system clock unsynchronized", "ntpd unsynchronized on ${host}",
     program="ntpd", key="${host}")
rule("ntpd-time-error", r"kernel reports TIME_ERROR: (?<code>0x[0-9a-f]+): Clock Unsynchronized",
     "Kernel clock unsynchronized on ${host}", program="ntpd", key="${host}", threshold="3 in 1h")
rule("timesyncd-timeout", r"^Timed out waiting for reply from (?<server>\S+)", "NTP server ${server} not answering",
     program="systemd-timesyncd", key="${server}", threshold="5 in 1h")

# ---------------------------------------------------------------- security
rule("apparmor-denied", r'apparmor="DENIED" operation="(?<op>[^"]+)" profile="(?<profile>[^"]+)" name="(?<name>[^"]+)" pid=(?<pid>\d+) comm="(?<comm>[^"]+)"',
     "AppArmor denied ${comm} ${op} ${name} on ${host}", program="kernel", key="${host}/${profile}/${name}",
     queue="Security")
rule("selinux-avc", r'avc:  denied  \{ (?<perm>[^}]+) \} for  pid=(?<pid>\d+) comm="(?<comm>[^"]+)"',
     "SELinux denied ${perm} to ${comm} on ${host}", program="kernel audit", key="${host}/${comm}", queue="Security")
rule("audit-backlog", r"audit: audit_backlog=(?<n>\d+) > audit_backlog_limit=(?<limit>\d+)",
     "Audit backlog overflowing on ${host}", program="kernel", key="${host}", suppress="1h")
rule("usb-new-device", r"usb (?<port>[\d.-]+): new (?<speed>\S+)-speed USB device number (?<n>\d+)",
     "USB device plugged into ${host}", program="kernel", key="${host}/${port}", queue="Security")
rule("unsigned-module", r"(?<module>\S+): module verification failed: signature and/or required key missing",
     "Unsigned kernel module ${module} loaded on ${host}", program="kernel", key="${host}/${module}",
     queue="Security", email="secops@example.com")
rule("promiscuous-mode", r"device (?!veth)(?<dev>\S+) entered promiscuous mode",
     "${dev} in promiscuous mode on ${host}", program="kernel", key="${host}/${dev}", queue="Security")
rule("fail2ban-ban", r"NOTICE\s+\[(?<jail>[^\]]+)\] Ban (?<ip>" + IP + ")", "fail2ban banned ${ip} (${jail})",
     program="fail2ban.actions fail2ban-server", key="${jail}", threshold="50 in 1h", queue="Security")
rule("certbot-renew-failed", r"^Failed to renew certificate (?<cert>\S+) with error: (?<err>.+)",
     "Certificate ${cert} renewal failed", program="certbot", key="${cert}", due="+1d")

# ---------------------------------------------------------------- databases
rule("pg-auth-failed", r'FATAL:  password authentication failed for user "(?<user>[^"]+)"',
     "PostgreSQL auth failures for ${user} on ${host}", program="postgres", key="${host}/${user}",
     threshold="5 in 10m", queue="DBA")
rule("pg-deadlock", r"ERROR:  deadlock detected", "PostgreSQL deadlocks on ${host}", program="postgres",
     key="${host}", threshold="3 in 10m", queue="DBA")
rule("pg-too-many-clients", r"FATAL:  sorry, too many clients already", "PostgreSQL out of connections on ${host}",
     program="postgres", key="${host}", queue="DBA", due="+1h")
rule("pg-recovery-mode", r"FATAL:  the database system is in recovery mode", "PostgreSQL in recovery on ${host}",
     program="postgres", key="${host}", queue="DBA", due="+1h")
rule("pg-checkpoints", r"LOG:  checkpoints are occurring too frequently \((?<secs>\d+) seconds apart\)",
     "PostgreSQL checkpoints every ${secs}s on ${host}", program="postgres", key="${host}", suppress="1d", queue="DBA")
rule("pg-wal-removed", r"ERROR:  requested WAL segment (?<seg>[0-9A-F]+) has already been removed",
     "Replica lost WAL ${seg} on ${host}", program="postgres", key="${host}", queue="DBA", due="+1h")
rule("pg-panic", r"\bPANIC:  (?<what>.+)", "PostgreSQL PANIC on ${host}", program="postgres", key="${host}",
     queue="DBA", late=True)
rule("pg-fatal", r"\bFATAL:  (?<what>.+)", "PostgreSQL FATAL on ${host}", program="postgres", key="${host}",
     queue="DBA", threshold="10 in 10m", late=True)
rule("mysql-bind", r"Can't start server: Bind on TCP/IP port: (?<why>.+)", "MySQL cannot start on ${host}: ${why}",
     program="mysqld", queue="DBA", due="+1h")
rule("mysql-signal", r"mysqld got signal (?<sig>\d+)", "MySQL crashed (signal ${sig}) on ${host}", program="mysqld",
     queue="DBA", due="+1h")
rule("mysql-table-crashed", r"Table '(?<table>[^']+)' is marked as crashed", "MySQL table ${table} crashed on ${host}",
     program="mysqld", key="${host}/${table}", queue="DBA")
rule("mysql-replica-error", r"\[Repl\] Replica SQL for channel '(?<channel>[^']*)': (?<what>.+)",
     "MySQL replication broken on ${host}", program="mysqld", key="${host}", queue="DBA", due="+1h")
rule("mysql-error", r"\[ERROR\] \[(?<code>MY-\d+)\] (?<what>.+)", "MySQL error ${code} on ${host}", program="mysqld",
     key="${host}/${code}", queue="DBA", late=True)
rule("redis-bgsave-error", r"# Background saving error", "Redis cannot save on ${host}", program="redis-server",
     key="${host}", queue="DBA")
rule("redis-fork-failed", r"# Can't save in background: fork: (?<err>.+)", "Redis fork failed on ${host}: ${err}",
     program="redis-server", key="${host}", queue="DBA")
rule("redis-master-lost", r"# Connection with master lost", "Redis replica on ${host} lost its master",
     program="redis-server", key="${host}", queue="DBA")
rule("redis-oom", r"# OOM command not allowed when used memory", "Redis at maxmemory on ${host}",
     program="redis-server", key="${host}", queue="DBA", suppress="1h")
rule("php-fpm-max-children", r"\[pool (?<pool>[^\]]+)\] server reached pm\.max_children setting \((?<n>\d+)\)",
     "php-fpm pool ${pool} at max_children (${n}) on ${host}", program="php-fpm", key="${host}/${pool}", queue="Web")

# ---------------------------------------------------------------- load balancers, logging
rule("haproxy-server-down", r"Server (?<backend>[^/]+)/(?<server>\S+) is DOWN, reason: (?<reason>[^,]+)",
     "${backend}/${server} is DOWN (${reason})", program="haproxy", key="${backend}/${server}", queue="Web")
rule("haproxy-no-server", r"backend (?<backend>\S+) has no server available!", "Backend ${backend} has no servers",
     program="haproxy", key="${backend}", due="+1h", queue="Web")
rule("rsyslog-action-suspended", r"action '(?<action>[^']+)' suspended \(module '(?<module>[^']+)'\)",
     "rsyslog action ${action} suspended on ${host}", program="rsyslogd", key="${host}/${action}",
     threshold="3 in 10m", queue="Observability")
rule("rsyslog-ratelimit", r"imjournal: (?<n>\d+) messages lost due to rate-limiting",
     "rsyslog dropped ${n} messages on ${host}", program="rsyslogd", key="${host}", suppress="1h",
     queue="Observability")

# ---------------------------------------------------------------- rules for software this fleet
# does not run (every real rule set has them: zero hits, still paid for)
rule("apache-maxclients", r"\[mpm_(?:prefork|worker|event):error\] .*AH00161: server reached MaxRequestWorkers",
     "Apache at MaxRequestWorkers on ${host}", program="apache2 httpd", queue="Web")
rule("apache-segfault", r"AH00052: child pid (?<pid>\d+) exit signal (?<sig>[^(]+)\((?<n>\d+)\)",
     "Apache child died on ${host}", program="apache2 httpd", key="${host}", queue="Web")
rule("mongod-assert", r'"s":"[EF]",.*"msg":"(?<msg>[^"]*)"', "MongoDB error on ${host}: ${msg}", program="mongod",
     key="${host}", queue="DBA")
rule("rabbitmq-alarm", r"(?i)(?:memory|disk) resource limit alarm set on node (?<node>\S+)",
     "RabbitMQ alarm on ${node}", program="rabbitmq-server beam.smp", queue="Messaging")
rule("elasticsearch-disk-watermark", r"flood stage disk watermark \[(?<pct>[\d.]+%)\] exceeded on \[(?<node>[^\]]+)\]",
     "Elasticsearch flood-stage watermark on ${node}", program="elasticsearch java", queue="Search")
rule("zookeeper-quorum", r"(?i)\bunable to (?:connect to|read additional data from) (?:server|leader)\b",
     "ZooKeeper quorum trouble on ${host}", program="zookeeper java", threshold="5 in 10m", queue="Messaging")
rule("etcd-slow", r"(?:apply request took too long|slow fdatasync).*took.*?(?<ms>\d+(?:\.\d+)?)ms",
     "etcd slow on ${host}", program="etcd", key="${host}", threshold="10 in 10m", queue="Platform")
rule("bacula-job-error", r"^(?<jobid>\d+) \S+ JobId \d+: (?:Fatal error|Error): (?<what>.+)",
     "Backup job ${jobid} failed on ${host}", program="bacula-fd bacula-dir", queue="Infra")
rule("openvpn-tls-error", r"TLS Error: TLS handshake failed", "OpenVPN TLS failures on ${host}",
     program="openvpn ovpn-server", threshold="10 in 10m")
rule("libvirt-vm-crash", r"internal error: (?:process exited while connecting to monitor|qemu unexpectedly closed the monitor)",
     "VM crashed on ${host}", program="libvirtd", key="${host}")
rule("squid-cache-full", r"WARNING: Disk space over limit|WARNING! Your cache is running out of filedescriptors",
     "Squid resource problem on ${host}", program="squid", key="${host}")
rule("dovecot-auth-fail", r"auth: (?:passwd-file|pam)\((?<user>[^,]+),(?<ip>[\d.]+)[^)]*\): (?:Password mismatch|unknown user)",
     "IMAP login failures for ${user} from ${ip}", program="dovecot", key="${ip}", threshold="10 in 10m",
     queue="Security")
rule("vsftpd-fail", r"FAIL LOGIN: Client \"(?:::ffff:)?(?<ip>[\d.]+)\"", "FTP login failures from ${ip}",
     program="vsftpd", key="${ip}", threshold="5 in 10m", queue="Security")
rule("proftpd-max-clients", r"(?i)maximum number of clients \(\d+\) reached", "ProFTPD at max clients on ${host}",
     program="proftpd")
rule("slapd-err", r"(?i)\bslap_global_control: unrecognized control\b|\bbdb_db_open: database already in use\b",
     "OpenLDAP error on ${host}", program="slapd", key="${host}")
rule("iscsi-conn-error", r"connection(?<conn>\d+:\d+): detected conn error \((?<err>\d+)\)",
     "iSCSI connection error on ${host}", program="kernel iscsid", key="${host}/${conn}")

# ---------------------------------------------------------------- generic, last
rule("fs-full", r"(?<path>/[^\s:]*)?:? ?No space left on device", "Filesystem full on ${host:-unknown host}: ${path:-a filesystem}",
     details="${program}[${pid}] reported: ${line}", key="${host}", due="+2h", late=True)
rule("fs-readonly", r"(?i)\bread-only file system\b", "Read-only filesystem on ${host}", key="${host}", late=True)
rule("catchall-fatal-error", r"(?i)\b(?:fatal error|segmentation fault|stack smashing detected)\b",
     "Fatal error from ${program} on ${host}", key="${host}/${program}", suppress="1h", late=True)


# `program =` is kept on these rules only (--program-filters few, the
# default): where the same text could come from other programs, and a few
# generic catch-alls. The other rules keep their program in the catalogue
# (where the line comes from) but do not filter on it, as most SEC and
# fail2ban rules do not: every regex sees every line. --program-filters all
# filters every rule that has a program, which lets a naive loop skip most
# regexes per line; none filters nothing.
FEW_PROGRAM = {
    "oom-any", "docker-no-space", "postfix-sasl-failed", "postfix-fatal", "postfix-loops",
    "postfix-tls-problem", "cron-grandchild-failed", "cron-mail-failed", "keepalived-fault",
    "nginx-5xx", "selinux-avc", "fail2ban-ban", "dockerd-error", "kubelet-error", "pg-fatal",
    "mysql-error", "apache-maxclients", "elasticsearch-disk-watermark",
}
PROGRAM_FILTERS = "few"


def program_of(r):
    if PROGRAM_FILTERS == "all" or (PROGRAM_FILTERS == "few" and r["name"] in FEW_PROGRAM):
        return r["program"]
    return None


def ordered_rules():
    return [r for r in RULES if not r["late"]] + [r for r in RULES if r["late"]]


def top_level_alternation(rx):
    """True when rx has a '|' outside any group or class."""
    depth, i, cls = 0, 0, False
    while i < len(rx):
        c = rx[i]
        if c == "\\":
            i += 2
            continue
        if cls:
            if c == "]":
                cls = False
        elif c == "[":
            cls = True
            if rx[i + 1:i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


def sec_pattern(r):
    body = r["match"]
    anchored = body.startswith("^")
    if anchored:
        body = body[1:]
        if top_level_alternation(body):
            raise SystemExit("rule %s: ^ with a top-level alternation" % r["name"])
    if program_of(r):
        progs = program_of(r).replace(",", " ").split()
        tag = "(?:%s)" % "|".join(lit(p) for p in progs) + SEC_TAG_TAIL
    else:
        tag = SEC_TAG_ANY
    ig = ""
    if r["ignore"]:
        igb = r["ignore"]
        ig = "(?!(?:%s))" % igb[1:] if igb.startswith("^") else "(?!.*?(?:%s))" % igb
    return SEC_HDR + tag + ig + ("(?:%s)" % body if anchored else ".*?(?:%s)" % body)


def write_omkapture(path, check=False):
    out = ["# Generated by tests/bench/gen_rules.py%s: %d alert rules, first match wins."
           % (" --check" if check else "", len(RULES)), ""]
    for r in ordered_rules():
        out.append("[%s]" % r["name"])
        out.append("match = %s" % r["match"])
        if r["ignore"]:
            out.append("ignore = %s" % r["ignore"])
        if program_of(r):
            out.append("program = %s" % program_of(r))
        out.append("title = %s" % r["title"])
        if check:
            out.append("details = ${raw}")
            out.append("suppress = 0")
        else:
            out.append("details = %s" % (r["details"] or "${line}\\nHost: ${host}\\nProgram: ${program}\\nTime: ${time}"))
            if r["key"]:
                out.append("key = %s" % r["key"])
            if r["threshold"]:
                out.append("threshold = %s" % r["threshold"])
            if r["suppress"]:
                out.append("suppress = %s" % r["suppress"])
        if r["email"]:
            out.append("email = %s" % r["email"])
        if r["due"]:
            out.append("due = %s" % r["due"])
        if r["queue"]:
            out.append("field.queue = %s" % r["queue"])
        if r["cont"]:
            out.append("continue = yes")
        out.append("")
    with open(path, "w") as f:
        f.write("\n".join(out))


def write_sec(path, action):
    out = ["# Generated by tests/bench/gen_rules.py: the %d omkapture rules as SEC Single rules," % len(RULES),
           "# for the plain (RFC 3164) corpus flavour. Each pattern = RFC 3164 header + the omkapture",
           "# regex on the message part; continue=TakeNext where omkapture has continue = yes.", ""]
    for r in ordered_rules():
        out += ["type=Single", "ptype=RegExp", "pattern=%s" % sec_pattern(r), "desc=%s" % r["name"],
                "action=%s" % action]
        if r["cont"]:
            out.append("continue=TakeNext")
        out.append("")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--omkapture", metavar="FILE", help="write the omkapture .rules file here")
    ap.add_argument("--sec", metavar="FILE", help="write the SEC rules file here")
    ap.add_argument("--sec-action", default="none",
                    help="'none' (default) or 'write:FILE': each match writes '<rule> <line>' to FILE")
    ap.add_argument("--check", action="store_true",
                    help="omkapture variant for the per-line check: details = ${raw}, no threshold, suppress = 0")
    ap.add_argument("--program-filters", choices=("few", "all", "none"), default="few",
                    help="which rules get `program =`: few (default, %d rules), all (every rule with a "
                    "known program), none" % len(FEW_PROGRAM))
    ap.add_argument("--list", action="store_true", help="print rule names in order")
    args = ap.parse_args()
    global PROGRAM_FILTERS
    PROGRAM_FILTERS = args.program_filters
    unknown = FEW_PROGRAM - {r["name"] for r in RULES if r["program"]}
    if unknown:
        raise SystemExit("FEW_PROGRAM names rules without a program: %s" % sorted(unknown))
    names = [r["name"] for r in RULES]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit("duplicate rule names: %s" % sorted(dup))
    if args.omkapture:
        write_omkapture(args.omkapture, args.check)
    if args.sec:
        if args.sec_action == "none":
            action = "none"
        elif args.sec_action.startswith("write:"):
            action = "write %s %%s $0" % args.sec_action[6:]
        else:
            ap.error("--sec-action: none or write:FILE")
        write_sec(args.sec, action)
    if args.list:
        for r in ordered_rules():
            print(r["name"])
    if not (args.omkapture or args.sec or args.list):
        print("%d rules" % len(RULES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
