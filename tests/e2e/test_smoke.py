"""The two commands' core path: init with demo data, serve, read, stop cleanly."""


def test_init_serve_read_stop(env):
    env.init()
    s = env.server()
    r = s.get("/healthz")
    assert r.status == 200 and r.json()["status"] == "ok", r
    r = s.get("/api/v1/datasets")
    ids = [d["id"] for d in r.json()["datasets"]]
    assert "doanh-nghiep-dang-ky-moi" in ids and "ho-so-dich-vu-cong" in ids, ids
    log = s.stop()
    assert "stopped cleanly" in log, log


def test_version_command(env):
    p = env.kho("version", data=False)
    assert p.returncode == 0 and p.stdout.startswith("kho "), p
