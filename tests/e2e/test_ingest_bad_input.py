"""Damaged and hostile input, through both the CLI (`kho import`) and HTTP uploads.

Every refused input must give a clear error (or a rejection report) and leave NO
partial state: a new dataset stays absent, an existing one keeps its current
version with the same row count and data, and no version table is left behind.
"""
import json
import os
import socket
import sqlite3
import urllib.parse

BASE = "base"
BASE_CSV = "n,s\n" + "".join(f"{i},giá trị {i}\n" for i in range(1, 21))
BASE_ROWS = [{"_row": i, "n": i, "s": f"giá trị {i}"} for i in range(1, 21)]

_state = {}


# ---- helpers ------------------------------------------------------------------------------


def setup(env):
    """One data directory with the base dataset (version 1) and a default server."""
    if "srv" not in _state:
        env.init()
        f = env.write("base.csv", BASE_CSV)
        p = env.kho("import", f, "--dataset", BASE, "--title", "Base")
        assert p.returncode == 0, p.stderr
        _state["srv"] = env.server()
        _state["n"] = 0
    return _state["srv"]


def check_store(data):
    """The catalog and the version tables agree: every ds*_v* table belongs to a
    recorded version, every dataset has a current version whose row count is the
    table's, and no dataset exists without a version. A version's full-text index
    (<table>_fts and FTS5's own <table>_fts_* tables) belongs to its table."""
    con = sqlite3.connect(f"file:{os.path.join(data, 'kho.db')}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'ds[0-9]*_v[0-9]*'")}
        recorded = {r[0] for r in con.execute("SELECT table_name FROM versions")}
        fts = {t for t in tables if "_fts" in t}
        assert {t.split("_fts")[0] for t in fts} <= recorded, sorted(fts)
        tables -= fts
        assert tables == recorded, (sorted(tables - recorded), sorted(recorded - tables))
        for slug, cur, rows, table, vrows in con.execute(
                "SELECT d.slug, d.current_version, d.row_count, v.table_name, v.row_count FROM datasets d "
                "LEFT JOIN versions v ON v.dataset_id = d.id AND v.number = d.current_version"):
            assert cur is not None and table is not None, f"dataset {slug} has no current version"
            n = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            assert rows == vrows == n, (slug, rows, vrows, n)
    finally:
        con.close()


def fresh_id(prefix):
    _state["n"] += 1
    return f"{prefix}-{_state['n']}"


def show(env, ds):
    p = env.kho("show", ds, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def export_json(env, ds, version=None):
    args = ["export", ds, "--format", "json"] + (["--version", str(version)] if version else [])
    p = env.kho(*args)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def assert_absent(env, srv, ds):
    p = env.kho("show", ds)
    assert p.returncode == 3, (ds, p.returncode, p.stdout[:300])
    r = srv.get(f"/api/v1/datasets/{ds}")
    assert r.status == 404 and r.json()["error"]["code"] == "unknown_dataset", r


def assert_base_unchanged(env, srv):
    d = show(env, BASE)
    assert d["current_version"] == 1 and d["row_count"] == 20, d
    assert [v["number"] for v in d["versions"]] == [1], d["versions"]
    assert export_json(env, BASE) == BASE_ROWS
    r = srv.get(f"/api/v1/datasets/{BASE}/rows?_limit=100")
    assert r.status == 200, r
    j = r.json()
    assert j["version"] == 1 and j["total"] == 20 and j["rows"] == BASE_ROWS, j
    check_store(env.data)


def cli_import(env, content, ds, *args, environ=None):
    path = env.write(f"in-{ds}-{len(args)}.dat", content)
    return env.kho("import", path, "--dataset", ds, *args, env=environ)


def upload(srv, ds, body, content_type="text/csv", query=""):
    path = f"/api/v1/datasets/{ds}/versions" + (f"?{query}" if query else "")
    return srv.post(path, body, content_type=content_type)


def refused_everywhere(env, content, *, cli_args=(), exit_code=4, content_type="text/csv", query="",
                       status=400, code=None, needles=()):
    """Send content through the CLI and HTTP, to a new dataset and to the base
    dataset; each must be refused with the given exit code / status and error
    code, and leave nothing behind. Returns the HTTP error objects."""
    srv = setup(env)
    errors = []
    for target in (fresh_id("cli"), BASE):
        p = cli_import(env, content, target, *cli_args)
        err = p.stderr if isinstance(p.stderr, str) else p.stderr.decode("utf-8", "replace")
        assert p.returncode == exit_code, (target, p.returncode, err)
        for n in needles:
            assert n in err, (n, err)
        if target != BASE:
            assert_absent(env, srv, target)
    for target in (fresh_id("http"), BASE):
        r = upload(srv, target, content, content_type, query)
        assert r.status == status, (target, r)
        e = r.json()["error"]
        if code:
            assert e["code"] == code, e
        for n in needles:
            assert n in e["message"], (n, e)
        errors.append(e)
        if target != BASE:
            assert_absent(env, srv, target)
    assert_base_unchanged(env, srv)
    return errors


def raw_request(srv, head, body=b"", timeout=30):
    """Send raw bytes; returns (status, headers text, body) or raises. Sending stops
    quietly when the server closes the connection early."""
    s = socket.create_connection((srv.host, srv.port), timeout=timeout)
    try:
        s.sendall(head)
        try:
            for i in range(0, len(body), 65536):
                s.sendall(body[i:i + 65536])
        except OSError:
            pass
        data = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
                if b"\r\n\r\n" in data:
                    hdr, _, rest = data.partition(b"\r\n\r\n")
                    cl = [l for l in hdr.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if cl and len(rest) >= int(cl[0].split(b":")[1]):
                        break
        except OSError:
            pass
    finally:
        s.close()
    hdr, _, rest = data.partition(b"\r\n\r\n")
    status = int(hdr.split(b" ")[1]) if hdr.startswith(b"HTTP/1.") else None
    return status, hdr.decode("latin-1"), rest


# ---- damaged files: refused whole -------------------------------------------------------------


def test_invalid_utf8(env):
    refused_everywhere(env, b"n,s\n1,ok\n2,b\xffad\n", code="invalid_utf8",
                       needles=("invalid UTF-8 at line 3, column 4",))
    refused_everywhere(env, b"n,s\n1,ok\n2,b\xc3", code="invalid_utf8",
                       needles=("line 3, column 4", "ends inside a multi-byte character"))
    refused_everywhere(env, b"n,s\n1,o\x00k\n", code="invalid_utf8", needles=("NUL byte at line 2, column 4",))
    # Latin-1 "Hưng Yên" as exported by old spreadsheets: refused, never loaded as mojibake
    refused_everywhere(env, b"ten\nH\xe0 N\xf4i\n", code="invalid_utf8",
                       needles=("invalid UTF-8 at line 2, column 2",))


def test_unterminated_and_malformed_quotes(env):
    refused_everywhere(env, 'n,s\n1,a\n2,"abc\n3,c\n', code="unterminated_quote",
                       needles=("unterminated quoted field starting at line 3",))
    refused_everywhere(env, 'n,s\n1,a\n2,x"y\n3,c\n', code="bad_quote", needles=("malformed quoting at line 3",))
    refused_everywhere(env, 'n,s\n1,"a"b\n', code="bad_quote", needles=("malformed quoting at line 2",))


def test_empty_and_header_only(env):
    srv = setup(env)
    refused_everywhere(env, "n,s\n", code="no_rows", needles=("has a header but no data rows",))
    refused_everywhere(env, "n,s\n\n\n", code="no_rows", needles=("has a header but no data rows",))
    refused_everywhere(env, "\n  \n", code="empty_file", needles=("empty",))
    refused_everywhere(env, "[]", cli_args=("--format", "json"), content_type="application/json",
                       code="no_rows", needles=("holds no records",))
    # a file with no bytes at all: the CLI says the file is empty; HTTP says the body is
    ds = fresh_id("cli-empty")
    p = cli_import(env, b"", ds)
    assert p.returncode == 4 and "is empty" in p.stderr, p
    assert_absent(env, srv, ds)
    p = cli_import(env, b"", BASE)
    assert p.returncode == 4, p
    ds = fresh_id("http-empty")
    r = upload(srv, ds, b"")
    assert r.status == 400 and r.json()["error"]["code"] == "empty_body", r
    assert_absent(env, srv, ds)
    assert_base_unchanged(env, srv)


def test_json_bodies_that_are_not_arrays_of_objects(env):
    j = dict(cli_args=("--format", "json"), content_type="application/json")
    refused_everywhere(env, '{"a": 1}', code="bad_json", needles=("expected '['",), **j)
    refused_everywhere(env, "[1, 2]", code="not_an_object", needles=("record 1", "is not a JSON object"), **j)
    refused_everywhere(env, '"x"', code="bad_json", needles=("expected '['",), **j)
    refused_everywhere(env, '[{"a": 1}, {"a": ', code="bad_json", needles=("not closed",), **j)
    refused_everywhere(env, '[{"a": 1}] [', code="bad_json", needles=("after the end of the JSON array",), **j)
    refused_everywhere(env, '[{"a": 1}, {"a": 2, "a": 3}]', code="bad_json",
                       needles=("record 2", "duplicate object key"), **j)
    refused_everywhere(env, '[{"a": 1}, [2]]', code="not_an_object", needles=("record 2",), **j)
    nd = dict(cli_args=("--format", "ndjson"), content_type="application/x-ndjson")
    refused_everywhere(env, '{"a": 1}\n{"a": \n', code="bad_json", needles=("record 2 (line 2",), **nd)
    refused_everywhere(env, '{"a": 1}\n[1]\n', code="not_an_object", needles=("record 2 (line 2)",), **nd)


# ---- rows left out, or the whole file refused by the quality checks ---------------------------


def ragged(nbad, n=100):
    """n data rows, the rows at indexes 5, 14, 23 ... have 3 fields; returns (text, bad lines)."""
    bad = [5 + 9 * k for k in range(nbad)]
    rows = []
    for i in range(n):
        rows.append(f"{i},v{i},extra" if i in bad else f"{i},v{i}")
    return "n,s\n" + "\n".join(rows) + "\n", [i + 2 for i in bad], bad


def test_a_few_ragged_rows_are_rejected_and_listed(env):
    srv = setup(env)
    text, lines, bad = ragged(3)
    ds = fresh_id("ragged-cli")
    p = cli_import(env, text, ds)
    assert p.returncode == 0, p.stderr
    assert f"into {ds} version 1: 97 rows loaded, 3 rejected" in p.stdout, p.stdout
    for line in lines:
        assert f"rejected line {line}: expected 2 fields as in the header, found 3" in p.stdout, p.stdout
    d = show(env, ds)
    assert d["row_count"] == 97 and d["quality"]["rows_rejected"] == 3, d
    assert [r["line"] for r in d["quality"]["rejected"]] == lines, d["quality"]["rejected"]
    assert d["quality"]["rejected_by_reason"] == {"field_count": 3, "declared_type": 0}
    got = [r["n"] for r in export_json(env, ds)]
    assert got == [i for i in range(100) if i not in bad], got

    ds = fresh_id("ragged-http")
    r = upload(srv, ds, text)
    assert r.status == 201, r
    j = r.json()
    assert (j["version"], j["rows_read"], j["rows_loaded"], j["rows_rejected"]) == (1, 100, 97, 3), j
    assert [x["line"] for x in j["quality"]["rejected"]] == lines, j["quality"]["rejected"]
    assert all(x["reason"] == "expected 2 fields as in the header, found 3" for x in j["quality"]["rejected"])
    r = srv.get(f"/api/v1/datasets/{ds}/rows?_limit=1000")
    assert [x["n"] for x in r.json()["rows"]] == [i for i in range(100) if i not in bad]
    # exactly the threshold (10 %) still loads: only a larger share is refused
    text, lines, _ = ragged(10)
    r = upload(srv, fresh_id("ragged-ten"), text)
    assert r.status == 201 and r.json()["rows_rejected"] == 10, r
    assert_base_unchanged(env, srv)


def test_too_many_ragged_rows_refuse_the_upload(env):
    text, lines, _ = ragged(11)
    errors = refused_everywhere(env, text, exit_code=5, status=422, code="too_many_rejected",
                                needles=("refused: 11 of 100 rows (11.0%)", "threshold of 10.0%"))
    for e in errors:
        q = e["details"]["quality"]
        assert q["rows_read"] == 100 and q["rows_rejected"] == 11 and q["rows_loaded"] == 0, q
        assert [x["line"] for x in q["rejected"]] == lines, q["rejected"]
    # the CLI lists them too
    p = cli_import(env, text, fresh_id("ragged-many"))
    assert p.returncode == 5 and f"rejected line {lines[0]}: expected 2 fields" in p.stderr, p.stderr


def test_strict_refuses_one_bad_row(env):
    srv = setup(env)
    text, lines, _ = ragged(1)
    errors = refused_everywhere(env, text, cli_args=("--strict",), query="strict=true", exit_code=5, status=422,
                                code="rejected_strict",
                                needles=("refused in strict mode: 1 of 100 rows", f"line {lines[0]}"))
    for e in errors:
        assert [x["line"] for x in e["details"]["quality"]["rejected"]] == lines, e
        assert e["details"]["quality"]["strict"] is True
    # without strict the same file loads
    r = upload(srv, fresh_id("not-strict"), text, query="strict=false")
    assert r.status == 201 and r.json()["rows_loaded"] == 99, r
    r = upload(srv, fresh_id("bad-strict"), text, query="strict=maybe")
    assert r.status == 400 and r.json()["error"]["code"] == "bad_parameter", r


def test_declared_type_rejects_the_bad_row(env):
    srv = setup(env)
    rows = [f"{i},v{i}" for i in range(1, 21)]
    rows[6] = "7x,v7"  # line 8
    text = "n,s\n" + "\n".join(rows) + "\n"
    ds = fresh_id("typed-cli")
    p = cli_import(env, text, ds, "--type", "n=integer")
    assert p.returncode == 0, p.stderr
    assert "19 rows loaded, 1 rejected" in p.stdout and "rejected line 8: column 1: '7x' is not an integer" in p.stdout, \
        p.stdout
    d = show(env, ds)
    assert d["columns"][0]["type"] == "integer" and d["row_count"] == 19, d
    assert d["quality"]["rejected_by_reason"] == {"field_count": 0, "declared_type": 1}, d["quality"]
    # undeclared, the column would have become text and kept every row
    ds2 = fresh_id("untyped-cli")
    p = cli_import(env, text, ds2)
    assert p.returncode == 0 and "20 rows loaded, 0 rejected" in p.stdout, p.stdout
    assert show(env, ds2)["columns"][0]["type"] == "text"

    ds = fresh_id("typed-http")
    r = upload(srv, ds, text, query="type=n:integer")
    assert r.status == 201, r
    j = r.json()
    assert j["rows_loaded"] == 19 and j["rows_rejected"] == 1, j
    assert j["quality"]["rejected"] == [{"line": 8, "record": 7, "reason": "column 1: '7x' is not an integer",
                                         "column": "n"}], \
        j["quality"]["rejected"]
    r = srv.get(f"/api/v1/datasets/{ds}/rows?_limit=100")
    ns = [x["n"] for x in r.json()["rows"]]
    assert ns == [i for i in range(1, 21) if i != 7], ns
    # a type declaration naming no column, or an unknown type: refused before any work
    refused_everywhere(env, text, cli_args=("--type", "zz=integer"), query="type=zz:integer", code="unknown_column",
                       needles=("'zz'",))
    refused_everywhere(env, text, cli_args=("--type", "n=money"), query="type=n:money", code="bad_type",
                       needles=("unknown type 'money'",))


def test_duplicate_headers(env):
    srv = setup(env)
    text = "name,name,Name,\n1,2,3,4\n5,6,7,8\n"
    ds = fresh_id("dup-cli")
    p = cli_import(env, text, ds)
    assert p.returncode == 0, p.stderr
    assert "header 'name' repeats an earlier name: named name_2" in p.stdout, p.stdout
    assert "column 4 has an empty header: named column_4" in p.stdout, p.stdout
    d = show(env, ds)
    assert [c["name"] for c in d["columns"]] == ["name", "name_2", "name_3", "column_4"], d["columns"]
    assert [c["label"] for c in d["columns"]] == ["name", "name", "Name", ""], d["columns"]
    assert len(d["quality"]["warnings"]) == 3, d["quality"]["warnings"]
    assert export_json(env, ds) == [{"_row": 1, "name": 1, "name_2": 2, "name_3": 3, "column_4": 4},
                                    {"_row": 2, "name": 5, "name_2": 6, "name_3": 7, "column_4": 8}]
    r = upload(srv, fresh_id("dup-http"), text)
    assert r.status == 201, r
    w = r.json()["quality"]["warnings"]
    assert any("named name_2" in x for x in w) and any("named name_3" in x for x in w), w
    assert [c["name"] for c in r.json()["quality"]["columns"]] == ["name", "name_2", "name_3", "column_4"]



def test_integers_beyond_64_bits_are_not_rounded(env):
    """20-digit identifiers (account numbers, tax codes with a prefix...) must not
    silently become the same floating-point value: either keep the digits or
    refuse, never load 12345678901234567891 and ...892 as one number."""
    srv = setup(env)
    values = ["12345678901234567891", "12345678901234567892", "9223372036854775808", "99999999999999999999"]
    text = "so_tai_khoan,ten\n" + "".join(f"{v},tk{i}\n" for i, v in enumerate(values))
    jtext = json.dumps([{"so_tai_khoan": v, "ten": f"tk{i}"} for i, v in enumerate(values)])
    ds = fresh_id("big-int-cli")
    p = cli_import(env, text, ds)
    assert p.returncode == 0, p.stderr
    got = [str(r["so_tai_khoan"]) for r in export_json(env, ds)]
    assert got == values, got
    r = upload(srv, fresh_id("big-int-http"), text)
    assert r.status == 201, r
    q = {c["name"]: c for c in r.json()["quality"]["columns"]}
    assert q["so_tai_khoan"]["distinct"] == 4, q["so_tai_khoan"]
    ds = fresh_id("big-int-json")
    r = upload(srv, ds, jtext, "application/json")  # JSON strings, not numbers
    assert r.status == 201, r
    rows = srv.get(f"/api/v1/datasets/{ds}/rows").json()["rows"]
    assert [str(x["so_tai_khoan"]) for x in rows] == values, rows


# ---- sizes ------------------------------------------------------------------------------------


def test_ten_megabyte_field(env):
    srv = setup(env)
    big = "ô" * (5 * 1024 * 1024)  # 10 MiB of UTF-8
    csv_big = big
    text = "id,blob\n1," + csv_big + "\n2,nhỏ\n"
    ds = fresh_id("big-cli")
    p = cli_import(env, text, ds)
    assert p.returncode == 0 and "2 rows loaded, 0 rejected" in p.stdout, (p.stdout, p.stderr)
    rows = export_json(env, ds)
    assert len(rows) == 2 and rows[0]["blob"] == csv_big and rows[1]["blob"] == "nhỏ"
    p = env.kho("export", ds, "--format", "csv", input=b"")
    assert p.returncode == 0 and p.stdout == ("id,blob\r\n1," + csv_big + "\r\n2,nhỏ\r\n").encode(), p.stdout[-100:]
    ds = fresh_id("big-http")
    r = upload(srv, ds, text)
    assert r.status == 201 and r.json()["rows_loaded"] == 2, r
    r = srv.get(f"/api/v1/datasets/{ds}/rows?_limit=1")
    assert r.status == 200 and r.json()["rows"][0]["blob"] == csv_big
    # 10 MiB in a JSON and an NDJSON body
    jbody = json.dumps([{"id": 1, "blob": big}, {"id": 2, "blob": "nhỏ"}], ensure_ascii=False)
    ds = fresh_id("big-json")
    r = upload(srv, ds, jbody, "application/json")
    assert r.status == 201 and r.json()["rows_loaded"] == 2, r
    assert srv.get(f"/api/v1/datasets/{ds}/rows?_limit=1").json()["rows"][0]["blob"] == big
    p = cli_import(env, "\n".join(json.dumps(x, ensure_ascii=False) for x in json.loads(jbody)) + "\n",
                   fresh_id("big-ndjson"))
    assert p.returncode == 0 and "2 rows loaded" in p.stdout, p.stderr

    # with max_field_kb = 1024 a 10 MiB field is refused with a clear message
    limit = {"KHO_MAX_FIELD_KB": "1024"}
    text = "id,blob\n1," + big + "\n2,nhỏ\n"
    for target in (fresh_id("big-limit-cli"), BASE):
        p = cli_import(env, text, target, environ=limit)
        assert p.returncode == 4, p
        assert "larger than the limit of 1024 KiB" in p.stderr, p.stderr[-500:]
    small = env.server(extra_env=limit)
    for target in (fresh_id("big-limit-http"), BASE):
        r = upload(small, target, text)
        assert r.status == 413, r
        e = r.json()["error"]
        assert e["code"] == "field_too_large" and "larger than the limit of 1024 KiB" in e["message"], e
    jbody = json.dumps([{"id": 1, "blob": big}], ensure_ascii=False)
    r = upload(small, fresh_id("big-limit-json"), jbody, "application/json")
    assert r.status == 413 and r.json()["error"]["code"] == "field_too_large", r
    r = upload(small, fresh_id("big-limit-ndjson"), jbody[1:-1] + "\n", "application/x-ndjson")
    assert r.status == 413 and r.json()["error"]["code"] == "field_too_large", r
    # fields under the limit still load on that server
    r = upload(small, fresh_id("under-limit"), "id,blob\n1," + "x" * (1000 * 1024) + "\n")
    assert r.status == 201, r
    small.stop()
    assert_base_unchanged(env, srv)


def test_body_over_max_body_mb(env):
    setup(env)
    srv = env.server(extra_env={"KHO_MAX_BODY_MB": "1"})
    body = b"n,s\n" + b"1,abcdefghijklmnopqrstuvwxyz\n" * (2 * 1024 * 1024 // 29)
    assert len(body) > 2_000_000
    # the size is declared: h2o answers 413 before reading the body
    head = (f"POST /api/v1/datasets/too-big/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: text/csv\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    status, hdr, rest = raw_request(srv, head)
    assert status == 413, (hdr, rest[:200])
    status, hdr, rest = raw_request(srv, head, body)
    assert status == 413, (hdr, rest[:200])
    # chunked, so the size is only known while reading
    chunks = b"".join(b"%x\r\n" % len(body[i:i + 65536]) + body[i:i + 65536] + b"\r\n"
                      for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
    head = (b"POST /api/v1/datasets/too-big/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n")
    status, hdr, rest = raw_request(srv, head, chunks)
    assert status == 413, (hdr, rest[:200])
    # the server keeps working, and nothing was created
    r = srv.get("/healthz")
    assert r.status == 200 and r.json()["status"] == "ok", r
    r = srv.get("/api/v1/datasets/too-big")
    assert r.status == 404, r
    r = upload(srv, "just-under", body[: 1024 * 1024 - 100].rsplit(b"\n", 1)[0] + b"\n")
    assert r.status == 201, r
    srv.stop()


# ---- requests that are wrong before any data is read -----------------------------------------


def test_unknown_and_invalid_dataset_ids(env):
    srv = setup(env)
    for path in ("/api/v1/datasets/nope", "/api/v1/datasets/nope/rows", "/api/v1/datasets/nope/versions",
                 "/api/v1/datasets/nope/versions/1"):
        r = srv.get(path)
        assert r.status == 404 and r.json()["error"]["code"] == "unknown_dataset", (path, r)
    r = srv.get(f"/api/v1/datasets/{BASE}/versions/2")
    assert r.status == 404 and r.json()["error"]["code"] == "unknown_version", r
    for bad in ("Bad Id!", "ABC", "a", "x" * 101, "dấu", "a/b", "a b"):
        r = upload(srv, urllib.parse.quote(bad, safe=""), "n\n1\n")
        assert r.status == 400, (bad, r)
        e = r.json()["error"]
        assert e["code"] == "bad_dataset_id" and "must be 2-100 characters" in e["message"], (bad, e)
    check_store(env.data)


def test_wrong_content_type(env):
    srv = setup(env)
    cases = [("application/xml", "unsupported_media_type", "'application/xml'"),
             (None, "unsupported_media_type", "Content-Type"),
             ("image/png", "unsupported_media_type", "'image/png'"),
             ("text/csv; charset=latin1", "unsupported_charset", "latin1")]
    for ct, code, needle in cases:
        for ds in (fresh_id("ctype"), BASE):
            r = upload(srv, ds, "n,s\n1,a\n", ct)
            assert r.status == 415, (ct, r)
            e = r.json()["error"]
            assert e["code"] == code and needle in e["message"], (ct, e)
    r = upload(srv, fresh_id("fmt"), "n,s\n1,a\n", None, query="format=xml")
    assert r.status == 400 and r.json()["error"]["code"] == "bad_parameter", r
    # ?format= stands in for a missing Content-Type; charset=utf-8 is fine
    ds = fresh_id("fmt-ok")
    r = upload(srv, ds, "n,s\n1,a\n", None, query="format=csv")
    assert r.status == 201, r
    r = upload(srv, ds, '[{"n": 2}]', "application/json; charset=UTF-8")
    assert r.status == 201 and r.json()["version"] == 2, r
    assert_base_unchanged(env, srv)


def test_hostile_http(env):
    srv = setup(env)
    rows = f"/api/v1/datasets/{BASE}/rows"
    cases = [
        ("/api/v1/datasets/%zz", 400, "bad_path"),
        ("/api/v1/datasets/%ff", 400, "bad_path"),
        ("/api/v1/datasets/%e1%bb", 400, "bad_path"),
        ("/api/v1/datasets/abc%", 400, "bad_path"),
        ("/api/v1/datasets?q=%zz", 400, "bad_query"),
        ("/api/v1/datasets?q=%ff", 400, "bad_query"),
        ("/api/v1/units?q=abc%2", 400, "bad_query"),
        (rows + "?_limit=0", 400, "bad_parameter"),
        (rows + "?_limit=-1", 400, "bad_parameter"),
        (rows + "?_limit=abc", 400, "bad_parameter"),
        (rows + "?_limit=99999999", 400, "bad_parameter"),
        (rows + "?_limit=99999999999999999999999", 400, "bad_parameter"),
        (rows + "?_limit=10abc", 400, "bad_parameter"),
        (rows + "?_offset=-5", 400, "bad_parameter"),
        (rows + "?version=abc", 400, "bad_parameter"),
        (rows + "?version=0", 400, "bad_parameter"),
        (rows + "?version=2", 404, "unknown_version"),
        (f"/api/v1/datasets/{BASE}/versions/abc", 400, "bad_version"),
        (f"/api/v1/datasets/{BASE}/versions/-1", 400, "bad_version"),
        ("/" + "/".join(["seg"] * 20), 404, "not_found"),
        ("/api/v1/datasets/" + "/".join(["x"] * 17), 404, "not_found"),
        ("/api/v1/datasets/../datasets", 404, None),
        ("/api/v1/datasets?" + "&".join(f"q={i}" for i in range(70)), 400, "too_many_parameters"),
    ]
    for path, status, code in cases:
        r = srv.get(path)
        assert r.status == status, (path, r)
        assert r.header("Content-Type").startswith("application/json"), (path, r.headers)
        if code:
            assert r.json()["error"]["code"] == code, (path, r)
    for path, param in [("/api/v1/datasets?bogus=1", "bogus"), (rows + "?_limt=5", "_limt"),
                        ("/healthz?x=1", "x"), ("/api/v1/units?provinc=33", "provinc"),
                        (f"/api/v1/datasets/{BASE}?_limit=1", "_limit")]:
        r = srv.get(path)
        assert r.status == 400, (path, r)
        e = r.json()["error"]
        assert e["code"] == "unknown_parameter" and f"'{param}'" in e["message"], (path, e)
    # on rows, a name without "_" is a filter: an unknown one names the columns
    r = srv.get(rows + "?limit=5")
    e = r.json()["error"]
    assert r.status == 400 and e["code"] == "unknown_column" and "'limit'" in e["message"], (r, e)
    r = upload(srv, "qp-test", "n\n1\n", query="titel=x")
    assert r.status == 400 and "'titel'" in r.json()["error"]["message"], r
    # headers the server does not expect
    r = srv.request("GET", "/healthz", headers={"X-" + "A" * 50: "b" * 4000, "Accept": "*/*" * 1000})
    assert r.status in (200, 400, 431), r
    r = srv.request("GET", "/healthz")
    assert r.status == 200 and r.json()["status"] == "ok", r
    assert " 500 " not in srv.log(), [l for l in srv.log().splitlines() if " 500 " in l][:5]
    assert_base_unchanged(env, srv)


def test_hundred_kilobyte_query_string(env):
    """A 100 KB query string gets a 4xx (it is not a sensible request), never a
    crash; the server answers afterwards."""
    srv = setup(env)
    rows = f"/api/v1/datasets/{BASE}/rows"
    results = {}
    for path in ("/api/v1/datasets?q=" + "a" * 100_000, "/api/v1/units?q=" + "nghia+" * 17_000,
                 rows + "?_limit=" + "9" * 100_000):
        try:
            status = srv.get(path).status
        except (ConnectionError, OSError) as e:  # the server may close such a connection
            status = repr(e)
        assert srv.proc.poll() is None, "the server died"
        results[path[:40]] = status
    r = srv.get("/healthz")
    assert r.status == 200 and r.json()["status"] == "ok", r
    assert all(isinstance(s, int) and 400 <= s < 500 for s in results.values()), results


def test_no_partial_state_and_versions_continue(env):
    """After all the refused uploads: no stray tables, no spool files, and the next
    good upload of the base dataset is version 2."""
    srv = setup(env)
    leftovers = [n for n in os.listdir(env.data) if n.startswith(".import-")]
    assert leftovers == [], leftovers
    for ds in [d["id"] for d in srv.get("/api/v1/datasets?limit=1000").json()["datasets"]]:
        d = show(env, ds)
        assert d["row_count"] == d["versions"][0]["row_count"] and d["versions"][0]["number"] == d["current_version"]
    assert_base_unchanged(env, srv)
    r = upload(srv, BASE, "n,s\n21,mới\n")
    assert r.status == 201 and r.json()["version"] == 2, r
    assert r.header("Location") == f"/api/v1/datasets/{BASE}/versions/2"
    assert export_json(env, BASE, version=1) == BASE_ROWS
    assert srv.get("/healthz").status == 200
    srv.stop()
