#!/usr/bin/env python3
"""`--shard K/N` on the stage commands that need no server to show it (issue 12): every command refuses a bad
K/N with exit 2 and says why; provision (offline, --emit and --accounts-out), calendars, contacts and files
(against a port nothing listens on: every user fails, and is still reported) each take exactly their shard's
accounts, by a second implementation of engine/shard.hpp's specification (shard_partition.py), and record "shard": "K/N".
migrate and verify are tested on real servers by slurm_shards_test.py.

  ARRIVAL_EXE=build-san/tools/arrival python3 tests/integration/shard_cli_test.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shard_partition import shard_of  # noqa: E402

EXE = os.environ["ARRIVAL_EXE"]
USERS = [f"user{n:03}@example.test" for n in range(371, 421)]


def run(args, env=None):
    return subprocess.run([EXE] + args, capture_output=True, text=True, env=dict(os.environ, **(env or {})), timeout=120)


class ShardCli(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.TemporaryDirectory()
        self.dir = self.d.name
        self.accounts = self.path("accounts.txt", "".join(u + "\n" for u in USERS))
        self.pw = self.path("pw", "secret\n", 0o600)

    def tearDown(self):
        self.d.cleanup()

    def path(self, name, text=None, mode=0o644):
        p = os.path.join(self.dir, name)
        if text is not None:
            with open(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
                f.write(text)
        return p

    def commands(self):
        imap = ["--source", "imap://127.0.0.1:1", "--dest", "imap://127.0.0.1:1", "--accounts", self.accounts,
                "--source-password-file", self.pw, "--dest-password-file", self.pw]
        pim = ["--dir", self.dir, "--accounts", self.accounts, "--dest", "http://127.0.0.1:1/{user}/", "--allow-cleartext",
               "--password-file", self.pw]
        return {"migrate": ["migrate"] + imap + ["--state-dir", self.path("state")], "verify": ["verify"] + imap,
                "preflight": ["preflight"] + imap, "calendars": ["calendars"] + pim, "contacts": ["contacts"] + pim,
                "files": ["files", "--source", self.dir, "--accounts", self.accounts, "--dest", "http://127.0.0.1:1/{user}/",
                          "--allow-cleartext", "--password-file", self.pw],
                "provision": ["provision", self.path("empty.ldif", "\n"), "--check"]}

    def test_bad_shard_is_a_usage_error_on_every_command(self):
        bad_values = (("4/4", "K must be below N"), ("0/0", "N must be at least 1"), ("x", "expected"),
                      ("1/", "not a whole number"), ("-1/4", "not a whole number"))
        for name, args in self.commands().items():
            # Every value on one command (they share the parser), one on each of the others.
            for bad, why in bad_values if name == "migrate" else bad_values[:1]:
                p = run(args + ["--shard", bad])
                self.assertEqual(p.returncode, 2, f"{name} --shard {bad}: {p.stderr}")
                self.assertIn(why, p.stderr, f"{name} --shard {bad}")
                self.assertIn("--shard", p.stderr, name)

    def test_pim_and_files_take_their_shard_only(self):
        for name, args in self.commands().items():
            if name not in ("calendars", "contacts", "files"):
                continue
            seen = []
            for k in range(2):
                report = self.path(f"{name}-{k}.json")
                p = run(args + ["--shard", f"{k}/2", "--report", report, "--progress", "none"])
                self.assertNotEqual(p.returncode, 2, p.stderr)
                with open(report) as f:
                    r = json.load(f)
                self.assertEqual(r["shard"], f"{k}/2")
                users = [u["user"] for u in r["users"]]
                self.assertEqual(sorted(users), sorted(u for u in USERS if shard_of(u, 2) == k), name)
                seen += users
            self.assertEqual(sorted(seen), sorted(USERS), name)
            report = self.path(f"{name}-all.json")
            run(args + ["--report", report, "--progress", "none"])
            with open(report) as f:
                r = json.load(f)
            self.assertEqual(r["shard"], "0/1")
            self.assertEqual(len(r["users"]), len(USERS))

    def test_migrate_report_and_state_dir_per_shard(self):
        # Nothing listens on port 1: every account fails to connect, and the report still lists the shard's own.
        args = self.commands()["migrate"]
        for k in range(2):
            report = self.path(f"migrate-{k}.json")
            run(args + ["--shard", f"{k}/2", "--report", report, "--progress", "none", "--timeout", "5"])
            with open(report) as f:
                r = json.load(f)
            self.assertEqual(r["shard"], f"{k}/2")
            self.assertEqual(sorted(a["source_user"] for a in r["accounts"]), sorted(u for u in USERS if shard_of(u, 2) == k))
            self.assertTrue(os.path.exists(os.path.join(self.path("state"), f"shard-{k}-of-2", "arrival-state.sqlite")))
        self.assertFalse(os.path.exists(os.path.join(self.path("state"), "arrival-state.sqlite")))

    def test_provision_shard_keeps_its_accounts_and_shard_zero_the_rest(self):
        ldif = ["dn: dc=example,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: example\n",
                "dn: cn=default,cn=cos,cn=zimbra\nobjectClass: zimbraCOS\ncn: default\nzimbraId: 7e5a0000-0000-4000-8000-00000000c05a\n"]
        for i, u in enumerate(USERS):
            local = u.split("@")[0]
            ldif.append(f"dn: uid={local},ou=people,dc=example,dc=test\nobjectClass: inetOrgPerson\nobjectClass: zimbraAccount\n"
                        f"uid: {local}\ncn: {local}\nsn: {local}\nmail: {u}\nzimbraMailDeliveryAddress: {u}\n"
                        f"zimbraId: 7e5a0000-0000-4000-8000-{i:012x}\nzimbraAccountStatus: active\n")
        src = self.path("in.ldif", "\n".join(x for x in ldif if x))
        full = run(["provision", src, "--emit", self.path("all.ldif"), "--accounts-out", self.path("all.csv")])
        self.assertEqual(full.returncode, 0, full.stderr + full.stdout)
        seen = []
        for k in range(3):
            p = run(["provision", src, "--shard", f"{k}/3", "--emit", self.path(f"{k}.ldif"), "--accounts-out",
                     self.path(f"{k}.csv"), "--report", self.path(f"{k}.json")])
            self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
            with open(self.path(f"{k}.csv")) as f:
                rows = [line.split(",")[0] for line in f.read().splitlines()[1:]]
            self.assertEqual(sorted(rows), sorted(u for u in USERS if shard_of(u, 3) == k))
            seen += rows
            with open(self.path(f"{k}.ldif")) as f:
                emitted = f.read()
            self.assertEqual("dn: cn=default,cn=cos,cn=zimbra" in emitted, k == 0, f"the COS is shard 0's ({k})")
            self.assertEqual("dn: dc=example,dc=test" in emitted, k == 0, f"the domain is shard 0's ({k})")
            with open(self.path(f"{k}.json")) as f:
                self.assertEqual(json.load(f)["shard"], f"{k}/3")
        self.assertEqual(sorted(seen), sorted(USERS))


if __name__ == "__main__":
    unittest.main(verbosity=2)
