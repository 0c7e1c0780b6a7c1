#!/usr/bin/env python3
"""Secure defaults of the `arrival` CLI (issue 15), one check per rule:

- no credential in cleartext without --allow-cleartext, on IMAP (a server whose CAPABILITY lacks STARTTLS, as an
  attacker who strips it produces), HTTP and LDAP (a server that refuses StartTLS). Each server here is a small
  recording listener on 127.0.0.1: the test proves from the server's side that no LOGIN/AUTHENTICATE, no
  Authorization header and no bind arrived without the flag, and that they did arrive with it;
- a password file readable by group/others: a warning naming the file and its mode; --strict-permissions refuses;
- reports, the state directory and every other output are owner-only after runs under umask 000 (against the
  testbed's Dovecot, slapd and Radicale, over TLS), and no output file, stdout or stderr holds a password;
- --ca-file replaces the system's CA store on HTTP, IMAP and LDAP alike (protocol/tls_policy.hpp): SSL_CERT_FILE
  makes the server's CA the "system store", and a --ca-file naming another CA still fails the handshake.

  d=$(bash tools/testbed/testbed start); set -a; . $d/env; set +a
  ARRIVAL_EXE=build-san/tools/arrival python3 tests/integration/secure_defaults_test.py [-k NAME]
  bash tools/testbed/testbed stop $d

Users: user144 (mail), user149 (Radicale), user148 (the Carbonio stand-in), user561 (Radicale and Dovecot DST:
the CA-file checks). The listeners' checks need no testbed.
"""
import base64
import json
import os
import socket
import sqlite3
import stat
import subprocess
import tempfile
import threading
import unittest

EXE = os.environ.get("ARRIVAL_EXE", "")
ENV = os.environ
SECRET = "s3cret-Pa55-do-not-leak"


class recorder:
    """A TCP listener on 127.0.0.1 that records every byte clients send; `serve(conn, rec)` speaks the protocol."""

    def __init__(self, serve):
        self.data = bytearray()
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.serve = serve
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.run, args=(conn,), daemon=True).start()

    def run(self, conn):
        conn.settimeout(10)
        try:
            self.serve(conn, self)
        except OSError:
            pass
        finally:
            conn.close()

    def recv(self, conn):
        b = conn.recv(65536)
        with self.lock:
            self.data += b
        return b

    def close(self):
        self.sock.close()


def imap_without_starttls(conn, rec):
    """IMAP4rev1 whose capabilities lack STARTTLS; refuses every login (so a run with the flag ends in auth)."""
    caps = b"IMAP4rev1 AUTH=PLAIN ID"
    conn.sendall(b"* OK [CAPABILITY " + caps + b"] test server without STARTTLS\r\n")
    buf = b""
    while True:
        b = rec.recv(conn)
        if not b:
            return
        buf += b
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            parts = line.split(b" ")
            tag, verb = parts[0], (parts[1].upper() if len(parts) > 1 else b"")
            if verb == b"CAPABILITY":
                conn.sendall(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")
            elif verb == b"AUTHENTICATE" and len(parts) == 3:
                conn.sendall(b"+ \r\n")
                while b"\r\n" not in buf:
                    more = rec.recv(conn)
                    if not more:
                        return
                    buf += more
                _, buf = buf.split(b"\r\n", 1)
                conn.sendall(tag + b" NO [AUTHENTICATIONFAILED] refused by the test server\r\n")
            elif verb in (b"LOGIN", b"AUTHENTICATE"):
                conn.sendall(tag + b" NO [AUTHENTICATIONFAILED] refused by the test server\r\n")
            elif verb == b"LOGOUT":
                conn.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                return
            elif verb == b"ID":
                conn.sendall(b"* ID NIL\r\n" + tag + b" OK done\r\n")
            else:
                conn.sendall(tag + b" BAD not here\r\n")


def http_recording(conn, rec):
    """HTTP/1.1 that answers 401 to every request (so a run with the flag ends in auth)."""
    buf = b""
    while True:
        b = rec.recv(conn)
        if not b:
            return
        buf += b
        while b"\r\n\r\n" in buf:
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = 0
            for h in head.split(b"\r\n")[1:]:
                k, _, v = h.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
            while len(buf) < length:
                more = rec.recv(conn)
                if not more:
                    return
                buf += more
            buf = buf[length:]
            conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"t\"\r\n"
                         b"Content-Length: 0\r\n\r\n")


STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


def ber_len(n):
    return bytes([n]) if n < 128 else bytes([0x81, n])


def ldap_messages(data):
    """(message id bytes, protocolOp tag) of each LDAPMessage in `data` (short and 1-2 byte long lengths)."""
    out, i = [], 0
    while i + 2 <= len(data) and data[i] == 0x30:
        n, j = data[i + 1], i + 2
        if n & 0x80:
            k = n & 0x7F
            n, j = int.from_bytes(data[j:j + k], "big"), j + k
        if j + n > len(data):
            break
        body = data[j:j + n]
        idlen = body[1]
        out.append((body[2:2 + idlen], body[2 + idlen]))
        i = j + n
    return out


def ldap_without_starttls(conn, rec):
    """LDAPv3 that answers StartTLS with protocolError (RFC 4511 §4.14.1: not supported) and every bind with
    invalidCredentials."""
    seen = 0
    while True:
        b = rec.recv(conn)
        if not b:
            return
        msgs = ldap_messages(bytes(rec.data))
        for msgid, op in msgs[seen:]:
            if op == 0x77:    # ExtendedRequest (StartTLS)
                result = b"\x0a\x01\x02\x04\x00\x04\x0bunsupported"
                resp = b"\x78" + ber_len(len(result)) + result
            elif op == 0x60:  # BindRequest
                result = b"\x0a\x01\x31\x04\x00\x04\x00"
                resp = b"\x61" + ber_len(len(result)) + result
            elif op == 0x42:  # UnbindRequest
                return
            else:
                continue
            m = b"\x02" + bytes([len(msgid)]) + msgid + resp
            conn.sendall(b"\x30" + ber_len(len(m)) + m)
        seen = len(msgs)


def run(args, env_extra=None, umask=None):
    env = dict(ENV)
    env.update(env_extra or {})
    pre = (lambda: os.umask(umask)) if umask is not None else None
    p = subprocess.run([EXE] + args, env=env, capture_output=True, text=True, timeout=120, preexec_fn=pre)
    return p.returncode, p.stdout, p.stderr


class scratch_dir:
    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="arrival-secure-")
        self.path = self.tmp.name

    def __del__(self):
        self.tmp.cleanup()

    def file(self, name, text, mode=0o600):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def one_event_dir(self, name, user, uid):
        """A directory for `arrival calendars --dir`: USER.ics with one event."""
        d = os.path.join(self.path, name)
        os.mkdir(d)
        with open(os.path.join(d, user + ".ics"), "w") as f:
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\n"
                    "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
                    "END:VCALENDAR\r\n")
        return d


class cleartext(unittest.TestCase):
    def setUp(self):
        self.assertTrue(EXE, "ARRIVAL_EXE is not set")
        self.d = scratch_dir()
        self.pw = self.d.file("pw", SECRET + "\n")

    def refused(self, status, err, server, lacking):
        self.assertEqual(status, 5, err)
        self.assertIn(server, err)
        self.assertIn(lacking, err)
        self.assertIn("--allow-cleartext", err)
        self.assertNotIn(SECRET, err)

    def test_imap_without_starttls(self):
        srv = recorder(imap_without_starttls)
        self.addCleanup(srv.close)
        url = f"imap://127.0.0.1:{srv.port}"
        accounts = self.d.file("accounts.txt", "user@example.test\n")
        mig = ["--source", url, "--dest", url, "--accounts", accounts, "--source-password-file", self.pw,
               "--dest-password-file", self.pw]
        runs = {
            "probe": ["probe", url, "--user", "user@example.test", "--password-file", self.pw],
            "probe --admin": ["probe", url, "--user", "user@example.test", "--admin", "admin", "--password-file",
                              self.pw],
            "migrate": ["migrate"] + mig + ["--state-dir", os.path.join(self.d.path, "state"),
                                            "--progress", "none"],
            "verify": ["verify"] + mig,
        }
        for name, args in runs.items():
            with self.subTest(name):
                status, out, err = run(args)
                self.refused(status, err + out, url, "does not offer STARTTLS")
        self.assertGreater(srv.connections, 0)
        # From the server's side: capabilities asked, no login of any kind, no password.
        self.assertNotIn(b"LOGIN", bytes(srv.data).upper())
        self.assertNotIn(b"AUTHENTICATE", bytes(srv.data).upper())
        self.assertNotIn(SECRET.encode(), bytes(srv.data))
        # With the flag the credential goes out in cleartext (and this server refuses it: status 6).
        status, out, err = run(runs["probe"] + ["--allow-cleartext"])
        self.assertEqual(status, 6, err)
        self.assertIn(b"LOGIN", bytes(srv.data).upper())
        self.assertNotIn(SECRET, err + out)
        status, out, err = run(runs["probe --admin"] + ["--allow-cleartext"])
        self.assertEqual(status, 6, err)
        plain = base64.b64encode(b"user@example.test\0admin\0" + SECRET.encode())
        self.assertIn(plain, bytes(srv.data))

    def test_http_plain(self):
        srv = recorder(http_recording)
        self.addCleanup(srv.close)
        ics = self.d.one_event_dir("ics", "user@example.test", "1")
        accounts = self.d.file("accounts.txt", "user@example.test\n")
        base = f"http://127.0.0.1:{srv.port}"
        args = ["calendars", "--dir", ics, "--accounts", accounts, "--password-file", self.pw, "--dest",
                base + "/{user}/calendar/", "--progress", "none"]
        status, out, err = run(args)
        self.refused(status, err + out, base, "http://")
        self.assertEqual(srv.connections, 0)      # refused before connecting: nothing reached the server
        # Carbonio: the admin SOAP URL (AuthRequest carries the admin password) and the REST URL alike.
        cb = ["calendars", "--dir", ics, "--accounts", accounts, "--password-file", self.pw, "--admin", "admin",
              "--progress", "none"]
        status, out, err = run(cb + ["--dest", "carbonio+https://127.0.0.1:1", "--admin-url", base])
        self.refused(status, err + out, base, "http://")
        status, out, err = run(cb + ["--dest", "carbonio+" + base])
        self.refused(status, err + out, base, "http://")
        self.assertEqual(srv.connections, 0)
        self.assertNotIn(b"authorization", bytes(srv.data).lower())
        status, out, err = run(args + ["--allow-cleartext"])
        self.assertEqual(status, 6, err)
        auth = b"authorization: basic " + base64.b64encode(b"user@example.test:" + SECRET.encode()).lower()
        self.assertIn(auth, bytes(srv.data).lower())
        self.assertNotIn(SECRET, err + out)

    def test_ldap_without_starttls(self):
        srv = recorder(ldap_without_starttls)
        self.addCleanup(srv.close)
        ldif = self.d.file("d.ldif", "dn: dc=example,dc=test\nobjectClass: domain\ndc: example\n")
        url = f"ldap://127.0.0.1:{srv.port}"
        args = ["provision", ldif, "--ldap", url, "--bind-dn", "cn=admin,dc=example,dc=test",
                "--bind-password-file", self.pw]
        status, out, err = run(args)
        self.refused(status, err + out, url, "StartTLS")
        ops = [op for _, op in ldap_messages(bytes(srv.data))]
        self.assertIn(0x77, ops)                   # StartTLS asked for ...
        self.assertIn(STARTTLS_OID, bytes(srv.data))
        self.assertNotIn(0x60, ops)                # ... and no bind sent
        self.assertNotIn(SECRET.encode(), bytes(srv.data))
        srv.data.clear()
        status, out, err = run(args + ["--allow-cleartext"])
        self.assertEqual(status, 6, err + out)
        ops = [op for _, op in ldap_messages(bytes(srv.data))]
        self.assertIn(0x60, ops)
        self.assertNotIn(0x77, ops)
        self.assertIn(SECRET.encode(), bytes(srv.data))
        self.assertNotIn(SECRET, err + out)


class password_files(unittest.TestCase):
    def setUp(self):
        self.assertTrue(EXE, "ARRIVAL_EXE is not set")
        self.d = scratch_dir()

    def test_group_readable_password_file(self):
        # A password file whose first line is the password: the run then fails to connect (port 1), after
        # the file was read, so the warning (or the refusal) is all this checks.
        pw = self.d.file("pw", SECRET + "\n", 0o644)
        args = ["probe", "imaps://127.0.0.1:1", "--user", "u", "--password-file", pw, "--timeout", "2"]
        status, out, err = run(args)
        self.assertEqual(status, 4, err)
        self.assertIn(f"permissions 0644 for password file {pw} are too open", err)
        self.assertNotIn(SECRET, err + out)
        status, out, err = run(args + ["--strict-permissions"])
        self.assertEqual(status, 3, err)
        self.assertIn(f"permissions 0644 for password file {pw} are too open", err)
        self.assertNotIn("cannot connect", err)
        self.assertNotIn(SECRET, err + out)
        os.chmod(pw, 0o600)
        status, out, err = run(args + ["--strict-permissions"])
        self.assertEqual(status, 4, err)
        self.assertNotIn("too open", err)

    def test_accounts_file_with_passwords_is_a_password_file(self):
        acc = self.d.file("acc.csv", f"source_user,dest_user,source_password,dest_password\na,a,{SECRET},{SECRET}\n",
                          0o640)
        status, out, err = run(["verify", "--source", "imaps://127.0.0.1:1", "--dest", "imaps://127.0.0.1:1",
                                "--accounts", acc, "--strict-permissions"])
        self.assertEqual(status, 3, err)
        self.assertIn(f"permissions 0640 for password file {acc} are too open", err)
        self.assertNotIn(SECRET, err + out)


def silent(conn, rec):
    """Accepts and never answers: the client waits for a greeting."""
    while rec.recv(conn):
        pass


class no_core_file(unittest.TestCase):
    def test_core_file_limit_is_zero_while_credentials_are_held(self):
        self.assertTrue(EXE, "ARRIVAL_EXE is not set")
        srv = recorder(silent)
        self.addCleanup(srv.close)
        d = scratch_dir()
        pw = d.file("pw", SECRET + "\n")
        p = subprocess.Popen([EXE, "probe", f"imaps://127.0.0.1:{srv.port}", "--user", "u", "--password-file", pw,
                              "--timeout", "20"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if srv.connections:
                    break
                threading.Event().wait(0.05)
            self.assertTrue(srv.connections, "arrival never connected")
            with open(f"/proc/{p.pid}/limits") as f:
                line = next(l for l in f if l.startswith("Max core file size"))
            self.assertEqual(line.split()[4:6], ["0", "0"], line)
        finally:
            p.kill()
            p.wait()


def modes_under(root):
    """(path, mode) of every file and directory below root, root excluded."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            out.append((p, stat.S_IMODE(os.lstat(p).st_mode)))
    return out


class private_outputs(unittest.TestCase):
    """Real runs over TLS against the testbed, under umask 000: every output is owner-only, none holds a secret."""

    def setUp(self):
        self.assertTrue(EXE, "ARRIVAL_EXE is not set")
        for v in ("ARRIVAL_DOVECOT_SRC_PORT", "ARRIVAL_SLAPD_URL", "ARRIVAL_RADICALE_TLS_URL",
                  "ARRIVAL_CARBONIO_REST_URL"):
            self.assertTrue(ENV.get(v), f"{v} is not set: start the testbed first")
        self.d = scratch_dir()
        os.chmod(self.d.path, 0o755)
        self.outputs = os.path.join(self.d.path, "out")
        os.mkdir(self.outputs)
        os.chmod(self.outputs, 0o777)
        self.secrets = [ENV["ARRIVAL_DOVECOT_USER_PASSWORD"], ENV["ARRIVAL_SLAPD_PASSWORD"],
                        ENV["ARRIVAL_RADICALE_PASSWORD"], ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"]]
        self.streams = []

    def out(self, name):
        return os.path.join(self.outputs, name)

    def arrival(self, args, env_extra=None, expect=(0,)):
        status, out, err = run(args, env_extra, umask=0)
        self.assertIn(status, expect, err)
        self.streams.append(out + err)
        return out + err

    def test_outputs_are_owner_only_and_hold_no_secret(self):
        user = "user144@example.test"
        mpw = self.d.file("mail.pw", ENV["ARRIVAL_DOVECOT_USER_PASSWORD"] + "\n")
        acc = self.d.file("acc.txt", user + "\n")
        ca = ENV["ARRIVAL_TESTBED_CA"]
        mail = ["--source", f"imap://127.0.0.1:{ENV['ARRIVAL_DOVECOT_SRC_PORT']}",
                "--dest", f"imap://127.0.0.1:{ENV['ARRIVAL_DOVECOT_DST_PORT']}", "--ca-file", ca,
                "--accounts", acc, "--source-password-file", mpw, "--dest-password-file", mpw]
        self.arrival(["migrate"] + mail + ["--state-dir", self.out("state/nested"), "--report",
                                           self.out("migrate.json"), "--progress", "none"])
        self.arrival(["verify"] + mail + ["--report", self.out("verify.json")], expect=(0, 1))
        ldif = self.d.file("p.ldif", "dn: cn=secure-cos,cn=cos,cn=zimbra\nobjectClass: zimbraCOS\ncn: secure-cos\n"
                                     "zimbraId: 7e5a0000-0000-4000-8000-0000000015e1\n")
        self.arrival(["provision", ldif, "--ldap", ENV["ARRIVAL_SLAPD_URL"], "--ca-file", ENV["ARRIVAL_SLAPD_CA"],
                      "--bind-dn", ENV["ARRIVAL_SLAPD_BIND_DN"], "--report", self.out("provision.json")],
                     {"ARRIVAL_LDAP_PASSWORD": ENV["ARRIVAL_SLAPD_PASSWORD"]})
        self.arrival(["provision", ldif, "--emit", self.out("emit.ldif"), "--accounts-out",
                      self.out("accounts.csv")])
        cal_user = "user149@example.test"
        ics = self.d.one_event_dir("ics", cal_user, "secure-1")
        cacc = self.d.file("cal.txt", cal_user + "\n")
        self.arrival(["calendars", "--dir", ics, "--accounts", cacc, "--dest",
                      ENV["ARRIVAL_RADICALE_TLS_URL"] + "{user}/calendar/", "--ca-file", ENV["ARRIVAL_RADICALE_CA"],
                      "--report", self.out("calendars.json"), "--progress", "none"],
                     {"ARRIVAL_PASSWORD": ENV["ARRIVAL_RADICALE_PASSWORD"]})
        # The Carbonio stand-in (delegated auth): the admin password in a SOAP AuthRequest, then tokens. Every
        # token the stand-in issued during the run is a secret too.
        cb_user = "user148@example.test"
        cb_ics = self.d.one_event_dir("cb", cb_user, "secure-cb-1")
        cbacc = self.d.file("cb.txt", cb_user + "\n")
        self.arrival(["calendars", "--dir", cb_ics, "--accounts", cbacc, "--dest",
                      "carbonio+" + ENV["ARRIVAL_CARBONIO_REST_URL"], "--admin", ENV["ARRIVAL_CARBONIO_ADMIN"],
                      "--admin-url", ENV["ARRIVAL_CARBONIO_ADMIN_URL"], "--ca-file", ENV["ARRIVAL_TESTBED_CA"],
                      "--report", self.out("carbonio.json"), "--progress", "none"],
                     {"ARRIVAL_PASSWORD": ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"]})
        with sqlite3.connect(ENV["ARRIVAL_CARBONIO_DB"]) as db:
            tokens = [r[0] for r in db.execute("SELECT token FROM tokens")]
        self.assertTrue(tokens, "the stand-in issued no token")
        self.secrets += tokens
        found = modes_under(self.outputs)
        names = {os.path.relpath(p, self.outputs) for p, _ in found}
        for expected in ("state", "state/nested", "state/nested/arrival-state.sqlite", "migrate.json",
                         "verify.json", "provision.json", "emit.ldif", "accounts.csv", "calendars.json",
                         "carbonio.json"):
            self.assertIn(expected, names)
        for p, mode in found:
            want = 0o700 if os.path.isdir(p) else 0o600
            self.assertEqual(mode, want, f"{p} has mode {mode:04o} after a run under umask 000")
        for p, _ in found:
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    data = f.read()
                for s in self.secrets:
                    self.assertNotIn(s.encode(), data, f"a password is in {p}")
        for text in self.streams:
            for s in self.secrets:
                self.assertNotIn(s, text)


class ca_file_replaces_the_system_store(unittest.TestCase):
    """One TLS policy: with --ca-file naming a CA that did not sign the server's certificate, the handshake fails
    even when the system store (SSL_CERT_FILE) trusts the server's CA; without --ca-file that store is used."""

    def setUp(self):
        self.assertTrue(EXE, "ARRIVAL_EXE is not set")
        for v in ("ARRIVAL_RADICALE_TLS_URL", "ARRIVAL_DOVECOT_DST_TLS_PORT", "ARRIVAL_SLAPD_URL"):
            self.assertTrue(ENV.get(v), f"{v} is not set: start the testbed first")
        self.d = scratch_dir()
        cert = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "testbed", "cert")
        subprocess.run(["bash", cert, os.path.join(self.d.path, "other")], check=True, timeout=60)
        self.other_ca = os.path.join(self.d.path, "other", "tls", "ca.crt")

    def test_http(self):
        user = "user561@example.test"
        ics = self.d.one_event_dir("ics", user, "ca-file-1")
        acc = self.d.file("acc.txt", user + "\n")
        report = os.path.join(self.d.path, "report.json")
        args = ["calendars", "--dir", ics, "--accounts", acc, "--dest",
                ENV["ARRIVAL_RADICALE_TLS_URL"] + "{user}/calendar/", "--report", report, "--progress", "none"]
        pw = {"ARRIVAL_PASSWORD": ENV["ARRIVAL_RADICALE_PASSWORD"]}
        system_trusts_server = dict(pw, SSL_CERT_FILE=ENV["ARRIVAL_RADICALE_CA"])

        def error():
            with open(report) as f:
                users = json.load(f)["users"]
            return users[0]["error_kind"], users[0]["error"]

        for name, extra, env in (("other CA", ["--ca-file", self.other_ca], pw),
                                 ("other CA, system store trusts the server", ["--ca-file", self.other_ca],
                                  system_trusts_server)):
            with self.subTest(name):
                status, out, err = run(args + extra, env)
                self.assertEqual(status, 5, err + out)
                kind, text = error()
                self.assertEqual(kind, "tls", text)
                self.assertIn("certificate verification failed: unable to get local issuer certificate", text)
        with self.subTest("system store only"):
            status, out, err = run(args, system_trusts_server)
            self.assertEqual(status, 0, err + out)
        with self.subTest("the server's CA"):
            status, out, err = run(args + ["--ca-file", ENV["ARRIVAL_RADICALE_CA"]], pw)
            self.assertEqual(status, 0, err + out)

    def test_imap_and_ldap_alike(self):
        pw = {"ARRIVAL_PASSWORD": ENV["ARRIVAL_DOVECOT_USER_PASSWORD"]}
        probe = ["probe", f"imaps://localhost:{ENV['ARRIVAL_DOVECOT_DST_TLS_PORT']}", "--user", "user561@example.test"]
        system_trusts_server = dict(pw, SSL_CERT_FILE=ENV["ARRIVAL_TESTBED_CA"])
        status, out, err = run(probe + ["--ca-file", self.other_ca], system_trusts_server)
        self.assertEqual(status, 5, err + out)
        self.assertIn("certificate verification failed: unable to get local issuer certificate", err)
        status, out, err = run(probe, system_trusts_server)
        self.assertEqual(status, 0, err + out)
        # libldap (GnuTLS) ignores SSL_CERT_FILE: here only "the file is the CA list".
        ldif = self.d.file("p.ldif", "dn: cn=ca-file-cos,cn=cos,cn=zimbra\nobjectClass: zimbraCOS\ncn: ca-file-cos\n"
                                     "zimbraId: 7e5a0000-0000-4000-8000-0000000015e2\n")
        status, out, err = run(["provision", ldif, "--ldap", ENV["ARRIVAL_SLAPD_URL"], "--ca-file", self.other_ca,
                                "--bind-dn", ENV["ARRIVAL_SLAPD_BIND_DN"]],
                               {"ARRIVAL_LDAP_PASSWORD": ENV["ARRIVAL_SLAPD_PASSWORD"]})
        self.assertEqual(status, 5, err + out)
        self.assertIn("certificate verify failed", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
