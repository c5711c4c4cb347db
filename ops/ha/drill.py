#!/usr/bin/python3
"""Failover drill: Kaoping on PostgreSQL under Patroni, its leader killed under load.

Starts on loopback: etcd, two PostgreSQL nodes under Patroni (synchronous mode), HAProxy
sending connections to whichever node Patroni's REST check calls the primary (port 15000;
the standby on 15001), and two Kaoping instances on that address. Members' answers are sent
through both instances at the given concurrency while the leader is killed, KILLS times for
each kind:

  postmaster  the leader's postmaster gets SIGKILL (Patroni restarts it or fails over)
  patroni     the leader's Patroni gets SIGKILL (its PostgreSQL runs on, unreachable)
  machine     both are killed, and every server process of that node (the machine gone)

After each kill the drill waits for answers to be taken again, starts the killed node's
Patroni again (it rejoins as the synchronous standby) and waits for the pair to be whole.
During one failover a round's closing time falls, and all the while an administrator
downloads another round's answers CSV (10,000 answer sets) slowly, through the instances in
turn. A Kaoping instance that exits is started again a second later, as the deployment's
systemd unit does, and each exit is printed with its cause; the time it was away counts as
time without service. Then it prints what it saw and fails (exit 1) unless every acknowledged
answer is stored, no request got a 500, service came back within 30 s each time, the round was
closed exactly once and no instance exited. Everything it started is
stopped at the end, whatever happens.

Run through ops/ha/drill, which installs the packages and builds Kaoping first.
"""

import argparse
import glob
import http.client
import json
import os
import pwd
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

ETCD_CLIENT, ETCD_PEER = 23790, 23800
PG_PORTS = [15441, 15442]
REST_PORTS = [18008, 18009]
PRIMARY_PORT, STANDBY_PORT = 15000, 15001
KAOPING_PORTS = [18181, 18182]
SUPERUSER_PASSWORD = "drill-superuser"
REPLICATION_PASSWORD = "drill-replication"
KAOPING_PASSWORD = "drill-kaoping"
DOWNLOAD_PASSWORD = "drill administrator password"
SERVICE_TARGET = 30.0
SHANGHAI = timezone(timedelta(hours=8))


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Drill:
    def __init__(self, args):
        self.args = args
        self.work = args.dir
        self.binary = args.kaoping
        self.root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.processes = {}
        self.patroni = [None, None]
        self.exits = []
        self.log_start = [0, 0]
        self.postgres = pwd.getpwnam("postgres")
        self.database_url = f"postgres://kaoping:{KAOPING_PASSWORD}@127.0.0.1:{PRIMARY_PORT}/kaoping?sslmode=disable"

    # Processes

    def spawn(self, name, argv, as_postgres=False, env=None, cwd=None):
        out = open(os.path.join(self.work, f"{name}.log"), "ab")
        def demote():
            os.setsid()
            if as_postgres:
                os.setgid(self.postgres.pw_gid)
                os.initgroups("postgres", self.postgres.pw_gid)
                os.setuid(self.postgres.pw_uid)
        # A directory the process's user may enter: Patroni's helper processes start by changing
        # to the working directory, and the postgres user cannot enter a private checkout.
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, preexec_fn=demote, env=env or os.environ.copy(),
                                   cwd=cwd)
        self.processes[name] = process
        return process

    def stop_all(self):
        for name, process in list(self.processes.items()):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        # PostgreSQL servers whose Patroni was killed run on in sessions of their own.
        for node in range(2):
            self.kill_node_servers(node, signal.SIGKILL)
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def node_dir(self, node):
        return os.path.join(self.work, f"node{node + 1}")

    def postmaster_pid(self, node):
        try:
            with open(os.path.join(self.node_dir(node), "data", "postmaster.pid")) as file:
                return int(file.readline())
        except (OSError, ValueError):
            return None

    def kill_node_servers(self, node, sig):
        """Every PostgreSQL process of a node: the postmaster and its children (found before
        the postmaster dies, while they are still its children)."""
        data = os.path.join(self.node_dir(node), "data")
        targets = []
        pid = self.postmaster_pid(node)
        if pid:
            children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
            targets += [pid] + [int(child) for child in children]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as file:
                    cmdline = file.read().decode(errors="replace")
            except OSError:
                continue
            if "postgres" in cmdline and data in cmdline:
                targets.append(int(entry))
        for target in targets:
            try:
                os.kill(target, sig)
            except ProcessLookupError:
                pass

    # Set-up

    def start_etcd(self):
        self.spawn("etcd", [
            "etcd", "--name", "drill", "--data-dir", os.path.join(self.work, "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{ETCD_CLIENT}",
            "--advertise-client-urls", f"http://127.0.0.1:{ETCD_CLIENT}",
            "--listen-peer-urls", f"http://127.0.0.1:{ETCD_PEER}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{ETCD_PEER}",
            "--initial-cluster", f"drill=http://127.0.0.1:{ETCD_PEER}",
        ])
        self.wait(lambda: self.http_status(f"http://127.0.0.1:{ETCD_CLIENT}/health") == 200, 30, "etcd")

    def patroni_config(self, node):
        directory = self.node_dir(node)
        return f"""scope: kaoping-drill
name: node{node + 1}
restapi:
  listen: 127.0.0.1:{REST_PORTS[node]}
  connect_address: 127.0.0.1:{REST_PORTS[node]}
etcd3:
  hosts: 127.0.0.1:{ETCD_CLIENT}
bootstrap:
  dcs:
    ttl: 15
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 200
        wal_keep_size: 1GB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:{PG_PORTS[node]}
  connect_address: 127.0.0.1:{PG_PORTS[node]}
  data_dir: {directory}/data
  bin_dir: {self.bindir}
  pgpass: {directory}/pgpass
  authentication:
    superuser: {{username: postgres, password: {SUPERUSER_PASSWORD}}}
    replication: {{username: replicator, password: {REPLICATION_PASSWORD}}}
    rewind: {{username: postgres, password: {SUPERUSER_PASSWORD}}}
  parameters:
    unix_socket_directories: {directory}
tags:
  nofailover: false
  noloadbalance: false
"""

    def start_patroni(self, node):
        directory = self.node_dir(node)
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o700)
        os.chown(directory, self.postgres.pw_uid, self.postgres.pw_gid)
        path = os.path.join(directory, "patroni.yml")
        with open(path, "w") as file:
            file.write(self.patroni_config(node))
        os.chown(path, self.postgres.pw_uid, self.postgres.pw_gid)
        env = os.environ.copy()
        env["HOME"] = directory
        self.patroni[node] = self.spawn(f"patroni{node + 1}", ["/usr/bin/patroni", path], as_postgres=True, env=env, cwd=directory)

    def start_haproxy(self):
        servers = lambda: "\n".join(
            f"  server node{n + 1} 127.0.0.1:{PG_PORTS[n]} check port {REST_PORTS[n]}" for n in range(2))
        config = f"""global
  maxconn 2000
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 2s
listen primary
  bind 127.0.0.1:{PRIMARY_PORT}
  option httpchk OPTIONS /primary
  http-check expect status 200
  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
{servers()}
listen standby
  bind 127.0.0.1:{STANDBY_PORT}
  option httpchk OPTIONS /replica
  http-check expect status 200
  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
{servers()}
"""
        path = os.path.join(self.work, "haproxy.cfg")
        with open(path, "w") as file:
            file.write(config)
        self.spawn("haproxy", ["haproxy", "-db", "-f", path])

    def psql(self, sql, database="postgres", port=PRIMARY_PORT, user="postgres", password=SUPERUSER_PASSWORD):
        env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="3")
        result = subprocess.run(
            [f"{self.bindir}/psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip())
        return result.stdout.strip()

    def kaoping(self, *argv, database_url=None, stdin=None):
        env = dict(os.environ, KAOPING_DATABASE_URL=database_url or self.database_url, KAOPING_SECRET_FILE=os.path.join(self.work, "secret"),
                   KAOPING_DATA_DIR=os.path.join(self.work, "cli"), KAOPING_LOG_LEVEL="error")
        # A command that found the database away changed nothing, and is run again, as a
        # person or cron would after a failover.
        for _ in range(30):
            result = subprocess.run([self.binary, *argv], capture_output=True, text=True, env=env, cwd=self.root, input=stdin)
            if result.returncode == 0:
                return result.stdout
            if "the database is not available" not in result.stderr:
                break
            log(f"kaoping {argv[0]} {argv[1] if len(argv) > 1 else ''}: {result.stderr.strip()}")
            time.sleep(1)
        raise RuntimeError(f"kaoping {' '.join(argv)}: {result.stderr.strip()}")

    def start_kaoping(self, index):
        # Where this start's output begins in the log, for the cause of an exit.
        log_path = os.path.join(self.work, f"kaoping{index + 1}.log")
        self.log_start[index] = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        env = dict(os.environ, KAOPING_DATABASE_URL=self.database_url, KAOPING_SECRET_FILE=os.path.join(self.work, "secret"))
        self.spawn(f"kaoping{index + 1}", [
            self.binary, "serve", "--port", str(KAOPING_PORTS[index]), "--metrics-address", "off",
            "--data-dir", os.path.join(self.work, f"kaoping{index + 1}"), "--log-level", "warning",
        ], env=env)

    def supervise(self, stopping):
        """Starts an instance again a second after it exits, as the deployment's systemd unit
        does (`Restart=on-failure`, docs/operations.md): the time it was away counts in the
        time without service, and each exit is reported with its fatal error, or the last line
        its log wrote."""
        while not stopping.wait(0.5):
            for index in range(2):
                process = self.processes[f"kaoping{index + 1}"]
                if process.poll() is None:
                    continue
                with open(os.path.join(self.work, f"kaoping{index + 1}.log"), errors="replace") as file:
                    file.seek(self.log_start[index])
                    lines = file.read().splitlines()
                fatal = [line for line in lines if "Fatal error" in line]
                reason = (fatal or lines or ["no log line"])[-1][:300]
                self.exits.append((time.time(), index + 1, process.returncode, reason))
                log(f"Kaoping instance {index + 1} exited with status {process.returncode}: {reason}; starting it again")
                time.sleep(1)
                self.start_kaoping(index)

    # The cluster's state, from Patroni's REST API

    def cluster(self):
        for port in REST_PORTS:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/cluster", timeout=2) as answer:
                    return json.load(answer)
            except Exception:
                continue
        return None

    def leader(self):
        state = self.cluster()
        for member in (state or {}).get("members", []):
            if member.get("role") == "leader" and member.get("state") == "running":
                return int(member["name"].removeprefix("node")) - 1
        return None

    def whole(self):
        """A leader and a synchronous standby streaming from it."""
        state = self.cluster() or {}
        roles = {member.get("role"): member.get("state") for member in state.get("members", [])}
        return roles.get("leader") == "running" and roles.get("sync_standby") in ("streaming", "running")

    @staticmethod
    def http_status(url):
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code
        except Exception:
            return None

    @staticmethod
    def wait(condition, seconds, what):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if condition():
                    return
            except Exception:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{what} not there within {seconds} s")

    def set_up(self):
        os.makedirs(self.work, exist_ok=True)
        os.chmod(self.work, 0o755)
        self.start_etcd()
        self.start_patroni(0)
        # initdb and the first leader election: seconds alone, a minute or more on a busy machine.
        self.wait(lambda: self.leader() == 0, 240, "node1 as leader")
        self.start_patroni(1)
        self.start_haproxy()
        self.wait(self.whole, 120, "a synchronous standby")
        self.psql(f"CREATE ROLE kaoping LOGIN PASSWORD '{KAOPING_PASSWORD}'")
        self.psql("CREATE DATABASE kaoping OWNER kaoping")
        log(f"cluster up: leader node{self.leader() + 1}, synchronous standby streaming")
        self.kaoping("migrate")
        for index in range(2):
            self.start_kaoping(index)
        for port in KAOPING_PORTS:
            self.wait(lambda: self.http_status(f"http://127.0.0.1:{port}/readyz") == 200, 120, f"Kaoping on {port}")
        log("two Kaoping instances ready")

    def links(self, members):
        run = lambda sql: self.psql(sql, database="kaoping", user="kaoping", password=KAOPING_PASSWORD)
        run("INSERT INTO branches (code, name) VALUES ('drill', '演练支部')")
        run(f"INSERT INTO members (staff_number, name, branch_id) SELECT 'm' || g, '党员' || g, "
            f"(SELECT id FROM branches WHERE code = 'drill') FROM generate_series(1, {members}) g")
        round_id = self.open_round("round", "切换演练", datetime.now(SHANGHAI) + timedelta(days=30))
        self.kaoping("invitations", "issue", round_id)
        csv = self.kaoping("invitations", "export", round_id, "--out", "-", "--public-url", "http://127.0.0.1")
        links = [line.strip().split("127.0.0.1", 1)[1].split(",")[0].strip('"') for line in csv.splitlines()[1:] if "/s/" in line]
        return round_id, links

    def download_round(self, responses, keys):
        """A round with `responses` members' answers already mixed in (made with SQL, each
        answering every rated item), whose answers CSV is a download of some tens of megabytes;
        and an administrator to fetch it. Returns the round's id."""
        round_id = self.open_round("downloads", "下载演练", datetime.now(SHANGHAI) + timedelta(days=30))
        items = ", ".join(f"'{key}'" for key in keys)
        self.psql(f"""
            INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined)
            SELECT '{round_id}', b.id, 'members', g.form_version_id, current_date, 75, ARRAY[75, 75, 75, 75]::float8[], false
            FROM generate_series(1, {responses}) n, branches b, round_groups g
            WHERE b.code = 'drill' AND g.round_id = '{round_id}' AND g.rater_group = 'members';
            INSERT INTO answers (response_id, item_key, option_key, points)
            SELECT r.id, k, '4', 75 FROM responses r, unnest(ARRAY[{items}]) k WHERE r.round_id = '{round_id}';
            """, database="kaoping", user="kaoping", password=KAOPING_PASSWORD)
        self.kaoping("user", "add", "--username", "drill-admin", "--role", "admin", "--own-password", stdin=DOWNLOAD_PASSWORD + "\n")
        return round_id

    def closing_round(self, closes_in):
        """An open round whose closing time falls `closes_in` seconds from now (to the second);
        returns its id and the closing time."""
        closes_at = datetime.now(SHANGHAI).replace(microsecond=0) + timedelta(seconds=closes_in)
        return self.open_round("closing", "按时结束", closes_at, seconds=True), closes_at.timestamp()

    def open_round(self, name, title, closes, seconds=False):
        """A round of the drill's branch, created from a spec file and opened; returns its id."""
        spec = os.path.join(self.work, f"{name}.yaml")
        with open(spec, "w") as file:
            file.write(f"title: {title}\nyear: {datetime.now(SHANGHAI).year}\n"
                       f"closes: {closes.strftime('%Y-%m-%d %H:%M:%S' if seconds else '%Y-%m-%d %H:%M')}\nbranches: [drill]\n")
        round_id = self.kaoping("round", "create", "--spec", spec).strip()
        self.kaoping("round", "open", round_id)
        return round_id


def answers(root):
    """A complete answer set for the default member form, url-encoded (without _csrf and _key)."""
    text = open(os.path.join(root, "forms", "member-integration.yaml"), encoding="utf-8").read()
    keys = re.findall(r"- key: (\w+)\n\s+type: rating", text)
    return [(f"q.{key}", "4") for key in keys] + [("q.works_well", "理论学习紧密联系业务实际，效果明显")]


class Load:
    """Members answering through both instances; each link is sent until it is acknowledged."""

    def __init__(self, links, fields, concurrency):
        self.links = queue.Queue()
        for link in links:
            self.links.put(link)
        self.fields = fields
        self.concurrency = concurrency
        self.lock = threading.Lock()
        self.statuses = {}
        self.acknowledged = set()
        self.successes = []
        self.stopping = threading.Event()
        self.threads = []
        self.unfinished = 0

    def count(self, status):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def request(self, connections, port, method, path, body=None, cookie=None):
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for _ in range(2):
            connection = connections.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=40)
            connections[port] = connection
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheader("Set-Cookie") or "", response.read().decode("utf-8", "replace")
            except (http.client.HTTPException, OSError) as error:
                connection.close()
                connections.pop(port, None)
                last = error
        self.count(f"connection error ({type(last).__name__})")
        return None, "", ""

    def member(self, link, port, connections):
        """One member: the form, then the answers until they are taken; True once acknowledged."""
        deadline = time.time() + 180
        cookie = key = csrf = None
        while time.time() < deadline and not self.stopping.is_set():
            if key is None:
                status, set_cookie, body = self.request(connections, port, "GET", link, cookie=cookie)
                if status is not None:
                    self.count(status)
                match = re.search(r"kp_csrf=([0-9a-f]+)", set_cookie)
                if match:
                    cookie = "kp_csrf=" + match.group(1)
                found_key = re.search(r'name="_key" value="([0-9a-f]+)"', body)
                found_csrf = re.search(r'name="_csrf" value="([0-9a-f]+)"', body)
                if status == 200 and found_key and found_csrf:
                    key, csrf = found_key.group(1), found_csrf.group(1)
                else:
                    time.sleep(0.5)
                continue
            body = urllib.parse.urlencode(self.fields + [("_csrf", csrf), ("_key", key)])
            status, _, text = self.request(connections, port, "POST", link, body=body, cookie=cookie)
            if status is not None:
                self.count(status)
            if status == 200 and "data-clear-draft" in text:
                with self.lock:
                    self.acknowledged.add(link)
                    self.successes.append((time.time(), port))
                return True
            found_csrf = re.search(r'name="_csrf" value="([0-9a-f]+)"', text)
            if found_csrf:
                csrf = found_csrf.group(1)
            time.sleep(0.5)
        return False

    def worker(self, index):
        connections = {}
        port = KAOPING_PORTS[index % 2]
        while not self.stopping.is_set():
            try:
                link = self.links.get_nowait()
            except queue.Empty:
                return
            if not self.member(link, port, connections) and not self.stopping.is_set():
                with self.lock:
                    self.unfinished += 1

    def start(self):
        for index in range(self.concurrency):
            thread = threading.Thread(target=self.worker, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=200)

    def acknowledged_since(self, instant, port):
        with self.lock:
            return [t for t, p in self.successes if t > instant and p == port]

    def longest_gap(self, start, end):
        """The longest stretch without an acknowledged answer on either instance: each
        instance must come back, not just one of them."""
        longest = 0.0
        with self.lock:
            for port in KAOPING_PORTS:
                times = sorted([start] + [t for t, p in self.successes if start <= t <= end and p == port] + [end])
                longest = max([longest] + [b - a for a, b in zip(times, times[1:])])
        return longest

    def running_out(self):
        return self.links.empty()


class Downloads:
    """An administrator downloading a round's answers CSV over and over through the two
    instances in turn, reading it slowly (about 160 KB/s, as a far client does) so that a
    download is under way through every kill: the database going away under it must end that
    download, not the instance."""

    def __init__(self, round_id):
        self.path = f"/admin/rounds/{round_id}/responses.csv"
        self.stopping = threading.Event()
        self.complete = 0
        self.cut = 0
        self.under_way = 0
        self.not_started = 0
        self.refused = {}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sign_in(self, port):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(f"http://127.0.0.1:{port}/admin/login", timeout=10) as page:
            csrf = re.search(r'name="_csrf" value="([0-9a-f]+)"', page.read().decode("utf-8", "replace")).group(1)
        form = urllib.parse.urlencode({"_csrf": csrf, "username": "drill-admin", "password": DOWNLOAD_PASSWORD}).encode()
        with opener.open(f"http://127.0.0.1:{port}/admin/login", data=form, timeout=10) as answer:
            answer.read()
        return opener

    def run(self):
        turn = 0
        while not self.stopping.is_set():
            port = KAOPING_PORTS[turn % 2]
            turn += 1
            read = 0
            try:
                opener = self.sign_in(port)
                with opener.open(f"http://127.0.0.1:{port}{self.path}", timeout=60) as download:
                    while True:
                        if self.stopping.is_set():
                            self.under_way += 1
                            break
                        piece = download.read(16384)
                        if not piece:
                            self.complete += 1
                            log(f"download through instance {KAOPING_PORTS.index(port) + 1} complete, {read / 2**20:.1f} MiB")
                            break
                        read += len(piece)
                        time.sleep(0.1)
            except urllib.error.HTTPError as error:
                # Refused while the database is away (the fail-fast 503): tried again.
                self.refused[error.code] = self.refused.get(error.code, 0) + 1
                time.sleep(1)
            except Exception as error:
                if read:
                    # Cut off mid-way: the database went away under it.
                    self.cut += 1
                    log(f"download through instance {KAOPING_PORTS.index(port) + 1} cut off after {read / 2**20:.1f} MiB: "
                        f"{type(error).__name__}: {error}")
                else:
                    # The instance or its database away before the download began.
                    self.not_started += 1
                time.sleep(1)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=90)


def keep_logs(work):
    """On a failure, what the cluster's own logs said last, printed, and the logs kept beside
    the working directory, which the tear-down removes."""
    kept = f"{work}-logs-{time.strftime('%Y%m%dT%H%M%S')}"
    os.makedirs(kept, exist_ok=True)
    for name in ["etcd", "patroni1", "patroni2", "haproxy", "kaoping1", "kaoping2"]:
        path = os.path.join(work, f"{name}.log")
        try:
            shutil.copy(path, kept)
            with open(path, errors="replace") as file:
                tail = file.read().splitlines()[-40:]
            print(f"--- {name}.log, last lines ---\n" + "\n".join(tail))
        except OSError:
            pass
    print(f"the logs are kept in {kept}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kaoping", required=True, help="the kaoping binary")
    parser.add_argument("--kills", type=int, default=5, help="leader kills of each kind (default 5)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--dir", default="/tmp/kaoping-ha", help="working directory, removed at the end")
    parser.add_argument("--members", type=int, default=0, help="invitation links to issue (default 60,000 per kill of each kind)")
    args = parser.parse_args()

    if os.path.exists(args.dir):
        shutil.rmtree(args.dir)
    drill = Drill(args)
    failures = []
    supervising = threading.Event()
    try:
        drill.set_up()
        kinds = ["postmaster", "patroni", "machine"]
        plan = [kind for _ in range(args.kills) for kind in kinds]
        members = args.members or 60000 * max(1, args.kills)
        round_id, links = drill.links(members)
        log(f"round {round_id}: {len(links)} invitation links")
        fields = answers(drill.root)
        downloads = Downloads(drill.download_round(10000, [key.removeprefix("q.") for key, _ in fields if key != "q.works_well"]))
        log("a round of 10,000 answer sets to download through the kills")
        load = Load(links, fields, args.concurrency)
        threading.Thread(target=drill.supervise, args=(supervising,), daemon=True).start()
        started = time.time()
        load.start()
        downloads.start()
        time.sleep(5)
        gaps = []
        closing = None
        for number, kind in enumerate(plan, 1):
            leader = None
            deadline = time.time() + 120
            while leader is None or drill.postmaster_pid(leader) is None:
                if time.time() > deadline:
                    raise RuntimeError("no leader with its standby within 120 s")
                leader = drill.leader() if drill.whole() else None
                if leader is None:
                    time.sleep(0.25)
            # The round's closing time falls inside the second failover, 2 s after the kill.
            if number == 2:
                closing, closes_at = drill.closing_round(closes_in=20)
                time.sleep(max(0, closes_at - 2 - time.time()))
                log(f"round {closing} closes in 2 s, inside the failover that starts now")
            killed_at = time.time()
            if kind == "postmaster":
                os.kill(drill.postmaster_pid(leader), signal.SIGKILL)
            elif kind == "patroni":
                drill.patroni[leader].send_signal(signal.SIGKILL)
            else:
                drill.patroni[leader].send_signal(signal.SIGKILL)
                drill.kill_node_servers(leader, signal.SIGKILL)
            # Service is back when answers are acknowledged again through both instances for
            # a while; the time without service is the longest stretch without an answer
            # acknowledged, from a second before the kill.
            # Patroni takes a moment to see the kill; the pair is not whole until it has.
            broken = time.time()
            while time.time() - killed_at < 15 and drill.whole():
                time.sleep(0.2)
            broken = time.time() - broken
            time.sleep(max(0, killed_at + 6 - time.time()))
            def back():
                recent = time.time() - 2
                return all(len(load.acknowledged_since(recent, port)) >= args.concurrency // 2 for port in KAOPING_PORTS)
            while time.time() - killed_at < 120 and not back():
                if load.running_out():
                    raise RuntimeError("the invitation links ran out; run again with more --members")
                time.sleep(0.2)
            gap = load.longest_gap(killed_at - 1, time.time())
            gaps.append((kind, gap))
            log(f"kill {number}/{len(plan)} ({kind} on node{leader + 1}): longest time without an acknowledged answer "
                f"{gap:.1f} s; Patroni saw it after {broken:.1f} s; leader now node{(drill.leader() or 0) + 1}")
            if kind != "postmaster" and drill.patroni[leader].poll() is not None:
                drill.patroni[leader].wait()
                drill.start_patroni(leader)
            drill.wait(drill.whole, 180, "the pair whole again")
            time.sleep(3)
        load.stop()
        downloads.stop()
        ended = time.time()
        supervising.set()

        # A backup taken from the standby, as docs/operations.md advises, while the primary
        # serves the round.
        dump = os.path.join(args.dir, "standby.dump")
        backup_started = time.time()
        try:
            drill.kaoping("backup", "--out", dump,
                          database_url=f"postgres://kaoping:{KAOPING_PASSWORD}@127.0.0.1:{STANDBY_PORT}/kaoping?sslmode=disable")
            backup = f"{os.path.getsize(dump) / 2**20:.1f} MiB in {time.time() - backup_started:.1f} s"
        except RuntimeError as error:
            backup = f"failed: {error}"
            failures.append(f"the backup from the standby {backup}")

        stored = int(drill.psql(f"SELECT (SELECT count(*) FROM ballot_box WHERE round_id = '{round_id}') "
                                f"+ (SELECT count(*) FROM responses WHERE round_id = '{round_id}')",
                                database="kaoping", user="kaoping", password=KAOPING_PASSWORD))
        used = int(drill.psql("SELECT count(*) FROM invitations WHERE used", database="kaoping", user="kaoping",
                              password=KAOPING_PASSWORD))
        closes = int(drill.psql(f"SELECT count(*) FROM audit_log WHERE action = 'round.closed' AND subject = '{closing}'",
                                database="kaoping", user="kaoping", password=KAOPING_PASSWORD))
        status = drill.psql(f"SELECT status FROM rounds WHERE id = '{closing}'", database="kaoping", user="kaoping",
                            password=KAOPING_PASSWORD)
        elapsed = ended - started
        print()
        print(f"Failover drill — {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
              f"{len(plan)} leader kills ({args.kills} of each kind), concurrency {args.concurrency}, two instances")
        print(f"answers acknowledged: {len(load.acknowledged)}")
        print(f"answers stored:       {stored} (invitations used: {used})")
        print(f"members who gave up (no acknowledgement within 180 s): {load.unfinished}")
        print("responses by status: " + ", ".join(f"{status_code} × {count}" for status_code, count in sorted(load.statuses.items(), key=lambda item: str(item[0]))))
        print(f"answers per second over the run: {len(load.acknowledged) / elapsed:.1f} ({elapsed:.0f} s)")
        for kind in ["postmaster", "patroni", "machine"]:
            seen = [gap for k, gap in gaps if k == kind]
            if seen:
                print(f"  {kind:10}: without service {', '.join(f'{gap:.1f}' for gap in seen)} s")
        longest = max((gap for _, gap in gaps), default=0)
        print(f"longest time without service: {longest:.1f} s")
        print(f"round closing inside a failover: {status}, closed {closes} time(s)")
        print(f"kaoping backup from the standby: {backup}")
        print(f"answers CSV downloaded slowly through the kills: {downloads.complete} complete, {downloads.cut} cut off, "
              f"{downloads.under_way} under way at the end, {downloads.not_started} not begun, "
              f"refused: {downloads.refused or 'none'}")
        print(f"instances that exited and were started again: {len(drill.exits)}")
        for moment, index, code, reason in drill.exits:
            print(f"  {time.strftime('%H:%M:%S', time.localtime(moment))} instance {index}, status {code}: {reason}")

        if stored != len(load.acknowledged):
            failures.append(f"{stored} answers stored, {len(load.acknowledged)} acknowledged")
        if load.statuses.get(500, 0):
            failures.append(f"{load.statuses[500]} responses were 500")
        if load.unfinished:
            failures.append(f"{load.unfinished} members were never acknowledged within 180 s")
        if longest > SERVICE_TARGET:
            failures.append(f"service was away {longest:.1f} s (target {SERVICE_TARGET:.0f} s)")
        if status != "closed" or closes != 1:
            failures.append(f"the round is {status}, closed {closes} times")
        if drill.exits:
            failures.append(f"an instance exited {len(drill.exits)} time(s)")
        if downloads.cut + downloads.complete + downloads.under_way == 0:
            failures.append("no download was under way")
    except Exception as error:
        failures.append(f"the drill stopped: {error}")
    finally:
        supervising.set()
        drill.stop_all()
        if failures:
            keep_logs(args.dir)
        shutil.rmtree(args.dir, ignore_errors=True)
        mine = {str(os.getpid()), str(os.getppid())}
        left = [pid for pid in subprocess.run(["pgrep", "-f", args.dir], capture_output=True, text=True).stdout.split() if pid not in mine]
        print(f"tear-down: {'nothing left running' if not left else 'still running: ' + ' '.join(left)}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        sys.exit(1)
    print("PASSED")


if __name__ == "__main__":
    main()
