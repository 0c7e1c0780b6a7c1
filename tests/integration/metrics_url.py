"""How the integration tests find the URL of `--metrics :0`.

arrival prints "metrics at URL" on stderr before its first account or stage. The rest of stderr is drained on a
thread so that the child never blocks on a full pipe while the test scrapes it.
"""
import re
import threading

_URL = re.compile(r"metrics at (http://127\.0\.0\.1:\d+/metrics)")


def metrics_url(p):
    """Reads p.stderr up to the metrics line. Returns (url or None, lines, drain): `lines` holds all of stderr
    read so far, and the started `drain` thread appends the rest (join it after p exits)."""
    lines, url = [], None
    for line in p.stderr:
        lines.append(line)
        m = _URL.search(line)
        if m:
            url = m.group(1)
            break
    drain = threading.Thread(target=lambda: lines.extend(p.stderr), daemon=True)
    drain.start()
    return url, lines, drain
