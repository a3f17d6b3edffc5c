"""The event loops never block on uploads: while ten uploads are ingested,
health checks and row pages still answer promptly; the uploads all succeed with
consecutive versions; the CLI can import into the same data directory while the
server runs, and the server sees what it wrote.
"""
import json
import os
import subprocess
import sys
import threading
import time

HEADER = "ma_xa,ten,nam,so,ty_le\n"
DS = "song-song"


def body(n, start):
    return (HEADER + "".join(f"{11953 + i % 1000:05d},Tên {i},{2000 + i % 25},{i},{i % 100}.{i % 10}\n"
                             for i in range(start, start + n))).encode()


PROBER = r"""
import http.client, json, os, sys, time
host, port, stop, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
paths = ["/healthz", "/api/v1/datasets/ho-so-dich-vu-cong/rows?_limit=10"]
out, i = [], 0
while not os.path.exists(stop) or len(out) < 20:
    path = paths[i % 2]
    i += 1
    t0 = time.monotonic()
    try:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.request("GET", path)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        t1 = time.monotonic()
        j = json.loads(data)
        ok = j.get("status") == "ok" if i % 2 else (j.get("total") == 5200 and len(j.get("rows", ())) == 10)
        out.append([path, t0, t1, r.status, "ok" if ok else data[:200].decode("utf-8", "replace")])
    except Exception as e:
        out.append([path, t0, time.monotonic(), repr(e), repr(e)])
    time.sleep(0.02)
print(json.dumps(out))
"""


def calibrate(srv, env, target_s):
    """Rows per upload so that one upload takes about target_s on this build and machine."""
    n = 40_000
    for attempt in range(3):
        b = body(n, 0)
        t0 = time.monotonic()
        r = srv.post(f"/api/v1/datasets/calibrate-{attempt}/versions", b, timeout=env.slow(120))
        dt = time.monotonic() - t0
        assert r.status == 201 and r.json()["rows_loaded"] == n, r
        if dt > 0.15:
            break
        n *= 4
    return max(20_000, min(800_000, int(n * target_s / dt)))


def test_event_loops_do_not_block_during_uploads(env):
    env.init()
    srv = env.server()
    rows = calibrate(srv, env, 0.7)
    bodies = [body(rows, k * 1_000_000) for k in range(10)]
    uploads = [None] * 10
    bound = env.slow(0.5)

    def upload(k):
        t0 = time.monotonic()
        try:
            r = srv.post(f"/api/v1/datasets/{DS}/versions", bodies[k], timeout=env.slow(300))
            uploads[k] = (t0, time.monotonic(), r)
        except Exception as e:  # noqa: BLE001 - reported below
            uploads[k] = (t0, time.monotonic(), e)

    threads = [threading.Thread(target=upload, args=(k,)) for k in range(10)]
    for t in threads:
        t.start()
    # the probes run in their own process, so that this process's upload threads
    # do not delay them; time.monotonic() is the same clock in both processes
    stop = os.path.join(env.tmp, "probes.stop")
    prober = subprocess.Popen([sys.executable, "-c", PROBER, srv.host, str(srv.port), stop, str(env.slow(10))],
                              stdout=subprocess.PIPE, text=True)
    try:
        for t in threads:
            t.join()
    finally:
        open(stop, "w").close()
        out, _ = prober.communicate(timeout=120)
    assert prober.returncode == 0, out
    probes = [tuple(x) for x in json.loads(out)]
    # every upload succeeded, with versions 1..10
    for k, (t0, t1, r) in enumerate(uploads):
        assert not isinstance(r, Exception), (k, r)
        assert r.status == 201, (k, r)
    versions = sorted(r.json()["version"] for _, _, r in uploads)
    assert versions == list(range(1, 11)), versions
    for k, (_, _, r) in enumerate(uploads):
        j = r.json()
        assert j["rows_loaded"] == rows and j["rows_rejected"] == 0, j
        first = srv.get(f"/api/v1/datasets/{DS}/rows?_limit=1&version={j['version']}").json()
        assert first["total"] == rows and first["rows"][0]["so"] == k * 1_000_000, (k, first)
    d = srv.get(f"/api/v1/datasets/{DS}").json()
    assert d["current_version"] == 10 and [v["number"] for v in d["versions"]] == list(range(10, 0, -1)), d

    # every probe answered 200 promptly, with the right content
    slow = [(p, round(t1 - t0, 3), st) for p, t0, t1, st, _ in probes if st != 200 or t1 - t0 > bound]
    assert not slow, f"{len(slow)} of {len(probes)} requests failed or took over {bound} s: {slow[:10]}"
    bad = [(p, detail) for p, _, _, _, detail in probes if detail != "ok"]
    assert not bad, bad[:5]
    # ... and enough of them while uploads were still in progress
    def outstanding(t):
        return any(u0 <= t < u1 for (u0, u1, _) in uploads)

    during = [(p, t0) for p, t0, t1, _, _ in probes if outstanding(t0) and outstanding(t1)]
    first_start = min(u[0] for u in uploads)
    last_end = max(u[1] for u in uploads)
    worst = max(t1 - t0 for _, t0, t1, _, _ in probes)
    print(f"# {rows} rows per upload; uploads took {last_end - first_start:.2f} s; {len(probes)} requests, "
          f"{len(during)} during uploads, slowest {worst * 1000:.0f} ms", flush=True)
    assert len(probes) >= 20, len(probes)
    assert len(during) >= 10, (f"only {len(during)} of {len(probes)} requests ran while uploads were in progress "
                               f"(uploads took {last_end - first_start:.2f} s)")
    assert sum(1 for p, _ in during if p == "/healthz") >= 5 and sum(1 for p, _ in during if p != "/healthz") >= 5
    log = srv.stop()
    assert log.count(f"POST /api/v1/datasets/{DS}/versions 201") == 10, log[-3000:]


def test_cli_import_while_the_server_runs(env):
    env.init()
    srv = env.server()
    r = srv.post("/api/v1/datasets/cli-va-may-chu/versions", body(100, 0))
    assert r.status == 201 and r.json()["version"] == 1, r
    assert srv.get("/api/v1/datasets/cli-va-may-chu").json()["current_version"] == 1
    # the CLI writes while the server holds its connections open
    path = env.write("cli.csv", body(250, 500).decode())
    p = env.kho("import", path, "--dataset", "cli-va-may-chu")
    assert p.returncode == 0 and "version 2: 250 rows loaded" in p.stdout, (p.stdout, p.stderr)
    d = srv.get("/api/v1/datasets/cli-va-may-chu").json()
    assert d["current_version"] == 2 and d["row_count"] == 250, d
    j = srv.get("/api/v1/datasets/cli-va-may-chu/rows?_limit=1").json()
    assert j["version"] == 2 and j["rows"][0]["so"] == 500, j
    assert srv.get("/api/v1/datasets/cli-va-may-chu/rows?version=1&_limit=1").json()["rows"][0]["so"] == 0
    p = env.kho("import", path, "--dataset", "cli-moi")
    assert p.returncode == 0, p.stderr
    assert "cli-moi" in [x["id"] for x in srv.get("/api/v1/datasets").json()["datasets"]]
    assert srv.get("/api/v1/datasets/cli-moi/rows").json()["total"] == 250

    # the CLI and an HTTP upload writing at the same time: one waits for the other, both succeed
    big = body(300_000, 10_000)
    res = {}

    def up():
        res["r"] = srv.post("/api/v1/datasets/cli-va-may-chu/versions", big, timeout=env.slow(300))

    t = threading.Thread(target=up)
    t.start()
    time.sleep(0.05)
    p = env.kho("import", path, "--dataset", "cli-cung-luc")
    t.join()
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert res["r"].status == 201 and res["r"].json()["version"] == 3, res["r"]
    assert srv.get("/api/v1/datasets/cli-cung-luc").json()["row_count"] == 250
    assert srv.get("/api/v1/datasets/cli-va-may-chu").json()["row_count"] == 300_000
    p = env.kho("show", "cli-va-may-chu", "--json")
    assert json.loads(p.stdout)["current_version"] == 3
    srv.stop()
