"""Stopping the server: SIGTERM / SIGINT finish the requests in flight (an upload
being ingested completes with 201), the server exits 0 saying it stopped
cleanly and leaves a sound database; a second server on a taken port fails
clearly; and the access log has one line per request.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

HEADER = "ma_xa,ten,nam,so,ty_le\n"
ACCESS = re.compile(r"^\S+ ACCESS (\S+) (\S+) (\d{3}) (\d+)B (\d+\.\d+)ms$")


def body(n, start=0):
    return (HEADER + "".join(f"{11953 + i % 1000:05d},Tên {i},{2000 + i % 25},{i},{i % 100}.{i % 10}\n"
                             for i in range(start, start + n))).encode()


def integrity(data):
    p = subprocess.run(["sqlite3", os.path.join(data, "kho.db"), "PRAGMA integrity_check"], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", (p.stdout[:2000], p.stderr)


def rows_for(env, srv, seconds):
    """Rows an upload needs to take about `seconds` to ingest here."""
    n = 100_000
    t0 = time.monotonic()
    r = srv.post("/api/v1/datasets/do-toc-do/versions", body(n), timeout=env.slow(120))
    dt = time.monotonic() - t0
    assert r.status == 201, r
    return max(50_000, min(1_500_000, int(n * seconds / max(dt, 0.01))))


def wait_exit(srv, timeout):
    try:
        srv.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait()
        raise AssertionError(f"kho serve still running {timeout} s after the signal: {srv.log()[-2000:]}")


def stop_during_upload(env, sig, name):
    data = os.path.join(env.tmp, f"stop-{name}")
    p = env.kho("init", data=data)
    assert p.returncode == 0, p.stderr
    srv = env.server(data=data)
    n = rows_for(env, srv, 4.0)  # long enough to still be loading when the signal comes
    payload = body(n, 7)
    sent = threading.Event()
    res = {}

    def upload():
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=env.slow(120))
        try:
            conn.request("POST", "/api/v1/datasets/dang-tai/versions?title=" + name, body=payload,
                         headers={"Content-Type": "text/csv", "Authorization": "Bearer " + srv.key})
            res["sent_at"] = time.monotonic()
            sent.set()
            r = conn.getresponse()
            res["status"], res["headers"], res["body"] = r.status, r.getheaders(), r.read()
            res["done_at"] = time.monotonic()
        except Exception as e:  # noqa: BLE001 - reported below
            res["error"] = e
            sent.set()
        finally:
            conn.close()

    t = threading.Thread(target=upload)
    t.start()
    assert sent.wait(env.slow(60)), "the upload was never sent"
    time.sleep(0.3)  # the body is on its way; the import takes seconds
    signalled_at = time.monotonic()
    srv.proc.send_signal(sig)
    # a request arriving now is refused or answered, never left hanging
    try:
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=env.slow(20))
        conn.request("GET", "/healthz")
        late = conn.getresponse().status
        conn.close()
    except TimeoutError:
        late = "timed out"
    except (OSError, http.client.HTTPException):  # refused or closed: fine
        late = "closed"
    t.join(timeout=env.slow(120))
    wait_exit(srv, env.slow(60))
    log = srv.stop()  # exit status 0, no sanitizer report
    assert "error" not in res, res
    assert res["status"] == 201, (res["status"], res["body"][:500])
    j = json.loads(res["body"])
    assert j["version"] == 1 and j["rows_loaded"] == n, j
    assert res["done_at"] > signalled_at
    lines = log.splitlines()
    got = [i for i, l in enumerate(lines) if f"{name} received, finishing requests in flight" in l]
    up = [i for i, l in enumerate(lines) if "ACCESS POST /api/v1/datasets/dang-tai/versions" in l]
    assert len(got) == 1 and len(up) == 1, log[-3000:]
    assert got[0] < up[0], f"the upload was not in flight when {name} arrived:\n{log[-3000:]}"
    assert lines[up[0]].split()[4] == "201", lines[up[0]]
    done = [i for i, l in enumerate(lines) if "kho serve: stopped cleanly" in l]
    assert len(done) == 1 and done[0] > up[0], log[-2000:]
    assert "shutdown timeout" not in log
    assert late in ("closed", 200, 503), late
    integrity(data)
    p = env.kho("show", "dang-tai", "--json", data=data)
    d = json.loads(p.stdout)
    assert d["current_version"] == 1 and d["row_count"] == n, d
    srv2 = env.server(data=data)
    assert srv2.get("/api/v1/datasets/dang-tai/rows?_limit=1").json()["rows"][0]["so"] == 7
    srv2.stop()


def test_sigterm_finishes_the_upload_in_flight(env):
    stop_during_upload(env, signal.SIGTERM, "SIGTERM")


def test_sigint_finishes_the_upload_in_flight(env):
    stop_during_upload(env, signal.SIGINT, "SIGINT")


def test_idle_keepalive_connection_does_not_delay_shutdown(env):
    srv = env.server()
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    r.read()
    assert r.status == 200 and r.getheader("Connection", "keep-alive").lower() == "keep-alive"
    srv.proc.send_signal(signal.SIGTERM)
    # docs/operations.md: shutdown "closes idle keep-alive connections". 6 s is far
    # below both shutdown_timeout_s (30 s) and h2o's 10 s idle timeout, so a
    # server that waits for the idle connection to time out fails here.
    try:
        wait_exit(srv, 6)
    finally:
        conn.close()
    log = srv.stop()
    assert "stopped cleanly" in log and "shutdown timeout" not in log, log[-2000:]


def test_stalled_clients_do_not_hold_up_shutdown(env):
    """Clients that never finish their request (headers or body cut short) are
    closed at shutdown: the server exits 0 at once, long before
    shutdown_timeout_s (30 s), without a warning or a leak."""
    data = env.init()
    srv = env.server()
    s1 = socket.create_connection((srv.host, srv.port))
    s1.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never end
    s2 = socket.create_connection((srv.host, srv.port))
    s2.sendall(b"POST /api/v1/datasets/nua-chung/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: text/csv\r\nContent-Length: 1000\r\n\r\na,b\n1,2\n")  # body never ends
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    try:
        wait_exit(srv, 6)
    finally:
        s1.close()
        s2.close()
    log = srv.stop()  # exit 0, no sanitizer report
    assert "stopped cleanly" in log and "shutdown timeout" not in log, log[-2000:]
    integrity(data)
    p = env.kho("show", "nua-chung")
    assert p.returncode == 3, p


def test_shutdown_timeout_with_an_upload_in_flight(env):
    """An upload still being ingested when shutdown_timeout_s runs out: work in
    flight always finishes and is answered (the timeout only applies to clients
    once the work is done), so the client gets its 201, the version is committed,
    the server exits 0 cleanly without leaks and the database is sound."""
    data = os.path.join(env.tmp, "timeout")
    p = env.kho("init", data=data)
    assert p.returncode == 0, p.stderr
    srv = env.server(data=data, extra_env={"KHO_SHUTDOWN_TIMEOUT_S": "1"})
    n = rows_for(env, srv, 3.0)
    payload = body(n)
    res = {}
    sent = threading.Event()

    def upload():
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=env.slow(120))
        try:
            conn.request("POST", "/api/v1/datasets/het-gio/versions", body=payload,
                         headers={"Content-Type": "text/csv", "Authorization": "Bearer " + srv.key})
            sent.set()
            r = conn.getresponse()
            res["status"], res["body"] = r.status, r.read()
        except Exception as e:  # noqa: BLE001 - the server may close the connection
            res["error"] = repr(e)
        finally:
            sent.set()
            conn.close()

    t = threading.Thread(target=upload)
    t.start()
    assert sent.wait(env.slow(60))
    time.sleep(0.2)
    srv.proc.send_signal(signal.SIGTERM)
    t.join(timeout=env.slow(120))
    wait_exit(srv, env.slow(60))
    log = srv.stop()  # exit status 0, no sanitizer report
    assert "stopped cleanly" in log, log[-2000:]
    integrity(data)
    p = env.kho("show", "het-gio", "--json", data=data)
    assert p.returncode == 0, p.stderr
    assert res.get("status") == 201, res
    assert json.loads(p.stdout)["current_version"] == json.loads(res["body"])["version"]


def test_second_server_on_the_same_port(env):
    srv = env.server()
    p = env.kho("serve", "--listen", f"127.0.0.1:{srv.port}", timeout=env.slow(30))
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert f"127.0.0.1:{srv.port}" in p.stderr and "Address already in use" in p.stderr, p.stderr
    assert "listening on" not in p.stderr
    p = env.kho("serve", "--listen", f"127.0.0.1:{srv.port}", "--threads", "3", timeout=env.slow(30))
    assert p.returncode == 1 and "Address already in use" in p.stderr, p.stderr
    r = srv.get("/healthz")
    assert r.status == 200 and r.json()["status"] == "ok", r
    log = srv.stop()
    assert "stopped cleanly" in log


def test_access_log_has_one_line_per_request(env):
    env.init()
    srv = env.server(extra_env={"KHO_MAX_BODY_MB": "1"})
    long_path = "/api/v1/units/" + "9" * 1000
    reqs = [("GET", "/healthz", None), ("GET", "/api/v1/datasets/nope", None),
            ("GET", "/api/v1/datasets/ho-so-dich-vu-cong/rows?_limit=0", None),
            ("GET", "/api/v1/datasets/ho-so-dich-vu-cong/rows?_limit=3", None),
            ("POST", "/api/v1/datasets/nhat-ky/versions", b"a,b\n1,2\n"),
            ("DELETE", "/api/v1/datasets/nhat-ky", None), ("HEAD", "/healthz", None),
            ("GET", "/api/v1/datasets/%zz", None), ("GET", "/", None), ("GET", long_path, None)]
    sizes = []
    for method, path, b in reqs:
        r = srv.request(method, path, body=b, headers={"Content-Type": "text/csv"} if b else {})
        sizes.append((method, path, r.status, len(r.body)))
    # h2o's own 413, before the body is read
    s = socket.create_connection((srv.host, srv.port), timeout=30)
    s.sendall(b"POST /api/v1/datasets/qua-lon/versions HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
              b"Content-Length: 5000000\r\n\r\n")
    resp = b""
    while b"request entity is too large" not in resp:
        chunk = s.recv(4096)
        if not chunk:
            break
        resp += chunk
    s.close()
    assert resp.startswith(b"HTTP/1.1 413"), resp[:200]
    sizes.append(("POST", "/api/v1/datasets/qua-lon/versions", 413, len(resp.partition(b"\r\n\r\n")[2])))
    log = srv.stop()
    lines = [l for l in log.splitlines() if " ACCESS " in l]
    assert len(lines) == len(sizes), ("one line per request", len(lines), len(sizes), lines)
    parsed = []
    for l in lines:
        m = ACCESS.match(l)
        assert m, f"access log line not in the expected format: {l}"
        parsed.append((m.group(1), m.group(2), int(m.group(3)), int(m.group(4)), float(m.group(5))))
    for method, path, status, nbytes in sizes:
        shown = path if len(path) <= 300 else path[:300] + "..."
        hits = [p for p in parsed if p[0] == method and p[1] == shown]
        assert len(hits) == 1, (method, shown[:80], hits)
        _, _, st, b, ms = hits[0]
        assert st == status, (method, path, st, status)
        assert b == (0 if method == "HEAD" else nbytes), (method, path, b, nbytes)
        assert 0 <= ms < 60_000, (method, path, ms)
    assert len(lines[0]) < 2000


def test_access_log_off(env):
    env.init()
    srv = env.server(extra_env={"KHO_ACCESS_LOG": "off"})
    assert srv.get("/healthz").status == 200
    assert srv.get("/api/v1/datasets/nope").status == 404
    log = srv.stop()
    assert " ACCESS " not in log and "stopped cleanly" in log, log


def test_malformed_requests_are_answered_and_logged_as_documented(env):
    """docs/operations.md: a request line h2o cannot parse gets a plain-text 400
    and no access line; a bad Content-Length after good headers is logged. The
    server keeps serving."""
    env.init()
    srv = env.server()
    answers = []
    for payload in (b"GARBAGE\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n"):
        s = socket.create_connection((srv.host, srv.port), timeout=30)
        s.sendall(payload)
        resp = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                resp += chunk
        except OSError:
            pass
        s.close()
        answers.append(resp)
    assert all(a.startswith(b"HTTP/1.1 400 ") for a in answers), answers
    assert srv.get("/healthz").status == 200
    log = srv.stop()
    lines = [l for l in log.splitlines() if " ACCESS " in l]
    assert len(lines) == 2, lines  # the bad Content-Length and /healthz
    assert sum(1 for l in lines if ACCESS.match(l) and ACCESS.match(l).group(3) == "400") == 1, lines
