"""Helpers for kho's end-to-end tests: the real binary, real files, real HTTP on 127.0.0.1.

A test module defines functions named test_* that take one argument, the Env of
the module. Env gives:

    env.bin, env.variant          the kho binary under test and its build ("release", "asan")
    env.tmp                       a fresh directory for this module (removed afterwards)
    env.data                      env.tmp/data: a data directory, initialised on first use
    env.kho(*args, ...)           run the CLI; returns a CompletedProcess (text mode)
    env.server(...)               start `kho serve` on a free port; returns a Server
    env.admin_key                 an API key with every scope, of the account "e2e-admin" (made by init)
    env.add_user(name, role, org) an account (password PASSWORD) and a key with the role's scopes
    env.write(name, content)      write a file under env.tmp; returns its path

A Server has .url, .get(path), .post(path, body, content_type), .request(...),
.stop() (SIGTERM, waits, checks the exit status), .kill() and .log() (its stderr).
Server.post() sends env.admin_key unless headers give an Authorization (or
auth=False); servers run with rate limits off unless extra_env sets them.
Every process started here is checked for sanitizer reports when it ends.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

SANITIZER = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|ThreadSanitizer)")


class SanitizerError(AssertionError):
    pass


def check_sanitizer(text, what):
    m = SANITIZER.search(text or "")
    if m:
        start = max(0, m.start() - 200)
        raise SanitizerError(f"{what}: sanitizer report:\n{text[start:start + 3000]}")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class Server:
    def __init__(self, env, data, args=(), extra_env=None):
        self.env = env
        self.key = env.key_for(data)
        self.logpath = os.path.join(env.tmp, f"serve-{time.monotonic_ns()}.log")
        self.logfile = open(self.logpath, "w+b")
        environ = dict(os.environ)
        for role in ("public", "analyst", "leader", "partner", "steward", "admin", "login"):
            environ["KHO_RATE_" + role.upper()] = "off"
        environ.update(extra_env or {})
        cmd = [env.bin, "serve", "--data", data, "--listen", "127.0.0.1:0", *args]
        self.proc = subprocess.Popen(cmd, stdout=self.logfile, stderr=self.logfile, env=environ)
        deadline = time.monotonic() + (60 if env.variant == "asan" else 20)
        self.url = None
        while time.monotonic() < deadline:
            m = re.search(r"listening on (https?://127\.0\.0\.1:\d+)", self.log())
            if m:
                self.url = m.group(1)
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if not self.url:
            self.proc.kill()
            raise AssertionError(f"kho serve did not start: {self.log()[-2000:]}")
        u = urllib.parse.urlparse(self.url)
        self.host, self.port = u.hostname, u.port

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def get(self, path, auth=False, headers=None, **kw):
        h = {"Authorization": "Bearer " + self.key} if auth and self.key else {}
        h.update(headers or {})
        return self.request("GET", path, headers=h, **kw)

    def post(self, path, body, content_type="text/csv", headers=None, auth=True, **kw):
        h = {"Content-Type": content_type} if content_type else {}
        if auth and self.key:
            h["Authorization"] = "Bearer " + self.key
        h.update(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        return self.request("POST", path, body=body, headers=h, **kw)

    def stop(self, timeout=30):
        """SIGTERM and wait; asserts a clean exit and no sanitizer report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("kho serve did not stop within %ss after SIGTERM" % timeout)
        self.logfile.close()
        log = self.log()
        check_sanitizer(log, "kho serve")
        if self.proc.returncode != 0:
            raise AssertionError(f"kho serve exited with {self.proc.returncode}: {log[-2000:]}")
        return log

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.logfile.close()


class Env:
    def __init__(self, binary, variant):
        self.bin = os.path.abspath(binary)
        self.variant = variant
        self.tmp = tempfile.mkdtemp(prefix="kho-e2e-")
        self.data = os.path.join(self.tmp, "data")
        self._servers = []
        self._initialised = False
        self.admin_key = None
        self._keys = {}

    def slow(self, seconds):
        """A time budget scaled for the sanitizer build."""
        return seconds * (4 if self.variant == "asan" else 1)

    def kho(self, *args, input=None, data=None, env=None, timeout=300):
        environ = dict(os.environ)
        environ.update(env or {})
        cmd = [self.bin, *args]
        if data is not False and "--data" not in args:
            cmd += ["--data", data or self.data]
        p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, env=environ,
                           text=not isinstance(input, bytes))
        err = p.stderr if isinstance(p.stderr, str) else p.stderr.decode("utf-8", "replace")
        check_sanitizer(err, "kho " + " ".join(args[:2]))
        return p

    def init(self, demo=True):
        """Initialise env.data once (with the demo datasets)."""
        if not self._initialised:
            p = self.kho("init", *(["--demo"] if demo else []))
            assert p.returncode == 0, p.stderr
            self._initialised = True
            self.admin_key = self.add_user("e2e-admin", "admin")
        return self.data

    def key_for(self, data):
        """The admin key of a data directory (made once; None when it is not initialised)."""
        if data == self.data:
            return self.admin_key
        if data not in self._keys:
            self._keys[data] = None
            if os.path.exists(os.path.join(data, "kho.db")):
                try:
                    self._keys[data] = self.add_user("e2e-admin", "admin", data=data)
                except AssertionError:
                    pass
        return self._keys[data]

    PASSWORD = "mật khẩu đủ dài 2026"
    ROLE_SCOPES = {"admin": "datasets:read,datasets:write,pii:read,audit:read,users:admin,trace:read,trace:write",
                   "steward": "datasets:read,datasets:write,pii:read,trace:read,trace:write",
                   "analyst": "datasets:read", "leader": "datasets:read", "partner": "datasets:read"}

    def add_user(self, name, role, org=None, scopes=None, data=None):
        """Create an account (password Env.PASSWORD) and return a new API key for it."""
        args = ["user", "add", name, "--role", role] + (["--org", org] if org else [])
        p = self.kho(*args, input=self.PASSWORD + "\n", data=data)
        assert p.returncode == 0, p.stderr
        p = self.kho("key", "create", "--user", name, "--scopes", scopes or self.ROLE_SCOPES[role], data=data)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def server(self, data=None, args=(), extra_env=None):
        s = Server(self, data or self.init(), args, extra_env)
        self._servers.append(s)
        return s

    def write(self, name, content):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
            f.write(content)
        return path

    def close(self):
        errors = []
        for s in self._servers:
            if s.proc.poll() is None:
                try:
                    s.stop()
                except AssertionError as e:
                    errors.append(str(e))
        if not os.environ.get("KHO_E2E_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if errors:
            raise AssertionError("; ".join(errors))
