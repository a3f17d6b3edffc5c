"""Hostile input found by review: error messages quoting cut or raw bytes, long
headers, files that change between the two passes of an import, JSON oddities."""
import json
import os
import socket
import subprocess
import threading
import time


def raw(srv, data):
    """Send raw bytes; return the whole response."""
    with socket.create_connection((srv.host, srv.port), timeout=30) as s:
        s.sendall(data)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b


def test_error_messages_with_cut_or_raw_bytes_do_not_crash(env):
    srv = env.server()
    a39 = "a" * 39
    cases = [
        ("/api/v1/datasets?limit=" + a39 + "%C3%A9", 400, "bad_parameter"),
        ("/api/v1/datasets?" + "%C3%A9" * 45 + "=1", 400, "unknown_parameter"),
        ("/api/v1/datasets/a" + "%C3%A9" * 600, 404, "unknown_dataset"),
        ("/api/v1/units?era=" + "%C3%A9" * 600, 400, "bad_parameter"),
    ]
    for path, status, code in cases:
        r = srv.get(path)
        assert r.status == status, (path[:80], r)
        assert r.json()["error"]["code"] == code, r
    resp = raw(srv, b"GET /healthz?\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    body = resp.split(b"\r\n\r\n", 1)[1]
    assert resp.startswith(b"HTTP/1.1 400"), resp[:100]
    assert json.loads(body)["error"]["code"] == "bad_query"
    r = srv.post("/api/v1/datasets/tach-byte/versions", b'[{"a":1}\xc3\xa9]', "application/json")
    assert r.status == 400 and "0xC3" in r.json()["error"]["message"], r
    r = srv.post("/api/v1/datasets/dai-qua/versions", "a\n1\n", "text/" + "x" * 150)
    assert r.status == 415, r
    assert srv.get("/healthz").status == 200


def test_file_changed_between_the_passes_loads_nothing(env):
    env.init()
    for ext, first, second in (("csv", "d,n\n2024-01-01,1\n2024-01-02,2\n", "d,n\n2024-01-01,1\nnot-a-date,abc\n"),
                               ("ndjson", '{"a":1}\n{"a":2}\n', '{"a":1}\n{"a":2,' + ",".join(f'"k{i}":{i}' for i in range(40)) + "}\n")):
        fifo = os.path.join(env.tmp, f"doi.{ext}")
        os.mkfifo(fifo)

        def feed():
            for text in (first, second):  # the import opens the file once per pass
                with open(fifo, "w", encoding="utf-8") as f:
                    f.write(text)
                time.sleep(0.5)

        t = threading.Thread(target=feed)
        t.start()
        p = env.kho("import", fifo, "--dataset", f"doi-{ext}", timeout=env.slow(60))
        t.join()
        assert p.returncode == 7, (p.returncode, p.stdout, p.stderr)
        assert "changed while it was being imported" in p.stderr, p.stderr
        assert env.kho("show", f"doi-{ext}").returncode == 3


def test_json_oddities(env):
    env.init()
    nested = env.write("nested.ndjson", '{"id":1,"nested":{"x":0.1,"y":[1.1,2]}}\n')
    assert env.kho("import", nested, "--dataset", "long-nhau").returncode == 0
    out = json.loads(env.kho("export", "long-nhau", "--format", "ndjson").stdout)
    assert out["nested"] == '{"x":0.1,"y":[1.1,2]}', out
    keys = env.write("keys.ndjson", '{"id":1,"\\u00e9":"composed","e\\u0301":"decomposed"}\n')
    p = env.kho("import", keys, "--dataset", "hai-khoa")
    assert p.returncode == 4 and "different Unicode forms" in p.stderr, p.stderr
    big = env.write("big.ndjson", '{"big":-99999999999999999999}\n')
    p = env.kho("import", big, "--dataset", "so-lon")
    assert p.returncode == 0 and "beyond 64-bit integers" in p.stdout, (p.stdout, p.stderr)
    nums = env.write("nums.json", '[{"id":1,"n":5,"x":1.5},{"id":2,"n":6,"x":2.25}]')
    p = env.kho("import", nums, "--dataset", "so-json", "--decimal", "comma", "--type", "n=integer")
    assert p.returncode == 0, p.stderr
    cols = {c["name"]: c["type"] for c in json.loads(env.kho("show", "so-json", "--json").stdout)["columns"]}
    assert cols == {"id": "integer", "n": "integer", "x": "real"}, cols


def test_csv_oddities(env):
    env.init()
    quoted_empty = env.write("rong.csv", 'a\n1\n""\n2\n')
    p = env.kho("import", quoted_empty, "--dataset", "o-rong")
    assert p.returncode == 0, p.stderr
    rows = env.kho("export", "o-rong", "--format", "ndjson").stdout.splitlines()
    assert [json.loads(r)["a"] for r in rows] == [1, None, 2], rows
    wide = env.write("rong-qua.csv", "a,b\n" + "," * 20000 + "\n")
    p = env.kho("import", wide, "--dataset", "qua-rong")
    assert p.returncode == 4 and "more than 10000 fields" in p.stderr, p.stderr
    tabs = env.write("tab.csv", 'a,b\n"\tx\t",1\n')
    assert env.kho("import", tabs, "--dataset", "co-tab").returncode == 0
    out = env.kho("export", "co-tab", "--format", "csv").stdout
    assert '"\tx\t"' in out, repr(out)
