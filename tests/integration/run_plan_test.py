#!/usr/bin/env python3
"""`arrival run PLAN.toml` (issue 12) against the testbed: Dovecot SRC/DST, slapd and Radicale.

A plan with provision, migrate, calendars, contacts and verify runs every stage; a rerun skips them all; --redo
migrate copies nothing new; a failed stage blocks the stages that depend on it; SIGTERM in the middle of
migrate ends the run as "interrupted" (exit 130) and the rerun completes with every message exactly once.
No password value is in any argv, output or file of the run directory.

  d=$(bash tools/testbed/testbed start dovecot slapd radicale); set -a; . $d/env; set +a
  ARRIVAL_EXE=build-san/tools/arrival python3 tests/integration/run_plan_test.py [-k NAME]
  bash tools/testbed/testbed stop $d

With --shard K/N every stage gets the shard, each shard keeps its own directory, and together the shards copy
every message once.

Users: user351..user354 (the run range is 351-370); --shard and the later run features: user491..user520; the
grants stage (the Carbonio stand-in, testbed component carbonio): user361, user362, user364.
"""
import imaplib
import json
import os
import re
import shutil
import signal
import sqlite3
import ssl
import stat
import subprocess
import tempfile
import time
import unittest
import urllib.request

from metrics_url import metrics_url
from shard_partition import shard_of

EXE = os.environ.get("ARRIVAL_EXE", "")
ENV = os.environ
TESTBED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "testbed")
NEEDED = ["ARRIVAL_DOVECOT_SRC_PORT", "ARRIVAL_DOVECOT_DST_PORT", "ARRIVAL_DOVECOT_SRC_MAIL", "ARRIVAL_DOVECOT_DST_MAIL",
          "ARRIVAL_DOVECOT_USER_PASSWORD", "ARRIVAL_TESTBED_CA", "ARRIVAL_SLAPD_URL", "ARRIVAL_SLAPD_CA",
          "ARRIVAL_SLAPD_BIND_DN", "ARRIVAL_SLAPD_PASSWORD", "ARRIVAL_RADICALE_URL", "ARRIVAL_RADICALE_PASSWORD",
          "ARRIVAL_RADICALE_STORAGE"]


def user(n):
    return f"user{n:03d}@example.test"


def imap(side, who):
    conn = imaplib.IMAP4("127.0.0.1", int(ENV[f"ARRIVAL_DOVECOT_{side}_PORT"]))
    conn.starttls(ssl.create_default_context(cafile=ENV["ARRIVAL_TESTBED_CA"]))
    conn.login(who, ENV["ARRIVAL_DOVECOT_USER_PASSWORD"])
    return conn


def reset_mail(who):
    local, domain = who.split("@")
    for side in ("SRC", "DST"):
        shutil.rmtree(os.path.join(ENV[f"ARRIVAL_DOVECOT_{side}_MAIL"], domain, local), ignore_errors=True)


def seed(who, count, size=3000):
    conn = imap("SRC", who)
    for i in range(count):
        body = (f"Message-ID: <run-{who}-{i}@test>\r\nFrom: a@example.test\r\nTo: {who}\r\n"
                f"Subject: run {i}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n").encode() + b"x" * (size + i)
        conn.append("INBOX", "(\\Seen)", None, body)
    conn.logout()


def message_ids(side, who):
    """Message-ID -> how many times it is in the INBOX on `side`."""
    conn = imap(side, who)
    _, data = conn.select("INBOX", readonly=True)
    ids = {}
    if int(data[0]) > 0:
        _, fetched = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        for part in fetched:
            if isinstance(part, tuple):
                mid = part[1].decode().split(":", 1)[1].strip()
                ids[mid] = ids.get(mid, 0) + 1
    conn.logout()
    return ids


def inbox_count(side, who):
    conn = imap(side, who)
    _, data = conn.status("INBOX", "(MESSAGES)")
    conn.logout()
    return int(data[0].decode().rsplit(" ", 1)[1].rstrip(")"))


class plan_dir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="arrival-run-test-")

    def file(self, name, text, mode=0o600):
        path = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path


def arrival(args, env_extra=None, timeout=120):
    env = dict(ENV)
    env.update(env_extra or {})
    p = subprocess.run([EXE] + args, capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def mail_plan(accounts, extra=""):
    """The servers and credentials of a mail plan; the stages come in `extra`."""
    return f"""accounts = "{accounts}"
allow_cleartext = false
[credentials.mail]
file = "mail.pw"
[servers.source]
url = "imap://127.0.0.1:{ENV['ARRIVAL_DOVECOT_SRC_PORT']}"
ca_file = "{ENV['ARRIVAL_TESTBED_CA']}"
[servers.dest]
url = "imap://127.0.0.1:{ENV['ARRIVAL_DOVECOT_DST_PORT']}"
ca_file = "{ENV['ARRIVAL_TESTBED_CA']}"
profile = "generic"
credentials = "mail"
""" + extra


class run_plan_test(unittest.TestCase):
    def setUp(self):
        missing = [v for v in NEEDED if not ENV.get(v)]
        self.assertFalse(missing, f"testbed not started (tools/testbed/testbed start dovecot slapd radicale): {missing}")
        self.assertTrue(EXE and os.access(EXE, os.X_OK), "ARRIVAL_EXE must name the arrival binary")
        self.d = plan_dir()
        # The per-user password of the source comes through the environment (a name the plan gives), the
        # destination's from a file: both ways a plan may name a credential.
        self.d.file("mail.pw", ENV["ARRIVAL_DOVECOT_USER_PASSWORD"] + "\n")
        self.env = {"RUN_TEST_SOURCE_PW": ENV["ARRIVAL_DOVECOT_USER_PASSWORD"],
                    "RUN_TEST_LDAP_PW": ENV["ARRIVAL_SLAPD_PASSWORD"],
                    "RUN_TEST_DAV_PW": ENV["ARRIVAL_RADICALE_PASSWORD"]}
        for v in ("ARRIVAL_SOURCE_PASSWORD", "ARRIVAL_DEST_PASSWORD", "ARRIVAL_PASSWORD", "ARRIVAL_LDAP_PASSWORD"):
            self.env[v] = ""   # only what the plan names may reach the stages
        self.secrets = [ENV["ARRIVAL_DOVECOT_USER_PASSWORD"], ENV["ARRIVAL_SLAPD_PASSWORD"], ENV["ARRIVAL_RADICALE_PASSWORD"]]

    def tearDown(self):
        shutil.rmtree(self.d.path, ignore_errors=True)

    def assert_no_secret(self, text, where):
        for s in self.secrets:
            self.assertNotIn(s, text, f"a password in {where}")

    def assert_run_dir_clean(self, run_dir):
        for root, dirs, files in os.walk(run_dir):
            for name in files:
                path = os.path.join(root, name)
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode) & 0o077, 0, f"{path} is not owner-only")
                if name.endswith(".json"):
                    with open(path) as f:
                        self.assert_no_secret(f.read(), path)

    def run_json(self, run_dir):
        with open(os.path.join(run_dir, "run.json")) as f:
            return json.load(f)

    def statuses(self, run_dir):
        return {s["name"]: s["status"] for s in self.run_json(run_dir)["stages"]}

    def test_whole_plan_then_rerun_skips_then_redo_copies_nothing(self):
        users = [user(351), user(352)]
        for u in users:
            reset_mail(u)
            for sub in ("collection-root", ""):
                shutil.rmtree(os.path.join(ENV["ARRIVAL_RADICALE_STORAGE"], sub, u), ignore_errors=True)
        seed(users[0], 30)
        seed(users[1], 12)
        accounts = self.d.file("accounts.txt", "\n".join(users) + "\n")
        self.d.file("export/cos.ldif", "dn: cn=run-plan-cos,cn=cos,cn=zimbra\nobjectClass: zimbraCOS\ncn: run-plan-cos\n"
                                       "zimbraId: 7e5a0000-0000-4000-8000-000000000351\n")
        self.d.file(f"export/ics/{users[0]}.ics",
                    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:run-plan-1\r\n"
                    "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:plan\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "csv", "thunderbird.csv")
        os.makedirs(os.path.join(self.d.path, "export", "csv"))
        shutil.copy(fixture, os.path.join(self.d.path, "export", "csv", f"{users[0]}.csv"))
        plan = self.d.file("plan.toml", mail_plan(accounts, f"""
[credentials.source]
env = "RUN_TEST_SOURCE_PW"
[credentials.ldap]
env = "RUN_TEST_LDAP_PW"
[credentials.dav]
env = "RUN_TEST_DAV_PW"
[servers.ldap]
url = "{ENV['ARRIVAL_SLAPD_URL']}"
ca_file = "{ENV['ARRIVAL_SLAPD_CA']}"
bind_dn = "{ENV['ARRIVAL_SLAPD_BIND_DN']}"
credentials = "ldap"
[servers.dav]
url = "{ENV['ARRIVAL_RADICALE_URL']}"
credentials = "dav"
[stages.verify]
[stages.contacts]
dir = "export/csv"
dest = "{ENV['ARRIVAL_RADICALE_URL']}{{user}}/contacts/"
[stages.calendars]
dir = "export/ics"
dest = "{ENV['ARRIVAL_RADICALE_URL']}{{user}}/calendar/"
[stages.migrate]
jobs = 2
[stages.provision]
ldif = "export/cos.ldif"
"""))
        # Radicale here is cleartext: the plan says so.
        with open(plan) as f:
            text = f.read().replace("allow_cleartext = false", "allow_cleartext = true")
        with open(plan, "w") as f:
            f.write(text.replace('[servers.source]\n', '[servers.source]\ncredentials = "source"\n', 1))
        run_dir = os.path.join(self.d.path, "run")

        rc, out, err = arrival(["plan", "check", plan])
        self.assertEqual(rc, 0, err)
        order = [line.split()[1] for line in out.splitlines() if line.strip()[:2] in ("1.", "2.", "3.", "4.", "5.")]
        self.assertEqual(order, ["provision", "migrate", "calendars", "contacts", "verify"], out)

        t0 = time.monotonic()
        rc, out, err = arrival(["run", plan, "--run-dir", run_dir, "--progress", "log"], self.env)
        first = time.monotonic() - t0
        self.assertEqual(rc, 0, out + err)
        self.assert_no_secret(out + err, "the output")
        self.assertEqual(self.statuses(run_dir), {s: "ok" for s in ["provision", "migrate", "calendars", "contacts", "verify"]})
        run = self.run_json(run_dir)
        self.assertEqual(run["shard"], "0/1")
        migrate = next(s for s in run["stages"] if s["name"] == "migrate")
        copied = sum(f["copied"] for a in migrate["report"]["accounts"] for f in a["folders"])
        self.assertEqual(copied, 42)
        # One display for the run: each stage's final line (stage i/n, accounts, messages, bytes, both ETAs); the
        # stages draw nothing of their own. The stages after migrate never ran: the run's ETA is unknown.
        self.assertRegex(err, r"run \d\d:\d\d, stage 2/5 migrate: 2/2 accounts, 42/42 messages, \S+ \S+ of \S+ \S+, "
                              r"stage ETA 00:00, run ETA --:--\n")
        self.assertRegex(err, r"stage 1/5 provision: running \d\d:\d\d")
        self.assertRegex(err, r"stage 3/5 calendars: \d+/2 users, 1/1 events")
        self.assertNotIn("progress:", err)
        self.assertEqual(len(message_ids("DST", users[0])), 30)
        self.assert_run_dir_clean(run_dir)
        for name in ("run-state.json", "run.json", "provision.json", "migrate.json", "calendars.json", "contacts.json",
                     "verify.json"):
            self.assertTrue(os.path.exists(os.path.join(run_dir, name)), name)

        # A rerun skips every completed stage and touches no server.
        rc, out, err = arrival(["run", plan, "--run-dir", run_dir], self.env)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count("completed earlier"), 5, out)
        self.assertEqual(self.statuses(run_dir), {s: "ok" for s in ["provision", "migrate", "calendars", "contacts", "verify"]})

        # --redo migrate runs it again, against its state: nothing new to copy.
        rc, out, err = arrival(["run", plan, "--run-dir", run_dir, "--redo", "migrate"], self.env)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count("completed earlier"), 4, out)
        # Not a terminal, no --progress: log lines, as migrate writes them. Every stage after migrate is skipped,
        # so the run's ETA is the stage's.
        self.assertRegex(err, r"stage 2/5 migrate: 2/2 accounts, .*, stage ETA 00:00, run ETA 00:00\n")
        with open(os.path.join(run_dir, "migrate.json")) as f:
            again = json.load(f)
        self.assertEqual(sum(f["copied"] for a in again["accounts"] for f in a["folders"]), 0)
        self.assertEqual(len(message_ids("DST", users[0])), 30)
        self.assertEqual(inbox_count("DST", users[1]), 12)
        print(f"\nwhole plan, 5 stages, 42 messages: first run {first:.1f} s")

    def test_failed_stage_blocks_what_depends_on_it(self):
        reset_mail(user(353))
        accounts = self.d.file("accounts.txt", user(353) + "\n")
        self.d.file("cos.ldif", "dn: cn=run-plan-cos2,cn=cos,cn=zimbra\nobjectClass: zimbraCOS\ncn: run-plan-cos2\n"
                                "zimbraId: 7e5a0000-0000-4000-8000-000000000353\n")
        self.d.file("wrong.pw", "not-the-password\n")
        plan = self.d.file("plan.toml", mail_plan(accounts, f"""
[credentials.wrong]
file = "wrong.pw"
[servers.ldap]
url = "{ENV['ARRIVAL_SLAPD_URL']}"
ca_file = "{ENV['ARRIVAL_SLAPD_CA']}"
bind_dn = "{ENV['ARRIVAL_SLAPD_BIND_DN']}"
credentials = "wrong"
[stages.provision]
ldif = "cos.ldif"
[stages.migrate]
[stages.verify]
"""))
        run_dir = os.path.join(self.d.path, "run")
        rc, out, err = arrival(["run", plan, "--run-dir", run_dir], self.env)
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(self.statuses(run_dir), {"provision": "failed", "migrate": "blocked", "verify": "blocked"})
        stages = {s["name"]: s for s in self.run_json(run_dir)["stages"]}
        self.assertEqual(stages["provision"]["exit_status"], 6)   # the bind was refused
        self.assertIn("provision did not succeed", stages["migrate"]["reason"])
        self.assertIn("migrate did not succeed", stages["verify"]["reason"])

    def test_sigterm_mid_migrate_then_rerun_has_every_message_once(self):
        who = user(354)
        reset_mail(who)
        total = 400
        seed(who, total, size=2000)
        accounts = self.d.file("accounts.txt", who + "\n")
        plan = self.d.file("plan.toml", mail_plan(accounts, """
[credentials.source]
env = "RUN_TEST_SOURCE_PW"
[stages.migrate]
jobs = 1
batch = 5
connections_per_account = 1
[stages.verify]
"""))
        with open(plan) as f:
            text = f.read()
        with open(plan, "w") as f:
            f.write(text.replace('[servers.source]\n', '[servers.source]\ncredentials = "source"\n', 1))
        run_dir = os.path.join(self.d.path, "run")
        env = dict(ENV)
        env.update(self.env)
        p = subprocess.Popen([EXE, "run", plan, "--run-dir", run_dir, "--progress", "none"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sent = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:
            if inbox_count("DST", who) >= 40:
                p.send_signal(signal.SIGTERM)
                sent = True
                break
            time.sleep(0.05)
        out, err = p.communicate(timeout=60)
        self.assertTrue(sent, "migrate finished before it could be interrupted:\n" + out + err)
        self.assertEqual(p.returncode, 130, out + err)
        self.assertEqual(self.statuses(run_dir), {"migrate": "interrupted", "verify": "not_run"})
        self.assertNotIn("run ETA", err)   # --progress none
        partial = inbox_count("DST", who)
        self.assertLess(partial, total)
        # Every batch the destination acknowledged is in the state: the rerun copies exactly the rest.
        rc, out, err = arrival(["run", plan, "--run-dir", run_dir], self.env)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.statuses(run_dir), {"migrate": "ok", "verify": "ok"})
        with open(os.path.join(run_dir, "migrate.json")) as f:
            rerun = json.load(f)
        self.assertEqual(sum(f["copied"] for a in rerun["accounts"] for f in a["folders"]), total - partial)
        ids = message_ids("DST", who)
        self.assertEqual(len(ids), total)
        self.assertEqual(set(ids.values()), {1}, "a message arrived twice")
        print(f"\nSIGTERM after {partial} of {total} messages; the rerun copied {total - partial}")

    def source_env_plan(self, accounts, stages, top=""):
        """A mail plan whose source password comes from RUN_TEST_SOURCE_PW; `top`: top-level keys."""
        plan = self.d.file("plan.toml", top + mail_plan(accounts, '[credentials.source]\nenv = "RUN_TEST_SOURCE_PW"\n' + stages))
        with open(plan) as f:
            text = f.read()
        with open(plan, "w") as f:
            f.write(text.replace('[servers.source]\n', '[servers.source]\ncredentials = "source"\n', 1))
        return plan

    def test_shard_every_stage_gets_it_and_the_shards_copy_everything_once(self):
        users = [user(n) for n in range(491, 497)]
        for i, u in enumerate(users):
            reset_mail(u)
            seed(u, 3 + i, size=500)
        accounts = self.d.file("accounts.txt", "\n".join(users) + "\n")
        plan = self.source_env_plan(accounts, '[stages.migrate]\njobs = 2\n[stages.verify]\n', top='shard = "1/2"\n')
        run_dir = os.path.join(self.d.path, "run")

        rc, out, err = arrival(["plan", "check", plan])
        self.assertEqual(rc, 0, err)
        self.assertIn("--shard 1/2", out)
        # Bad shards are usage errors, on the command line and in the plan, and nothing is created.
        for bad in ("2/2", "1-2", "0/0"):
            rc, out, err = arrival(["run", plan, "--run-dir", run_dir, "--shard", bad], self.env)
            self.assertEqual(rc, 2, out + err)
            self.assertIn("shard", err)
        self.assertFalse(os.path.exists(run_dir))
        with open(plan) as f:
            bad_plan = self.d.file("bad.toml", f.read().replace('shard = "1/2"', 'shard = "3/2"'))
        rc, out, err = arrival(["run", bad_plan], self.env)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("bad.toml:1:9: shard: '3/2' is not a shard K/N", err)

        # The plan says 1/2; --shard 0/2 wins for the first run, the plan's shard is the second.
        took = {}
        for k, args in ((0, ["--shard", "0/2"]), (1, [])):
            rc, out, err = arrival(["run", plan, "--run-dir", run_dir, "--progress", "none"] + args, self.env)
            self.assertEqual(rc, 0, out + err)
            shard_dir = os.path.join(run_dir, f"shard-{k}-of-2")
            self.assertEqual(self.run_json(shard_dir)["shard"], f"{k}/2")
            self.assertEqual(self.statuses(shard_dir), {"migrate": "ok", "verify": "ok"})
            for stage in ("migrate", "verify"):
                with open(os.path.join(shard_dir, f"{stage}.json")) as f:
                    self.assertEqual(json.load(f)["shard"], f"{k}/2", stage)
            self.assertTrue(os.path.exists(os.path.join(shard_dir, "migrate-state", f"shard-{k}-of-2")))
            with open(os.path.join(shard_dir, "migrate.json")) as f:
                took[k] = {a["source_user"] for a in json.load(f)["accounts"]}
            self.assertEqual(took[k], {u for u in users if shard_of(u, 2) == k})
            self.assert_run_dir_clean(shard_dir)
        self.assertFalse(os.path.exists(os.path.join(run_dir, "run.json")))   # each shard has its own
        self.assertEqual(took[0] | took[1], set(users))
        for i, u in enumerate(users):
            ids = message_ids("DST", u)
            self.assertEqual(len(ids), 3 + i, u)
            self.assertEqual(set(ids.values()), {1}, u)
        # A rerun of one shard skips its completed stages; the other shard's directory is not its business.
        rc, out, err = arrival(["run", plan, "--run-dir", run_dir], self.env)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count("completed earlier"), 2, out)

    def test_metrics_served_for_the_whole_run(self):
        users = [user(497), user(498)]
        for u in users:
            reset_mail(u)
            seed(u, 15, size=500)
        accounts = self.d.file("accounts.txt", "\n".join(users) + "\n")
        plan = self.source_env_plan(accounts, "[stages.migrate]\njobs = 1\nbatch = 3\n[stages.verify]\n")
        rc, out, err = arrival(["run", plan, "--metrics", "127.0.0.1:99999"], self.env)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("--metrics", err)
        env = dict(ENV)
        env.update(self.env)
        p = subprocess.Popen([EXE, "run", plan, "--run-dir", os.path.join(self.d.path, "run"), "--progress", "none",
                              "--metrics", ":0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        url, seen, drain = metrics_url(p)   # the URL comes before the first stage
        self.assertIsNotNone(url, "".join(seen))
        self.assertIn("arrival run: metrics at", "".join(seen))
        copied = []   # arrival_messages_copied_total per scrape, and whether verify had started by then
        while p.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    text = r.read().decode()
            except OSError:
                break   # the run ended between poll() and the request
            self.assertIn("arrival_up 1", text)
            copied.append(int(float(re.search(r"^arrival_messages_copied_total (\S+)$", text, re.M).group(1))))
            time.sleep(0.02)
        out = p.stdout.read()
        self.assertEqual(p.wait(timeout=60), 0, out + "".join(seen))
        drain.join(timeout=5)
        p.stdout.close()
        p.stderr.close()
        self.assertTrue(copied, out)
        self.assertEqual(copied, sorted(copied))   # a counter
        # Still served after migrate finished (during verify, the next stage): the server lives for the run.
        self.assertEqual(copied[-1], 30, out)

    def test_shares_stage_after_migrate_on_the_acl_pair(self):
        """The plan's shares stage on the ACL Dovecot pair (tools/testbed/dovecot-acl.sh), after migrate made the folder."""
        missing = [v for v in ("ARRIVAL_ACL_SRC_PORT", "ARRIVAL_ACL_DST_PORT", "ARRIVAL_ACL_MASTER_USER",
                               "ARRIVAL_ACL_MASTER_PASSWORD", "ARRIVAL_ACL_SRC_MAIL", "ARRIVAL_ACL_DST_MAIL") if not ENV.get(v)]
        self.assertFalse(missing, f"testbed without dovecot-acl: {missing}")
        self.secrets.append(ENV["ARRIVAL_ACL_MASTER_PASSWORD"])
        owner, friend = user(499), user(500)
        for side in ("SRC", "DST"):
            for who in (owner, friend):
                shutil.rmtree(os.path.join(ENV[f"ARRIVAL_ACL_{side}_MAIL"], "example.test", who.split("@")[0]),
                              ignore_errors=True)

        def master_login(side, who):
            c = imaplib.IMAP4("127.0.0.1", int(ENV[f"ARRIVAL_ACL_{side}_PORT"]))
            c.starttls(ssl.create_default_context(cafile=ENV["ARRIVAL_TESTBED_CA"]))
            c.login(f"{who}*{ENV['ARRIVAL_ACL_MASTER_USER']}", ENV["ARRIVAL_ACL_MASTER_PASSWORD"])
            return c
        s = master_login("SRC", owner)
        self.assertEqual(s.create("Team")[0], "OK")
        self.assertEqual(s.setacl("Team", friend, "lrs")[0], "OK")
        s.logout()
        self.d.file("master.pw", ENV["ARRIVAL_ACL_MASTER_PASSWORD"] + "\n")
        accounts = self.d.file("accounts.txt", f"{owner}\n{friend}\n")
        plan = self.d.file("plan.toml", f"""accounts = "{accounts}"
[credentials.master]
file = "master.pw"
[servers.source]
url = "imap://127.0.0.1:{ENV['ARRIVAL_ACL_SRC_PORT']}"
ca_file = "{ENV['ARRIVAL_TESTBED_CA']}"
login = "{ENV['ARRIVAL_ACL_MASTER_USER']}"
credentials = "master"
[servers.dest]
url = "imap://127.0.0.1:{ENV['ARRIVAL_ACL_DST_PORT']}"
ca_file = "{ENV['ARRIVAL_TESTBED_CA']}"
login = "{ENV['ARRIVAL_ACL_MASTER_USER']}"
credentials = "master"
[stages.shares]
map_domain = "old.example=example.test"
[stages.migrate]
""")
        rc, out, err = arrival(["plan", "check", plan])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"2\. shares .*\(after migrate\)")
        self.assertIn("arrival shares --source", out)
        self.assertIn("--map-domain old.example=example.test", out)
        with open(plan) as f:
            bad = self.d.file("bad.toml", f.read().replace("map_domain", "from"))
        rc, out, err = arrival(["plan", "check", bad])
        self.assertEqual(rc, 2, out + err)
        self.assertIn("unknown key 'from' in [stages.shares]", err)

        run_dir = os.path.join(self.d.path, "run")
        rc, out, err = arrival(["run", plan, "--run-dir", run_dir, "--progress", "none"], self.env)
        self.assertEqual(rc, 0, out + err)
        self.assert_no_secret(out + err, "the output")
        self.assertEqual(self.statuses(run_dir), {"migrate": "ok", "shares": "ok"})
        report = next(st["report"] for st in self.run_json(run_dir)["stages"] if st["name"] == "shares")
        self.assertEqual(report["totals"]["added"], 1, json.dumps(report))
        d = master_login("DST", owner)
        typ, data = d.getacl("Team")
        d.logout()
        self.assertEqual(typ, "OK")
        self.assertIn(f"{friend} lrs", data[0].decode())
        self.assert_run_dir_clean(run_dir)

    def test_grants_stage_writes_the_csv_as_carbonio_grants_shard_by_shard(self):
        """[stages.grants], the CSV form of arrival shares, on the Carbonio stand-in: each shard writes its owners' grants."""
        missing = [v for v in ("ARRIVAL_CARBONIO_REST_URL", "ARRIVAL_CARBONIO_ADMIN_URL", "ARRIVAL_CARBONIO_ADMIN",
                               "ARRIVAL_CARBONIO_ADMIN_PASSWORD", "ARRIVAL_CARBONIO_DB", "ARRIVAL_TESTBED_DIR") if not ENV.get(v)]
        self.assertFalse(missing, f"testbed without carbonio: {missing}")
        self.secrets.append(ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"])
        owners, grantee = [user(364), user(361)], user(362)   # shard 1 of 2 and shard 0 of 2
        self.assertEqual([shard_of(o, 2) for o in owners], [1, 0])
        for o in owners:
            subprocess.run(["bash", os.path.join(TESTBED, "carbonio.sh"), "reset-user", ENV["ARRIVAL_TESTBED_DIR"], o], check=True)
        self.d.file("shares.csv", "owner,folder,grantee,rights\n" + "".join(f"{o},/Calendar,{grantee},r\n" for o in owners))
        accounts = self.d.file("accounts.txt", "\n".join(owners + [grantee]) + "\n")
        plan = self.d.file("plan.toml", f"""accounts = "{accounts}"
[credentials.zx]
env = "RUN_TEST_CARBONIO_PW"
[servers.carbonio]
url = "{ENV['ARRIVAL_CARBONIO_REST_URL']}"
admin_url = "{ENV['ARRIVAL_CARBONIO_ADMIN_URL']}"
login = "{ENV['ARRIVAL_CARBONIO_ADMIN']}"
credentials = "zx"
ca_file = "{ENV['ARRIVAL_TESTBED_CA']}"
[stages.grants]
from = "shares.csv"
""")
        env = dict(self.env, RUN_TEST_CARBONIO_PW=ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"])
        rc, out, err = arrival(["plan", "check", plan, "--shard", "1/2"])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("shard 1/2\n", out)
        self.assertRegex(out, r"1\. grants ")
        self.assertIn("arrival shares --dest carbonio+https://", out)
        self.assertIn("--from " + os.path.join(self.d.path, "shares.csv"), out)
        self.assertIn("--shard 1/2", out)
        self.assertIn("$RUN_TEST_CARBONIO_PW handed over as $ARRIVAL_PASSWORD", out)

        db = sqlite3.connect(ENV["ARRIVAL_CARBONIO_DB"], timeout=30)

        def grants(owner):
            return db.execute("SELECT folder, gt, grantee, perm FROM grants WHERE account=?", (owner,)).fetchall()
        run_dir = os.path.join(self.d.path, "run")
        for k in (1, 0):
            rc, out, err = arrival(["run", plan, "--run-dir", run_dir, "--shard", f"{k}/2", "--progress", "none"], env)
            self.assertEqual(rc, 0, out + err)
            self.assert_no_secret(out + err, "the output")
            shard_dir = os.path.join(run_dir, f"shard-{k}-of-2")
            self.assertEqual(self.statuses(shard_dir), {"grants": "ok"})
            report = self.run_json(shard_dir)["stages"][0]["report"]
            self.assertEqual(report["shard"], f"{k}/2")
            self.assertEqual(report["totals"]["added"], 1, json.dumps(report))
            mine = owners[1 - k]
            self.assertEqual(grants(mine), [(10, "usr", grantee, "r")])
            if k == 1:
                self.assertEqual(grants(owners[1]), [], "shard 1 wrote shard 0's grants")
            self.assert_run_dir_clean(run_dir)
        # Again: skipped as completed; redone, it finds every grant in place and writes nothing.
        rc, out, err = arrival(["run", plan, "--run-dir", run_dir, "--shard", "0/2", "--redo", "grants", "--progress", "none"], env)
        self.assertEqual(rc, 0, out + err)
        report = self.run_json(os.path.join(run_dir, "shard-0-of-2"))["stages"][0]["report"]
        self.assertEqual((report["totals"]["added"], report["totals"]["unchanged"]), (0, 1), json.dumps(report["totals"]))

    def test_plan_check_reports_every_error_and_refuses_passwords(self):
        plan = self.d.file("bad.toml", """accounts = "missing.csv"
[servers.source]
url = "imap://127.0.0.1:1"
password = "hunter2"
[servers.dest]
url = "imap://127.0.0.1:2"
[stages.migrate]
jobz = 3
""")
        rc, out, err = arrival(["plan", "check", plan])
        self.assertEqual(rc, 2, out + err)
        self.assertIn("bad.toml:1:", err)                # the accounts file does not exist
        self.assertIn("missing.csv does not exist", err)
        self.assertIn("bad.toml:4:1: 'password'", err)
        self.assertIn("bad.toml:8:1: unknown key 'jobz'", err)
        self.assertIn("3 error(s)", err)
        rc, out, err = arrival(["run", plan])
        self.assertEqual(rc, 2, out + err)
        self.assertFalse(os.path.exists(os.path.join(self.d.path, "bad.run")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
