"""Carbonio Files in the stand-in (test infrastructure, NOT Carbonio): FACTS.md §3 (CF = zextras/carbonio-files-ce
7138d955c4c6), on the stand-in's user port, with nodes in its SQLite and version blobs under
<db dir>/files/<node>.<version>.

  POST /services/files/upload           raw body; Filename (Base64, required, <= 1024 chars decoded), ParentId
                                        (default LOCAL_ROOT), Content-Length required -> {"nodeId", "version": 1}
                                        (BlobController.uploadFile). A name already in the folder becomes
                                        "name (1).ext", "(2)", ... (RenameNodeUtils.searchAlternativeName).
  POST /services/files/upload-version   NodeId, Filename, OverwriteVersion: true|false -> {"nodeId", "version"};
                                        more than 30 versions (max-number-of-versions) -> 405.
  POST /services/files/graphql          JSON {query, variables}. The stand-in answers the two operations arrival
                                        sends, with their arguments as variables: createFolder(destination_id,
                                        name) (renamed on a clash like uploads, NodeDataFetcher) and
                                        getNode(node_id) { ... on Folder { children(limit, cursor, sort) } }
                                        (schema.graphql; cursor = the last node id of the previous page).
                                        Anything else is a GraphQL error, not a guess.
  GET  /services/files/download/NODEID  the last version's bytes (for tests and tools; not in FACTS.md).
Auth (§3 AuthenticationHandler): only the ZM_AUTH_TOKEN cookie; the token's account (a delegated token's user) is
the user. Missing or bad cookie -> 401. A parent or node that is missing or not the user's -> 404 (§3 Errors).
Tables: files_nodes(account, id, parent, name, kind, created, updated), files_versions(node, version, size, updated).
"""
import base64
import json
import os
import re
import time
import uuid

ROOT = "LOCAL_ROOT"          # CF: the id of every user's root folder (ParentId default)
MAX_VERSIONS = 30            # §3: Files.java l.828 max-number-of-versions
MAX_NAME = 1024              # §3: Filename <= 1024 chars decoded
CHUNK = 1 << 20


class FilesError(Exception):
    def __init__(self, status, message, rule):
        super().__init__(message)
        self.status, self.message, self.rule = status, message, rule


def alternative_name(name, taken):
    """RenameNodeUtils.searchAlternativeName (§3): "a.txt" -> "a (1).txt", then "(2)"; no extension -> "a (1)"."""
    if name not in taken:
        return name
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    n = 1
    while f"{stem} ({n}){ext}" in taken:
        n += 1
    return f"{stem} ({n}){ext}"


def call_args(query, field, variables):
    """The arguments of `field(...)` in the query: `name: $var` bound from variables, `name: "text"`, numbers and
    enum words as written. Enough GraphQL for the calls arrival makes; nested objects are not understood."""
    m = re.search(r"\b" + field + r"\s*\(([^)]*)\)", query)
    out = {}
    for name, var, text, word in re.findall(r'(\w+)\s*:\s*(?:\$(\w+)|"((?:[^"\\]|\\.)*)"|([\w.-]+))',
                                            m.group(1) if m else ""):
        if var:
            out[name] = variables.get(var)
        elif text or not word:
            out[name] = json.loads(f'"{text}"')
        else:
            out[name] = int(word) if word.lstrip("-").isdigit() else word
    return out


class Files:
    def __init__(self, store, blob_dir, events):
        self.store, self.blob_dir, self.events = store, blob_dir, events
        os.makedirs(blob_dir, mode=0o700, exist_ok=True)
        store.db.executescript("""
            CREATE TABLE IF NOT EXISTS files_nodes(account TEXT, id TEXT PRIMARY KEY, parent TEXT, name TEXT,
                                                   kind TEXT, created REAL, updated REAL);
            CREATE TABLE IF NOT EXISTS files_versions(node TEXT, version INTEGER, size INTEGER, updated REAL,
                                                      PRIMARY KEY(node, version));
        """)

    # ---- storage ----
    def blob(self, node, version):
        return os.path.join(self.blob_dir, f"{node}.{version}")

    def node(self, account, node_id):
        if node_id == ROOT:
            return {"id": ROOT, "name": "ROOT", "kind": "ROOT", "parent": None, "updated": 0}
        rows = self.store.q("SELECT id, name, kind, parent, updated FROM files_nodes WHERE id=? AND account=?",
                            node_id, account)
        if not rows:
            return None
        r = rows[0]
        return {"id": r[0], "name": r[1], "kind": r[2], "parent": r[3], "updated": r[4]}

    def names_in(self, account, parent):
        return {r[0] for r in self.store.q("SELECT name FROM files_nodes WHERE account=? AND parent=?", account, parent)}

    def last_version(self, node_id):
        rows = self.store.q("SELECT version, size FROM files_versions WHERE node=? ORDER BY version DESC LIMIT 1",
                            node_id)
        return rows[0] if rows else (0, 0)

    def folder(self, account, folder_id):
        f = self.node(account, folder_id)
        if f is None or f["kind"] not in ("ROOT", "FOLDER"):
            raise FilesError(404, f"no such folder: {folder_id}", "files_no_parent")
        return f

    # ---- requests ----
    def handle(self, handler, method, path, account):
        """Returns (status, content type, body bytes). `account` is the cookie's user, or None."""
        if account is None:
            raise FilesError(401, "missing or invalid ZM_AUTH_TOKEN cookie", "files_401")
        if method == "POST" and path == "/services/files/upload":
            return self.upload(handler, account)
        if method == "POST" and path == "/services/files/upload-version":
            return self.upload_version(handler, account)
        if method == "POST" and path == "/services/files/graphql":
            return self.graphql(handler, account)
        m = re.match(r"^/services/files/download/([^/]+)$", path)
        if method == "GET" and m:
            return self.download(handler, account, m.group(1))
        raise FilesError(404, f"no such endpoint: {method} {path}", "files_no_endpoint")

    @staticmethod
    def filename(handler):
        raw = handler.headers.get("Filename")
        if not raw:
            raise FilesError(400, "missing Filename header", "files_bad_header")
        try:
            name = base64.b64decode(raw, validate=True).decode("utf-8")
        except ValueError:
            raise FilesError(400, "Filename is not Base64 of UTF-8", "files_bad_header") from None
        if not name or len(name) > MAX_NAME or "/" in name:
            raise FilesError(400, "invalid Filename", "files_bad_header")
        return name

    @staticmethod
    def content_length(handler):
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked" or not handler.headers.get(
                "Content-Length"):
            raise FilesError(400, "Content-Length is required", "files_bad_header")
        return int(handler.headers["Content-Length"])

    def receive(self, handler, dest, length):
        """Streams the body to `dest` in 1 MB pieces (uploads may be gigabytes)."""
        left = length
        with open(dest, "wb") as f:
            while left > 0:
                piece = handler.rfile.read(min(CHUNK, left))
                if not piece:
                    raise FilesError(400, "body shorter than Content-Length", "files_short_body")
                f.write(piece)
                left -= len(piece)

    def upload(self, handler, account):
        name = self.filename(handler)
        length = self.content_length(handler)
        parent = handler.headers.get("ParentId") or ROOT
        node_id = str(uuid.uuid4())
        tmp = self.blob(node_id, "part")
        try:
            with self.store.lock:
                self.folder(account, parent)
            self.receive(handler, tmp, length)
            with self.store.lock, self.store.transaction():
                self.folder(account, parent)
                final = alternative_name(name, self.names_in(account, parent))
                now = time.time()
                self.store.q("INSERT INTO files_nodes VALUES(?,?,?,?,?,?,?)", account, node_id, parent, final, "FILE",
                             now, now)
                self.store.q("INSERT INTO files_versions VALUES(?,?,?,?)", node_id, 1, length, now)
                os.replace(tmp, self.blob(node_id, 1))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if final != name:
            self.events.write("files", account, "renamed_on_clash", "200", False, name=name, stored_as=final)
        return 200, "application/json", json.dumps({"nodeId": node_id, "version": 1}).encode()

    def upload_version(self, handler, account):
        node_id = handler.headers.get("NodeId", "")
        self.filename(handler)
        length = self.content_length(handler)
        overwrite = handler.headers.get("OverwriteVersion", "false").lower() == "true"
        with self.store.lock:
            node = self.node(account, node_id)
        if node is None or node["kind"] != "FILE":
            raise FilesError(404, f"no such file node: {node_id}", "files_no_node")
        tmp = self.blob(node_id, "part")
        try:
            self.receive(handler, tmp, length)
            with self.store.lock, self.store.transaction():
                last, _ = self.last_version(node_id)
                version = last if overwrite else last + 1
                if version > MAX_VERSIONS:
                    raise FilesError(405, "MaxNumberOfFileVersionsException", "files_max_versions")
                now = time.time()
                self.store.q("INSERT OR REPLACE INTO files_versions VALUES(?,?,?,?)", node_id, version, length, now)
                self.store.q("UPDATE files_nodes SET updated=? WHERE id=?", now, node_id)
                os.replace(tmp, self.blob(node_id, version))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return 200, "application/json", json.dumps({"nodeId": node_id, "version": version}).encode()

    def download(self, handler, account, node_id):
        with self.store.lock:
            node = self.node(account, node_id)
            version, _ = self.last_version(node_id) if node else (0, 0)
        if node is None or node["kind"] != "FILE":
            raise FilesError(404, f"no such file node: {node_id}", "files_no_node")
        with open(self.blob(node_id, version), "rb") as f:
            return 200, "application/octet-stream", f.read()

    # ---- GraphQL ----
    def graphql(self, handler, account):
        length = self.content_length(handler)
        try:
            req = json.loads(handler.rfile.read(length))
            query, variables = req["query"], req.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return self.gql_error("request is not GraphQL-over-HTTP JSON {query, variables}")
        try:
            if re.search(r"\bcreateFolder\s*\(", query):
                return self.gql_data({"createFolder": self.create_folder(account, call_args(query, "createFolder",
                                                                                              variables))})
            if re.search(r"\bgetNode\s*\(", query):
                args = call_args(query, "getNode", variables)
                args.update(call_args(query, "children", variables))
                return self.gql_data({"getNode": self.get_node(account, args)})
        except FilesError as e:
            return self.gql_error(e.message)
        return self.gql_error("the stand-in answers createFolder and getNode only")

    @staticmethod
    def gql_data(data):
        return 200, "application/json", json.dumps({"data": data}).encode()

    @staticmethod
    def gql_error(message):
        return 200, "application/json", json.dumps({"data": None, "errors": [{"message": message}]}).encode()

    def node_json(self, n):
        out = {"id": n["id"], "name": n["name"], "updated_at": int(n["updated"] * 1000),
               "type": "FOLDER" if n["kind"] in ("FOLDER", "ROOT") else "OTHER",
               "__typename": "Folder" if n["kind"] in ("FOLDER", "ROOT") else "File"}
        if n["kind"] == "FILE":
            version, size = self.last_version(n["id"])
            out.update(size=size, version=version)
        return out

    def create_folder(self, account, v):
        parent, name = v.get("destination_id"), v.get("name")
        if not isinstance(parent, str) or not isinstance(name, str) or not name or "/" in name:
            raise FilesError(400, "createFolder needs destination_id and a name", "files_bad_args")
        with self.store.lock, self.store.transaction():
            self.folder(account, parent)
            final = alternative_name(name, self.names_in(account, parent))
            node_id, now = str(uuid.uuid4()), time.time()
            self.store.q("INSERT INTO files_nodes VALUES(?,?,?,?,?,?,?)", account, node_id, parent, final, "FOLDER",
                         now, now)
            return self.node_json(self.node(account, node_id))

    def get_node(self, account, v):
        node_id = v.get("node_id")
        limit = int(v.get("limit") or 100)
        cursor = v.get("cursor")
        with self.store.lock:
            node = self.node(account, node_id) if isinstance(node_id, str) else None
            if node is None:
                return None  # getNode on a missing node: null, as the schema's nullable Node allows
            out = self.node_json(node)
            if node["kind"] in ("FOLDER", "ROOT"):
                rows = self.store.q("SELECT id FROM files_nodes WHERE account=? AND parent=? ORDER BY name, id",
                                    account, node["id"])
                ids = [r[0] for r in rows]
                start = ids.index(cursor) + 1 if cursor in ids else 0
                out["children"] = [self.node_json(self.node(account, i)) for i in ids[start:start + limit]]
            return out
