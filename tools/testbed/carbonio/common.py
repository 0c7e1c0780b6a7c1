"""Shared bits of the Carbonio stand-in (imap_front.py, rest_service.py): its configuration and the events file.

The stand-in is modelled on Carbonio's public source via /work/shared/carbonio/FACTS.md; it is NOT Carbonio.
"""
import hmac
import json
import os
import threading

# What the stand-in reports about itself (ID, PRODID). version.txt of zextras/carbonio-mailbox at the HEAD that
# FACTS.md read (0385232e0f59); RELEASE says plainly that this is the stand-in.
CARBONIO_VERSION = "4.25.2"
CARBONIO_RELEASE = "arrival-standin"
SERVER_NAME = "localhost"


def load_config(path):
    """The JSON file carbonio.sh writes (mode 600): ports, secrets, users, paths. Secrets never go through argv."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def same_secret(given, expected):
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Events:
    """ARRIVAL_CARBONIO_EVENTS: one JSON object per line for every refusal, drop or rule that fired.
    Both services append to one file; each line is a single O_APPEND write, so lines never interleave.
    Callers pass only names, verbs, folders and answers: never a password, token or message body."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, service, user, rule, answer, dropped=False, **fields):
        record = {"service": service, "user": user or "", "rule": rule, "answer": answer, "dropped": dropped}
        record.update(fields)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self.lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
