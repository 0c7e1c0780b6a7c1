#!/usr/bin/env python3
"""`arrival files` (issue 10) against the testbed: Apache httpd + mod_dav (tools/testbed/webdav.sh) as WebDAV source
and destination, and the Carbonio stand-in's Files endpoints (FACTS.md §3) as destination.

Three users' trees - a directory, a Zimbra tgz export, a WebDAV tree - with nested folders, non-ASCII names and
empty files land byte-identical in the stand-in and in WebDAV; a rerun uploads nothing; one changed file makes one
new version. A 1 GB sparse file goes to WebDAV while /usr/bin/time measures arrival's peak RSS (< 100 MB).

  d=$(bash tools/testbed/testbed start dovecot carbonio webdav); set -a; . $d/env; set +a
  ARRIVAL_EXE=build-san/tools/arrival python3 tests/integration/files_test.py [-k NAME]
  bash tools/testbed/testbed stop $d

Users: user291..user305 (the files range is 291-320; 320 is the stand-in's selftest).
"""
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import unittest

EXE = os.environ.get("ARRIVAL_EXE", "")
ENV = os.environ
TESTBED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "testbed")
NEEDED = ["ARRIVAL_WEBDAV_URL", "ARRIVAL_WEBDAV_ROOT", "ARRIVAL_WEBDAV_CA", "ARRIVAL_WEBDAV_ADMIN",
          "ARRIVAL_WEBDAV_ADMIN_PASSWORD_FILE", "ARRIVAL_CARBONIO_REST_URL", "ARRIVAL_CARBONIO_ADMIN_URL",
          "ARRIVAL_CARBONIO_ADMIN", "ARRIVAL_CARBONIO_ADMIN_PASSWORD", "ARRIVAL_CARBONIO_DB", "ARRIVAL_TESTBED_DIR"]


def user(n):
    return f"user{n:03d}@example.test"


# The trees: relative path -> bytes. Nested folders, non-ASCII names, an empty file and an empty folder.
def tree(tag):
    return {
        "Projekte/Q3/plan é.txt": f"Plan {tag}\n".encode(),
        "Ünïcode 日本/メモ.md": f"# {tag}\n".encode() * 50,
        "empty.txt": b"",
        "changing.txt": b"version one\n",
        "Bilder/deep/er/photo.bin": bytes(range(256)) * 300,
    }


def write_tree(root, files, empty_dir=True):
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    if empty_dir:
        os.makedirs(os.path.join(root, "Leer"), exist_ok=True)
    for d, _, fs in os.walk(root):  # readable by Apache (www-data) for the WebDAV source
        os.chmod(d, 0o755)
        for f in fs:
            os.chmod(os.path.join(d, f), 0o644)


def write_tgz(path, files, revisions):
    """A Zimbra ?fmt=tgz export as ArchiveFormatter writes it: per item "<path>.meta" (ItemData JSON) then the
    bytes; a versioned document once per revision, oldest first, named "<name>-<%05d version>"."""
    with tarfile.open(path, "w:gz") as t:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))

        def meta(mailbox_path, size, version, type_=8):
            return json.dumps({"id": 300, "type": type_, "size": size, "date": 1700000000 + version,
                               "name": mailbox_path.rsplit("/", 1)[1], "Path": mailbox_path,
                               "metadata": f"d3:veri{version}ee", "Ver": 10}).encode()

        add("Inbox/0000000257-hello.eml.meta", meta("/Inbox/hello", 20, 1, type_=5))
        add("Inbox/0000000257-hello.eml", b"Subject: hello\r\n\r\nhi")
        for rel, data in files.items():
            revs = revisions.get(rel, [])
            for v, old in enumerate(revs, start=1):
                add(f"Briefcase/{rel}-{v:05d}.meta", meta(f"/Briefcase/{rel}", len(old), v))
                add(f"Briefcase/{rel}-{v:05d}", old)
            v = len(revs) + 1
            add(f"Briefcase/{rel}.meta", meta(f"/Briefcase/{rel}", len(data), v))
            add(f"Briefcase/{rel}", data)


class files_test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [v for v in NEEDED if not ENV.get(v)]
        if not EXE or missing:
            raise RuntimeError(f"ARRIVAL_EXE and the testbed (dovecot carbonio webdav) are needed; missing: {missing}")
        cls.tmp = tempfile.mkdtemp(prefix="arrival-files-test.")
        os.chmod(cls.tmp, 0o711)
        cls.carbonio_pw = os.path.join(cls.tmp, "carbonio.pw")
        with open(os.open(cls.carbonio_pw, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"] + "\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----
    def reset(self, *users):
        for u in users:
            subprocess.run(["bash", os.path.join(TESTBED, "carbonio.sh"), "reset-user", ENV["ARRIVAL_TESTBED_DIR"], u],
                           check=True)
            shutil.rmtree(os.path.join(ENV["ARRIVAL_WEBDAV_ROOT"], u), ignore_errors=True)

    def arrival(self, source, dest, pairs, name, extra=(), timed=False, env=None):
        accounts = os.path.join(self.tmp, f"{name}.csv")
        with open(accounts, "w") as f:
            f.write("source_user,dest_user\n" + "".join(f"{s},{d}\n" for s, d in pairs))
        report = os.path.join(self.tmp, f"{name}.json")
        args = [EXE, "files", "--source", source, "--accounts", accounts, "--report", report, "--jobs", "3",
                "--ca-file", ENV["ARRIVAL_WEBDAV_CA"], "--progress", "log"]
        if dest == "carbonio":
            args += ["--dest", "carbonio+" + ENV["ARRIVAL_CARBONIO_REST_URL"], "--admin-url",
                     ENV["ARRIVAL_CARBONIO_ADMIN_URL"], "--admin", ENV["ARRIVAL_CARBONIO_ADMIN"],
                     "--password-file", self.carbonio_pw]
        else:
            args += ["--dest", ENV["ARRIVAL_WEBDAV_URL"], "--admin", ENV["ARRIVAL_WEBDAV_ADMIN"],
                     "--password-file", ENV["ARRIVAL_WEBDAV_ADMIN_PASSWORD_FILE"]]
        if source.startswith("https://"):
            args += ["--source-admin", ENV["ARRIVAL_WEBDAV_ADMIN"], "--source-password-file",
                     ENV["ARRIVAL_WEBDAV_ADMIN_PASSWORD_FILE"]]
        args += list(extra)
        if timed:
            args = ["/usr/bin/time", "-f", "maxrss_kb=%M", "--"] + args
        p = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
        with open(report) as f:
            r = json.load(f)
        self.assertNotIn(ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"], p.stderr + p.stdout + json.dumps(r))
        return p, r

    def carbonio_tree(self, account):
        """path -> bytes of the last version, and path -> version, from the stand-in's Files tables."""
        db = sqlite3.connect(ENV["ARRIVAL_CARBONIO_DB"])
        nodes = {r[0]: r[1:] for r in db.execute(
            "SELECT id, parent, name, kind FROM files_nodes WHERE account=?", (account,))}
        out, versions = {}, {}
        blobs = os.path.join(os.path.dirname(ENV["ARRIVAL_CARBONIO_DB"]), "files")
        for nid, (parent, name, kind) in nodes.items():
            parts = [name]
            while parent != "LOCAL_ROOT":
                parent, pname, _ = nodes[parent]
                parts.insert(0, pname)
            path = "/".join(parts)
            if kind == "FOLDER":
                out[path + "/"] = None
                continue
            (v,), = db.execute("SELECT max(version) FROM files_versions WHERE node=?", (nid,))
            with open(os.path.join(blobs, f"{nid}.{v}"), "rb") as f:
                out[path] = f.read()
            versions[path] = v
        db.close()
        return out, versions

    @staticmethod
    def webdav_tree(account):
        root = os.path.join(ENV["ARRIVAL_WEBDAV_ROOT"], account)
        out = {}
        for d, dirs, fs in os.walk(root):
            rel = os.path.relpath(d, root)
            for sub in dirs:
                out[os.path.normpath(os.path.join(rel, sub)) + "/"] = None
            for f in fs:
                with open(os.path.join(d, f), "rb") as fh:
                    out[os.path.normpath(os.path.join(rel, f))] = fh.read()
        return out

    @staticmethod
    def expected(files, empty_dir=True):
        out = dict(files)
        for rel in files:
            parts = rel.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                out["/".join(parts[:i]) + "/"] = None
        if empty_dir:
            out["Leer/"] = None
        return out

    def sources(self, base):
        """The three users' sources (directory, tgz, WebDAV) for source users base, base+1, base+2."""
        d, z, w = user(base), user(base + 1), user(base + 2)
        dir_root = os.path.join(self.tmp, f"dir{base}")
        write_tree(os.path.join(dir_root, d), tree("dir"))
        tgz_root = os.path.join(self.tmp, f"tgz{base}")
        os.makedirs(tgz_root)
        tgz_files = tree("tgz")
        write_tgz(os.path.join(tgz_root, f"{z}.tgz"), tgz_files, {"changing.txt": [b"rev 1\n", b"rev two\n"]})
        shutil.rmtree(os.path.join(ENV["ARRIVAL_WEBDAV_ROOT"], w), ignore_errors=True)
        write_tree(os.path.join(ENV["ARRIVAL_WEBDAV_ROOT"], w), tree("webdav"))
        dav_source = ENV["ARRIVAL_WEBDAV_URL"]
        return [(dir_root, d, tree("dir"), True), ("zimbra-tgz:" + tgz_root, z, tgz_files, False),
                (dav_source, w, tree("webdav"), True)]

    def check_three_sources(self, dest, base, dest_base):
        sources = self.sources(base)
        dests = [user(dest_base + i) for i in range(3)]
        self.reset(*dests)
        for i, (src, u, files, empty_dir) in enumerate(sources):
            with self.subTest(source=src):
                p, r = self.arrival(src, dest, [(u, dests[i])], f"{dest}-{base}-{i}")
                self.assertEqual(p.returncode, 0, p.stderr)
                got = self.carbonio_tree(dests[i])[0] if dest == "carbonio" else self.webdav_tree(dests[i])
                self.assertEqual(got, self.expected(files, empty_dir))
                t = r["totals"]
                self.assertEqual((t["files"], t["uploaded"], t["failed"]), (5, 5, 0), r)
                if src.startswith("zimbra-tgz:"):
                    self.assertEqual(t["versions"], 2, "two older revisions, then the current one")
                    self.assertEqual(r["users"][0]["left_out"], {"message": 1})
                # A rerun uploads nothing.
                p, r = self.arrival(src, dest, [(u, dests[i])], f"{dest}-{base}-{i}-again")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual((r["totals"]["uploaded"], r["totals"]["versions"], r["totals"]["skipped_existing"]),
                                 (0, 0, 5), r)
        # One changed file (directory source): one new version, nothing else.
        src, u, files, _ = sources[0]
        changed = os.path.join(src, u, "changing.txt")
        time.sleep(1.1)  # a later modification time than the upload, at one-second resolution
        with open(changed, "ab") as f:
            f.write(b"version two\n")
        p, r = self.arrival(src, dest, [(u, dests[0])], f"{dest}-{base}-changed")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual((r["totals"]["uploaded"], r["totals"]["versions"], r["totals"]["skipped_existing"]),
                         (0, 1, 4), r)
        if dest == "carbonio":
            got, versions = self.carbonio_tree(dests[0])
            self.assertEqual(versions["changing.txt"], 2)
        else:
            got = self.webdav_tree(dests[0])
        self.assertEqual(got["changing.txt"], b"version one\nversion two\n")

    # ---- tests ----
    def test_three_sources_into_carbonio_files(self):
        self.check_three_sources("carbonio", 291, 294)

    def test_three_sources_into_webdav(self):
        self.check_three_sources("webdav", 297, 300)

    def test_dry_run_writes_nothing(self):
        src = os.path.join(self.tmp, "dry")
        write_tree(os.path.join(src, user(304)), tree("dry"))
        self.reset(user(304))
        p, r = self.arrival(src, "carbonio", [(user(304), user(304))], "dry", ["--dry-run"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.carbonio_tree(user(304))[0], {})
        self.assertTrue(r["dry_run"])
        self.assertEqual(r["totals"]["uploaded"], 5)
        self.assertIn("upload Projekte/Q3/plan é.txt", p.stdout)

    def test_one_gigabyte_sparse_file_rss_stays_flat(self):
        # Peak RSS of a 1-byte upload and of a 1 GiB one (sparse: cheap on disk, 1 GiB on the wire). The sanitizer
        # build carries ~200 MB of its own (shadow memory; its quarantine of freed blocks, capped here at 8 MB, else
        # 256 MB), so what must stay small is the difference; the absolute bound applies to builds without it.
        src = os.path.join(self.tmp, "big")
        os.makedirs(os.path.join(src, user(305)))
        big = os.path.join(src, user(305), "big.bin")
        with open(big, "wb") as f:
            f.write(b"x")
        self.reset(user(305))
        env = dict(ENV, ASAN_OPTIONS=ENV.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8")
        p, r = self.arrival(src, "webdav", [(user(305), user(305))], "tiny", timed=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        baseline_kb = int(p.stderr.rsplit("maxrss_kb=", 1)[1].split()[0])
        with open(big, "wb") as f:
            f.truncate(1 << 30)
            f.seek((1 << 30) - 5)
            f.write(b"tail!")
        start = time.monotonic()
        p, r = self.arrival(src, "webdav", [(user(305), user(305))], "big", timed=True, env=env)
        seconds = time.monotonic() - start
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual((r["totals"]["versions"], r["totals"]["bytes_sent"]), (1, 1 << 30), r)
        rss_kb = int(p.stderr.rsplit("maxrss_kb=", 1)[1].split()[0])
        print(f"\n1 GiB to WebDAV: {seconds:.1f} s; arrival peak RSS {rss_kb / 1024:.1f} MB "
              f"(1-byte upload: {baseline_kb / 1024:.1f} MB)", flush=True)
        self.assertLess(rss_kb - baseline_kb, 50 * 1024)
        if baseline_kb < 50 * 1024:
            self.assertLess(rss_kb, 100 * 1024)
        landed = os.path.join(ENV["ARRIVAL_WEBDAV_ROOT"], user(305), "big.bin")
        self.assertEqual(os.path.getsize(landed), 1 << 30)
        with open(landed, "rb") as f:
            f.seek((1 << 30) - 5)
            self.assertEqual(f.read(), b"tail!")
        shutil.rmtree(os.path.join(ENV["ARRIVAL_WEBDAV_ROOT"], user(305)), ignore_errors=True)  # 1 GiB on disk

if __name__ == "__main__":
    unittest.main(verbosity=2)
