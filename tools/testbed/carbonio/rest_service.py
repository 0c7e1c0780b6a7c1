#!/usr/bin/env python3
"""The Carbonio stand-in's REST and SOAP service: threaded http.server on TLS, data in SQLite.

Modelled on Carbonio's public source via /work/shared/carbonio/FACTS.md (sections cited as "§N"; CM = zextras/
carbonio-mailbox at 0385232e0f59). It is NOT Carbonio. Python 3.11 stdlib only.

  rest_service.py CONFIG   CONFIG is the JSON file tools/testbed/carbonio.sh writes.

User port (ARRIVAL_CARBONIO_REST_URL):
  GET|POST /service/home/USER/<folder path>?fmt=ics|csv   (also /home/USER/..., the GetInfo "rest" base zmmailbox uses)
  POST /service/soap   AuthRequest (urn:zimbraAccount), GetFolderRequest, CreateFolderRequest (urn:zimbraMail)
  /services/files/...  Carbonio Files (§3): upload, upload-version, graphql; see files_service.py
Admin port (ARRIVAL_CARBONIO_ADMIN_URL):
  POST /service/admin/soap   AuthRequest, DelegateAuthRequest (urn:zimbraAdmin)
SQLite tables (ARRIVAL_CARBONIO_DB), readable by tests:
  folders(account, id, name, parent, view)            view: appointment | contact | "" (the root)
  calendar_items(account, id, folder, uid, kind, components)   components: JSON [{rid, seq, text}], kind: the
                                                      component type that was posted (VEVENT or VTODO)
  timezones(account, tzid, text)   contacts(account, id, folder, fields)   fields: JSON object
  tokens(token, account, admin, expires)
Every rule that fires and every refusal is a line in the events file (service "rest" or "soap"); never a token,
password or body.
"""
import base64
import contextlib
import csv
import datetime
import email.parser
import email.policy
import html
import http.server
import io
import json
import os
import re
import secrets
import socketserver
import sqlite3
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from common import CARBONIO_VERSION, Events, load_config, same_secret
from files_service import Files, FilesError

# §2: files over calendar_ics_import_full_parse_max_size (128 KB, LC.java:554) by Content-Length are stream-parsed.
STREAM_PARSE_OVER = 128 * 1024
# §1 Upload limit: the CSV import reads at most zimbraMtaMaxMessageSize (10240000) bytes, else IOException -> 500.
CSV_MAX_BYTES = 10240000
# §1: ContactConstants l.16-18.
CSV_MAX_COLUMNS, CSV_MAX_HEADER_CHARS = 1000, 100
# §3 DelegateAuth: lifetime min(duration, zimbraAuthTokenLifetime); the stand-in caps user and delegated tokens at
# the 1 h default (stricter than ATTRS' value). Admin tokens: 12 h (zimbraAdminAuthTokenLifetime; not in FACTS).
USER_TOKEN_S, ADMIN_TOKEN_S = 3600, 12 * 3600
# §6 Folder ids (FolderConstants): the stand-in's mailbox holds the root and the PIM system folders.
SYSTEM_FOLDERS = [(1, "USER_ROOT", 0, ""), (7, "Contacts", 1, "contact"), (10, "Calendar", 1, "appointment"),
                  (13, "Emailed Contacts", 1, "contact")]
FIRST_ITEM_ID = 257  # Mailbox.FIRST_USER_ID + 1: ids below are reserved for system items
PRODID = "Carbonio-Calendar-Provider"  # §2, ZCalendar.java:33

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS_ADMIN, NS_ACCOUNT, NS_MAIL, NS_ZIMBRA = "urn:zimbraAdmin", "urn:zimbraAccount", "urn:zimbraMail", "urn:zimbra"

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "contact_fields.json"), encoding="utf-8") as _f:
    CSV_FORMATS = json.load(_f)["formats"]


class Fault(Exception):
    """A Carbonio ServiceException as a SOAP fault: code (e.g. account.AUTH_FAILED) and message."""

    def __init__(self, code, message, sender=True):
        super().__init__(message)
        self.code, self.message, self.sender = code, message, sender


class HttpError(Exception):
    def __init__(self, status, message, rule=None):
        super().__init__(message)
        self.status, self.message, self.rule = status, message, rule


class ComponentError(Exception):
    pass


# ---------------------------------------------------------------- storage
class Store:
    """The mailboxes: one SQLite file, one connection, one lock (requests are few and small)."""

    def __init__(self, path, users, account_ids):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.RLock()
        self.users, self.account_ids = users, account_ids
        self.db.executescript("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS folders(account TEXT, id INTEGER, name TEXT, parent INTEGER, view TEXT,
                                               PRIMARY KEY(account, id));
            CREATE TABLE IF NOT EXISTS next_ids(account TEXT PRIMARY KEY, next INTEGER);
            CREATE TABLE IF NOT EXISTS calendar_items(account TEXT, id INTEGER, folder INTEGER, uid TEXT, kind TEXT,
                                                      components TEXT, PRIMARY KEY(account, id), UNIQUE(account, uid));
            CREATE TABLE IF NOT EXISTS timezones(account TEXT, tzid TEXT, text TEXT, PRIMARY KEY(account, tzid));
            CREATE TABLE IF NOT EXISTS contacts(account TEXT, id INTEGER, folder INTEGER, fields TEXT,
                                                PRIMARY KEY(account, id));
            CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, account TEXT, admin INTEGER, expires REAL);
        """)

    @contextlib.contextmanager
    def transaction(self):
        """One commit per request. What was stored before an error stays, as in Carbonio, where each component or
        contact is its own mailbox operation (§2 streaming import, §1 ImportContacts)."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    def q(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def mailbox(self, account):
        """Creates the account's mailbox with its system folders on first use."""
        if not self.q("SELECT 1 FROM next_ids WHERE account=?", account):
            for fid, name, parent, view in SYSTEM_FOLDERS:
                self.q("INSERT INTO folders VALUES(?,?,?,?,?)", account, fid, name, parent, view)
            self.q("INSERT INTO next_ids VALUES(?,?)", account, FIRST_ITEM_ID)

    def new_id(self, account):
        (n,), = self.q("SELECT next FROM next_ids WHERE account=?", account)
        self.q("UPDATE next_ids SET next=? WHERE account=?", n + 1, account)
        return n

    def folders(self, account):
        self.mailbox(account)
        return {r[0]: {"id": r[0], "name": r[1], "parent": r[2], "view": r[3]}
                for r in self.q("SELECT id, name, parent, view FROM folders WHERE account=?", account)}

    @staticmethod
    def path_of(folders, fid):
        parts = []
        while fid and fid != 1:
            parts.append(folders[fid]["name"])
            fid = folders[fid]["parent"]
        return "/" + "/".join(reversed(parts))

    def folder_by_path(self, account, path):
        folders = self.folders(account)
        want = "/" + path.strip("/")
        for fid, f in folders.items():
            if self.path_of(folders, fid).lower() == want.lower() and fid != 1:
                return f, self.path_of(folders, fid)
        return None, None


# ---------------------------------------------------------------- iCalendar
class Comp:
    def __init__(self, name):
        self.name, self.props, self.children = name, [], []

    def lines(self):
        out = [f"BEGIN:{self.name}"] + self.props
        for c in self.children:
            out += c.lines()
        return out + [f"END:{self.name}"]

    def prop(self, name):
        for line in self.props:
            key = re.split(r"[;:]", line, 1)[0].upper()
            if key == name:
                return line.split(":", 1)[1] if ":" in line else ""
        return None

    def tzids(self):
        found = set()
        for line in self.lines():
            head = line.split(":", 1)[0]
            for m in re.finditer(r';TZID=("[^"]*"|[^;:]*)', head, re.IGNORECASE):
                found.add(m.group(1).strip('"'))
        return found


def parse_ics(text):
    """Top-level components of an iCalendar text (unfolded lines). A broken structure is a file-level parse
    error: 500 even with ignore=1 (§2: file-level syntax errors are not covered by ignore)."""
    text = re.sub(r"\r?\n[ \t]", "", text.replace("\r\n", "\n"))
    top, stack = [], []
    for line in text.split("\n"):
        if not line.strip():
            continue
        upper = line.upper()
        if upper.startswith("BEGIN:"):
            comp = Comp(line[6:].strip().upper())
            (stack[-1].children if stack else top).append(comp)
            stack.append(comp)
        elif upper.startswith("END:"):
            if not stack or stack[-1].name != line[4:].strip().upper():
                raise HttpError(500, f"parse error: unexpected {line.strip()}", "ics_parse_error")
            stack.pop()
        elif not stack:
            raise HttpError(500, "parse error: content outside BEGIN:VCALENDAR", "ics_parse_error")
        else:
            stack[-1].props.append(line)
    if stack or not any(c.name == "VCALENDAR" for c in top):
        raise HttpError(500, "parse error: no complete VCALENDAR", "ics_parse_error")
    return [c for c in top if c.name == "VCALENDAR"]


def fold(line):
    """RFC 5545 folding at 75 octets, never inside a UTF-8 sequence."""
    data, out = line.encode("utf-8"), []
    while len(data) > 75:
        cut = 75 if not out else 74
        while cut > 0 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        out.append(data[:cut])
        data = data[cut:]
    out.append(data)
    return b"\r\n ".join(out).decode("utf-8")


def sequence_of(comp):
    try:
        return int((comp.prop("SEQUENCE") or "0").strip())
    except ValueError:
        return 0


# ---------------------------------------------------------------- the service
class Service:
    def __init__(self, cfg):
        self.cfg = cfg
        self.events = Events(cfg["events"])
        users = set(cfg["users"])
        ids = {u: str(uuid.uuid5(uuid.NAMESPACE_DNS, u)) for u in users | {cfg["admin"], cfg["noimap_admin"]}}
        self.store = Store(cfg["db"], users, ids)
        self.admins = {cfg["admin"], cfg["noimap_admin"]}
        self.files = Files(self.store, os.path.join(os.path.dirname(cfg["db"]), "files"), self.events)

    def event(self, service, user, rule, answer, **fields):
        self.events.write(service, user, rule, answer, False, **fields)

    # ---- tokens ----
    def issue_token(self, account, admin, lifetime_s):
        token = "0_" + secrets.token_hex(24)
        with self.store.lock:
            self.store.q("INSERT INTO tokens VALUES(?,?,?,?)", token, account, 1 if admin else 0,
                         time.time() + lifetime_s)
        return token

    def token_account(self, token):
        with self.store.lock:
            rows = self.store.q("SELECT account, admin, expires FROM tokens WHERE token=?", token)
        if not rows or rows[0][2] < time.time():
            return None
        return rows[0][0], bool(rows[0][1])

    def check_password(self, account, password):
        if account in self.admins:
            return same_secret(password, self.cfg["admin_password"])
        return account in self.store.users and same_secret(password, self.cfg["user_password"])

    # ---- SOAP ----
    def soap(self, body, cookie_token, admin_port):
        try:
            root = ET.fromstring(body)
        except ET.ParseError as e:
            raise Fault("service.PARSE_ERROR", f"parse error: {e}") from None
        ns = SOAP12 if root.tag == f"{{{SOAP12}}}Envelope" else SOAP11
        header = root.find(f"{{{ns}}}Header")
        soap_body = root.find(f"{{{ns}}}Body")
        if soap_body is None or len(soap_body) == 0:
            raise Fault("service.INVALID_REQUEST", "invalid request: no SOAP body")
        request = soap_body[0]
        token = cookie_token
        if header is not None:
            found = header.find(f".//{{{NS_ZIMBRA}}}authToken")
            if found is not None and (found.text or "").strip():
                token = found.text.strip()
        name = request.tag.split("}")[-1]
        handlers = ({"AuthRequest": self.admin_auth, "DelegateAuthRequest": self.delegate_auth} if admin_port else
                    {"AuthRequest": self.user_auth, "GetFolderRequest": self.get_folder,
                     "CreateFolderRequest": self.create_folder})
        if name not in handlers:
            raise Fault("service.UNKNOWN_DOCUMENT", f"unknown document: {name}")
        return ns, handlers[name](request, token)

    @staticmethod
    def child(el, name):
        for c in el:
            if c.tag.split("}")[-1] == name:
                return c
        return None

    def account_and_password(self, request):
        acct = self.child(request, "account")
        name_el = self.child(request, "name")
        name = (acct.text if acct is not None else name_el.text if name_el is not None else "") or ""
        pw_el = self.child(request, "password")
        return name.strip().lower(), (pw_el.text or "") if pw_el is not None else ""

    def admin_auth(self, request, _token):
        """§7 zmmailbox -z: admin AuthRequest (name or account, password) -> authToken, lifetime."""
        name, password = self.account_and_password(request)
        if not self.check_password(name, password):
            self.event("soap", name, "auth_failed", "account.AUTH_FAILED", request="AuthRequest")
            raise Fault("account.AUTH_FAILED", f"authentication failed for [{name}]")
        if name not in self.admins:
            self.event("soap", name, "not_admin", "service.PERM_DENIED", request="AuthRequest")
            raise Fault("service.PERM_DENIED", "permission denied: not an admin account")
        token = self.issue_token(name, True, ADMIN_TOKEN_S)
        return ET.Element(f"{{{NS_ADMIN}}}AuthResponse"), [("authToken", token), ("lifetime", ADMIN_TOKEN_S * 1000)]

    def delegate_auth(self, request, token):
        """§3 DelegateAuth.java:34-76: <account by="name">user</account>, duration in seconds (default 3600)."""
        who = self.token_account(token) if token else None
        if not who:
            raise Fault("service.AUTH_REQUIRED", "no valid authtoken present")
        if not who[1]:
            raise Fault("service.PERM_DENIED", "permission denied: need adequate admin token")
        acct = self.child(request, "account")
        if acct is None:
            raise Fault("service.INVALID_REQUEST", "invalid request: missing required element: account")
        by, value = acct.get("by", "name"), (acct.text or "").strip().lower()
        if by != "name":
            raise Fault("service.INVALID_REQUEST", f"invalid request: unknown value for by: {by}")
        if value not in self.store.users:
            self.event("soap", value, "no_such_account", "account.NO_SUCH_ACCOUNT", request="DelegateAuthRequest")
            raise Fault("account.NO_SUCH_ACCOUNT", f"no such account: {value}")
        try:
            duration = int(request.get("duration", "3600"))
        except ValueError:
            raise Fault("service.INVALID_REQUEST", "invalid request: duration") from None
        token = self.issue_token(value, False, min(duration, USER_TOKEN_S))
        # The response's lifetime is the requested one (DelegateAuth.java:72), even when the token lives less.
        return ET.Element(f"{{{NS_ADMIN}}}DelegateAuthResponse"), [("authToken", token), ("lifetime", duration * 1000)]

    def user_auth(self, request, _token):
        name, password = self.account_and_password(request)
        if name not in self.store.users or not self.check_password(name, password):
            self.event("soap", name, "auth_failed", "account.AUTH_FAILED", request="AuthRequest")
            raise Fault("account.AUTH_FAILED", f"authentication failed for [{name}]")
        token = self.issue_token(name, False, USER_TOKEN_S)
        return ET.Element(f"{{{NS_ACCOUNT}}}AuthResponse"), [("authToken", token), ("lifetime", USER_TOKEN_S * 1000)]

    def soap_account(self, token):
        who = self.token_account(token) if token else None
        if not who:
            raise Fault("service.AUTH_REQUIRED", "no valid authtoken present")
        if who[0] not in self.store.users:
            raise Fault("service.PERM_DENIED", "permission denied: the admin has no mailbox here")
        return who[0]

    def folder_element(self, folders, fid, parent_el=None):
        f = folders[fid]
        attrs = {"id": str(fid), "name": f["name"], "absFolderPath": Store.path_of(folders, fid)}
        if fid != 1:
            attrs["l"] = str(f["parent"])
        if f["view"]:
            attrs["view"] = f["view"]
        el = ET.Element(f"{{{NS_MAIL}}}folder", attrs) if parent_el is None else \
            ET.SubElement(parent_el, f"{{{NS_MAIL}}}folder", attrs)
        for cid in sorted(c for c, x in folders.items() if x["parent"] == fid and c != fid):
            self.folder_element(folders, cid, el)
        return el

    def get_folder(self, request, token):
        account = self.soap_account(token)
        with self.store.lock:
            folders = self.store.folders(account)
        start = 1
        sel = self.child(request, "folder")
        if sel is not None and sel.get("l"):
            start = int(sel.get("l"))
        elif sel is not None and sel.get("path"):
            with self.store.lock:
                f, _ = self.store.folder_by_path(account, sel.get("path"))
            start = f["id"] if f else -1
        if start not in folders:
            raise Fault("mail.NO_SUCH_FOLDER", f"no such folder id: {start}")
        resp = ET.Element(f"{{{NS_MAIL}}}GetFolderResponse")
        resp.append(self.folder_element(folders, start))
        return resp, []

    def create_folder(self, request, token):
        account = self.soap_account(token)
        spec = self.child(request, "folder")
        if spec is None or not spec.get("name"):
            raise Fault("service.INVALID_REQUEST", "invalid request: missing required attribute: name")
        name, parent, view = spec.get("name"), int(spec.get("l", "1")), spec.get("view", "message")
        # §6 Folder names: MailItem.validateItemName (l.2859-2900).
        trimmed = name.rstrip(" ")
        if (re.search(r'[:/"\t\r\n\x00-\x1f\x7f]', name) or not trimmed or len(trimmed) > 255
                or trimmed in (".", "..")):
            raise Fault("mail.INVALID_NAME", f"invalid name: {name}")
        with self.store.lock:
            folders = self.store.folders(account)
            if parent not in folders:
                raise Fault("mail.NO_SUCH_FOLDER", f"no such folder id: {parent}")
            for fid, f in folders.items():
                if f["parent"] == parent and f["name"].lower() == trimmed.lower() and fid != 1:
                    if spec.get("fie") in ("1", "true"):
                        resp = ET.Element(f"{{{NS_MAIL}}}CreateFolderResponse")
                        resp.append(self.folder_element(folders, fid))
                        return resp, []
                    raise Fault("mail.ALREADY_EXISTS", f"object with that name already exists: {trimmed}")
            fid = self.store.new_id(account)
            self.store.q("INSERT INTO folders VALUES(?,?,?,?,?)", account, fid, trimmed, parent,
                         view if view in ("appointment", "contact") else "message")
            folders = self.store.folders(account)
        resp = ET.Element(f"{{{NS_MAIL}}}CreateFolderResponse")
        resp.append(self.folder_element(folders, fid))
        return resp, []

    # ---- REST: who is asking ----
    def rest_auth(self, handler, query):
        """§7 REST auth (UserServlet AUTH_DEFAULT "co,jwt,nsc,qp"): ZM_AUTH_TOKEN cookie, ?zauthtoken=, Basic.
        Returns (account, how, is_admin) or None."""
        token = handler.cookie("ZM_AUTH_TOKEN")
        how = "cookie"
        if not token and query.get("zauthtoken"):
            token, how = query["zauthtoken"], "query"
        if token:
            who = self.token_account(token)
            return (who[0], how, who[1]) if who else None
        auth = handler.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                name, _, password = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
            except ValueError:
                return None
            name = name.lower()
            if self.check_password(name, password):
                return name, "basic", name in self.admins
        return None

    # ---- REST ----
    def rest(self, handler, method, owner, folder_path, query, body, content_length):
        owner = owner.lower()
        who = self.rest_auth(handler, query)
        if who is None:
            raise HttpError(401, "must authenticate", "401_not_authenticated")
        account, how, is_admin = who
        if owner not in self.store.users:
            raise HttpError(404, f"no such account: {owner}", "no_such_account")
        # §7: a user reaches their own mailbox (own or delegated token, own password); an admin (Basic or admin
        # token) reaches every mailbox, as a global admin's rights allow. Admin tokens on REST: NOT CONFIRMED.
        if account != owner and not is_admin:
            # PERM_DENIED is sent like NoSuchItem (§2 sendError): the same 401/404 choice below.
            return self.missing(handler, method, how, owner, folder_path, "perm_denied")
        fmt = query.get("fmt", "")
        with self.store.lock:
            folder, abs_path = self.store.folder_by_path(owner, folder_path)
        if folder is None:
            return self.missing(handler, method, how, owner, folder_path, "missing_folder")
        if fmt == "ics" or (not fmt and folder["view"] == "appointment"):
            if method == "GET":
                return self.export_ics(owner, folder)
            return self.import_ics(owner, folder, abs_path, query, body, content_length)
        if fmt == "csv" or (not fmt and folder["view"] == "contact"):
            if method == "GET":
                return self.export_csv(owner, folder)
            return self.import_csv(owner, folder, abs_path, query, body)
        raise HttpError(400, f"unsupported fmt: {fmt}", "unsupported_fmt")

    def missing(self, handler, method, how, owner, folder_path, why):
        """§2 sendError (UserServlet.java:284-315): a missing folder (or no permission) is 401 when the request
        came with a cookie or query token and no CSRF header on POST/PUT, 404 otherwise (Basic auth, GET)."""
        token_auth = how in ("cookie", "query") and method in ("POST", "PUT")
        if token_auth and not handler.headers.get("X-Zimbra-Csrf-Token"):
            raise HttpError(401, "must authenticate", f"401_{why}")
        raise HttpError(404, f"no such item: /{folder_path}", f"404_{why}")

    def export_ics(self, owner, folder):
        """§2 export: Mailbox.writeICalendarForCalendarItems l.5300-5372; no VTIMEZONE when there are no items."""
        with self.store.lock:
            items = self.store.q("SELECT components FROM calendar_items WHERE account=? AND folder=? ORDER BY id",
                                 owner, folder["id"])
            zones = dict(self.store.q("SELECT tzid, text FROM timezones WHERE account=?", owner))
        comps = [c for (text,) in items for c in json.loads(text)]
        used = set()
        for c in comps:
            used |= set(re.findall(r';TZID=("[^"]*"|[^;:]*)', c["text"], re.IGNORECASE))
        lines = ["BEGIN:VCALENDAR", f"X-WR-CALNAME:{folder['name']}",
                 f"X-WR-CALID:{self.store.account_ids[owner]}:{folder['id']}", f"PRODID:{PRODID}", "VERSION:2.0",
                 "METHOD:PUBLISH"]
        lines += [zones[t.strip('"')] for t in sorted(used) if t.strip('"') in zones]
        lines += [c["text"] for c in comps]
        lines.append("END:VCALENDAR")
        body = "".join(fold(line) + "\r\n" for text in lines for line in text.split("\r\n"))
        return 200, "text/calendar; charset=utf-8", body.encode("utf-8"), {}

    def import_ics(self, owner, folder, abs_path, query, body, content_length):
        """§2 import: METHOD-less = PUBLISH; one item per UID in the whole mailbox (updated in place when SEQUENCE
        is >=, silently ignored when lower, MOVED into the target folder); VTODO becomes an appointment; no UID ->
        one is generated. ignore=<int != 0> skips per-component errors and reports nothing."""
        if folder["view"] != "appointment":
            raise HttpError(500, f"invalid request: folder {abs_path} is not a calendar", "wrong_folder_view")
        try:
            ignore = int(query.get("ignore", "0") or "0") != 0
        except ValueError:
            ignore = False
        streaming = content_length is not None and content_length > STREAM_PARSE_OVER
        calendars = parse_ics(body.decode("utf-8", "replace"))
        with self.store.lock, self.store.transaction():
            for cal in calendars:
                known_tz = set() if streaming else {c.prop("TZID") for c in cal.children if c.name == "VTIMEZONE"}
                for comp in cal.children:
                    if comp.name == "VTIMEZONE":
                        tzid = comp.prop("TZID")
                        known_tz.add(tzid)
                        self.store.q("INSERT OR REPLACE INTO timezones VALUES(?,?,?)", owner, tzid,
                                     "\r\n".join(comp.lines()))
                        continue
                    if comp.name not in ("VEVENT", "VTODO"):
                        continue
                    undefined = comp.tzids() - known_tz
                    if streaming and undefined:
                        # §2 (IcsFormatter l.175-189): stream-parsed uploads fail on a TZID used before its
                        # VTIMEZONE. Whether ignore=1 skips that component is NOT CONFIRMED: the stand-in fails
                        # the request (500) even with ignore=1, the stricter reading.
                        raise HttpError(500, f"parse error: TZID {sorted(undefined)[0]} used before its VTIMEZONE "
                                             f"(uploads over {STREAM_PARSE_OVER} bytes are stream-parsed)",
                                        "tzid_before_vtimezone")
                    try:
                        self.add_invite(owner, folder, abs_path, comp)
                    except ComponentError as e:
                        if not ignore:
                            raise HttpError(500, str(e), "component_error") from None
                        # Invite.java:2548-2574: logged, skipped, nothing reported to the client.
                        self.event("rest", owner, "component_skipped_ignore", "200", folder=abs_path,
                                   uid=comp.prop("UID") or "")
        return 200, None, b"", {}

    def add_invite(self, owner, folder, abs_path, comp):
        if comp.name == "VEVENT" and comp.prop("DTSTART") is None:
            # The stand-in's example of a per-component error (a VEVENT must have DTSTART, RFC 5545 3.6.1);
            # which component faults Carbonio raises is NOT CONFIRMED beyond "ServiceException/RuntimeException".
            raise ComponentError(f"invalid request: missing DTSTART in VEVENT {comp.prop('UID') or ''}".strip())
        kind = comp.name
        if comp.name == "VTODO":
            # §2: tasks were removed; Invite.isTodo() is false and a VTODO is stored as an APPOINTMENT
            # (Invite.java:1971, 2166-2175). How its DUE maps is NOT CONFIRMED: here DUE becomes DTEND.
            comp.name = "VEVENT"
            if comp.prop("DTEND") is None:
                comp.props = [("DTEND" + p[3:]) if re.match(r"DUE[;:]", p, re.IGNORECASE) else p for p in comp.props]
            self.event("rest", owner, "todo_as_appointment", "200", folder=abs_path, uid=comp.prop("UID") or "")
        uid = (comp.prop("UID") or "").strip()
        if not uid:  # §2: components without a UID get a generated one
            uid = str(uuid.uuid4())
            comp.props.insert(0, f"UID:{uid}")
            self.event("rest", owner, "uid_generated", "200", folder=abs_path, uid=uid)
        rid = (comp.prop("RECURRENCE-ID") or "").strip()
        seq = sequence_of(comp)
        text = "\r\n".join(comp.lines())
        # §2: getCalendarItemByUid covers the whole mailbox (Mailbox.java:6260), not the target folder.
        rows = self.store.q("SELECT id, folder, components FROM calendar_items WHERE account=? AND uid=?", owner, uid)
        if not rows:
            self.store.q("INSERT INTO calendar_items VALUES(?,?,?,?,?,?)", owner, self.store.new_id(owner),
                         folder["id"], uid, kind, json.dumps([{"rid": rid, "seq": seq, "text": text}]))
            return
        item_id, item_folder, stored = rows[0]
        comps = json.loads(stored)
        same = [c for c in comps if c["rid"] == rid]
        if same and seq < same[0]["seq"]:
            # CalendarItem.processNewInviteRequestOrCancel l.2176-2179: an older SEQUENCE is dropped silently.
            self.event("rest", owner, "sequence_ignored", "200", folder=abs_path, uid=uid, sequence=seq,
                       stored_sequence=same[0]["seq"])
            return
        if same:  # SEQUENCE >= : replaced (l.2141, Invite l.3065-3070)
            comps = [{"rid": rid, "seq": seq, "text": text} if c["rid"] == rid else c for c in comps]
            self.event("rest", owner, "updated_in_place", "200", folder=abs_path, uid=uid)
        else:  # another RECURRENCE-ID of the same item: added
            comps.append({"rid": rid, "seq": seq, "text": text})
        if item_folder != folder["id"]:
            # CalendarItem l.2414-2417: "if (getFolderId() != folderId) move(folder)".
            folders = self.store.folders(owner)
            self.event("rest", owner, "moved", "200", folder=abs_path, uid=uid,
                       from_folder=Store.path_of(folders, item_folder) if item_folder in folders else str(item_folder))
        self.store.q("UPDATE calendar_items SET folder=?, components=? WHERE account=? AND id=?", folder["id"],
                     json.dumps(comps), owner, item_id)

    def export_csv(self, owner, folder):
        """§1 export (ContactCSV.toCSV l.1043-1122): header = sorted (case-sensitive) union of the field names in use,
        every cell quoted, CRLF, UTF-8 without BOM; an empty folder is exactly CRLF."""
        with self.store.lock:
            rows = [json.loads(f) for (f,) in self.store.q(
                "SELECT fields FROM contacts WHERE account=? AND folder=? ORDER BY id", owner, folder["id"])]
        names = sorted({k for r in rows for k in r})
        quote = lambda v: '"' + v.replace('"', '""') + '"'  # noqa: E731
        out = ",".join(f'"{n}"' for n in names) + "\r\n"
        for r in rows:
            out += ",".join(quote(r.get(n, "")) for n in names) + "\r\n"
        return 200, "text/csv; charset=utf-8", out.encode("utf-8"), {
            "Content-Disposition": f"attachment; filename={folder['name']}.csv"}

    def import_csv(self, owner, folder, abs_path, query, body):
        """§1 import (CsvFormatter.saveCallback l.108-150, ContactCSV): no dedupe, every row is a new contact."""
        if len(body) > CSV_MAX_BYTES:
            raise HttpError(500, f"upload too large: over {CSV_MAX_BYTES} bytes", "csv_too_large")
        if folder["view"] != "contact":
            raise HttpError(500, f"invalid request: folder {abs_path} is not an address book", "wrong_folder_view")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:  # ICU's detector is approximated: UTF-8, else Windows-1252
            text = body.decode("cp1252", "replace")
        contacts = csv_contacts(text, query.get("csvfmt"))
        with self.store.lock, self.store.transaction():
            for fields in contacts:
                self.store.q("INSERT INTO contacts VALUES(?,?,?,?)", owner, self.store.new_id(owner), folder["id"],
                             json.dumps(fields, ensure_ascii=False))
        self.event("rest", owner, "contacts_created", "200", folder=abs_path, count=len(contacts))
        return 200, None, b"", {}


def csv_contacts(text, fmt_name):
    """ContactCSV.getContactsInternal: header checks, separator from the header, format by name or by guess."""
    header_line = text.split("\n", 1)[0]
    seps = [c for c in header_line if c in ",;"]  # the first , or ; of the header decides (isFieldSeparator)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=seps[0] if seps else ","))
    if not rows or not any(rows[0]):
        raise HttpError(400, "Could not parse csv file - Reason : no column name definitions", "csv_no_header")
    names = rows[0]
    if names[0].startswith("\ufeff"):  # initFields l.259-263
        names[0] = names[0][1:]
    if len(names) > CSV_MAX_COLUMNS:
        raise HttpError(400, f"Could not parse csv file - Reason : too many columns: {len(names)}", "csv_header")
    for i, n in enumerate(names):
        if not n:
            raise HttpError(400, f"Could not parse csv file - Reason : missing column name for column[{i}]",
                            "csv_header")
        if len(n) > CSV_MAX_HEADER_CHARS:
            raise HttpError(400, "Could not parse csv file - Reason : invalid format - header field "
                                 f"{i + 1} of {len(names)} is too long (length={len(n)})", "csv_header")
    fmt = CSV_FORMATS.get(fmt_name or "") if fmt_name else guess_format(names)
    fmt = fmt or CSV_FORMATS["csv"]  # getFormat: unknown names (e.g. "zimbra-csv") -> the default format
    out = []
    for row in rows[1:]:
        if not row:
            continue
        contact = to_contact(names, row, fmt)
        if len(contact) == 1 and not next(iter(contact.values())).strip():
            continue  # Bug 50069: a line of one blank is no contact
        if contact:
            out.append(contact)
    return out


def guess_format(names):
    """guessFormat (l.969-992): the format with the most column names among the headers (case-sensitive)."""
    best, best_n = CSV_FORMATS["csv"], 0
    for fmt in CSV_FORMATS.values():
        n = sum(1 for col in fmt["columns"] if col[0].split(",")[0] in names)
        if n > best_n:
            best, best_n = fmt, n
    return best


def to_contact(names, row, fmt):
    """ContactCSV.toContact (l.517-625). ContactMap.put drops empty values and keeps the first of names equal
    case-insensitively. Simplified: date columns are stored as y-m-d when they parse as one, else as given."""
    contact, seen = {}, set()

    def put(key, value):
        if key and key.strip() and value and key.lower() not in seen:
            seen.add(key.lower())
            contact[key] = value

    if "allfields" in fmt["flags"]:  # each header is the attribute name as written
        for name, value in zip(names, row):
            put(name, value)
        return contact
    unseen = list(fmt["columns"])
    pending = {}
    for i, header in enumerate(names):
        value = row[i] if i < len(row) else None
        col = next((c for c in unseen if header.lower() in [n.lower() for n in c[0].split(",")]), None)
        if col is None:  # unknown header: a user-defined attribute
            put(header, value)
            continue
        name, field, kind = col
        if kind == "multivalue":
            parts = pending.setdefault(name, {})
            parts[header.lower()] = value
            if len(parts) >= len(name.split(",")):
                put_multivalue(put, col, pending.pop(name))
                unseen.remove(col)
        elif kind == "name":
            put_name(put, field, value)
            unseen.remove(col)
        elif kind == "date":
            put(field, iso_date(value) if value else value)
            unseen.remove(col)
        elif kind == "tag":
            continue
        else:
            put(field, value)
            unseen.remove(col)
    for name, parts in pending.items():
        col = next(c for c in fmt["columns"] if c[0] == name)
        put_multivalue(put, col, parts)
    return contact


def put_multivalue(put, col, parts):  # addMultiValueField l.283-301: joined by newlines
    values = [parts.get(n.lower()) for n in col[0].split(",")]
    joined = "\n".join(v for v in values if v is not None and v != "")
    put(col[1], joined)


def put_name(put, field, value):  # addNameField l.458-503: "Last, First" or "First [Middle] Last"
    if not field or not value:
        return
    first, middle, last = (field.split(",") + [None, None])[:3]
    if "," in value:
        last_part, first_part = value.split(",", 1)
        put(last, last_part.strip())
        put(first, first_part.strip())
        return
    words = value.split(" ")
    put(first, words[0])
    if len(words) > 2 and middle:
        put(middle, " ".join(words[1:-1]).strip())
    if len(words) > 1:
        put(last, words[-1].strip())


def iso_date(value):
    parts = re.split(r"[/-]", value)
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        a, b, c = map(int, parts)
        for y, m, d in ((a, b, c), (c, a, b), (c, b, a)):
            try:
                return datetime.date(y, m, d).isoformat() if y > 31 else value
            except ValueError:
                continue
    return value


# ---------------------------------------------------------------- HTTP
def log_bug(e):
    """A stand-in bug on stderr (rest.log): type and frames only, as the message may quote a request's bytes."""
    print(f"rest_service: {type(e).__name__}\n" + "".join(traceback.format_tb(e.__traceback__)), file=sys.stderr,
          flush=True)


def error_page(status, reason, uri, message):
    """Jetty's HTML error page (§2: 500 with Jetty's page; its exact text is NOT CONFIRMED)."""
    esc = html.escape
    return (f'<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
            f"<title>Error {status} {esc(reason)}</title>\n</head>\n<body><h2>HTTP ERROR {status} {esc(reason)}</h2>\n"
            f"<table>\n<tr><th>URI:</th><td>{esc(uri)}</td></tr>\n<tr><th>STATUS:</th><td>{status}</td></tr>\n"
            f"<tr><th>MESSAGE:</th><td>{esc(message)}</td></tr>\n<tr><th>SERVLET:</th><td>UserServlet</td></tr>\n"
            f"</table>\n\n</body>\n</html>\n").encode("utf-8")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"Carbonio-standin/{CARBONIO_VERSION}"
    service = None      # set per server
    admin_port = False

    def log_message(self, fmt, *args):  # the URL may carry ?zauthtoken=: never logged
        pass

    def cookie(self, name):
        for part in self.headers.get("Cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return v
        return None

    def read_body(self):
        """The request body (Content-Length or chunked) and the Content-Length given (None when chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data), None
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length), length

    def payload(self, body):
        """zmmailbox posts multipart/form-data with the file in part "upfile" (§7); the first file part is used."""
        ctype = self.headers.get("Content-Type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            return body
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode("latin-1") + body)
        parts = list(msg.iter_parts()) if msg.is_multipart() else []
        if not parts:
            raise HttpError(415, "multipart parsing failed", "multipart_error")
        chosen = next((p for p in parts if p.get_filename()), None)
        if chosen is None:  # UserServletContext l.783-788
            raise HttpError(204, "No file content", "multipart_no_file")
        return chosen.get_payload(decode=True) or b""

    def send(self, status, ctype, body, headers=None):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        path = urllib.parse.unquote(url.path)
        svc = self.service
        if not self.admin_port and path.startswith("/services/files/"):
            return self.files(method, path)  # reads (streams) its own body
        body, length = self.read_body()
        if self.admin_port:
            if path == "/service/admin/soap" and method == "POST":
                return self.soap(body)
            return self.send(404, "text/html; charset=utf-8", error_page(404, "Not Found", url.path, "not found"))
        if path == "/service/soap" and method == "POST":
            return self.soap(body)
        m = re.match(r"^/(?:service/)?home/([^/]+)/?(.*)$", path)
        if not m:
            return self.send(404, "text/html; charset=utf-8", error_page(404, "Not Found", url.path, "not found"))
        owner, folder_path = m.group(1), m.group(2)
        try:
            payload = self.payload(body) if method != "GET" else b""
            status, ctype, out, headers = svc.rest(self, method, owner, folder_path, query, payload, length)
            self.send(status, ctype, out, headers)
        except Exception as e:  # noqa: BLE001 — a stand-in bug is a 500 page and an event, like a server fault
            if not isinstance(e, HttpError):
                log_bug(e)
                e = HttpError(500, f"system failure: {type(e).__name__}", "internal_error")
            reason = http.HTTPStatus(e.status).phrase
            svc.event("rest", owner.lower(), e.rule or "refused", f"{e.status} {e.message}", method=method,
                      folder="/" + folder_path, fmt=query.get("fmt", ""))
            if e.status == 204:
                return self.send(204, None, b"")
            extra = {"WWW-Authenticate": 'Basic realm="Zimbra"'} if e.status == 401 else {}
            self.send(e.status, "text/html; charset=utf-8", error_page(e.status, reason, url.path, e.message), extra)

    def files(self, method, path):
        """§3: Carbonio Files. Auth is the ZM_AUTH_TOKEN cookie only; the token's account is the user."""
        svc = self.service
        token = self.cookie("ZM_AUTH_TOKEN")
        who = svc.token_account(token) if token else None
        account = who[0] if who else None
        try:
            status, ctype, out = svc.files.handle(self, method, path, account)
            self.send(status, ctype, out)
        except Exception as e:  # noqa: BLE001 — as in route(): a stand-in bug is a 500 and an event
            if not isinstance(e, FilesError):
                log_bug(e)
                e = FilesError(500, f"system failure: {type(e).__name__}", "internal_error")
            svc.event("files", account or "", e.rule, f"{e.status} {e.message}", method=method, path=path)
            self.close_connection = True  # an unread request body may follow
            self.send(e.status, "application/json", json.dumps({"error": e.message}).encode())

    def soap(self, body):
        svc = self.service
        ns = SOAP12
        try:
            ns, (resp, fields) = svc.soap(body, self.cookie("ZM_AUTH_TOKEN") or self.cookie("ZM_ADMIN_AUTH_TOKEN"),
                                          self.admin_port)
            for name, value in fields:
                ET.SubElement(resp, f"{{{resp.tag[1:].split('}')[0]}}}{name}").text = str(value)
            status = 200
        except Fault as f:
            resp, status = self.fault(ns, f), 500
        except Exception as e:  # noqa: BLE001 — a stand-in bug answers as Carbonio's service.FAILURE would
            log_bug(e)
            failure = Fault("service.FAILURE", f"system failure: {type(e).__name__}", sender=False)
            resp, status = self.fault(ns, failure), 500
        data = (f'<soap:Envelope xmlns:soap="{ns}"><soap:Header><context xmlns="{NS_ZIMBRA}"/></soap:Header>'
                f"<soap:Body>{to_xml(resp, ns)}</soap:Body></soap:Envelope>").encode("utf-8")
        ctype = "application/soap+xml; charset=utf-8" if ns == SOAP12 else "text/xml; charset=utf-8"
        self.send(status, ctype, data)

    @staticmethod
    def fault(ns, f):
        """Soap12Protocol.soapFault: Code/Value, Reason/Text, Detail/Error{Code, Trace} (urn:zimbra)."""
        fault = ET.Element(f"{{{ns}}}Fault")
        if ns == SOAP12:
            code = ET.SubElement(ET.SubElement(fault, f"{{{ns}}}Code"), f"{{{ns}}}Value")
            code.text = "soap:Sender" if f.sender else "soap:Receiver"
            ET.SubElement(ET.SubElement(fault, f"{{{ns}}}Reason"), f"{{{ns}}}Text").text = f.message
            detail = ET.SubElement(fault, f"{{{ns}}}Detail")
        else:
            ET.SubElement(fault, "faultcode").text = "soap:Client" if f.sender else "soap:Server"
            ET.SubElement(fault, "faultstring").text = f.message
            detail = ET.SubElement(fault, "detail")
        error = ET.SubElement(detail, f"{{{NS_ZIMBRA}}}Error")
        ET.SubElement(error, f"{{{NS_ZIMBRA}}}Code").text = f.code
        ET.SubElement(error, f"{{{NS_ZIMBRA}}}Trace").text = "standin"
        return fault


def to_xml(el, soap_ns, parent_ns=None):
    """Serializes as Zimbra writes it: soap: prefix for the envelope's names, a default xmlns where the namespace
    changes (<AuthResponse xmlns="urn:zimbraAdmin"><authToken>...)."""
    ns, _, local = el.tag[1:].partition("}") if el.tag.startswith("{") else ("", "", el.tag)
    name = f"soap:{local}" if ns == soap_ns else local
    attrs = "" if ns == soap_ns or ns == parent_ns or not ns else f' xmlns="{ns}"'
    attrs += "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in el.attrib.items())
    inner = html.escape(el.text or "", quote=False) + "".join(to_xml(c, soap_ns, ns if ns != soap_ns else parent_ns)
                                                               for c in el)
    return f"<{name}{attrs}>{inner}</{name}>" if inner else f"<{name}{attrs}/>"


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, port, handler, tls):
        super().__init__(("127.0.0.1", port), handler)
        self.tls = tls

    def get_request(self):
        sock, addr = super().get_request()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def main(config_path):
    cfg = load_config(config_path)
    service = Service(cfg)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cfg["tls_cert"], cfg["tls_key"])
    servers = []
    for port, admin in ((cfg["rest_port"], False), (cfg["admin_port"], True)):
        handler = type("BoundHandler", (Handler,), {"service": service, "admin_port": admin})
        servers.append(TLSServer(port, handler, tls))
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(sys.argv[1])
