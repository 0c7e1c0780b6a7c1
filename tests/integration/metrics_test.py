#!/usr/bin/env python3
"""`arrival migrate --metrics` (issue 12) scraped during a real run on the testbed's Dovecots (SRC -> DST).

Three accounts of 80 small messages each are copied one account at a time in batches of 4, while this test
scrapes http://127.0.0.1:PORT/metrics (port 0: the one arrival prints) every few milliseconds. Every scrape must
parse with prometheus_client's own parser (text format 0.0.4), carry a HELP and TYPE for every metric
doc/metrics.md lists, and the counters must only go up; at least one scrape must fall in the middle of the run
(some but not all messages copied), and the last one must show latencies observed on both servers.

  d=$(bash tools/testbed/testbed start dovecot); set -a; . $d/env; set +a
  ARRIVAL_EXE=build-san/tools/arrival python3 tests/integration/metrics_test.py
  bash tools/testbed/testbed stop $d

`arrival verify --metrics` and `arrival preflight --metrics` are scraped the same way, each reaching the server
it reads through tools/testbed/tcp-proxy with 20 ms of delay so that a scrape falls inside the run: verify
counts the source messages it compared and, the destination being empty, every one of them as missing;
preflight counts the messages it scanned.

Users: user430..user434 (helper content's range 421-440).
"""
import imaplib
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:   # a python3 other than Debian's (pyenv) first in PATH: the package is Debian's (tools/bootstrap)
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

from metrics_url import metrics_url  # noqa: E402

EXE = os.environ.get("ARRIVAL_EXE", "")
ENV = os.environ
DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "doc", "metrics.md")
USERS = [f"user{n:03d}@example.test" for n in range(430, 433)]
PER_USER = 80


def reset(instance, u):
    local, domain = u.split("@")
    shutil.rmtree(os.path.join(ENV[f"ARRIVAL_DOVECOT_{instance}_MAIL"], domain, local), ignore_errors=True)


def seed(u):
    ctx = ssl.create_default_context(cafile=ENV["ARRIVAL_TESTBED_CA"])
    m = imaplib.IMAP4("127.0.0.1", int(ENV["ARRIVAL_DOVECOT_SRC_PORT"]))
    m.starttls(ssl_context=ctx)
    m.login(u, ENV["ARRIVAL_DOVECOT_USER_PASSWORD"])
    for i in range(PER_USER):
        body = (f"Message-ID: <m{i}.{u}>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: a@example.test\r\n"
                f"Subject: metrics {i}\r\n\r\n" + "metrics body line\r\n" * 40).encode()
        typ, _ = m.append("INBOX", None, None, body)
        assert typ == "OK"
    m.logout()


def prepare(users, work):
    """Each user's mail seeded on SRC, DST emptied, the accounts file in `work`: (its path, the passwords' env)."""
    for u in users:
        reset("SRC", u)
        reset("DST", u)
        seed(u)
    accounts = os.path.join(work, "accounts.txt")
    with open(accounts, "w") as f:
        f.write("\n".join(users) + "\n")
    return accounts, dict(ENV, ARRIVAL_SOURCE_PASSWORD=ENV["ARRIVAL_DOVECOT_USER_PASSWORD"],
                          ARRIVAL_DEST_PASSWORD=ENV["ARRIVAL_DOVECOT_USER_PASSWORD"])


PROXY = ENV.get("ARRIVAL_TCP_PROXY") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                                     "testbed", "tcp-proxy")


def delay_proxy(port_var):
    """tools/testbed/tcp-proxy in front of a testbed Dovecot, 20 ms each way: (process, its port)."""
    p = subprocess.Popen([PROXY, "--print-port", "--target", f"127.0.0.1:{ENV[port_var]}", "--delay-ms", "20"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p, int(p.stdout.readline())


def scrape_until_exit(testcase, p):
    """Scrapes the URL the command prints every few milliseconds until it exits: (scrapes, stdout, stderr lines)."""
    url, stderr_lines, drain = metrics_url(p)
    testcase.assertIsNotNone(url, "".join(stderr_lines))
    scrapes = []
    while p.poll() is None:
        try:
            scrapes.append(scrape(url))
        except OSError:
            break   # the run ended between poll() and the request
        time.sleep(0.02)
    out = p.stdout.read()
    p.wait(timeout=60)
    drain.join(timeout=5)
    p.stdout.close()
    p.stderr.close()
    return scrapes, out, stderr_lines


def documented_names():
    with open(DOC, encoding="utf-8") as f:
        return set(re.findall(r"^\| `(arrival_[a-z_]+)`", f.read(), re.M))


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
        return r.read().decode()


def values(text):
    """{(sample name, frozenset(labels)): value}, through prometheus_client's parser, plus the family names."""
    out, families = {}, {}
    for fam in text_string_to_metric_families(text):
        families[fam.name] = fam
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, families


class MetricsDuringARun(unittest.TestCase):
    def test_counters_move_and_the_format_parses(self):
        self.assertTrue(EXE, "ARRIVAL_EXE is not set")
        work = tempfile.mkdtemp(prefix="arrival-metrics-test.")
        try:
            accounts, env = prepare(USERS, work)
            p = subprocess.Popen(
                [EXE, "migrate", "--source", f"imap://127.0.0.1:{ENV['ARRIVAL_DOVECOT_SRC_PORT']}",
                 "--dest", f"imap://127.0.0.1:{ENV['ARRIVAL_DOVECOT_DST_PORT']}", "--ca-file", ENV["ARRIVAL_TESTBED_CA"],
                 "--accounts", accounts, "--jobs", "1", "--connections-per-account", "1", "--batch", "4",
                 "--state-dir", os.path.join(work, "state"), "--progress", "none", "--metrics", ":0"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            scrapes, out, stderr_lines = scrape_until_exit(self, p)   # the URL comes before any account starts
            self.assertEqual(p.returncode, 0, out + "".join(stderr_lines))
            self.assertGreater(len(scrapes), 2, out)

            names = documented_names()
            self.assertGreaterEqual(len(names), 9)
            total = PER_USER * len(USERS)
            copied = []
            previous = {}
            for text in scrapes:
                v, families = values(text)
                for n in names:
                    base = n[:-len("_total")] if n.endswith("_total") else n   # the parser names counters without it
                    self.assertIn(base, families, f"{n} missing from a scrape")
                    self.assertIn(f"# HELP {n} ", text)
                    self.assertIn(f"# TYPE {n} ", text)
                for key, value in v.items():
                    if key[0].endswith(("_total", "_count", "_sum", "_bucket")):
                        self.assertGreaterEqual(value, previous.get(key, 0), f"{key} went down")
                previous = v
                copied.append(v[("arrival_messages_copied_total", frozenset())])
            self.assertTrue(any(0 < c < total for c in copied), f"no scrape fell inside the run: {copied}")
            last, _ = values(scrapes[-1])
            self.assertGreater(last[("arrival_bytes_copied_total", frozenset())], 0)
            for server, op in (("source", "index"), ("source", "fetch"), ("destination", "append")):
                labels = frozenset({"server": server, "operation": op}.items())
                self.assertGreater(last[("arrival_imap_latency_seconds_count", labels)], 0, (server, op))
            self.assertEqual(last[("arrival_errors_total", frozenset({"kind": "message"}.items()))], 0)
            self.assertIn(f"{total}", out)   # the summary's copied total
        finally:
            shutil.rmtree(work, ignore_errors=True)


    def test_verify_and_preflight_count_what_they_read(self):
        self.assertTrue(EXE, "ARRIVAL_EXE is not set")
        users = [f"user{n:03d}@example.test" for n in (433, 434)]
        total = PER_USER * len(users)
        work = tempfile.mkdtemp(prefix="arrival-metrics-test.")
        proxies = []
        try:
            accounts, env = prepare(users, work)
            src_proxy, src_port = delay_proxy("ARRIVAL_DOVECOT_SRC_PORT")
            dst_proxy, dst_port = delay_proxy("ARRIVAL_DOVECOT_DST_PORT")
            proxies = [src_proxy, dst_proxy]
            common = ["--source", f"imap://127.0.0.1:{src_port}", "--dest", f"imap://127.0.0.1:{dst_port}",
                      "--ca-file", ENV["ARRIVAL_TESTBED_CA"], "--accounts", accounts, "--jobs", "1", "--metrics", ":0"]
            for command, label in (("verify", "verify"), ("preflight", "preflight")):
                p = subprocess.Popen([EXE, command] + common, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                scrapes, out, stderr_lines = scrape_until_exit(self, p)
                # verify: every message is missing (exit 1); preflight: nothing blocks (exit 0).
                self.assertEqual(p.returncode, 1 if command == "verify" else 0, out + "".join(stderr_lines))
                key = ("arrival_messages_checked_total", frozenset({"command": label}.items()))
                missing_key = ("arrival_verify_differences_total", frozenset({"kind": "missing"}.items()))
                checked, active, previous = [], [], {}
                for text in scrapes:
                    v, _ = values(text)
                    for k, value in v.items():
                        if k[0].endswith(("_total", "_count", "_sum", "_bucket")):
                            self.assertGreaterEqual(value, previous.get(k, 0), f"{command}: {k} went down")
                    previous = v
                    checked.append(v[key])
                    active.append(v[("arrival_accounts_active", frozenset())])
                    if command == "verify":
                        self.assertLessEqual(v[missing_key], v[key])   # the destination is empty
                    else:
                        self.assertEqual(v[missing_key], 0)
                self.assertTrue(any(0 < c <= total for c in checked), f"{command}: no scrape saw messages counted: {checked}")
                self.assertIn(1, active, f"{command}: no scrape saw an account job running")
                last, _ = values(scrapes[-1])
                if command == "verify":
                    self.assertGreater(last[missing_key], 0)
                    labels = frozenset({"server": "destination", "operation": "index"}.items())
                    self.assertEqual(last[("arrival_imap_latency_seconds_count", labels)], 0)   # nothing to index there
                labels = frozenset({"server": "source", "operation": "index"}.items())
                self.assertGreater(last[("arrival_imap_latency_seconds_count", labels)], 0, command)
        finally:
            for p in proxies:
                p.terminate()
                p.wait(timeout=10)
                p.stdout.close()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
