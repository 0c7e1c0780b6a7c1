#!/usr/bin/env python3
"""The Carbonio stand-in's IMAP front: a proxy in front of the testbed's DST Dovecot that answers as Carbonio does.

Modelled on Carbonio's public source via /work/shared/carbonio/FACTS.md (sections cited as "§N"; source lines as
"CM file:line", CM = zextras/carbonio-mailbox at 0385232e0f59). It is NOT Carbonio: it checks what Carbonio checks
and answers with Carbonio's words, then lets Dovecot store the mail. Python 3.11 stdlib only.

  imap_front.py CONFIG     CONFIG is the JSON file tools/testbed/carbonio.sh writes (ports, secrets, Dovecot DST).

Strings taken from the source (CM store/src/main/java/com/zimbra/cs/...):
  greeting   "* OK localhost Zimbra IMAP4rev1 server ready"   server/ServerConfig.java:75-100 (getGreeting,
             getDescription: zimbraImapAdvertisedName, "Zimbra ", no version as zimbraImapExposeVersionOnBanner is
             FALSE), imap/ImapConfig.java:22-37
  ID         * ID ("NAME" "Zimbra" "VERSION" "<v>" "RELEASE" "<r>"[ "USER" "<user>"])
             imap/ImapHandler.java:136, 1347-1362 (Carbonio adds "SERVER" "<server id>" after login; the stand-in
             has no server id and leaves it out)
  BYE        "* BYE localhost Zimbra IMAP4rev1 server closing connection"   ServerConfig.getGoodbye
  literal    "+ send literal data"   imap/NioImapRequest.java:56
Every answer the front makes up and every NO/BAD Dovecot gives is a line in the events file (see common.Events).
Dovecot's NO answers are reworded as Carbonio words the same failure (carbonio_words); its BAD texts pass unchanged.
"""
import asyncio
import base64
import collections
import datetime
import re
import ssl
import sys
import time
import traceback

from common import CARBONIO_RELEASE, CARBONIO_VERSION, SERVER_NAME, Events, load_config, same_secret

# §6 Sizes: zimbraImapMaxRequestSize (ATTRS 10240) bounds each line of a command between literals: NioImapDecoder
# checks every decoded line on its own (CM imap/NioImapDecoder.java:82-95), not the sum of a command's lines.
MAX_REQUEST_LINE = 10240
# §6 Sizes: zimbraMtaMaxMessageSize (ATTRS 10240000) bounds every literal and every message (ImapConfig l.128-141).
MAX_MESSAGE = 10240000
# §6 Throttles: imap_max_consecutive_error = 5 (NioImapHandler.java:67-72).
MAX_CONSECUTIVE_ERRORS = 5
# §6 Throttles: imap_throttle_command_limit = 25 identical APPENDs within 5 minutes (ImapCommandThrottle.java:20-60).
THROTTLE_LIMIT = 25
THROTTLE_WINDOW_S = 300
# §6 APPEND details: "date.getTime() > Integer.MAX_VALUE * 1000L" fails (CM imap/AppendMessage.java:284-289).
MAX_DATE_EPOCH = 2**31 - 1

DESCRIPTION = f"{SERVER_NAME} Zimbra IMAP4rev1 server"
# §6 CAPABILITY: the mailbox's list (ImapHandler.java:126-131); the proxy advertises
# zimbraReverseProxyImapEnabledCapability, the same list without SPECIAL-USE and LOGIN-REFERRALS. No APPENDLIMIT.
PROXY_EXTENSIONS = ("ACL BINARY CATENATE CHILDREN CONDSTORE ENABLE ESEARCH ESORT I18NLEVEL=1 ID IDLE LIST-EXTENDED "
                    "LIST-STATUS LITERAL+ MULTIAPPEND NAMESPACE QRESYNC QUOTA RIGHTS=ektx SASL-IR SEARCHRES SORT "
                    "THREAD=ORDEREDSUBJECT UIDPLUS UNSELECT WITHIN XLIST")
# §6 Keywords: readFlags() takes \Answered \Flagged \Deleted \Seen \Draft only (ImapRequest.java:88, 744-778).
SYSTEM_FLAGS = {"ANSWERED", "FLAGGED", "DELETED", "SEEN", "DRAFT"}
# §6 Keywords: ATOM_CHARS = 0x21..0x7E minus ( ) { % * " \ ] (ImapRequest.java:61-67).
ATOM_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - set('(){%*"\\]')
# §4 IMAP NAMESPACE (ImapHandler.java:3070-3078): personal "" and other users "/home/", no shared namespace.
NAMESPACE = '(("" "/")) (("/home/" "/")) NIL'
# Dovecot DST's RFC 2342 public namespace (tools/testbed/dovecot.sh). Carbonio has none (§4): hidden and refused.
PUBLIC_PREFIX = "Public"

LITERAL_AT_END = re.compile(rb"(~?)\{(\d+)(\+?)\}$")
RESPONSE_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")


class ParseBad(Exception):
    """A command Carbonio's parser rejects: tagged BAD "parse error: ..." (ImapParseException.java:18-21)."""

    def __init__(self, text, rule="parse_error"):
        super().__init__(text)
        self.text, self.rule = text, rule


class LineTooLong(Exception):
    pass


class LiteralTooBig(Exception):
    def __init__(self, tag, verb):
        super().__init__(tag)
        self.tag, self.verb = tag, verb


class Command:
    """One client command: its lines (latin-1, CRLF removed, a literal's marker still at the end) and literals."""

    def __init__(self, lines, literals):
        self.lines, self.literals = lines, literals
        head = lines[0].split(" ", 3)
        self.tag = head[0]
        self.verb = head[1].upper() if len(head) > 1 else ""
        if self.verb == "UID" and len(head) > 2:
            self.verb = "UID " + head[2].upper()

    def wire(self):
        """The command as sent upstream: every literal non-synchronizing (Dovecot offers LITERAL+)."""
        out = bytearray()
        for i, line in enumerate(self.lines):
            raw = line.encode("latin-1")
            if i < len(self.literals):
                m = LITERAL_AT_END.search(raw)
                raw = raw[:m.start()] + b"%s{%d+}" % (m.group(1), len(self.literals[i]))
                out += raw + b"\r\n" + self.literals[i]
            else:
                out += raw + b"\r\n"
        return bytes(out)


class Parser:
    """Reads a Command's arguments the way CM imap/ImapRequest.java does (the parts the rules need)."""

    def __init__(self, cmd):
        self.cmd, self.i, self.pos = cmd, 0, 0
        self.skip_past_verb()

    @property
    def line(self):
        return self.cmd.lines[self.i]

    def skip_past_verb(self):
        words = 3 if self.cmd.verb.startswith("UID ") else 2
        for _ in range(words):
            end = self.line.find(" ", self.pos)
            self.pos = len(self.line) if end < 0 else end
            if _ < words - 1:
                self.pos += 1

    def peek(self):
        return self.line[self.pos:self.pos + 1]

    def eof(self):
        return self.i == len(self.cmd.lines) - 1 and self.pos >= len(self.line)

    def skip_char(self, c):  # ImapRequest.java:391-404
        got = self.peek()
        if not got:
            raise ParseBad(f"parse error: unexpected end of line; expected '{c}'")
        if got != c:
            raise ParseBad(f"parse error: wrong character; expected '{c}' but got '{got}'")
        self.pos += 1

    def read_chars(self, allowed):  # ImapRequest.java:338-352
        start = self.pos
        while self.pos < len(self.line) and self.line[self.pos] in allowed:
            self.pos += 1
        if self.pos == start:
            raise ParseBad("parse error: zero-length content")
        return self.line[start:self.pos]

    def atom(self):
        return self.read_chars(ATOM_CHARS)

    def quoted(self):
        self.skip_char('"')
        out = []
        while True:
            c = self.peek()
            if not c:
                raise ParseBad("parse error: unexpected end of line in quoted string")
            self.pos += 1
            if c == '"':
                return "".join(out)
            if c == "\\":
                c = self.peek()
                self.pos += 1
            out.append(c)

    def literal(self):
        m = LITERAL_AT_END.search(self.line[self.pos:].encode("latin-1"))
        if not m or m.start() != 0 or self.i >= len(self.cmd.literals):
            raise ParseBad("parse error: expected literal")
        data = self.cmd.literals[self.i]
        self.i, self.pos = self.i + 1, 0
        return data

    def astring(self):
        c = self.peek()
        if c == '"':
            return self.quoted()
        if c in ("{", "~"):
            return self.literal().decode("utf-8", "replace")
        return self.read_chars(ATOM_CHARS | {"]"})

    def flags(self):
        """ImapRequest.readFlags (l.744-778): BAD for a backslash flag outside SYSTEM_FLAGS or a non-atom."""
        tags = []
        parens = self.peek() == "("
        if parens:
            self.skip_char("(")
        elif self.pos >= len(self.line):
            raise ParseBad("parse error: missing flag list")
        try:
            if not parens or self.peek() != ")":
                while self.pos < len(self.line):
                    if tags:
                        self.skip_char(" ")
                    if self.peek() == "\\":
                        self.pos += 1
                        name = self.atom()
                        if name.upper() not in SYSTEM_FLAGS:
                            raise ParseBad(f"parse error: invalid flag: \\{name}", "system_flag")
                        tags.append("\\" + name)
                    else:
                        tags.append(self.atom())
                    if parens and self.peek() == ")":
                        break
            if parens:
                self.skip_char(")")
        except ParseBad as e:  # anything but a bad system flag: a keyword that is not an atom
            raise ParseBad(e.text, "keyword_not_atom" if e.rule == "parse_error" else e.rule) from None
        return tags


MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                      "Dec"), 1)}


def parse_internaldate(text):
    """INTERNALDATE as seconds since the epoch. ImapRequest.readDate(true, true) (l.785-845): a malformed date and
    one before 1970 are parse errors (BAD)."""
    m = re.fullmatch(r" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)", text)
    month = MONTHS.get(m.group(2).capitalize()) if m else None
    if not m or not month:
        raise ParseBad("parse error: invalid date format", "date_format")
    try:
        sign = 1 if m.group(7) == "+" else -1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(m.group(8)), minutes=int(m.group(9))))
        when = datetime.datetime(int(m.group(3)), month, int(m.group(1)), int(m.group(4)), int(m.group(5)),
                                 int(m.group(6)), tzinfo=tz)
    except ValueError:
        raise ParseBad("parse error: invalid date format", "date_format") from None
    epoch = int(when.timestamp())
    if epoch < 0:
        raise ParseBad("parse error: date out of range", "date_before_epoch")
    return epoch


def decode_mutf7(name):
    """RFC 3501 modified UTF-7 folder name to text (Carbonio decodes it before checking, ImapRequest.readFolder)."""
    out, i = [], 0
    while i < len(name):
        if name[i] == "&":
            end = name.find("-", i)
            if end < 0:
                return name
            chunk = name[i + 1:end]
            if chunk:
                b64 = chunk.replace(",", "/")
                try:
                    out.append(base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be"))
                except ValueError:
                    return name
            else:
                out.append("&")
            i = end + 1
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def encode_mutf7(text):
    """Text to an RFC 3501 modified UTF-7 folder name."""
    out, run = [], []

    def flush():
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode("ascii").rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            run.clear()
    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def trim_segments(path):
    """§6 Folder names: validateItemName returns the name with trailing spaces trimmed, and that is the name
    Carbonio stores (MailItem.java:2890-2899)."""
    return "/".join(seg.rstrip(" ") for seg in path.split("/"))


def is_creatable(path):
    """§6 Folder names: ImapPath.isCreatable (ImapPath.java:586-591): no path at or below a top-level notebook,
    contacts or calendar (case-insensitive; in Carbonio those are the hidden PIM system folders)."""
    return not re.fullmatch(r"\s*(notebook|contacts|calendar)\s*(/.*)?", path.lower(), re.DOTALL)


def invalid_segment(path):
    """§6 Folder names: MailItem.validateItemName (MailItem.java:2855-2900) on every segment: no : " TAB CR LF or
    control characters, at most 255 characters after trailing spaces are trimmed, not empty, not . or ..
    StringUtil.stripControlCharacters was not read: the stand-in refuses every char < 0x20, DEL, U+FFFE and U+FFFF
    (the stricter reading)."""
    for seg in path.split("/"):
        if any(c in ':"\t\r\n' or ord(c) < 0x20 or c in "\x7f\ufffe\uffff" for c in seg):
            return True
        trimmed = seg.rstrip(" ")
        # Java's String.length() counts UTF-16 code units.
        if not trimmed or len(trimmed.encode("utf-16-le")) // 2 > 255 or trimmed in (".", ".."):
            return True
    return False


def under_junk(path):
    """§6 SPECIAL-USE: Junk has \\NoInferiors (ImapHandler.java:2524-2526): Folder.canContain refuses subfolders of
    the Spam folder (mailbox/Folder.java:844-865), so nothing can be created below Junk."""
    first, sep, _ = path.partition("/")
    return bool(sep) and first.lower() == "junk"


def in_public_namespace(path):
    return path == PUBLIC_PREFIX or path.startswith(PUBLIC_PREFIX + "/")


def carbonio_words(verb, dovecot_no):
    """A NO from Dovecot in the words Carbonio uses for the same failure: mostly "<command> failed", no response
    code but TRYCREATE (ImapHandler: CREATE l.1891-1913, SELECT/EXAMINE l.1804-1819, APPEND l.2910-2934 (quota too),
    COPY l.4540-4565). Dovecot's BAD answers are parse errors and keep Dovecot's text."""
    code = re.match(r"NO \[([A-Z-]+)", dovecot_no)
    code = code.group(1) if code else ""
    if verb == "APPEND":
        return "NO [TRYCREATE] APPEND failed: no such mailbox" if code == "TRYCREATE" else "NO APPEND failed"
    if verb == "CREATE" and (code == "ALREADYEXISTS" or "already exists" in dovecot_no.lower()):
        return "NO CREATE failed: mailbox already exists"
    if verb in ("COPY", "UID COPY", "MOVE", "UID MOVE") and code == "TRYCREATE":
        return f"NO [TRYCREATE] {verb} failed"
    return f"NO {verb} failed"


class Front:
    """State shared by every connection: configuration, TLS contexts, events, the identical-APPEND counters."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.events = Events(cfg["events"])
        self.server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_tls.load_cert_chain(cfg["tls_cert"], cfg["tls_key"])
        self.upstream_tls = ssl.create_default_context(cafile=cfg["tls_ca"])
        # §6 Throttles: Carbonio counts identical APPENDs in a row on one connection (ImapHandler.java:484,
        # ImapCommandThrottle.isCommandThrottled). The stand-in counts them per account over every connection
        # within 5 minutes, interleaved or not: stricter, so a client that passes here passes on Carbonio.
        self.appends = collections.defaultdict(collections.deque)

    def append_throttled(self, user, key):
        now = time.monotonic()
        if len(self.appends) > 10000:  # forget keys whose last APPEND is older than the window
            self.appends = collections.defaultdict(collections.deque, {
                k: v for k, v in self.appends.items() if now - v[-1] <= THROTTLE_WINDOW_S})
        seen = self.appends[(user, key)]
        while seen and now - seen[0] > THROTTLE_WINDOW_S:
            seen.popleft()
        seen.append(now)
        return len(seen) > THROTTLE_LIMIT


class Drop(Exception):
    """Ends the connection the way Carbonio's dropConnection does: "* BYE ..." then close."""


class Session:
    def __init__(self, front, reader, writer, tls):
        self.front, self.cfg, self.events = front, front.cfg, front.events
        self.reader, self.writer, self.tls = reader, writer, tls
        self.user = None          # the account the session acts for, once authenticated
        self.attempted = None     # before that: the account a LOGIN/AUTHENTICATE named (for the events file)
        self.up_reader = self.up_writer = None
        self.errors = 0           # consecutive NO/BAD answers (ImapHandler.java:4729-4751)

    # ---- client side I/O ----
    async def send(self, text):
        self.writer.write(text.encode("utf-8") + b"\r\n")
        await self.writer.drain()

    async def answer(self, tag, status, text, rule=None, verb="", folder=None):
        """A tagged answer made by the front. OK clears the consecutive-error count, NO and BAD raise it
        (ImapHandler.sendOK/sendNO/sendBAD, l.4729-4751). Every NO/BAD is an event."""
        self.errors = 0 if status == "OK" else self.errors + 1
        if status != "OK" or rule:  # written before the answer: a client that reads the answer finds the line
            self.event(rule or "refused", f"{status} {text}", verb=verb, folder=folder)
        await self.send(f"{tag} {status} {text}")

    def event(self, rule, answer, dropped=False, verb="", folder=None, **extra):
        fields = {"command": verb, **extra}
        if folder is not None:
            fields["folder"] = folder
        self.events.write("imap", self.user or self.attempted, rule, answer, dropped, **fields)

    async def read_line(self):
        """One line without CRLF. A line over MAX_REQUEST_LINE is swallowed up to its LF and reported
        (NioImapDecoder.java:82-95: TooLongLineException)."""
        data = bytearray()
        while True:
            try:
                chunk = await self.reader.readuntil(b"\n")
            except asyncio.LimitOverrunError as e:
                data += (await self.reader.read(e.consumed))[:MAX_REQUEST_LINE + 2]
                continue
            except asyncio.IncompleteReadError:
                raise ConnectionResetError("client closed the connection") from None
            data += chunk
            line = bytes(data[:-1])
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > MAX_REQUEST_LINE:
                raise LineTooLong()
            return line

    async def skip_bytes(self, n):
        while n > 0:
            chunk = await self.reader.read(min(n, 1 << 16))
            if not chunk:
                raise ConnectionResetError("client closed the connection")
            n -= len(chunk)

    async def read_command(self):
        """A whole command with its literals. A literal over MAX_MESSAGE: synchronizing -> refused before the data;
        LITERAL+ -> the data is read and discarded, then refused (§6 Sizes, NioImapDecoder.java:108-130 and
        NioImapHandler.java:82-92). Carbonio would then parse what follows that literal as a new command; the
        stand-in discards the rest of the command instead."""
        lines, literals = [], []
        while True:
            line = await self.read_line()
            lines.append(line.decode("latin-1"))
            m = LITERAL_AT_END.search(line)
            if not m:
                return Command(lines, literals)
            size, nonsync = int(m.group(2)), m.group(3) == b"+"
            if size > MAX_MESSAGE:
                head = Command(lines[:1], [])
                if nonsync:
                    await self.skip_bytes(size)
                    await self.discard_rest_of_command()
                raise LiteralTooBig(head.tag, head.verb)
            if not nonsync:
                await self.send("+ send literal data")
            literals.append(await self.reader.readexactly(size))

    async def discard_rest_of_command(self):
        while True:
            m = LITERAL_AT_END.search(await self.read_line())
            if not m:
                return
            await self.skip_bytes(int(m.group(2)))

    # ---- upstream (Dovecot DST) ----
    async def upstream_login(self, target, authcid, password):
        """Logs in to Dovecot DST as target with SASL PLAIN (authzid target, authcid/password); True when it works."""
        r, w = await asyncio.open_connection("127.0.0.1", self.cfg["dovecot_tls_port"], ssl=self.front.upstream_tls,
                                             server_hostname="localhost", limit=1 << 26)
        await r.readline()  # greeting
        token = base64.b64encode(f"{target}\0{authcid}\0{password}".encode("utf-8")).decode("ascii")
        w.write(f"L AUTHENTICATE PLAIN {token}\r\n".encode("ascii"))
        await w.drain()
        while True:
            line = await r.readline()
            if not line:
                break
            if line.startswith(b"L "):
                if line.startswith(b"L OK"):
                    self.up_reader, self.up_writer = r, w
                    return True
                break
        w.close()
        return False

    async def read_response(self):
        """One upstream response with the literals inside it (e.g. a FETCH body)."""
        data = await self.up_reader.readline()
        if not data:
            raise ConnectionResetError("Dovecot closed the connection")
        while (m := RESPONSE_LITERAL.search(data)):
            data += await self.up_reader.readexactly(int(m.group(1)))
            more = await self.up_reader.readline()
            if not more:
                raise ConnectionResetError("Dovecot closed the connection")
            data += more
        return data

    async def relay(self, tag, verb):
        """Relays upstream responses to the client until the tagged one (returned) or a continuation (None)."""
        hidden = 0
        while True:
            resp = await self.read_response()
            if resp.startswith(b"+"):
                self.writer.write(resp)
                await self.writer.drain()
                return None
            if resp.startswith(tag.encode("latin-1") + b" "):
                if hidden:
                    self.event("public_namespace_hidden", "", verb=verb, hidden=hidden)
                return resp
            if self.hides(resp):
                hidden += 1
                continue
            resp = self.junk_noinferiors(resp)
            self.writer.write(resp)
            await self.writer.drain()

    @staticmethod
    def junk_noinferiors(resp):
        """§6 SPECIAL-USE: Carbonio lists Junk with \\NoInferiors (ImapHandler.java:2524-2526)."""
        m = re.match(rb"(\* (?:LIST|XLIST) \()([^)]*)(\) (?:NIL|\"[^\"]*\") \"?Junk\"?(?:\r\n| ))", resp, re.I)
        if not m or b"\\noinferiors" in m.group(2).lower():
            return resp
        attrs = b" ".join(a for a in m.group(2).split() if a.lower() not in (b"\\haschildren", b"\\hasnochildren"))
        return m.group(1) + (attrs + b" " if attrs else b"") + b"\\NoInferiors" + m.group(3) + resp[m.end():]

    @staticmethod
    def hides(resp):
        """§4: Carbonio has no shared namespace, so Dovecot's Public/ folders never show in LIST/LSUB/STATUS."""
        m = re.match(rb"\* (?:LIST|LSUB|XLIST) \([^)]*\) (?:NIL|\"(?:[^\"\\]|\\.)*\") (.*)", resp, re.DOTALL) or \
            re.match(rb"\* STATUS (.*)", resp, re.DOTALL)
        if not m:
            return False
        rest = m.group(1)
        if rest.startswith(b'"'):
            name = re.match(rb'"((?:[^"\\]|\\.)*)"', rest).group(1).replace(b'\\"', b'"').replace(b"\\\\", b"\\")
        elif (lit := re.match(rb"\{(\d+)\}\r\n", rest)):
            name = rest[lit.end():lit.end() + int(lit.group(1))]
        else:
            name = re.match(rb"[^ \r\n(]*", rest).group(0)
        return in_public_namespace(decode_mutf7(name.decode("latin-1")))

    async def forward(self, cmd):
        """Sends a checked command to Dovecot and relays its answers; counts Dovecot's NO/BAD like our own."""
        self.up_writer.write(cmd.wire())
        await self.up_writer.drain()
        while True:
            tagged = await self.relay(cmd.tag, cmd.verb)
            if tagged is not None:
                break
            if cmd.verb == "IDLE":  # relay notifications while the client idles, until its DONE
                pending = asyncio.ensure_future(self.relay(cmd.tag, cmd.verb))
                try:
                    done = await self.read_line()
                except BaseException:
                    pending.cancel()
                    raise
                self.up_writer.write(done + b"\r\n")
                await self.up_writer.drain()
                tagged = await pending
                if tagged is not None:
                    break
            else:
                self.up_writer.write(await self.read_line() + b"\r\n")
                await self.up_writer.drain()
        status = tagged.split(b" ", 2)[1].upper() if tagged.count(b" ") >= 1 else b""
        if status == b"OK":
            self.errors = 0
        else:
            self.errors += 1
            said = tagged.decode("utf-8", "replace").rstrip("\r\n").split(" ", 1)[1]
            answer = carbonio_words(cmd.verb, said) if status == b"NO" else said
            self.event("dovecot_answer", answer, verb=cmd.verb, dovecot=said)
            tagged = f"{cmd.tag} {answer}\r\n".encode("utf-8")
        self.writer.write(tagged)
        await self.writer.drain()

    # ---- the commands the front answers itself ----
    def capability(self):
        if self.user:
            return "IMAP4rev1 " + PROXY_EXTENSIONS
        if not self.tls:  # §6: zimbraImapCleartextLoginEnabled FALSE (ImapHandler.java:1270-1286)
            return "IMAP4rev1 LOGINDISABLED STARTTLS " + PROXY_EXTENSIONS
        return "IMAP4rev1 AUTH=PLAIN " + PROXY_EXTENSIONS

    def id_line(self):
        fields = f'"NAME" "Zimbra" "VERSION" "{CARBONIO_VERSION}" "RELEASE" "{CARBONIO_RELEASE}"'
        if self.user:
            fields += f' "USER" "{self.user}"'
        return f"* ID ({fields})"

    async def do_authenticate(self, cmd):
        parts = cmd.lines[0].split(" ")
        mechanism = parts[2].upper() if len(parts) > 2 else ""
        # Before TLS no mechanism is offered (§6 CAPABILITY: no AUTH= pre-TLS); "mechanism not supported"
        # is ImapHandler.doAUTHENTICATE's answer (l.1607-1613).
        if mechanism != "PLAIN" or not self.tls:
            return await self.answer(cmd.tag, "NO", f"mechanism not supported: {mechanism}", "auth_mechanism",
                                     "AUTHENTICATE")
        if len(parts) > 3:  # SASL-IR
            response = parts[3]
        else:
            await self.send("+ ")
            response = (await self.read_line()).decode("latin-1")
            if response.strip() == "*":  # ImapHandler.java:350-360
                return await self.answer(cmd.tag, "BAD", "AUTHENTICATE aborted", "auth_aborted", "AUTHENTICATE")
        try:
            decoded = b"" if response == "=" else base64.b64decode(response, validate=True)
            authzid, authcid, password = decoded.decode("utf-8").split("\0")
        except (ValueError, UnicodeDecodeError):
            # PlainAuthenticator.handle sends a BAD when the message is not authzid NUL authcid NUL password
            # (PlainAuthenticator.java:62-75); the exact text of that BAD was not read.
            return await self.answer(cmd.tag, "BAD", "AUTHENTICATE failed; invalid base64 input", "auth_malformed",
                                     "AUTHENTICATE")
        await self.authenticate(cmd.tag, "AUTHENTICATE", authzid or authcid, authcid, password)

    async def authenticate(self, tag, command, target, authcid, password):
        """§6 Admin impersonation: PlainAuthenticator.authenticate (l.62-97). The admin must have IMAP enabled
        (isProtocolEnabled, Authenticator.java:144-158) and may act for any account; anyone else only for
        themself (authorize -> canAccessAccount). Every failure is "NO <command> failed"
        (ImapHandler.java:1683-1708)."""
        cfg = self.cfg
        self.attempted = target
        if authcid.lower() == cfg["noimap_admin"]:
            return await self.answer(tag, "NO", f"{command} failed", "imap_disabled_admin", command)
        if authcid.lower() == cfg["admin"]:
            if not same_secret(password, cfg["admin_password"]):
                return await self.answer(tag, "NO", f"{command} failed", "auth_failed", command)
            if target.lower() == cfg["admin"]:  # the admin's own mailbox does not exist on Dovecot DST
                return await self.answer(tag, "NO", f"{command} failed", "admin_has_no_mailbox", command)
            ok = await self.upstream_login(target, cfg["dovecot_master_user"], cfg["dovecot_master_password"])
        elif target != authcid:
            return await self.answer(tag, "NO", f"{command} failed", "not_allowed_to_impersonate", command)
        elif "*" in authcid or authcid == cfg["dovecot_master_user"]:
            # Dovecot's master-user login ("user*master") is Dovecot's, not Carbonio's: no such account here.
            return await self.answer(tag, "NO", f"{command} failed", "no_such_account", command)
        else:
            ok = await self.upstream_login(target, authcid, password)
        if not ok:
            return await self.answer(tag, "NO", f"{command} failed", "auth_failed", command)
        self.user = target
        # ImapAuthenticatorUser.sendSuccessful / doLOGIN: "[CAPABILITY ...] <command> completed".
        await self.answer(tag, "OK", f"[CAPABILITY {self.capability()}] {command} completed")

    async def do_login(self, cmd):
        if not self.tls:  # §6: zimbraImapCleartextLoginEnabled FALSE; ImapHandler.doLOGIN l.1636-1641
            return await self.answer(cmd.tag, "NO", "cleartext logins disabled", "cleartext_login", "LOGIN")
        p = Parser(cmd)
        try:
            p.skip_char(" ")
            user = p.astring()
            p.skip_char(" ")
            password = p.astring()
        except ParseBad as e:
            return await self.answer(cmd.tag, "BAD", e.text, e.rule, "LOGIN")
        # LOGIN is PLAIN with authzid = authcid (ImapHandler.java:1672-1677): it never impersonates.
        await self.authenticate(cmd.tag, "LOGIN", user, user, password)

    async def do_starttls(self, cmd):
        if self.tls:
            return await self.answer(cmd.tag, "NO", "TLS already started", "starttls_again", "STARTTLS")
        await self.answer(cmd.tag, "OK", "begin TLS negotiation now")  # NioImapHandler.java:241-252
        await self.writer.start_tls(self.front.server_tls)
        self.tls = True

    # ---- the rules on forwarded commands ----
    async def check_append(self, cmd):
        """§6 APPEND/keywords/sizes/dates; MULTIAPPEND is all or nothing: every message is checked before any is
        forwarded, so a refusal stores nothing. Returns True when the command may go to Dovecot."""
        p = Parser(cmd)
        messages = []
        try:
            p.skip_char(" ")
            folder = decode_mutf7(p.astring())
            while True:
                p.skip_char(" ")
                flags, date = [], None
                if p.peek() == "(":
                    flags = p.flags()
                    p.skip_char(" ")
                if p.peek() == '"':
                    date = parse_internaldate(p.quoted())
                    p.skip_char(" ")
                if p.line[p.pos:p.pos + 8].upper() == "CATENATE":
                    parts = self.catenate_parts(p)
                else:
                    parts = [len(p.literal())]
                # AppendCommand.hasSameParams compares dates, flags, literal sizes and URLs (l.27-80).
                messages.append((tuple(flags), date, tuple(parts)))
                if p.eof():
                    break
        except ParseBad as e:
            await self.answer(cmd.tag, "BAD", e.text, e.rule, "APPEND")
            return False
        # ImapHandler.doAPPEND checks the throttle first (l.2868-2869): the 26th identical APPEND drops.
        if self.front.append_throttled(self.user, (folder, tuple(messages))):
            self.event("identical_append", "", dropped=True, verb="APPEND", folder=folder)
            raise Drop()
        if not is_creatable(folder):  # a hidden PIM folder: FOLDER_NOT_VISIBLE -> "APPEND failed" (l.2903-2934)
            await self.answer(cmd.tag, "NO", "APPEND failed", "folder_reserved", "APPEND", folder)
            return False
        if in_public_namespace(folder):
            await self.answer(cmd.tag, "NO", "APPEND failed", "public_namespace_absent", "APPEND", folder)
            return False
        for flags, _, _ in messages:
            if any(self.bad_tag_name(f) for f in flags):
                await self.answer(cmd.tag, "NO", "APPEND failed", "keyword_colon", "APPEND", folder)
                return False
        for _, _, parts in messages:  # AppendMessage.checkContent (l.230-243)
            size = sum(p for p in parts if isinstance(p, int))
            if size > MAX_MESSAGE:  # only CATENATE gets here: a literal over the limit never reaches a command
                await self.answer(cmd.tag, "BAD", "maximum message size exceeded", "too_large", "APPEND", folder)
                return False
            if size == 0 and all(isinstance(p, int) for p in parts):
                # ImapParseException(tag, "zero-length message", no=false): a BAD, not a NO
                await self.answer(cmd.tag, "BAD", "zero-length message", "zero_length", "APPEND", folder)
                return False
        for _, date, _ in messages:  # AppendMessage.checkDate: ServiceException.FAILURE -> "APPEND failed"
            if date is not None and date > MAX_DATE_EPOCH:
                await self.answer(cmd.tag, "NO", "APPEND failed", "date_out_of_range", "APPEND", folder)
                return False
        return True

    @staticmethod
    def catenate_parts(p):
        """CATENATE (TEXT literal | URL url ...): literal sizes as ints, URLs as strings (AppendMessage.parse)."""
        p.pos += len("CATENATE")
        p.skip_char(" ")
        p.skip_char("(")
        parts = []
        while p.peek() != ")":
            if parts:
                p.skip_char(" ")
            kind = p.atom().upper()
            p.skip_char(" ")
            if kind not in ("TEXT", "URL"):
                raise ParseBad(f"parse error: unknown CATENATE cat-part: {kind}")
            parts.append(len(p.literal()) if kind == "TEXT" else p.astring())
        p.skip_char(")")
        return parts

    @staticmethod
    def bad_tag_name(flag):
        """§6 Keywords: a keyword becomes a tag; Tag.validateItemName refuses ':' and '\\' and names over 255
        (Tag.java:297-310). A backslash cannot reach here: the parser only lets system flags start with one."""
        return not flag.startswith("\\") and (":" in flag or len(flag) > 255)

    async def check_store(self, cmd):
        p = Parser(cmd)
        try:
            p.skip_char(" ")
            p.read_chars(ATOM_CHARS - {"("})  # sequence set
            p.skip_char(" ")
            if p.peek() == "(":  # (UNCHANGEDSINCE n)
                p.pos = p.line.index(")", p.pos) + 1
                p.skip_char(" ")
            p.atom()  # [+-]FLAGS[.SILENT]
            p.skip_char(" ")
            flags = p.flags()
        except ParseBad as e:
            await self.answer(cmd.tag, "BAD", e.text, e.rule, cmd.verb)
            return False
        if any(self.bad_tag_name(f) for f in flags):  # doSTORE: INVALID_NAME -> "<command> failed" (l.4408-4417)
            await self.answer(cmd.tag, "NO", f"{cmd.verb} failed", "keyword_colon", cmd.verb)
            return False
        return True

    def trimmed(self, cmd, names, folder):
        """Rewrites a CREATE/RENAME so that Dovecot stores the names as Carbonio would (trailing spaces gone)."""
        quoted = " ".join('"' + encode_mutf7(n).replace("\\", "\\\\").replace('"', '\\"') + '"' for n in names)
        cmd.lines, cmd.literals = [f"{cmd.tag} {cmd.verb} {quoted}"], []
        self.event("trailing_space_trimmed", "", verb=cmd.verb, folder=folder, stored_as=names[-1])

    async def check_folder_command(self, cmd):
        """CREATE, RENAME, SELECT, EXAMINE, STATUS, DELETE, SUBSCRIBE: §6 folder names and the hidden folders."""
        p = Parser(cmd)
        try:
            p.skip_char(" ")
            folder = decode_mutf7(p.astring())
            target = None
            if cmd.verb == "RENAME":
                p.skip_char(" ")
                target = decode_mutf7(p.astring())
        except ParseBad as e:
            await self.answer(cmd.tag, "BAD", e.text, e.rule, cmd.verb)
            return False
        verb = cmd.verb
        if verb == "CREATE":
            path = folder[:-1] if folder.endswith("/") else folder
            if not is_creatable(path):  # ImapHandler.doCREATE l.1884-1887: plain "CREATE failed"
                await self.answer(cmd.tag, "NO", "CREATE failed", "folder_reserved", verb, folder)
                return False
            if invalid_segment(path):  # INVALID_NAME -> "CREATE failed: invalid mailbox name" (l.1895-1913)
                await self.answer(cmd.tag, "NO", "CREATE failed: invalid mailbox name", "folder_name_invalid", verb,
                                  folder)
                return False
            if under_junk(path):  # CANNOT_CONTAIN (l.1899-1900)
                await self.answer(cmd.tag, "NO", "CREATE failed: superior mailbox has \\Noinferiors set",
                                  "junk_noinferiors", verb, folder)
                return False
            if trim_segments(path) != path:
                self.trimmed(cmd, [trim_segments(path)], folder)
        elif verb == "RENAME":
            if not is_creatable(target):  # ImapHandler.doRENAME l.2005-2008
                await self.answer(cmd.tag, "NO", "RENAME failed", "folder_reserved", verb, target)
                return False
            if invalid_segment(target.rstrip("/")) or under_junk(target):  # generic "RENAME failed" (l.2030-2039)
                await self.answer(cmd.tag, "NO", "RENAME failed", "folder_name_invalid", verb, target)
                return False
            if trim_segments(target) != target:
                self.trimmed(cmd, [folder, trim_segments(target)], target)
        elif verb in ("SELECT", "EXAMINE", "STATUS") and not is_creatable(folder):
            # The PIM folders exist in Carbonio but are hidden from IMAP (§4 zimbraImapDisplayMailFoldersOnly).
            await self.answer(cmd.tag, "NO", f"{verb} failed", "folder_reserved", verb, folder)
            return False
        if in_public_namespace(folder) or (target is not None and in_public_namespace(target)):
            await self.answer(cmd.tag, "NO", f"{verb} failed", "public_namespace_absent", verb, folder)
            return False
        return True

    # ---- the loop ----
    async def run(self):
        try:
            await self.send(f"* OK {DESCRIPTION} ready")
            while True:
                try:
                    cmd = await self.read_command()
                except LineTooLong:
                    self.errors += 1  # NioImapHandler.exceptionCaught: sendBAD("*", ...) (l.93-94)
                    self.event("line_too_long", "BAD maximum line length exceeded")
                    await self.send("* BAD maximum line length exceeded")
                except LiteralTooBig as e:
                    text = "maximum message size exceeded" if e.verb == "APPEND" else "maximum literal size exceeded"
                    await self.answer(e.tag, "BAD", text, "too_large", e.verb)
                else:
                    if not await self.dispatch(cmd):
                        return
                if self.errors >= MAX_CONSECUTIVE_ERRORS:
                    self.event("consecutive_errors", "", dropped=True)
                    raise Drop()
        except Drop:
            try:
                await self.send(f"* BYE {DESCRIPTION} closing connection")
            except OSError:
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        except Exception as e:  # noqa: BLE001 — a stand-in bug ends this session only; its message may quote
            # client bytes (a password), so the log gets the type and the frames, not the message.
            print(f"imap_front: {type(e).__name__} in the session of {self.user or self.attempted or '-'}\n"
                  + "".join(traceback.format_tb(e.__traceback__)), file=sys.stderr, flush=True)
        finally:
            self.close()

    def close(self):
        for w in (self.writer, self.up_writer):
            if w is not None:
                try:
                    w.close()
                except Exception:  # noqa: BLE001 — closing a broken stream must never raise here
                    pass

    async def dispatch(self, cmd):
        """Runs one command; False ends the session (LOGOUT)."""
        verb = cmd.verb
        if verb == "CAPABILITY":
            await self.send(f"* CAPABILITY {self.capability()}")
            await self.answer(cmd.tag, "OK", "CAPABILITY completed")
        elif verb == "ID":
            await self.send(self.id_line())
            await self.answer(cmd.tag, "OK", "ID completed")
        elif verb == "LOGOUT":
            await self.send(f"* BYE {DESCRIPTION} closing connection")
            await self.answer(cmd.tag, "OK", "LOGOUT completed")
            return False
        elif verb == "NOOP" and not self.user:
            await self.answer(cmd.tag, "OK", "NOOP completed")
        elif verb in ("STARTTLS", "LOGIN", "AUTHENTICATE"):
            if self.user:
                await self.answer(cmd.tag, "NO", "must be in NOT AUTHENTICATED state", "wrong_state", verb)
            elif verb == "STARTTLS":
                await self.do_starttls(cmd)
            elif verb == "LOGIN":
                await self.do_login(cmd)
            else:
                await self.do_authenticate(cmd)
        elif not self.user:
            await self.answer(cmd.tag, "NO", "must be in AUTHENTICATED or SELECTED state", "wrong_state", verb)
        elif verb == "NAMESPACE":
            await self.send(f"* NAMESPACE {NAMESPACE}")
            await self.answer(cmd.tag, "OK", "NAMESPACE completed")
        else:
            ok = True
            if verb == "APPEND":
                ok = await self.check_append(cmd)
            elif verb in ("STORE", "UID STORE"):
                ok = await self.check_store(cmd)
            elif verb in ("CREATE", "RENAME", "SELECT", "EXAMINE", "STATUS", "DELETE", "SUBSCRIBE"):
                ok = await self.check_folder_command(cmd)
            if ok:
                await self.forward(cmd)
        return True


async def main(config_path):
    cfg = load_config(config_path)
    front = Front(cfg)

    def handler(tls):
        async def serve(reader, writer):
            await Session(front, reader, writer, tls).run()
        return serve

    plain = await asyncio.start_server(handler(False), "127.0.0.1", cfg["imap_port"], limit=1 << 16)
    implicit = await asyncio.start_server(handler(True), "127.0.0.1", cfg["imaps_port"], ssl=front.server_tls,
                                          limit=1 << 16)
    async with plain, implicit:
        await asyncio.gather(plain.serve_forever(), implicit.serve_forever())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
