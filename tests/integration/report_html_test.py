#!/usr/bin/env python3
"""The HTML run report (issue 12) in a real browser: headless Chromium (Debian's `chromium`).

A real `arrival migrate` (carbonio profile, a small size limit) and `arrival verify` on the testbed's Dovecots
make the reports: one account fails (its destination account does not exist), one has a folder named
`<script>pwned=1</script>` and adaptations (a message too large in that folder, a folder renamed for
':', a keyword dropped). `arrival report merge` puts them into one page; Chromium loads it and the
test reads the DOM after the page's script ran (`--dump-dom`): the script ran (the Content-Security-Policy
admits it by hash), the hostile folder name is text and its script never ran, failures come first, and a
harness script appended to a copy of the page clicks column headers and types into the filter (the page's
own handlers sort and filter). A screenshot goes to $ARRIVAL_ARTIFACTS_DIR (tools/check keeps it,
doc/testbed.md).

  d=$(bash tools/testbed/testbed start dovecot); set -a; . $d/env; set +a
  ARRIVAL_EXE=build-san/tools/arrival python3 tests/integration/report_html_test.py
  bash tools/testbed/testbed stop $d

Users: user441..user444 (the report range is 441-460).
"""
import base64
import hashlib
import imaplib
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest
from html.parser import HTMLParser

EXE = os.environ.get("ARRIVAL_EXE", "")
ENV = os.environ
TESTBED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "testbed")
NEEDED = ["ARRIVAL_DOVECOT_SRC_PORT", "ARRIVAL_DOVECOT_DST_PORT", "ARRIVAL_DOVECOT_USER_PASSWORD",
          "ARRIVAL_DOVECOT_MASTER_USER", "ARRIVAL_DOVECOT_MASTER_PASSWORD", "ARRIVAL_TESTBED_CA", "ARRIVAL_TESTBED_DIR"]
# No dot (Dovecot's maildir refuses it); "/" is the separator: folder "<script>pwned=1<" / "script>".
HOSTILE = "<script>pwned=1</script>"
CHROMIUM_SECONDS = 60


def user(n):
    return f"user{n:03d}@example.test"


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def message(subject, size=300):
    body = ("x" * 70 + "\r\n") * (size // 72 + 1)
    return (f"From: a@example.test\r\nTo: b@example.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@report.test>\r\nDate: Sat, 5 Dec 2026 07:00:00 +0000\r\n\r\n{body}").encode()


def seed(n, folders):
    """folders: name -> [(subject, size, flags, date)]; the user's source mailbox is emptied first."""
    subprocess.run(["bash", os.path.join(TESTBED, "dovecot.sh"), "reset-user", ENV["ARRIVAL_TESTBED_DIR"], "src", user(n)],
                   check=True, capture_output=True)
    subprocess.run(["bash", os.path.join(TESTBED, "dovecot.sh"), "reset-user", ENV["ARRIVAL_TESTBED_DIR"], "dst", user(n)],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(cafile=ENV["ARRIVAL_TESTBED_CA"])
    imap = imaplib.IMAP4("127.0.0.1", int(ENV["ARRIVAL_DOVECOT_SRC_PORT"]))
    imap.starttls(ssl_context=ctx)
    imap.login(user(n), ENV["ARRIVAL_DOVECOT_USER_PASSWORD"])
    for folder, messages in folders.items():
        quoted = '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if folder != "INBOX":
            typ, data = imap.create(quoted)
            assert typ == "OK", (folder, data)
        for subject, size, flags, date in messages:
            typ, data = imap.append(quoted, flags, date, message(subject, size))
            assert typ == "OK", (folder, subject, data)
    imap.logout()


class Elements(HTMLParser):
    """Every element's tag, attributes and text (enough to assert on a DOM dump)."""

    def __init__(self):
        super().__init__()
        self.stack, self.all = [], []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.all.append(el)
        if tag not in ("meta", "input", "br", "rect", "polyline", "link", "img"):
            self.stack.append(el)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data


def parse(html):
    p = Elements()
    p.feed(html)
    return p.all


# Appended to a copy of the page (and admitted by its hash in that copy's policy): exercises the page's own
# handlers through real DOM events, then writes what it saw into <body data-test>.
HARNESS = r"""
(function () {
  var out = {};
  var table = document.getElementById('rows-0');
  function col(name) {
    var ths = table.tHead.rows[0].cells;
    for (var i = 0; i < ths.length; ++i) if (ths[i].getAttribute('data-key') === name) return i;
    return -1;
  }
  function column(i) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[i].textContent; });
  }
  out.pwned = typeof window.pwned;
  out.ready = document.documentElement.getAttribute('data-ready');
  out.initial = column(col('source_user'));
  var th = table.tHead.rows[0].cells[col('copied')];
  th.click();
  out.copied_asc = column(col('copied'));
  out.dir_asc = th.getAttribute('data-dir');
  th.click();
  out.copied_desc = column(col('copied'));
  var box = document.querySelector('input[type=search][data-table="rows-0"]');
  box.value = '442';
  box.dispatchEvent(new Event('input'));
  out.filtered_visible = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; })
    .map(function (r) { return r.cells[col('source_user')].textContent; });
  out.count_text = document.querySelector('span.count[data-table="rows-0"]').textContent;
  box.value = '';
  box.dispatchEvent(new Event('input'));
  document.querySelector('input.failures-only[data-table="rows-0"]').click();
  out.failures_visible = Array.prototype.filter.call(table.tBodies[0].rows, function (r) { return !r.hidden; })
    .map(function (r) { return r.cells[col('source_user')].textContent; });
  document.body.setAttribute('data-test', JSON.stringify(out));
})();
"""


class ReportHtml(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [v for v in NEEDED if not ENV.get(v)]
        if not EXE or missing:
            raise AssertionError(f"needs ARRIVAL_EXE and the testbed (missing: {missing}); see the docstring")
        cls.chromium = chromium()
        if not cls.chromium:
            raise AssertionError("chromium is not installed: tools/bootstrap --tests installs it (apt-get install chromium)")
        cls.tmp = tempfile.mkdtemp(prefix="arrival-report-html-")
        cls.artifacts = ENV.get("ARRIVAL_ARTIFACTS_DIR") or os.path.join(cls.tmp, "artifacts")
        os.makedirs(cls.artifacts, exist_ok=True)
        now = time.localtime()
        big = 6000
        seed(441, {
            "INBOX": [(f"inbox {i}", 300, "", now) for i in range(5)],
            "<script>pwned=1<": [],
            HOSTILE: [("hostile one", 300, "", now), ("too big", big, "", now)],
            "Reports: 2026": [("dropped keyword", 300, "(Work:Urgent \\Seen)", now)],
        })
        seed(442, {"INBOX": [(f"small {i}", 200, "", now) for i in range(3)]})
        seed(443, {"INBOX": [(f"lost {i}", 200, "", now) for i in range(2)]})
        accounts = os.path.join(cls.tmp, "accounts.txt")
        with open(accounts, "w") as f:
            f.write(f"source_user,dest_user\n{user(441)},{user(441)}\n{user(442)},{user(442)}\n{user(443)},nosuch443@example.test\n")
        env = dict(ENV)
        env["ARRIVAL_SOURCE_PASSWORD"] = ENV["ARRIVAL_DOVECOT_MASTER_PASSWORD"]
        env["ARRIVAL_DEST_PASSWORD"] = ENV["ARRIVAL_DOVECOT_MASTER_PASSWORD"]
        common = ["--source", f"imap://127.0.0.1:{ENV['ARRIVAL_DOVECOT_SRC_PORT']}",
                  "--dest", f"imap://127.0.0.1:{ENV['ARRIVAL_DOVECOT_DST_PORT']}", "--ca-file", ENV["ARRIVAL_TESTBED_CA"],
                  "--accounts", accounts, "--source-admin", ENV["ARRIVAL_DOVECOT_MASTER_USER"],
                  "--dest-admin", ENV["ARRIVAL_DOVECOT_MASTER_USER"], "--dest-profile", "carbonio",
                  "--max-message-size", "4000", "--jobs", "3"]
        cls.migrate_json = os.path.join(cls.tmp, "migrate.json")
        cls.verify_json = os.path.join(cls.tmp, "verify.json")
        m = subprocess.run([EXE, "migrate", *common, "--progress", "none", "--state-dir", os.path.join(cls.tmp, "state"),
                            "--report", cls.migrate_json], env=env, capture_output=True, text=True, timeout=120)
        assert m.returncode in (1, 6), f"migrate: exit {m.returncode}, expected one failed account\n{m.stdout}\n{m.stderr}"
        v = subprocess.run([EXE, "verify", *common, "--report", cls.verify_json], env=env, capture_output=True, text=True,
                           timeout=120)
        assert os.path.exists(cls.verify_json), f"verify: exit {v.returncode}\n{v.stdout}\n{v.stderr}"
        cls.out = os.path.join(cls.tmp, "merged")
        r = subprocess.run([EXE, "report", "merge", "--out", cls.out, cls.migrate_json, cls.verify_json],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"report merge: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        cls.page = os.path.join(cls.out, "report.html")
        with open(cls.page, encoding="utf-8") as f:
            cls.html = f.read()

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "tmp"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_chromium(self, *args):
        profile = tempfile.mkdtemp(dir=self.tmp, prefix="chromium-")
        cmd = [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               "--disable-extensions", "--disable-background-networking", f"--user-data-dir={profile}", *args]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=CHROMIUM_SECONDS,
                               env={**ENV, "HOME": profile})
        except subprocess.TimeoutExpired:
            self.fail(f"chromium did not finish within {CHROMIUM_SECONDS} s: {' '.join(cmd)}")
        self.assertEqual(p.returncode, 0, f"chromium failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
        return p.stdout

    def test_reports_are_real(self):
        with open(self.migrate_json) as f:
            migrate = json.load(f)
        by_user = {a["source_user"]: a for a in migrate["accounts"]}
        self.assertEqual(by_user[user(443)]["status"], "failed")
        folders = {f["source_folder"]: f for f in by_user[user(441)]["folders"]}
        self.assertIn(HOSTILE, folders)
        self.assertEqual(folders["Reports: 2026"]["renamed"], {"from": "Reports: 2026", "to": "Reports_ 2026"})
        self.assertTrue(folders[HOSTILE].get("too_large"))
        self.assertTrue(any(c["from"] == "Work:Urgent" and c["to"] is None for c in folders["Reports: 2026"]["flags_changed"]))
        samples = migrate["throughput"]["samples"]
        self.assertGreaterEqual(len(samples), 2)
        self.assertEqual(samples[-1][1], sum(a["copied"] + a["failed"] for a in migrate["accounts"]))

    def test_page_in_chromium(self):
        # A copy of the page with a harness script appended (admitted by its hash next to the page's own): it
        # drives the page's handlers through DOM events and records what it saw in <body data-test>.
        harness = self.html.replace("</body>", "<script>" + HARNESS + "</script></body>")
        digest = base64.b64encode(hashlib.sha256(HARNESS.encode()).digest()).decode()
        harness = re.sub(r"script-src ('sha256-[^']+')", lambda m: f"script-src {m.group(1)} 'sha256-{digest}'", harness, count=1)
        path = os.path.join(self.tmp, "harness.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(harness)
        dom = self.run_chromium("--dump-dom", "file://" + path)
        els = parse(dom)
        html = next(e for e in els if e["tag"] == "html")
        self.assertEqual(html["attrs"].get("data-ready"), "1", "the page's script did not run in Chromium")
        # The hostile folder name is text in a cell, not an element: the page's script and the harness only.
        scripts = [e for e in els if e["tag"] == "script"]
        self.assertEqual(len(scripts), 2, [s["text"][:80] for s in scripts])
        self.assertIn(HOSTILE, [e["text"] for e in els if e["tag"] == "td"])
        body = next(e for e in els if e["tag"] == "body")
        self.assertIn("data-test", body["attrs"], "the harness did not run: " + dom[-2000:])
        got = json.loads(body["attrs"]["data-test"])
        self.assertEqual(got["pwned"], "undefined")
        self.assertEqual(got["ready"], "1")
        self.assertEqual(got["initial"][0], user(443), "the failed account is not first")
        self.assertEqual(sorted(got["initial"]), sorted([user(441), user(442), user(443)]))
        self.assertEqual(got["dir_asc"], "asc")
        asc = [int(x) for x in got["copied_asc"]]
        self.assertEqual(asc, sorted(asc))
        self.assertEqual([int(x) for x in got["copied_desc"]], sorted(asc, reverse=True))
        self.assertEqual(got["filtered_visible"], [user(442)])
        self.assertEqual(got["count_text"], "1 of 3")
        self.assertIn(user(443), got["failures_visible"])
        self.assertNotIn(user(442), got["failures_visible"])

    def test_screenshot(self):
        shot = os.path.join(self.artifacts, "report.png")
        if os.path.exists(shot):
            os.unlink(shot)
        self.run_chromium(f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars", "file://" + self.page)
        with open(shot, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n", "not a PNG: " + shot)
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        self.assertEqual((width, height), (1280, 2400))
        shutil.copy(self.page, os.path.join(self.artifacts, "report.html"))
        print(f"report_html: screenshot {shot}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
