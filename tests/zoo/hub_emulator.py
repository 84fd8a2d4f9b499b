"""A loopback emulator of the Hugging Face Hub's HTTP API, for tests and benchmarks offline.

It serves, on 127.0.0.1 at a random port, what `huggingface_hub` calls to download files of a
pinned or named revision and to publish a folder:

- `HEAD|GET /{repo_id}/resolve/{revision}/{path}`: the file, with the headers the client reads
  (`X-Repo-Commit`, `ETag`, `Content-Length`) and the `X-Error-Code` of a missing repository,
  revision or file;
- `GET /api/models/{repo_id}[/revision/{revision}]`: the repository's info (commit, files), and
  `GET /api/models/{repo_id}/tree/{revision}[/{folder}]`: its files (one page);
- `POST /api/repos/create`, `/api/validate-yaml`, `/api/models/{repo_id}/preupload/{revision}`
  and `/api/models/{repo_id}/commit/{revision}`: repository creation and one commit of
  base64-encoded ("regular") files, as `HfApi.upload_folder` sends them. Writes need a bearer
  token (`token`, default "hf_test").

Repositories live in memory: `{repo_id: {"commits": {sha: {path: bytes}}, "main": sha}}`; a
commit's sha is derived from its parent and contents. `requests` records `(method, path)` of
every call; `swap(repo_id, revision, path, data)` replaces a file's bytes at a revision (a
tampered mirror); `commit(repo_id, files)` moves `main`.

Point `huggingface_hub` at it with `HF_ENDPOINT=emulator.url` in a fresh process, or by setting
`huggingface_hub.constants.ENDPOINT` in this one.
"""

import base64
import hashlib
import http.server
import json
import os
import re
import threading
import urllib.parse

RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
INFO = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$")
TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")
WRITE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/(?P<kind>preupload|commit)/(?P<rev>[^/]+)$")


class HubEmulator:
    """A Hub on a loopback port; use as a context manager or call `close`."""

    def __init__(self, token="hf_test"):
        self.repos = {}
        self.requests = []
        self.token = token
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.hub = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- repository content ---------------------------------------------------------------------

    def create(self, repo_id):
        with self.lock:
            self.repos.setdefault(repo_id, {"commits": {}, "main": None})

    def commit(self, repo_id, files, message="upload"):
        """Adds a commit of `files` (`{path: bytes}`, added to the parent's) on `main`; returns
        its sha."""
        self.create(repo_id)
        with self.lock:
            repo = self.repos[repo_id]
            parent = repo["main"]
            tree = dict(repo["commits"].get(parent, {}))
            tree.update(files)
            digest = hashlib.sha1(f"{parent}\n{message}\n".encode())
            for path in sorted(tree):
                digest.update(f"{path}\0{hashlib.sha256(tree[path]).hexdigest()}\n".encode())
            sha = digest.hexdigest()
            repo["commits"][sha] = tree
            repo["main"] = sha
            return sha

    def commit_folder(self, repo_id, folder, path_in_repo=""):
        """Commits every file of `folder` under `path_in_repo`; returns the commit's sha."""
        files = {}
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), "rb") as f:
                files["/".join(p for p in (path_in_repo, name) if p)] = f.read()
        return self.commit(repo_id, files)

    def swap(self, repo_id, revision, path, data):
        """Replaces the bytes of `path` at `revision` (a tampered or corrupted Hub)."""
        with self.lock:
            self.repos[repo_id]["commits"][self._sha(repo_id, revision)][path] = data

    def files(self, repo_id, revision="main"):
        with self.lock:
            return dict(self.repos[repo_id]["commits"][self._sha(repo_id, revision)])

    def _sha(self, repo_id, revision):
        repo = self.repos[repo_id]
        return repo["main"] if revision == "main" else revision


def _git_oid(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    @property
    def hub(self):
        return self.server.hub

    def _record(self):
        path = urllib.parse.urlsplit(self.path).path
        with self.hub.lock:
            self.hub.requests.append((self.command, path))
        return urllib.parse.unquote(path)

    def _reply(self, status, body=b"", headers=None, head=False):
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(self, status, code, message, head=False, commit=None):
        headers = {"X-Error-Code": code, "X-Error-Message": message}
        if commit:
            headers["X-Repo-Commit"] = commit
        self._reply(status, {"error": message}, headers, head)

    def _lookup(self, repo_id, revision, head=False):
        """(sha, tree) of a revision, or None after replying with the Hub's error."""
        with self.hub.lock:
            repo = self.hub.repos.get(repo_id)
            if repo is None or repo["main"] is None:
                self._error(404, "RepoNotFound", f"Repository {repo_id} not found", head)
                return None
            sha = repo["main"] if revision == "main" else revision
            tree = repo["commits"].get(sha)
        if tree is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head)
            return None
        return sha, tree

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_HEAD(self):
        self._get(head=True)

    def do_GET(self):
        self._get(head=False)

    def _get(self, head):
        path = self._record()
        match = RESOLVE.match(path)
        if match:
            found = self._lookup(match["repo"], match["rev"], head)
            if found is None:
                return
            sha, tree = found
            data = tree.get(match["path"])
            if data is None:
                self._error(404, "EntryNotFound", f"{match['path']} does not exist", head, sha)
                return
            etag = f'"{hashlib.sha256(data).hexdigest()}"'
            self._reply(200, data, {"X-Repo-Commit": sha, "ETag": etag}, head)
            return
        match = TREE.match(path)
        if match:
            found = self._lookup(match["repo"], match["rev"], head)
            if found is None:
                return
            prefix = (match["path"] or "").strip("/")
            entries = [
                {"type": "file", "path": name, "size": len(data), "oid": _git_oid(data)}
                for name, data in sorted(found[1].items())
                if not prefix or name.startswith(prefix + "/")
            ]
            self._reply(200, entries, head=head)
            return
        match = INFO.match(path)
        if match:
            found = self._lookup(match["repo"], match["rev"] or "main", head)
            if found is None:
                return
            sha, tree = found
            siblings = [{"rfilename": name} for name in sorted(tree)]
            self._reply(200, {"id": match["repo"], "sha": sha, "siblings": siblings}, head=head)
            return
        self._error(404, "NotFound", f"no route {path}", head)

    def do_POST(self):
        path = self._record()
        body = self._read_body()
        if self.headers.get("Authorization") != f"Bearer {self.hub.token}":
            self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
            return
        if path == "/api/repos/create":
            payload = json.loads(body)
            repo_id = "/".join(p for p in (payload.get("organization"), payload["name"]) if p)
            exists = repo_id in self.hub.repos
            self.hub.create(repo_id)
            if exists:
                self._error(409, "Conflict", "You already created this model repo")
            else:
                self._reply(200, {"url": f"{self.hub.url}/{repo_id}"})
            return
        if path == "/api/validate-yaml":
            self._reply(200, {"errors": [], "warnings": []})
            return
        match = WRITE.match(path)
        if not match or match["repo"] not in self.hub.repos:
            self._error(404, "RepoNotFound", f"no repository at {path}")
            return
        if match["kind"] == "preupload":
            files = json.loads(body)["files"]
            modes = [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
            ]
            self._reply(200, {"files": modes, "commitOid": self.hub.repos[match["repo"]]["main"]})
            return
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        files = {
            line["value"]["path"]: base64.b64decode(line["value"]["content"])
            for line in lines
            if line["key"] == "file"
        }
        if any(line["key"] not in ("header", "file") for line in lines):
            self._error(400, "BadRequest", "the emulator takes regular (base64) files only")
            return
        sha = self.hub.commit(match["repo"], files, header.get("summary", ""))
        url = f"{self.hub.url}/{match['repo']}/commit/{sha}"
        self._reply(200, {"commitOid": sha, "commitUrl": url, "pullRequestUrl": None})
