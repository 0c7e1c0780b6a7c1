#!/usr/bin/env python3
"""`arrival shares` (issue 10) against the testbed: the ACL Dovecot pair (tools/testbed/dovecot-acl.sh: RFC 4314,
groups, a public namespace) as source and destination, and a CSV into the Carbonio stand-in's FolderActionRequest
grants (FACTS.md §4).

Per-folder ACLs (a user mapped through the accounts file, the group $staff, anyone, authenticated, a negative
right), a public-folder ACL, a folder the destination does not have yet; then a rerun changes nothing, and
--dry-run lists a new grant without writing it. The CSV: a user, a group, anyone, a letter Carbonio lacks, a
missing folder; a rerun sends nothing.

  d=$(bash tools/testbed/testbed start dovecot-acl dovecot carbonio); set -a; . $d/env; set +a
  ARRIVAL_EXE=build-san/tools/arrival python3 tests/integration/shares_test.py [-k NAME]
  bash tools/testbed/testbed stop $d

Users: user336..user350 (the shares range is 331-350; 331-335 are the ACL pair's $staff group).
"""
import imaplib
import json
import os
import shutil
import sqlite3
import ssl
import subprocess
import tempfile
import unittest

EXE = os.environ.get("ARRIVAL_EXE", "")
ENV = os.environ
TESTBED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "testbed")
NEEDED = ["ARRIVAL_ACL_SRC_PORT", "ARRIVAL_ACL_DST_PORT", "ARRIVAL_ACL_MASTER_USER", "ARRIVAL_ACL_MASTER_PASSWORD",
          "ARRIVAL_ACL_SRC_MAIL", "ARRIVAL_ACL_DST_MAIL", "ARRIVAL_ACL_SRC_PUBLIC", "ARRIVAL_ACL_DST_PUBLIC",
          "ARRIVAL_TESTBED_CA", "ARRIVAL_CARBONIO_REST_URL", "ARRIVAL_CARBONIO_ADMIN_URL", "ARRIVAL_CARBONIO_ADMIN",
          "ARRIVAL_CARBONIO_ADMIN_PASSWORD", "ARRIVAL_CARBONIO_DB", "ARRIVAL_TESTBED_DIR"]
imaplib.Commands.setdefault("LISTRIGHTS", ("AUTH", "SELECTED"))


def user(n):
    return f"user{n:03d}@example.test"


def login(side, who):
    c = imaplib.IMAP4("127.0.0.1", int(ENV[f"ARRIVAL_ACL_{side}_PORT"]))
    c.starttls(ssl_context=ssl.create_default_context(cafile=ENV["ARRIVAL_TESTBED_CA"]))
    c.login(f"{who}*{ENV['ARRIVAL_ACL_MASTER_USER']}", ENV["ARRIVAL_ACL_MASTER_PASSWORD"])
    return c


def acl(c, folder):
    """GETACL as {identifier: rights}, the server's global ("#") entries left out."""
    typ, data = c.getacl(folder)
    assert typ == "OK", (folder, data)
    words = data[0].decode().split(" ")[1:]   # "<folder> id rights id rights..." (our names have no spaces)
    return {words[i]: "".join(sorted(words[i + 1])) for i in range(0, len(words), 2) if not words[i].startswith("#")}


def ok(c, result):
    assert result[0] == "OK", result
    return result


def wipe(*dirs):
    for d in dirs:
        for name in os.listdir(d) if os.path.isdir(d) else []:
            shutil.rmtree(os.path.join(d, name), ignore_errors=True)


class shares_test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [v for v in NEEDED if not ENV.get(v)]
        if not EXE or missing:
            raise RuntimeError(f"ARRIVAL_EXE and the testbed (dovecot-acl dovecot carbonio) are needed; missing: {missing}")
        cls.tmp = tempfile.mkdtemp(prefix="arrival-shares-test.")
        cls.master_pw = os.path.join(cls.tmp, "master.pw")
        cls.carbonio_pw = os.path.join(cls.tmp, "carbonio.pw")
        for path, secret in ((cls.master_pw, ENV["ARRIVAL_ACL_MASTER_PASSWORD"]),
                             (cls.carbonio_pw, ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"])):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(secret + "\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_arrival(self, args, name):
        report = os.path.join(self.tmp, f"{name}.json")
        p = subprocess.run([EXE, "shares"] + args + ["--report", report], capture_output=True, text=True, timeout=120)
        self.assertTrue(os.path.exists(report), p.stderr)
        with open(report) as f:
            r = json.load(f)
        for secret in (ENV["ARRIVAL_ACL_MASTER_PASSWORD"], ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"]):
            self.assertNotIn(secret, p.stderr + p.stdout + json.dumps(r))
        return p, r

    def imap_shares(self, accounts, name, extra=()):
        master = ENV["ARRIVAL_ACL_MASTER_USER"]
        return self.run_arrival(
            ["--source", f"imap://127.0.0.1:{ENV['ARRIVAL_ACL_SRC_PORT']}",
             "--dest", f"imap://127.0.0.1:{ENV['ARRIVAL_ACL_DST_PORT']}", "--accounts", accounts,
             "--source-admin", master, "--source-password-file", self.master_pw,
             "--dest-admin", master, "--dest-password-file", self.master_pw,
             "--ca-file", ENV["ARRIVAL_TESTBED_CA"], "--map-domain", "old.example=example.test",
             "--public", "--public-account", user(336)] + list(extra), name)

    def test_mail_folder_acls_arrive_mapped_and_a_rerun_changes_nothing(self):
        owner, friend, friend_dest, denied = user(336), user(337), user(338), user(339)
        # This test's users and the public namespace (only this test uses the ACL pair's) start empty.
        wipe(ENV["ARRIVAL_ACL_SRC_PUBLIC"], ENV["ARRIVAL_ACL_DST_PUBLIC"])
        for side in ("SRC", "DST"):
            for n in range(336, 341):
                shutil.rmtree(os.path.join(ENV[f"ARRIVAL_ACL_{side}_MAIL"], "example.test", f"user{n}"), ignore_errors=True)
        s = login("SRC", owner)
        for folder in ("Projects", "Projects/Sub", "Later", "Public/Team"):
            ok(s, s.create(folder))
        ok(s, s.setacl("Projects", friend, "lrs"))
        ok(s, s.setacl("Projects", "$staff", "lr"))
        ok(s, s.setacl("Projects", "anyone", "l"))
        ok(s, s.setacl("Projects", "-" + denied, "r"))
        ok(s, s.setacl("Projects/Sub", "authenticated", "lr"))
        ok(s, s.setacl("Projects/Sub", "carol@old.example", "lr"))   # not in the accounts file: --map-domain
        ok(s, s.setacl("Later", friend, "lr"))
        ok(s, s.setacl("Public/Team", "$staff", "lrwi"))
        d = login("DST", owner)
        for folder in ("Projects", "Projects/Sub", "Public/Team"):   # what migrate made; "Later" it has not yet
            ok(d, d.create(folder))
        accounts = os.path.join(self.tmp, "accounts.csv")
        with open(accounts, "w") as f:
            f.write(f"source_user,dest_user\n{owner},{owner}\n{friend},{friend_dest}\n")

        p, r = self.imap_shares(accounts, "first")
        self.assertEqual(p.returncode, 1, p.stderr)   # "Later" is not on the destination: reported, not created
        self.assertEqual(acl(d, "Projects"), {friend_dest: "lrs", "$staff": "lr", "anyone": "l", "-" + denied: "r"})
        self.assertEqual(acl(d, "Projects/Sub"), {"authenticated": "lr", "carol@example.test": "lr"})
        self.assertEqual(acl(d, "Public/Team"), {"$staff": "ilrw"})
        self.assertEqual(r["totals"]["added"], 7, json.dumps(r, indent=1))
        self.assertEqual((r["totals"]["refused"], r["totals"]["failed"]), (0, 1))
        later = [f for a in r["accounts"] for f in a["folders"] if f["source"] == "Later"][0]
        self.assertIn("not on the destination yet", later["error"])
        self.assertIn("Later", p.stdout)
        by_id = {g["identifier"]: g for a in r["accounts"] for f in a["folders"] for g in f["grants"]}
        self.assertEqual(by_id[friend]["dest_identifier"], friend_dest)
        self.assertEqual(by_id[friend]["status"], "added")
        self.assertTrue(all(g["status"] == "skipped" for i, g in by_id.items() if i.startswith("#")))

        # A rerun writes nothing (the destination's ACL files keep their mtime) and says so.
        acl_files = [os.path.join(root, n) for root, _, names in os.walk(ENV["ARRIVAL_ACL_DST_MAIL"])
                     for n in names if n == "dovecot-acl"]
        self.assertTrue(acl_files)
        before = {f: os.stat(f).st_mtime_ns for f in acl_files}
        p, r = self.imap_shares(accounts, "rerun")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual((r["totals"]["added"], r["totals"]["unchanged"]), (0, 7), json.dumps(r["totals"]))
        self.assertEqual(before, {f: os.stat(f).st_mtime_ns for f in acl_files})

        # --dry-run lists a new grant and writes nothing.
        ok(s, s.setacl("Projects", user(340), "lrswi"))
        p, r = self.imap_shares(accounts, "dry", ["--dry-run"])
        self.assertIn(f"would grant {user(340)} +lrswi", p.stdout)
        self.assertEqual(r["totals"]["added"], 1)
        self.assertNotIn(user(340), acl(d, "Projects"))
        s.logout()
        d.logout()

    def test_csv_shares_become_carbonio_grants_and_a_rerun_sends_nothing(self):
        owner = user(341)
        subprocess.run(["bash", os.path.join(TESTBED, "carbonio.sh"), "reset-user", ENV["ARRIVAL_TESTBED_DIR"], owner],
                       check=True)
        csv_path = os.path.join(self.tmp, "shares.csv")
        with open(csv_path, "w") as f:
            f.write("owner,folder,grantee,rights\n"
                    f"{owner},/Calendar,{user(342)},r\n"
                    f"{owner},Contacts,group:team@example.test,rw\n"
                    f"{owner},/calendar,anyone,r\n"
                    f"{owner},/Calendar,{user(343)},rwz\n"
                    f"{owner},/Nope,{user(342)},r\n")
        args = ["--from", csv_path, "--dest", "carbonio+" + ENV["ARRIVAL_CARBONIO_REST_URL"],
                "--admin-url", ENV["ARRIVAL_CARBONIO_ADMIN_URL"], "--admin", ENV["ARRIVAL_CARBONIO_ADMIN"],
                "--password-file", self.carbonio_pw, "--ca-file", ENV["ARRIVAL_TESTBED_CA"]]
        p, r = self.run_arrival(args, "csv")
        self.assertEqual(p.returncode, 1, p.stderr)   # /Nope does not exist
        db = sqlite3.connect(ENV["ARRIVAL_CARBONIO_DB"], timeout=30)
        grants = sorted(db.execute("SELECT folder, gt, grantee, perm FROM grants WHERE account=?", (owner,)).fetchall())
        self.assertEqual(grants, [(7, "grp", "team@example.test", "rw"), (10, "all", "", "r"),
                                  (10, "usr", user(342), "r"), (10, "usr", user(343), "rw")])
        self.assertEqual((r["totals"]["added"], r["totals"]["failed"]), (4, 1), json.dumps(r, indent=1))
        refused = [g for a in r["accounts"] for f in a["folders"] for g in f["grants"] if g.get("refused_rights")]
        self.assertEqual([(g["identifier"], g["refused_rights"]) for g in refused], [(user(343), "z")])
        p, r = self.run_arrival(args, "csv-rerun")
        self.assertEqual((r["totals"]["added"], r["totals"]["unchanged"]), (0, 4), json.dumps(r["totals"]))
        self.assertEqual(grants, sorted(db.execute("SELECT folder, gt, grantee, perm FROM grants WHERE account=?",
                                                   (owner,)).fetchall()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
