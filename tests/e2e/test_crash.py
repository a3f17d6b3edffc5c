"""kill -9 in the middle of writes: an import is all or nothing, and a killed
server comes back with the same data.

After every kill: the previous version is current with its rows intact, SQLite's
integrity check passes, no table of the unfinished version remains, and the next
import gets the version number the killed one would have had.
"""
import json
import os
import signal
import subprocess
import threading
import time

HEADER = "ma_xa,ten,nam,so,ty_le\n"


def make_csv(path, n, start=0):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        step = 100_000
        for a in range(start, start + n, step):
            f.write("".join(f"{11953 + i % 1000:05d},Tên xã số {i},{2000 + i % 25},{i},{i % 100}.{i % 10}\n"
                            for i in range(a, min(a + step, start + n))))
    return path


def make_body(n, start=0):
    return (HEADER + "".join(f"{11953 + i % 1000:05d},Tên {i},{2000 + i % 25},{i},{i % 100}.{i % 10}\n"
                             for i in range(start, start + n))).encode()


def kho_ok(env, *args, data):
    p = env.kho(*args, data=data)
    assert p.returncode == 0, (args, p.returncode, p.stderr)
    return p


def show(env, ds, data):
    return json.loads(kho_ok(env, "show", ds, "--json", data=data).stdout)


def integrity(data):
    p = subprocess.run(["sqlite3", os.path.join(data, "kho.db"), "PRAGMA integrity_check"], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", (p.returncode, p.stdout[:2000], p.stderr)


def version_tables(data):
    p = subprocess.run(["sqlite3", os.path.join(data, "kho.db"),
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'ds[0-9]*_v[0-9]*' "
                        "AND name NOT GLOB '*_fts*' "
                        "ORDER BY name"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def wal_size(data):
    try:
        return os.path.getsize(os.path.join(data, "kho.db-wal"))
    except OSError:
        return 0


def check_after_kill(env, data, ds, rows_v1, export_v1, srv=None):
    """The killed version left nothing: version 1 current and intact."""
    d = show(env, ds, data)  # first access after the kill: kho itself recovers the WAL
    assert d["current_version"] == 1 and d["row_count"] == rows_v1, d
    assert [v["number"] for v in d["versions"]] == [1], d["versions"]
    exp = kho_ok(env, "export", ds, "--format", "csv", data=data).stdout
    assert exp == export_v1, "version 1's rows changed"
    integrity(data)
    tables = version_tables(data)
    assert not [t for t in tables if t.endswith("_v2")], tables


def kill_import_when(env, data, ds, path, extra_env, wal_bytes, what):
    """Start `kho import path` as version 2 and SIGKILL it once the WAL passes
    wal_bytes (or a time limit passes). Returns the WAL size at the kill."""
    environ = dict(os.environ)
    environ.update(extra_env)
    out = open(os.path.join(env.tmp, f"import-{what}.log"), "w+b")
    p = subprocess.Popen([env.bin, "import", path, "--dataset", ds, "--data", data], stdout=out, stderr=out,
                         env=environ)
    t0 = time.monotonic()
    deadline = t0 + env.slow(30)
    try:
        while p.poll() is None and time.monotonic() < deadline and wal_size(data) < wal_bytes:
            time.sleep(0.003)
        if p.poll() is not None:
            out.seek(0)
            raise AssertionError(f"{what}: the import ended (exit {p.returncode}) before it could be killed; "
                                 f"make the file larger: {out.read()[-500:]!r}")
        size = wal_size(data)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        assert p.returncode == -signal.SIGKILL, p.returncode
        assert size >= wal_bytes, f"{what}: WAL only {size} bytes after {time.monotonic() - t0:.1f} s"
        return size
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        out.close()


def test_kill_9_during_a_large_import(env):
    data = os.path.join(env.tmp, "crash")
    kho_ok(env, "init", data=data)
    ds = "lon"
    small = make_csv(os.path.join(env.tmp, "small.csv"), 1000, start=0)
    kho_ok(env, "import", small, "--dataset", ds, "--title", "Dữ liệu lớn", data=data)
    export_v1 = kho_ok(env, "export", ds, "--format", "csv", data=data).stdout
    big = make_csv(os.path.join(env.tmp, "big.csv"), 1_500_000, start=5000)
    assert os.path.getsize(big) > 60_000_000

    # 1. killed while rows are being written: a small page cache spills them to the WAL early
    kill_import_when(env, data, ds, big, {"KHO_SQLITE_CACHE_MB": "2"}, 20 << 20, "loading")
    check_after_kill(env, data, ds, 1000, export_v1)

    # 2. killed while the commit writes the large transaction to the WAL
    kill_import_when(env, data, ds, big, {}, 20 << 20, "committing")
    check_after_kill(env, data, ds, 1000, export_v1)

    # the next import is version 2, complete
    again = make_csv(os.path.join(env.tmp, "again.csv"), 2500, start=100)
    p = kho_ok(env, "import", again, "--dataset", ds, data=data)
    assert f"into {ds} version 2: 2500 rows loaded, 0 rejected" in p.stdout, p.stdout
    d = show(env, ds, data)
    assert d["current_version"] == 2 and d["row_count"] == 2500 and [v["number"] for v in d["versions"]] == [2, 1]
    rows = json.loads(kho_ok(env, "export", ds, "--format", "json", data=data).stdout)
    assert len(rows) == 2500 and rows[0]["so"] == 100 and rows[-1]["so"] == 2599, (rows[0], rows[-1])
    assert kho_ok(env, "export", ds, "--version", "1", "--format", "csv", data=data).stdout == export_v1
    integrity(data)
    tables = version_tables(data)
    assert sorted(t.rsplit("_", 1)[1] for t in tables) == ["v1", "v2"], tables


def snapshot(srv, ds_ids):
    snap = {"list": srv.get("/api/v1/datasets?limit=1000").json(), "orgs": srv.get("/api/v1/organisations").json()}
    for ds in ds_ids:
        d = srv.get(f"/api/v1/datasets/{ds}").json()
        snap[ds] = d
        for v in d["versions"]:
            snap[(ds, v["number"])] = srv.get(f"/api/v1/datasets/{ds}/rows?_limit=10000&version={v['number']}").json()
    return snap


def test_kill_9_serve_and_restart(env):
    data = env.init()
    srv = env.server()
    for body in (b"ma,ten\n1,m\xe1\xbb\x99t\n2,hai\n", b"ma,ten\n3,ba\n"):
        r = srv.post("/api/v1/datasets/sau-khi-giet/versions?title=Sau", body)
        assert r.status == 201, r
    ids = ["sau-khi-giet", "ho-so-dich-vu-cong", "doanh-nghiep-dang-ky-moi"]
    before = snapshot(srv, ids)
    assert before["sau-khi-giet"]["current_version"] == 2
    srv.kill()
    assert srv.proc.returncode == -signal.SIGKILL
    srv2 = env.server(data=data)
    after = snapshot(srv2, ids)
    assert after == before, "a restarted server serves different data"
    r = srv2.post("/api/v1/datasets/sau-khi-giet/versions", b"ma,ten\n4,b\xe1\xbb\x91n\n")
    assert r.status == 201 and r.json()["version"] == 3, r
    srv2.stop()
    integrity(data)


def test_kill_9_serve_during_an_upload(env):
    """The server dies while a worker writes an upload: after a restart the
    dataset is as before and the next upload takes the same version number."""
    data = os.path.join(env.tmp, "serve-crash")
    kho_ok(env, "init", data=data)
    ds = "tai-len-bi-giet"
    kho_ok(env, "import", make_csv(os.path.join(env.tmp, "v1.csv"), 300, start=0), "--dataset", ds, data=data)
    export_v1 = kho_ok(env, "export", ds, "--format", "csv", data=data).stdout
    srv = env.server(data=data, extra_env={"KHO_SQLITE_CACHE_MB": "2"})
    body = make_body(600_000, start=1000)
    result = {}

    def send():
        try:
            result["r"] = srv.post(f"/api/v1/datasets/{ds}/versions", body, timeout=env.slow(60))
        except Exception as e:  # noqa: BLE001 - the connection dies with the server
            result["e"] = e

    t = threading.Thread(target=send)
    t.start()
    deadline = time.monotonic() + env.slow(30)
    while wal_size(data) < (8 << 20) and time.monotonic() < deadline and "r" not in result:
        time.sleep(0.003)
    assert "r" not in result, f"the upload finished before the kill: {result['r']}"
    assert wal_size(data) >= (8 << 20), "the upload never started writing"
    srv.kill()
    t.join(timeout=60)
    assert "e" in result, result
    check_after_kill(env, data, ds, 300, export_v1)
    srv2 = env.server(data=data)
    j = srv2.get(f"/api/v1/datasets/{ds}/rows?_limit=1000").json()
    assert j["version"] == 1 and j["total"] == 300 and len(j["rows"]) == 300, {k: j[k] for k in j if k != "rows"}
    r = srv2.post(f"/api/v1/datasets/{ds}/versions", make_body(50, start=7))
    assert r.status == 201 and r.json()["version"] == 2 and r.json()["rows_loaded"] == 50, r
    assert r.header("Location") == f"/api/v1/datasets/{ds}/versions/2"
    srv2.stop()
    integrity(data)
