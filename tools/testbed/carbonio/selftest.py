#!/usr/bin/env python3
"""Self-test of the Carbonio stand-in against a started testbed (dovecot + carbonio). Each check drives the stand-in
as a client would and asserts the answer FACTS.md gives for Carbonio, and what landed in Dovecot DST.

  d=$(bash tools/testbed/testbed start dovecot carbonio); set -a; . $d/env; set +a
  python3 tools/testbed/carbonio/selftest.py [NAME_SUBSTRING...]; bash tools/testbed/testbed stop $d

Exit status 0 only when every selected check passed. Each check takes its own users from user179..user196
(tests/integration uses lower numbers; 197-199 are DST's special users) and empties their DST and stand-in
mailboxes first, so checks and reruns never mix; the front's identical-APPEND counter is per account, in memory.
"""
import base64
import http.client
import imaplib
import json
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import traceback
import urllib.parse
import uuid

ENV = os.environ
CTX = ssl.create_default_context(cafile=ENV.get("ARRIVAL_TESTBED_CA"))
PW = ENV.get("ARRIVAL_DOVECOT_USER_PASSWORD", "")
ADMIN, ADMIN_PW = ENV.get("ARRIVAL_CARBONIO_ADMIN", ""), ENV.get("ARRIVAL_CARBONIO_ADMIN_PASSWORD", "")
MAX = 10240000
_next_user = [179]


def fresh_user():
    """The next test user, its DST mailbox and stand-in mailbox emptied first, so that reruns start clean."""
    n = _next_user[0]
    _next_user[0] += 1
    check(n <= 196, "the self-test ran out of its users (user179..user196)")
    user = f"user{n:03d}@example.test"
    testbed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    for args in (["dovecot.sh", "reset-user", ENV["ARRIVAL_TESTBED_DIR"], "dst", user],
                 ["carbonio.sh", "reset-user", ENV["ARRIVAL_TESTBED_DIR"], user]):
        subprocess.run(["bash", os.path.join(testbed, args[0])] + args[1:], check=True)
    return user


_events_start = [0]


def events(user):
    """The events file's lines for user, written since the current check began (reruns reuse users)."""
    with open(ENV["ARRIVAL_CARBONIO_EVENTS"], encoding="utf-8") as f:
        f.seek(_events_start[0])
        return [e for e in map(json.loads, f) if e["user"] == user]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Raw:
    """A bare IMAP client over TLS (imaplib cannot send LITERAL+, MULTIAPPEND or over-long lines)."""

    def __init__(self, implicit=True):
        if implicit:
            sock = socket.create_connection(("127.0.0.1", int(ENV["ARRIVAL_CARBONIO_IMAPS_PORT"])), timeout=30)
            self.sock = CTX.wrap_socket(sock, server_hostname="localhost")
        else:
            self.sock = socket.create_connection(("127.0.0.1", int(ENV["ARRIVAL_CARBONIO_IMAP_PORT"])), timeout=30)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self):
        return self.f.readline().decode("utf-8", "replace").rstrip("\r\n")

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode("utf-8"))

    def until(self, tag):
        """Lines up to the tagged one (returned last); '' at end of stream."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if not line or line.startswith(tag + " "):
                return lines

    def cmd(self, tag, text):
        self.send(text if isinstance(text, bytes) else f"{tag} {text}\r\n")
        return self.until(tag)

    def login_as(self, user):
        token = base64.b64encode(f"{user}\0{ADMIN}\0{ADMIN_PW}".encode()).decode()
        last = self.cmd("a", f"AUTHENTICATE PLAIN {token}")[-1]
        check(last.startswith("a OK"), f"admin login as {user}: {last}")
        return self

    def closed(self):
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True


def append_cmd(tag, folder, messages):
    """APPEND (or MULTIAPPEND) with LITERAL+: messages = [(flags, date or None, body bytes)]."""
    out = f'{tag} APPEND "{folder}"'.encode()
    for flags, date, body in messages:
        out += b" (" + flags.encode() + b")"
        if date:
            out += b' "' + date.encode() + b'"'
        out += b" {%d+}\r\n" % len(body) + body
    return out + b"\r\n"


MSG = b"From: a@example.test\r\nSubject: standin\r\n\r\nbody\r\n"


def dovecot(user):
    c = imaplib.IMAP4_SSL("127.0.0.1", int(ENV["ARRIVAL_DOVECOT_DST_TLS_PORT"]), ssl_context=CTX)
    c.login(f"{user}*{ENV['ARRIVAL_DOVECOT_MASTER_USER']}", ENV["ARRIVAL_DOVECOT_MASTER_PASSWORD"])
    return c


def dovecot_count(user, folder):
    c = dovecot(user)
    typ, data = c.select(f'"{folder}"', readonly=True)
    c.logout()
    return int(data[0]) if typ == "OK" else None


def dovecot_create(user, folder):
    c = dovecot(user)
    typ, data = c.create(f'"{folder}"')
    c.logout()
    check(typ == "OK" or b"ALREADYEXISTS" in data[0], f"Dovecot CREATE {folder}: {data}")


# ---------------------------------------------------------------- IMAP front
def test_imap_capability_and_namespace():
    r = Raw(implicit=False)
    check(r.greeting == "* OK localhost Zimbra IMAP4rev1 server ready", r.greeting)
    caps = r.cmd("a", "CAPABILITY")[0]
    check("LOGINDISABLED" in caps and "STARTTLS" in caps and "AUTH=" not in caps, caps)
    check(r.cmd("b", "LOGIN user179@example.test x")[-1] == "b NO cleartext logins disabled", "cleartext LOGIN")
    check(r.cmd("c", "AUTHENTICATE PLAIN")[-1] == "c NO mechanism not supported: PLAIN", "cleartext PLAIN")
    check(r.cmd("d", "STARTTLS")[-1].startswith("d OK"), "STARTTLS")
    r.sock = CTX.wrap_socket(r.sock, server_hostname="localhost")
    r.f = r.sock.makefile("rb")
    caps = r.cmd("e", "CAPABILITY")[0]
    check("AUTH=PLAIN" in caps and "LOGINDISABLED" not in caps and "STARTTLS" not in caps, caps)
    user = fresh_user()
    r.login_as(user)
    caps = r.cmd("f", "CAPABILITY")[0]
    for absent in ("APPENDLIMIT", "SPECIAL-USE", "LOGIN-REFERRALS", "AUTH="):
        check(absent not in caps, f"{absent} in {caps}")
    check("MULTIAPPEND" in caps and "LITERAL+" in caps, caps)
    check(r.cmd("g", "NAMESPACE")[0] == '* NAMESPACE (("" "/")) (("/home/" "/")) NIL', "NAMESPACE")
    ident = r.cmd("h", "ID NIL")[0]
    check(ident.startswith('* ID ("NAME" "Zimbra" "VERSION" "') and f'"USER" "{user}"' in ident, ident)


def test_imap_auth_rules():
    user = fresh_user()
    r = Raw()
    tok = base64.b64encode(f"{user}\0{ENV['ARRIVAL_CARBONIO_NOIMAP_ADMIN']}\0{ADMIN_PW}".encode()).decode()
    check(r.cmd("a", f"AUTHENTICATE PLAIN {tok}")[-1] == "a NO AUTHENTICATE failed", "noimap admin refused")
    check(any(e["rule"] == "imap_disabled_admin" for e in events(user)), "noimap event")
    tok = base64.b64encode(f"{user}\0{ADMIN}\0wrong".encode()).decode()
    check(r.cmd("b", f"AUTHENTICATE PLAIN {tok}")[-1] == "b NO AUTHENTICATE failed", "wrong admin password")
    check(r.cmd("c", f'LOGIN "{ADMIN}" "{ADMIN_PW}"')[-1] == "c NO LOGIN failed", "LOGIN as admin")
    other = fresh_user()  # a user cannot act for another one
    tok = base64.b64encode(f"{other}\0{user}\0{PW}".encode()).decode()
    check(r.cmd("d", f"AUTHENTICATE PLAIN {tok}")[-1] == "d NO AUTHENTICATE failed", "user as other user")
    master = ENV["ARRIVAL_DOVECOT_MASTER_USER"]
    check(r.cmd("m", f'LOGIN "{user}*{master}" "{ENV["ARRIVAL_DOVECOT_MASTER_PASSWORD"]}"')[-1] == "m NO LOGIN failed",
          "Dovecot's master login is not Carbonio's")
    r = Raw()  # the five NOs above dropped the connection
    r.send("e AUTHENTICATE PLAIN\r\n")
    check(r.line() == "+ ", "continuation without SASL-IR")
    r.send(base64.b64encode(f"{user}\0{ADMIN}\0{ADMIN_PW}".encode()) + b"\r\n")
    check(r.until("e")[-1].startswith("e OK [CAPABILITY IMAP4rev1 "), "admin without SASL-IR")
    r = Raw()
    check(r.cmd("f", f'LOGIN "{user}" "{PW}"')[-1].startswith("f OK"), "LOGIN as oneself")
    check(ENV["ARRIVAL_CARBONIO_ADMIN_PASSWORD"] not in open(ENV["ARRIVAL_CARBONIO_EVENTS"]).read(), "password")


def test_imap_keywords_and_flags():
    user = fresh_user()
    r = Raw().login_as(user)
    check(r.cmd("a", append_cmd("a", "INBOX", [("Foo:FLAG3", None, MSG)]))[-1] == "a NO APPEND failed", "colon")
    check(r.cmd("b", append_cmd("b", "INBOX", [("\\Recent", None, MSG)]))[-1].startswith("b BAD "), "\\Recent")
    check(r.cmd("c", append_cmd("c", "INBOX", [("a]b", None, MSG)]))[-1].startswith("c BAD "), "] in keyword")
    check(r.cmd("d", append_cmd("d", "INBOX", [("\\Seen $Forwarded NotJunk", None, MSG)]))[-1].startswith("d OK"),
          "good flags")  # the OK also resets the consecutive-error count
    check(dovecot_count(user, "INBOX") == 1, "only the good APPEND landed")
    check(r.cmd("e", "SELECT INBOX")[-1].startswith("e OK"), "SELECT")
    check(r.cmd("f", "STORE 1 +FLAGS (Bar:FLAG9)")[-1] == "f NO STORE failed", "STORE colon")
    check(r.cmd("g", "UID STORE 1 +FLAGS (Bar:FLAG9)")[-1] == "g NO UID STORE failed", "UID STORE colon")
    check(r.cmd("h", "STORE 1 +FLAGS (\\Flagged Fine)")[-1].startswith("h OK"), "STORE good")
    rules = [e["rule"] for e in events(user)]
    check(rules.count("keyword_colon") == 3 and "system_flag" in rules and "keyword_not_atom" in rules, rules)


def test_imap_folder_names():
    user = fresh_user()
    r = Raw().login_as(user)
    bad = {"A:B": "NO CREATE failed: invalid mailbox name", "Tab\tX": "NO CREATE failed: invalid mailbox name",
           "x" * 256: "NO CREATE failed: invalid mailbox name", "P/..": "NO CREATE failed: invalid mailbox name",
           "Calendar": "NO CREATE failed", "contacts/Sub": "NO CREATE failed", " NoteBook": "NO CREATE failed"}
    for i, (name, answer) in enumerate(bad.items()):
        tag = f"n{i}"
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        last = r.cmd(tag, f'CREATE "{quoted}"')[-1]
        check(last == f"{tag} {answer}", f"CREATE {name!r}: {last}")
        if i == 3:  # keep under five NO in a row
            check(r.cmd("ok", "NOOP")[-1].startswith("ok OK"), "NOOP")


def test_imap_folder_names_more():
    user = fresh_user()
    r = Raw().login_as(user)
    last = r.cmd("a", b'a CREATE {3+}\r\nA"B\r\n')[-1]
    check(last == "a NO CREATE failed: invalid mailbox name", f'literal name A"B: {last}')
    # 255 characters pass the front; Dovecot DST's Maildir++ (".name" must fit NAME_MAX) stores 254 at most.
    last = r.cmd("b", "CREATE " + "y" * 255)[-1]
    check(last != "b NO CREATE failed: invalid mailbox name", f"255 characters pass the front: {last}")
    check(r.cmd("b2", "CREATE " + "z" * 254)[-1].startswith("b2 OK"), "254 characters land in Dovecot")
    check(r.cmd("c", "CREATE Work/Calendar")[-1].startswith("c OK"), "Calendar below a mail folder is fine")
    check(r.cmd("c2", "CREATE Work/Calendar")[-1] == "c2 NO CREATE failed: mailbox already exists", "CREATE twice")
    last = r.cmd("c3", append_cmd("c3", "Nowhere", [("", None, MSG)]))[-1]
    check(last == "c3 NO [TRYCREATE] APPEND failed: no such mailbox", f"APPEND to a missing folder: {last}")
    check(r.cmd("c4", "NOOP")[-1].startswith("c4 OK"), "NOOP")
    check(r.cmd("c5", 'CREATE "Spaced /Caf&AOk- "')[-1].startswith("c5 OK"), "trailing spaces")
    names = [x.split(' "/" ')[1] for x in r.cmd("c6", 'LIST "" "Spaced*"') if x.startswith("* LIST")]
    check(names == ["Spaced", "Spaced/Caf&AOk-"], f"stored without trailing spaces: {names}")
    check(r.cmd("d", "RENAME Work Contacts")[-1] == "d NO RENAME failed", "RENAME to Contacts")
    check(r.cmd("e", "SELECT Calendar")[-1] == "e NO SELECT failed", "SELECT Calendar")
    check(r.cmd("f", append_cmd("f", "Contacts", [("", None, MSG)]))[-1] == "f NO APPEND failed", "APPEND Contacts")
    check(r.cmd("ok", "NOOP")[-1].startswith("ok OK"), "NOOP")
    last = r.cmd("g", "CREATE Junk/Sub")[-1]
    check(last == "g NO CREATE failed: superior mailbox has \\Noinferiors set", f"below Junk: {last}")
    junk = [x for x in r.cmd("h", 'LIST "" "Junk"') if x.startswith("* LIST")]
    check(junk == ['* LIST (\\Junk \\NoInferiors) "/" Junk'], f"Junk listed with \\NoInferiors: {junk}")
    text = b"TEXT {%d+}\r\n%s" % (len(MSG), MSG)
    last = r.cmd("i", b"i APPEND INBOX CATENATE (" + text + b" " + text + b")\r\n")[-1]
    check(last.startswith("i OK"), f"CATENATE passes through: {last}")
    last = r.cmd("j", b"j APPEND INBOX CATENATE (TEXT {0+}\r\n)\r\n")[-1]
    check(last == "j BAD zero-length message", f"empty CATENATE: {last}")


def test_imap_sizes_dates_zero():
    user = fresh_user()
    r = Raw().login_as(user)
    r.send(f"a APPEND INBOX {{{MAX + 1}}}\r\n")  # synchronizing: refused before any data
    check(r.line() == "a BAD maximum message size exceeded", "sync literal too big")
    big = b"X" * (MAX + 1)
    last = r.cmd("b", b"b APPEND INBOX {%d+}\r\n" % len(big) + big + b"\r\n")[-1]
    check(last == "b BAD maximum message size exceeded", f"LITERAL+ too big: {last}")
    check(r.cmd("n", "NOOP")[-1].startswith("n OK"), "still usable after a swallowed literal")
    check(r.cmd("c", append_cmd("c", "INBOX", [("", None, b"")]))[-1] == "c BAD zero-length message", "0 bytes")
    last = r.cmd("d", append_cmd("d", "INBOX", [("", "01-Jan-2040 00:00:00 +0000", MSG)]))[-1]
    check(last == "d NO APPEND failed", f"2040: {last}")
    check(r.cmd("o", "NOOP")[-1].startswith("o OK"), "NOOP")
    last = r.cmd("e", append_cmd("e", "INBOX", [("", "01-Jan-1960 00:00:00 +0000", MSG)]))[-1]
    check(last == "e BAD parse error: date out of range", f"1960: {last}")
    ok = r.cmd("f", append_cmd("f", "INBOX", [("\\Seen", "19-Jan-2038 00:00:00 +0000", MSG)]))[-1]
    check(ok.startswith("f OK"), f"2038-01-19: {ok}")  # Dovecot stores a future date as now: not checked
    ok = r.cmd("p", append_cmd("p", "INBOX", [("\\Seen", "02-Mar-2001 10:11:12 +0100", MSG)]))[-1]
    check(ok.startswith("p OK"), f"2001: {ok}")
    r.send(b"g NOOP " + b"x" * 10300 + b"\r\n")
    check(r.line() == "* BAD maximum line length exceeded", "line too long")
    check(r.cmd("h", "NOOP")[-1].startswith("h OK"), "a long line does not drop")
    check(dovecot_count(user, "INBOX") == 2, "only the two good messages landed")
    c = dovecot(user)
    c.select("INBOX", readonly=True)
    date = c.fetch("2", "(INTERNALDATE FLAGS)")[1][0].decode()
    c.logout()
    check("02-Mar-2001 09:11:12 +0000" in date and "\\Seen" in date, date)


def test_imap_multiappend_all_or_nothing():
    user = fresh_user()
    r = Raw().login_as(user)
    msgs = [("\\Seen", None, MSG), ("Ok", None, MSG), ("Bad:FLAG1", None, MSG)]
    check(r.cmd("a", append_cmd("a", "INBOX", msgs))[-1] == "a NO APPEND failed", "MULTIAPPEND refused")
    check(dovecot_count(user, "INBOX") == 0, "nothing stored after a refused MULTIAPPEND")
    check(r.cmd("b", append_cmd("b", "INBOX", msgs[:2]))[-1].startswith("b OK"), "good MULTIAPPEND")
    check(dovecot_count(user, "INBOX") == 2, "both stored")


def test_imap_fifth_error_drops():
    user = fresh_user()
    r = Raw().login_as(user)
    for i in range(4):
        check(r.cmd(f"a{i}", f"SELECT Missing{i}")[-1] == f"a{i} NO SELECT failed", "Dovecot's NO, Carbonio's words")
    check(r.cmd("ok", "NOOP")[-1].startswith("ok OK"), "an OK resets the count")
    for i in range(4):
        check(r.cmd(f"b{i}", "CREATE Calendar")[-1] == f"b{i} NO CREATE failed", "our NO")
    lines = r.cmd("b4", "CREATE Calendar") + [r.line()]
    check(lines[0] == "b4 NO CREATE failed" and lines[1].startswith("* BYE "), f"fifth NO: {lines}")
    check(r.closed(), "connection closed after the fifth NO")
    check(any(e["rule"] == "consecutive_errors" and e["dropped"] for e in events(user)), "drop event")


def test_imap_identical_append_drops():
    user = fresh_user()
    r = Raw().login_as(user)
    # A date of this run: the stand-in's counter outlives a rerun against the same testbed (5 minutes).
    date = time.strftime("%d-%b-%Y %H:%M:%S +0000", time.gmtime(time.time() - 86400))
    for i in range(25):
        last = r.cmd(f"a{i}", append_cmd(f"a{i}", "INBOX", [("\\Seen", date, MSG)]))[-1]
        check(last.startswith(f"a{i} OK"), f"APPEND {i + 1}: {last}")
    lines = r.cmd("z", append_cmd("z", "INBOX", [("\\Seen", date, MSG)]))
    check(lines[0].startswith("* BYE ") and r.closed(), f"26th identical APPEND: {lines}")
    check(dovecot_count(user, "INBOX") == 25, "25 stored, the 26th not")
    r = Raw().login_as(user)  # per account: another connection is still counted
    check(r.cmd("y", append_cmd("y", "INBOX", [("\\Seen", date, MSG)]))[0].startswith("* BYE "), "new connection")
    r = Raw().login_as(user)
    other = r.cmd("x", append_cmd("x", "INBOX", [("\\Seen", date, MSG + b"x")]))[-1]
    check(other.startswith("x OK"), f"a different size is not identical: {other}")


def test_imap_public_namespace_hidden():
    user = fresh_user()
    dovecot_create(user, "Public/StandinShared")
    c = dovecot(user)
    check(any(b"Public" in x for x in c.list()[1]), "Dovecot lists its public namespace")
    c.logout()
    r = Raw().login_as(user)
    listing = r.cmd("a", 'LIST "" "*"')
    check(not any("Public" in x for x in listing) and listing[-1].startswith("a OK"), listing)
    check(r.cmd("b", "SELECT Public/StandinShared")[-1] == "b NO SELECT failed", "SELECT Public/")



# ---------------------------------------------------------------- REST / SOAP
SOAP = ('<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header>'
        '<context xmlns="urn:zimbra">{header}</context></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>')


def https(url_env, method, path, body=b"", headers=None):
    host, port = ENV[url_env].split("//")[1].split(":")
    c = http.client.HTTPSConnection(host, int(port), context=CTX, timeout=60)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def soap(url_env, path, body, token=""):
    header = f"<authToken>{token}</authToken>" if token else ""
    status, data = https(url_env, "POST", path, SOAP.format(header=header, body=body).encode(),
                        {"Content-Type": "application/soap+xml; charset=utf-8"})
    return status, data.decode()


def admin_token():
    status, data = soap("ARRIVAL_CARBONIO_ADMIN_URL", "/service/admin/soap",
                        f'<AuthRequest xmlns="urn:zimbraAdmin"><name>{ADMIN}</name>'
                        f"<password>{ADMIN_PW}</password></AuthRequest>")
    check(status == 200 and "<authToken>" in data, f"admin AuthRequest: {status} {data}")
    return data.split("<authToken>")[1].split("<")[0]


def user_token(user):
    status, data = soap("ARRIVAL_CARBONIO_ADMIN_URL", "/service/admin/soap",
                        f'<DelegateAuthRequest xmlns="urn:zimbraAdmin" duration="86400">'
                        f'<account by="name">{user}</account></DelegateAuthRequest>', admin_token())
    check(status == 200 and "<authToken>" in data, f"DelegateAuthRequest: {status} {data}")
    return data.split("<authToken>")[1].split("<")[0]


def rest(method, user, folder, query, body=b"", token=None, basic=None, headers=None):
    h = dict(headers or {})
    if token:
        h["Cookie"] = f"ZM_AUTH_TOKEN={token}"
    if basic:
        h["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    path = f"/service/home/{user}/{urllib.parse.quote(folder)}?{query}"
    return https("ARRIVAL_CARBONIO_REST_URL", method, path, body, h)


def db(sql, *args):
    con = sqlite3.connect(ENV["ARRIVAL_CARBONIO_DB"])
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def create_calendar(token, name):
    status, data = soap("ARRIVAL_CARBONIO_REST_URL", "/service/soap",
                        f'<CreateFolderRequest xmlns="urn:zimbraMail"><folder name="{name}" l="1" '
                        f'view="appointment"/></CreateFolderRequest>', token)
    check(status == 200 and f'name="{name}"' in data, f"CreateFolderRequest: {data}")
    return int(data.split('id="')[1].split('"')[0])


def vevent(uid, seq=0, summary="x", extra=""):
    uid_line = f"UID:{uid}\r\n" if uid else ""
    return (f"BEGIN:VEVENT\r\n{uid_line}SEQUENCE:{seq}\r\nDTSTAMP:20250101T000000Z\r\n"
            f"DTSTART:20250102T100000Z\r\nDTEND:20250102T110000Z\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\n")


def vcal(*components, method=""):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//arrival//standin selftest//EN\r\n" + method +
            "".join(components) + "END:VCALENDAR\r\n").encode()


def test_soap_auth_and_delegate():
    status, data = soap("ARRIVAL_CARBONIO_ADMIN_URL", "/service/admin/soap",
                        f'<AuthRequest xmlns="urn:zimbraAdmin"><name>{ADMIN}</name><password>x</password>'
                        "</AuthRequest>")
    check(status == 500 and "<Code>account.AUTH_FAILED</Code>" in data and "soap:Fault" in data, data)
    user = fresh_user()
    token = user_token(user)
    status, data = soap("ARRIVAL_CARBONIO_ADMIN_URL", "/service/admin/soap",
                        f'<DelegateAuthRequest xmlns="urn:zimbraAdmin"><account by="name">{user}</account>'
                        "</DelegateAuthRequest>", token)  # a user token cannot delegate
    check(status == 500 and "service.PERM_DENIED" in data, data)
    status, data = soap("ARRIVAL_CARBONIO_REST_URL", "/service/soap", '<GetFolderRequest xmlns="urn:zimbraMail"/>',
                        token)
    for fid, name, view in ((10, "Calendar", "appointment"), (7, "Contacts", "contact"),
                            (13, "Emailed Contacts", "contact")):
        check(f'id="{fid}" name="{name}" absFolderPath="/{name}" l="1" view="{view}"' in data, data)
    create_calendar(token, "Second")
    check(db("SELECT view FROM folders WHERE account=? AND name='Second'", user) == [("appointment",)], "DB")


def test_ics_empty_export():
    user = fresh_user()
    status, body = rest("GET", user, "Calendar", "fmt=ics", token=user_token(user))
    acct = str(uuid.uuid5(uuid.NAMESPACE_DNS, user))
    want = ("BEGIN:VCALENDAR\r\nX-WR-CALNAME:Calendar\r\nX-WR-CALID:" + acct + ":10\r\n"
            "PRODID:Carbonio-Calendar-Provider\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n")
    check(status == 200 and body.decode() == want, f"{status} {body!r}")


def test_ics_uid_move_sequence_vtodo():
    user = fresh_user()
    token = user_token(user)
    second = create_calendar(token, "Second")
    status, body = rest("POST", user, "Calendar", "fmt=ics&ignore=1", vcal(vevent("uid-a", 1)), token)
    check(status == 200 and body == b"", f"POST: {status} {body!r}")
    status, _ = rest("POST", user, "Second", "fmt=ics", vcal(vevent("uid-a", 2, "moved")), token)
    check(status == 200, "second POST")
    rows = db("SELECT folder, components FROM calendar_items WHERE account=? AND uid='uid-a'", user)
    check(len(rows) == 1 and rows[0][0] == second and "moved" in rows[0][1], f"moved, not copied: {rows}")
    status, _ = rest("POST", user, "Calendar", "fmt=ics", vcal(vevent("uid-a", 0, "older")), token)
    rows = db("SELECT folder, components FROM calendar_items WHERE account=? AND uid='uid-a'", user)
    check(status == 200 and rows[0][0] == second and "older" not in rows[0][1], f"lower SEQUENCE ignored: {rows}")
    todo = "BEGIN:VTODO\r\nUID:todo-1\r\nDTSTAMP:20250101T000000Z\r\nDUE:20250105T000000Z\r\nSUMMARY:t\r\nEND:VTODO\r\n"
    status, _ = rest("POST", user, "Calendar", "fmt=ics", vcal(todo, vevent(None)), token)
    check(status == 200, "VTODO + no UID")
    rows = db("SELECT uid, kind FROM calendar_items WHERE account=? AND folder=10 ORDER BY id", user)
    check(len(rows) == 2 and rows[0] == ("todo-1", "VTODO") and rows[1][0], f"VTODO stored, UID generated: {rows}")
    _, export = rest("GET", user, "Calendar", "fmt=ics", token=token)
    check(b"BEGIN:VTODO" not in export and export.count(b"BEGIN:VEVENT") == 2, export.decode())
    rules = [e["rule"] for e in events(user)]
    for rule in ("moved", "sequence_ignored", "todo_as_appointment", "uid_generated"):
        check(rule in rules, f"{rule} not in {rules}")


def test_ics_streaming_tzid_and_ignore():
    user = fresh_user()
    token = user_token(user)
    tz = ("BEGIN:VTIMEZONE\r\nTZID:Europe/Rome\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
          "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")
    local = vevent("tz-1", extra="").replace("DTSTART:20250102T100000Z", "DTSTART;TZID=Europe/Rome:20250102T100000")
    pad = "".join(vevent(f"pad-{i}", summary="p" * 60) for i in range(900))
    big = vcal(local, pad, tz)
    check(len(big) > 128 * 1024, "the upload is over 128 KB")
    status, body = rest("POST", user, "Calendar", "fmt=ics&ignore=1", big, token)
    check(status == 500 and b"<h2>HTTP ERROR 500" in body, f"TZID before VTIMEZONE, streamed: {status}")
    status, _ = rest("POST", user, "Calendar", "fmt=ics", vcal(tz, local, pad), token)
    check(status == 200, "VTIMEZONE first: accepted")
    status, _ = rest("POST", user, "Calendar", "fmt=ics", vcal(vevent("tz-2"), tz), token)
    check(status == 200, "under 128 KB the whole file is parsed first")
    _, export = rest("GET", user, "Calendar", "fmt=ics", token=token)
    check(b"BEGIN:VTIMEZONE\r\nTZID:Europe/Rome" in export, "export carries the VTIMEZONE")
    broken = vevent("bad-1").replace("DTSTART:20250102T100000Z\r\n", "")
    status, _ = rest("POST", user, "Calendar", "fmt=ics", vcal(broken, vevent("after-bad")), token)
    check(status == 500, "a bad component without ignore: 500")
    status, body = rest("POST", user, "Calendar", "fmt=ics&ignore=1", vcal(broken, vevent("after-bad-2")), token)
    check(status == 200 and body == b"", "ignore=1 continues and reports nothing")
    check(db("SELECT count(*) FROM calendar_items WHERE account=? AND uid='after-bad-2'", user) == [(1,)], "stored")


def test_rest_auth_and_missing_folder():
    user = fresh_user()
    token = user_token(user)
    body = vcal(vevent("m-1"))
    check(rest("POST", user, "Nope", "fmt=ics", body, token)[0] == 401, "cookie POST, missing folder: 401")
    status, _ = https("ARRIVAL_CARBONIO_REST_URL", "POST", f"/service/home/{user}/Nope?fmt=ics&zauthtoken={token}",
                     body)
    check(status == 401, "query token POST, missing folder: 401")
    check(rest("POST", user, "Nope", "fmt=ics", body, token, headers={"X-Zimbra-Csrf-Token": "t"})[0] == 404,
          "with a CSRF header: 404")
    check(rest("POST", user, "Nope", "fmt=ics", body, basic=(user, PW))[0] == 404, "Basic: 404")
    check(rest("GET", user, "Nope", "fmt=ics", token=token)[0] == 404, "GET: 404")
    check(rest("GET", user, "Calendar", "fmt=ics", basic=(user, "wrong"))[0] == 401, "wrong password: 401")
    check(rest("GET", user, "Calendar", "fmt=ics", basic=(ADMIN, ADMIN_PW))[0] == 200, "admin Basic for a user")
    other = fresh_user()
    check(rest("GET", other, "Calendar", "fmt=ics", token=token)[0] == 404, "another user's mailbox: refused")
    check(any(e["rule"] == "401_missing_folder" for e in events(user)), "401 event")
    text = open(ENV["ARRIVAL_CARBONIO_EVENTS"]).read()
    check(token not in text and PW not in text, "no token or password in the events file")


def test_csv_contacts():
    user = fresh_user()
    token = user_token(user)
    status, body = rest("GET", user, "Contacts", "fmt=csv", token=token)
    check(status == 200 and body == b"\r\n", f"empty folder: {body!r}")
    status, body = rest("POST", user, "Contacts", "fmt=csv", b"", token)
    check(status == 400 and b"Could not parse csv file - Reason : no column name definitions" in body, "empty")
    data = "\ufeffemail;firstName;lastName;notes\r\na@example.test;Ann;Lee;\r\nb@example.test;Bo;;say \"hi\"\r\n"
    check(rest("POST", user, "Contacts", "fmt=csv", data.encode(), token)[0] == 200, "import ; with BOM")
    check(rest("POST", user, "Contacts", "fmt=csv", data.encode(), token)[0] == 200, "import again")
    status, body = rest("GET", user, "Contacts", "fmt=csv", token=token)
    lines = body.decode().split("\r\n")
    check(lines[0] == '"email","firstName","lastName","notes"', f"header: {lines[0]}")
    check(lines[1] == '"a@example.test","Ann","Lee",""' and lines[2] == '"b@example.test","Bo","","say ""hi"""',
          f"rows: {lines}")
    check(len(lines) == 6 and lines[5] == "", "no dedupe: four contacts")
    outlook = ('"First Name","Last Name","E-mail Address","Business Street","Business Street 2","Zzz"\r\n'
               '"Cy","Doe","c@example.test","1 Main St","Floor 2","custom"\r\n')
    check(rest("POST", user, "Contacts", "fmt=csv&csvfmt=outlook-2003-csv", outlook.encode(), token)[0] == 200, "")
    rows = db("SELECT fields FROM contacts WHERE account=? ORDER BY id", user)
    last = json.loads(rows[-1][0])
    check(last == {"firstName": "Cy", "lastName": "Doe", "email": "c@example.test",
                   "workStreet": "1 Main St\nFloor 2", "Zzz": "custom"}, f"outlook mapping: {last}")
    status, body = rest("GET", user, "Contacts", "fmt=csv", token=token)
    check(body.decode().split("\r\n")[0] == '"Zzz","email","firstName","lastName","notes","workStreet"',
          "sorted case-sensitive union")
    status, _ = rest("POST", user, "Contacts", "fmt=csv", b"email\r\n" + b"x" * 10240001, token)
    check(status == 500, "over 10240000 bytes: 500")


def files_call(path, token, body=b"", headers=None):
    h = dict(headers or {})
    if token:
        h["Cookie"] = f"ZM_AUTH_TOKEN={token}"
    status, data = https("ARRIVAL_CARBONIO_REST_URL", "POST", path, body, h)
    return status, json.loads(data) if data else None


def gql(token, query, **variables):
    status, out = files_call("/services/files/graphql", token, json.dumps({"query": query, "variables": variables})
                             .encode(), {"Content-Type": "application/json"})
    check(status == 200 and not out.get("errors"), f"graphql: {status} {out}")
    return out["data"]


def test_files_upload_rename_versions():
    # §3 Files. Its own user (user320, from the files helper's range), reset first: the shared pool is used up.
    user = "user320@example.test"
    testbed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    subprocess.run(["bash", os.path.join(testbed, "carbonio.sh"), "reset-user", ENV["ARRIVAL_TESTBED_DIR"], user],
                   check=True)
    token = user_token(user)
    name = base64.b64encode("Bericht é.txt".encode()).decode()
    check(files_call("/services/files/upload", None, b"x", {"Filename": name})[0] == 401, "no cookie: 401")
    check(files_call("/services/files/upload", token, b"x", {"Filename": "%%"})[0] == 400, "bad Base64: 400")
    check(files_call("/services/files/upload", token, b"x", {"Filename": name, "ParentId": "nope"})[0] == 404,
          "missing parent: 404")
    folder = gql(token, "mutation($d: String!, $n: String!) { createFolder(destination_id: $d, name: $n) { id } }",
                 d="LOCAL_ROOT", n="Docs")["createFolder"]["id"]
    again = gql(token, "mutation($d: String!, $n: String!) { createFolder(destination_id: $d, name: $n) { id name } }",
                d="LOCAL_ROOT", n="Docs")["createFolder"]
    check(again["name"] == "Docs (1)", f"createFolder renames a clash: {again}")
    status, first = files_call("/services/files/upload", token, b"one", {"Filename": name, "ParentId": folder})
    check(status == 200 and first["version"] == 1, f"upload: {status} {first}")
    status, second = files_call("/services/files/upload", token, b"two!", {"Filename": name, "ParentId": folder})
    check(status == 200 and second["nodeId"] != first["nodeId"], "re-upload makes a second node")
    status, v2 = files_call("/services/files/upload-version", token, b"three",
                            {"Filename": name, "NodeId": first["nodeId"], "OverwriteVersion": "false"})
    check(status == 200 and v2 == {"nodeId": first["nodeId"], "version": 2}, f"upload-version: {v2}")
    node = gql(token, "query($id: ID!, $l: Int!) { getNode(node_id: $id) { id ... on Folder { children(limit: $l, "
               "sort: NAME_ASC) { id name ... on File { size version } } } } }", id=folder, l=10)["getNode"]
    got = sorted((c["name"], c["size"], c["version"]) for c in node["children"])
    check(got == [("Bericht é (1).txt", 4, 1), ("Bericht é.txt", 5, 2)], f"listing: {got}")
    page = gql(token, "query($id: ID!, $l: Int!, $c: String) { getNode(node_id: $id) { ... on Folder { "
               "children(limit: $l, cursor: $c, sort: NAME_ASC) { id } } } }", id=folder, l=1,
               c=node["children"][0]["id"])["getNode"]["children"]
    check([c["id"] for c in page] == [node["children"][1]["id"]], "cursor pages on")
    other = user_token("user319@example.test")
    check(files_call("/services/files/upload", other, b"x", {"Filename": name, "ParentId": folder})[0] == 404,
          "another user's folder: 404")


def main(selected):
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    tests = [(n, f) for n, f in tests if not selected or any(s in n for s in selected)]
    failed = 0
    for name, fn in tests:
        start = time.monotonic()
        _events_start[0] = os.path.getsize(ENV["ARRIVAL_CARBONIO_EVENTS"])
        try:
            fn()
            print(f"PASS {name} ({time.monotonic() - start:.1f}s)")
        except Exception:  # noqa: BLE001 — report every failure, run the rest
            failed += 1
            print(f"FAIL {name}\n{traceback.format_exc()}")
    print(f"{len(tests) - failed}/{len(tests)} passed")
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
