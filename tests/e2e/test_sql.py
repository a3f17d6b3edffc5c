"""The read-only SQL sandbox over HTTP: GET|POST /api/v1/sql and GET /api/v1/sql/tables.

Formats (JSON, CSV, NDJSON; _format, Accept, POST bodies, HEAD), the hostile list (every
write, ATTACH, PRAGMA, extension loading, blobs past the limit, runaway CTEs, long queries,
kho's own tables) each answered with a clear 4xx while the database files stay as they were
and the server keeps answering, the role x class matrix (public, analyst, analyst with a
grant, with a grant including personal data, stewards, admin x open, shared, private), masking
of personal columns and decryption for callers who may see them, audit entries of restricted
reads, and the table list hiding what a caller may not read.

The rules are those of src/security/access.h, as tests/e2e/test_security.py states them.
"""
import csv
import hashlib
import io
import json
import os
import threading
import time
import urllib.parse

ORG = "so-y-te"
OTHER_ORG = "so-tai-chinh"
CLASSES = {"sq-open": ("open", "other"), "sq-shared": ("shared", "other"), "sq-private": ("private", "important")}
ROWS = [("11953", "Nguyễn Văn An", "034213348901", "1980-01-02", 100),
        ("12031", "Trần Thị Bình", "034213348902", "1990-03-04", 250),
        ("13279", "Lê Hoàng Cường", "034213348903", "2001-05-06", 75)]
CSV_BODY = "Mã xã,Họ và tên,Số định danh cá nhân,Ngày sinh,Số tiền\n" + "".join(
    f"{a},{b},{c},{d},{e}\n" for a, b, c, d, e in ROWS)
HINT = " (GET /api/v1/sql/tables lists the tables you can query)"

_state = {}


# ---- helpers ---------------------------------------------------------------------------------


def q(s):
    return urllib.parse.quote(s, safe="")


def table(ds):
    return ds.replace("-", "_")


class P:
    def __init__(self, name, role, org, scopes, key):
        self.name, self.role, self.org, self.scopes, self.key = name, role, org, set(scopes), key

    def __repr__(self):
        return f"<{self.name}>"


def sql(srv, text, key=None, fmt=None, headers=None, method="GET"):
    h = dict(headers or {})
    if key:
        h["Authorization"] = "Bearer " + key
    if method == "POST":
        body = {"q": text}
        if fmt:
            body["_format"] = fmt
        h["Content-Type"] = "application/json"
        return srv.request("POST", "/api/v1/sql", body=json.dumps(body).encode(), headers=h)
    path = "/api/v1/sql?q=" + q(text) + (f"&_format={fmt}" if fmt else "")
    return srv.request(method, path, headers=h)


def ok(srv, text, key=None, **kw):
    r = sql(srv, text, key=key, **kw)
    assert r.status == 200, (text, r)
    return r.json()


def err(r):
    try:
        return r.json()["error"]
    except (ValueError, KeyError, TypeError):
        return {}


def setup(env):
    if "srv" in _state:
        return _state
    env.init()
    P_ = {"public": P("public", "public", None, {"datasets:read"}, None),
          "admin": P("admin", "admin", None, {"datasets:read", "pii:read"}, env.admin_key)}
    for name, role, org, scopes in [("analyst", "analyst", None, "datasets:read"),
                                    ("grantee", "analyst", None, "datasets:read,pii:read"),
                                    ("grantee_pii", "analyst", None, "datasets:read,pii:read"),
                                    ("partner", "partner", "doi-tac", "datasets:read,pii:read"),
                                    ("steward", "steward", ORG, "datasets:read,datasets:write,pii:read"),
                                    ("steward_other", "steward", OTHER_ORG, "datasets:read,datasets:write,pii:read")]:
        user = "sq-" + name.replace("_", "-")
        P_[name] = P(name, role, org, scopes.split(","), env.add_user(user, role, org, scopes=scopes))
        P_[name].user = user
    srv = env.server()
    for ds, (sharing, importance) in CLASSES.items():
        r = srv.post(f"/api/v1/datasets/{ds}/versions?sharing={sharing}&importance={importance}&org={ORG}"
                     f"&title={q('Hộp cát ' + ds)}", CSV_BODY)
        assert r.status == 201, (ds, r)
    for who, pii in (("sq-grantee", []), ("sq-grantee-pii", ["--pii"])):
        p = env.kho("grant", "add", "sq-private", "user:" + who, *pii)
        assert p.returncode == 0, p.stderr
    _state.update(srv=srv, P=P_)
    return _state


def owner(p):
    return p.role == "steward" and p.org == ORG


def may_read(p, ds):
    sharing = CLASSES[ds][0]
    if sharing == "open":
        return True
    if "datasets:read" not in p.scopes:
        return False
    if p.role == "admin" or owner(p) or (ds == "sq-private" and p.name in ("grantee", "grantee_pii")):
        return True
    return sharing == "shared" and p.role in ("analyst", "leader", "steward", "admin")


def sees_pii(p, ds):
    return "pii:read" in p.scopes and (p.role == "admin" or owner(p) or (ds == "sq-private" and p.name == "grantee_pii"))


def audit_sql_entries(srv):
    """Every audit entry of action "sql" (paged)."""
    out, frm = [], 0
    while True:
        j = srv.get(f"/api/v1/audit/entries?action=sql&from={frm}&limit=1000", auth=True).json()
        out += [e["entry"] for e in j["entries"]]
        if j["next"] >= j["size"] or j["next"] == frm:
            return out
        frm = j["next"]


def db_digest(env):
    h = hashlib.sha256()
    for name in ("kho.db", "kho.db-wal"):
        path = os.path.join(env.data, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


# ---- formats -----------------------------------------------------------------------------------


def test_json_csv_and_ndjson(env):
    srv = setup(env)["srv"]
    text = ("SELECT ma_xa, ten_xa, so_ho_so_tiep_nhan AS n, ty_le_dung_han AS t FROM ho_so_dich_vu_cong"
            " ORDER BY _row LIMIT 3")
    r = sql(srv, text)
    assert r.status == 200 and r.header("Content-Type") == "application/json; charset=utf-8", r
    j = r.json()
    assert set(j) == {"columns", "rows", "row_count", "truncated", "time_ms"}, j
    assert j["columns"] == ["ma_xa", "ten_xa", "n", "t"] and j["row_count"] == 3 and j["truncated"] is False
    assert isinstance(j["time_ms"], (int, float)) and len(j["rows"]) == 3
    assert all(isinstance(x[2], int) and isinstance(x[3], (int, float)) for x in j["rows"]), j["rows"]
    assert r.header("X-Kho-Row-Count") == "3" and r.header("X-Kho-Truncated") == "false"
    # the rows endpoint says the same
    rows = srv.get("/api/v1/datasets/ho-so-dich-vu-cong/rows?_limit=3").json()["rows"]
    assert [[x["ma_xa"], x["ten_xa"], x["so_ho_so_tiep_nhan"], x["ty_le_dung_han"]] for x in rows] == j["rows"]
    for fmt, headers in (("csv", None), (None, {"Accept": "text/csv"})):
        c = sql(srv, text, fmt=fmt, headers=headers)
        assert c.status == 200 and c.header("Content-Type") == "text/csv; charset=utf-8", c
        assert c.body.count(b"\r\n") == 4 and c.text.startswith("ma_xa,ten_xa,n,t\r\n"), c.text
        assert list(csv.reader(io.StringIO(c.text)))[1:] == [[str(a), b, str(n), repr(t) if t != int(t) else str(int(t))]
                                                             for a, b, n, t in j["rows"]]
    for fmt, headers in (("ndjson", None), (None, {"Accept": "application/x-ndjson"})):
        n = sql(srv, text, fmt=fmt, headers=headers)
        assert n.status == 200 and n.header("Content-Type") == "application/x-ndjson", n
        lines = n.text.splitlines()
        assert [json.loads(x) for x in lines] == [dict(zip(j["columns"], x)) for x in j["rows"]]
    # POST with a JSON body, _format in the body or the query string
    assert sql(srv, text, method="POST").json()["rows"] == j["rows"]
    assert sql(srv, text, fmt="csv", method="POST").header("Content-Type") == "text/csv; charset=utf-8"
    p = srv.request("POST", "/api/v1/sql?_format=ndjson", body=json.dumps({"q": text}).encode(),
                    headers={"Content-Type": "application/json"})
    assert p.status == 200 and len(p.text.splitlines()) == 3, p
    # NULL, booleans, reals in their shortest form, blobs, repeated names
    v = ok(srv, "SELECT NULL AS a, 0.1 + 0.2 AS b, 8854.13 AS c, x'00ff' AS d, 1 AS e, 2 AS e")
    assert v["rows"] == [[None, 0.30000000000000004, 8854.13, {"$base64": True, "encoded": "AP8="}, 1, 2]]
    assert b'"b":0.30000000000000004' in sql(srv, "SELECT 0.1 + 0.2 AS b", fmt="ndjson").body
    assert json.loads(sql(srv, "SELECT 1 AS e, 2 AS e", fmt="ndjson").text) == {"e": 1, "e_2": 2}
    # HEAD: the same status and headers, no body
    h = sql(srv, text, method="HEAD")
    assert h.status == 200 and h.body == b"" and h.header("Content-Type") == "application/json; charset=utf-8"


def test_big_answers_are_spooled_and_capped(env):
    srv = setup(env)["srv"]
    c = sql(srv, "SELECT * FROM ho_so_dich_vu_cong ORDER BY _row", fmt="csv")
    assert c.status == 200 and c.text.count("\r\n") == 5201, c
    assert int(c.header("Content-Length")) == len(c.body) and len(c.body) > 256 * 1024
    assert c.header("X-Kho-Row-Count") == "5200" and c.header("X-Kho-Truncated") == "false"
    n = sql(srv, "SELECT * FROM ho_so_dich_vu_cong", fmt="ndjson")
    assert n.status == 200 and len(n.text.splitlines()) == 5200
    assert not os.listdir(os.path.join(env.data, "tmp")), "spool files are unlinked at once"
    small = env.server(extra_env={"KHO_SQL_MAX_ROWS": "10", "KHO_SQL_MAX_ROWS_EXPORT": "25",
                                  "KHO_SQL_TIME_LIMIT_MS": "300"})
    j = ok(small, "SELECT code FROM units_commune")
    assert j["row_count"] == 10 and len(j["rows"]) == 10 and j["truncated"] is True, j
    e = sql(small, "SELECT code FROM units_commune", fmt="csv")
    assert e.text.count("\r\n") == 26 and e.header("X-Kho-Truncated") == "true", e
    t0 = time.monotonic()
    r = sql(small, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r")
    assert r.status == 400 and err(r)["code"] == "timeout" and "300 ms" in err(r)["message"], r
    assert time.monotonic() - t0 < env.slow(15)  # stopped, not run to its end (not a benchmark)
    assert small.get("/healthz").status == 200
    small.stop()


# ---- hostile input -------------------------------------------------------------------------------


HOSTILE = [
    ("ATTACH DATABASE '/tmp/kho-e2e-attach.db' AS x", 403, "sql_denied"),
    ("VACUUM INTO '/tmp/kho-e2e-vacuum.db'", 403, "sql_denied"),
    ("PRAGMA writable_schema=1", 403, "sql_denied"),
    ("PRAGMA journal_mode", 403, "sql_denied"),
    ("PRAGMA journal_mode=DELETE", 403, "sql_denied"),
    ("PRAGMA query_only=0", 403, "sql_denied"),
    ("INSERT INTO meta VALUES ('x', 'y')", 403, "sql_denied"),
    ("WITH a AS (SELECT 1) INSERT INTO meta SELECT 'x', 'y' FROM a", 403, "sql_denied"),
    ("UPDATE users SET role = 'admin'", 403, "sql_denied"),
    ("DELETE FROM grants", 403, "sql_denied"),
    ("CREATE TABLE t(a)", 403, "sql_denied"),
    ("DROP TABLE users", 403, "sql_denied"),
    ("CREATE TEMP TABLE t(a)", 403, "sql_denied"),
    ("CREATE TEMP VIEW v AS SELECT 1", 403, "sql_denied"),
    ("CREATE TEMP TRIGGER tr AFTER INSERT ON meta BEGIN SELECT 1; END", 403, "sql_denied"),
    ("BEGIN", 403, "sql_denied"),
    ("SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')", 403, "sql_denied"),
    ("SELECT printf('%.*c', 2000000000, 'x')", 403, "sql_denied"),
    ("SELECT randomblob(1e9)", 400, "sql_limit"),
    ("SELECT zeroblob(1e9)", 400, "sql_limit"),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r", 400, "timeout"),
    ("SELECT * FROM sqlite_master", 400, "sql_error"),
    ("SELECT * FROM sqlite_schema", 400, "sql_error"),
    ("SELECT name, password_hash FROM users", 400, "sql_error"),
    ("SELECT * FROM api_keys", 400, "sql_error"),
    ("SELECT * FROM data_keys", 400, "sql_error"),
    ("SELECT * FROM audit", 400, "sql_error"),
    ("SELECT * FROM ds1_v1", 400, "sql_error"),
    ("SELECT 1; DROP TABLE users", 400, "sql_error"),
    ("SELECT * FROM ho_so_dich_vu_cong WHERE", 400, "sql_error"),
]


def test_hostile_statements_get_a_clear_4xx(env):
    st = setup(env)
    srv, admin = st["srv"], st["P"]["admin"]
    before = db_digest(env)
    bad = []
    for text, status, code in HOSTILE:
        for key in (None, admin.key):
            r = sql(srv, text, key=key)
            e = err(r)
            if r.status != status or e.get("code") != code or not e.get("message"):
                bad.append(f"{text!r} ({'admin' if key else 'public'}): {r.status} {e}")
    # a 100 KB query, sent as a POST body
    r = sql(srv, "SELECT 1 -- " + "x" * 100 * 1024, method="POST")
    if r.status != 413 or err(r).get("code") != "sql_too_long":
        bad.append(f"100 KB query: {r}")
    # malformed requests
    for path, status, code in [("/api/v1/sql", 400, "bad_parameter"), ("/api/v1/sql?q=", 400, "bad_parameter"),
                               ("/api/v1/sql?q=SELECT+1&limit=5", 400, "unknown_parameter"),
                               ("/api/v1/sql?q=SELECT+1&_format=xml", 400, "bad_parameter"),
                               ("/api/v1/sql/tables?x=1", 400, "unknown_parameter")]:
        r = srv.get(path)
        if r.status != status or err(r).get("code") != code:
            bad.append(f"GET {path}: {r}")
    for body, ctype, status in [(b'{"q": "SELECT 1"', "application/json", 400),
                                (b'{"q": "SELECT 1", "limit": 3}', "application/json", 400),
                                (b'{"q": 5}', "application/json", 400),
                                (b"SELECT 1", "text/plain", 415)]:
        r = srv.request("POST", "/api/v1/sql", body=body, headers={"Content-Type": ctype})
        if r.status != status:
            bad.append(f"POST {body!r}: {r}")
    assert not bad, "\n".join(bad)
    assert db_digest(env) == before, "the database files changed"
    assert not os.path.exists("/tmp/kho-e2e-attach.db") and not os.path.exists("/tmp/kho-e2e-vacuum.db")
    # the position of an error, for the portal to point at
    e = err(sql(srv, "SELECT khong_co FROM ho_so_dich_vu_cong"))
    assert e["message"] == "no such column: khong_co" and e["details"] == {"position": 7, "line": 1, "column": 8}, e
    e = err(sql(srv, "SELECT 1,\n  'Hưng Yên', khong_co FROM ho_so_dich_vu_cong"))
    assert e["details"] == {"position": 26, "line": 2, "column": 15}, e
    assert srv.get("/healthz").status == 200


def test_server_keeps_answering_under_a_flood_of_runaway_queries(env):
    srv = setup(env)["srv"]
    bomb = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT max(n) FROM r"
    results = []

    def fire():
        results.append(sql(srv, bomb).status)

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    h = srv.get("/healthz")  # the event loops never run queries
    assert h.status == 200 and time.monotonic() - t0 < env.slow(10), h
    for t in threads:
        t.join()
    assert set(results) <= {400, 503} and 400 in results, results
    assert ok(srv, "SELECT count(*) FROM units_province")["rows"] == [[34]]


# ---- who sees what ---------------------------------------------------------------------------------


def test_role_by_class_matrix(env):
    st = setup(env)
    srv, P_ = st["srv"], st["P"]
    bad = []
    for ds in CLASSES:
        name = table(ds)
        for p in P_.values():
            for t in (name, name + "_v1"):
                r = sql(srv, f"SELECT count(*) FROM {t}", key=p.key)
                if may_read(p, ds):
                    if r.status != 200 or r.json()["rows"] != [[3]]:
                        bad.append(f"{p.name} count {t}: {r}")
                    continue
                # a hidden table is answered exactly as a table that never existed
                m = sql(srv, f"SELECT count(*) FROM {t}x", key=p.key)
                if r.status != 400 or err(r) != {"code": "sql_error", "message": f"no such table: {t}{HINT}"} \
                        or err(m) != {"code": "sql_error", "message": f"no such table: {t}x{HINT}"}:
                    bad.append(f"{p.name} hidden {t}: {r} / {m}")
            if not may_read(p, ds):
                continue
            r = sql(srv, f"SELECT ho_va_ten, so_dinh_danh_ca_nhan, ngay_sinh FROM {name} ORDER BY _row", key=p.key)
            if sees_pii(p, ds):
                want = [[b, c, d] for _, b, c, d, _ in ROWS]
                if r.status != 200 or r.json()["rows"] != want:
                    bad.append(f"{p.name} personal columns of {ds}: {r}")
            elif r.status != 403 or err(r).get("code") != "sql_denied" or "ho_va_ten" not in err(r)["message"]:
                bad.append(f"{p.name} personal columns of {ds} should be refused: {r}")
            # what is not personal is there for everyone who may read the table
            r = sql(srv, f"SELECT sum(so_tien), count(DISTINCT ma_xa) FROM {name}", key=p.key)
            if r.status != 200 or r.json()["rows"] != [[425, 3]]:
                bad.append(f"{p.name} sums of {ds}: {r}")
    # the demo's private dataset: hidden from the public and from analysts without a grant
    for p in (P_["public"], P_["analyst"], P_["partner"]):
        r = sql(srv, "SELECT count(*) FROM doi_tuong_tro_cap_xa_hoi", key=p.key)
        if r.status != 400 or "no such table" not in err(r).get("message", ""):
            bad.append(f"{p.name} demo private dataset: {r}")
    assert not bad, "\n".join(bad[:30]) + f"\n({len(bad)} problems)"


def test_masked_callers_and_decryption(env):
    st = setup(env)
    srv, P_ = st["srv"], st["P"]
    an = P_["analyst"].key
    r = sql(srv, "SELECT * FROM sq_shared", key=an)
    e = err(r)
    assert r.status == 403 and e["code"] == "sql_denied", r
    assert "personal data" in e["message"] and "'sq_shared'" in e["message"], e
    for text in ("SELECT count(*) FROM sq_shared WHERE ho_va_ten LIKE 'N%'",
                 "SELECT x FROM (SELECT ho_va_ten AS x FROM sq_shared)",
                 "WITH t AS (SELECT * FROM sq_shared) SELECT so_tien FROM t",
                 "WITH sq_shared AS (SELECT * FROM ds1_v1) SELECT * FROM sq_shared"):
        r = sql(srv, text, key=an)
        assert r.status in (400, 403), (text, r)
        for _, b, c, d, _ in ROWS:
            assert b not in r.text and c not in r.text, (text, r.text)
    # a grant with personal data: decrypted values (the private dataset is important: stored encrypted)
    gp = P_["grantee_pii"].key
    j = ok(srv, "SELECT ho_va_ten FROM sq_private WHERE so_dinh_danh_ca_nhan = '034213348902'", key=gp)
    assert j["rows"] == [["Trần Thị Bình"]], j
    c = sql(srv, "SELECT * FROM sq_private ORDER BY _row", key=gp, fmt="csv")
    assert c.status == 200 and "Nguyễn Văn An,034213348901,1980-01-02,100" in c.text, c.text
    assert "base64" not in c.text
    # the same grant without personal data
    g = P_["grantee"].key
    assert sql(srv, "SELECT ho_va_ten FROM sq_private", key=g).status == 403
    assert ok(srv, "SELECT sum(so_tien) FROM sq_private", key=g)["rows"] == [[425]]
    # the rows endpoint and the sandbox agree on who sees what
    rows = srv.get("/api/v1/datasets/sq-private/rows", headers={"Authorization": "Bearer " + gp}).json()
    assert rows["masked"] is False and rows["rows"][1]["ho_va_ten"] == "Trần Thị Bình"


def test_reads_of_restricted_data_are_audited(env):
    st = setup(env)
    srv, P_ = st["srv"], st["P"]
    marker = f"kiem-tra-{time.monotonic_ns()}"
    ok(srv, f"SELECT '{marker}', count(*) FROM sq_private", key=P_["steward"].key)
    ok(srv, f"SELECT '{marker}', ho_va_ten FROM sq_private", key=P_["grantee_pii"].key,
       headers={"X-Purpose": "rà soát chi trả".encode("utf-8").decode("latin-1")})
    ok(srv, f"SELECT '{marker}', count(*) FROM sq_open")  # open, other, no personal column read: not audited
    ok(srv, f"SELECT '{marker}', ho_va_ten FROM sq_open", key=P_["admin"].key)  # personal column: audited
    found = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [e for e in audit_sql_entries(srv) if marker in e.get("details", {}).get("sql", "")]
        if len(found) >= 3:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # and nothing more arrives for the read that must not be recorded
    found = [e for e in audit_sql_entries(srv) if marker in e.get("details", {}).get("sql", "")]
    by = {(e["actor"], e["target"]): e for e in found}
    assert set(by) == {("sq-steward", "sq-private"), ("sq-grantee-pii", "sq-private"), ("e2e-admin", "sq-open")}, found
    s = by[("sq-steward", "sq-private")]["details"]
    assert s["personal"] is False and s["rows"] == 1 and s["tables"] == ["sq_private"] and s["version"] == 1, s
    g = by[("sq-grantee-pii", "sq-private")]["details"]
    assert g["personal"] is True and g["rows"] == 3 and g["purpose"] == "rà soát chi trả", g
    assert by[("e2e-admin", "sq-open")]["details"]["personal"] is True


def test_table_list(env):
    st = setup(env)
    srv, P_ = st["srv"], st["P"]

    def names(p):
        r = srv.get("/api/v1/sql/tables", headers={"Authorization": "Bearer " + p.key} if p.key else {})
        assert r.status == 200, r
        return r.json(), {t["name"]: t for t in r.json()["tables"]}

    j, pub = names(P_["public"])
    assert {"ho_so_dich_vu_cong", "ho_so_dich_vu_cong_v1", "sq_open", "units_commune", "units_conversion"} <= set(pub)
    assert not {"sq_shared", "sq_private", "doi_tuong_tro_cap_xa_hoi"} & set(pub), sorted(pub)
    assert "sq-private" not in json.dumps(j) and "doi-tuong" not in json.dumps(j)
    assert j["limits"]["time_limit_ms"] == 1000 and j["limits"]["max_rows"] == 10000
    assert "round" in j["functions"] and "load_extension" not in j["functions"]
    t = pub["ho_so_dich_vu_cong"]
    assert t["dataset"] == "ho-so-dich-vu-cong" and t["version"] == 1 and t["current"] is True and t["rows"] == 5200
    assert [c["name"] for c in t["columns"]][:2] == ["_row", "ma_xa"]
    o = pub["sq_open"]
    hidden = {c["name"] for c in o["columns"] if c["hidden"]}
    assert o["masked"] is True and hidden == {"ho_va_ten", "so_dinh_danh_ca_nhan", "ngay_sinh"}, o
    _, an = names(P_["analyst"])
    assert "sq_shared" in an and "sq_private" not in an
    _, adm = names(P_["admin"])
    assert {"sq_private", "sq_private_v1", "doi_tuong_tro_cap_xa_hoi"} <= set(adm)
    enc = {c["name"] for c in adm["sq_private"]["columns"] if c["encrypted"]}
    assert enc == {"ho_va_ten", "so_dinh_danh_ca_nhan", "ngay_sinh"} and adm["sq_private"]["masked"] is False
    # every listed table can be queried by its lister
    for name in adm:
        r = sql(srv, f'SELECT count(*) FROM "{name}"', key=P_["admin"].key)
        assert r.status == 200, (name, r)


def test_new_versions_and_reclassification_take_effect(env):
    st = setup(env)
    srv = st["srv"]
    r = srv.post("/api/v1/datasets/sq-later/versions?sharing=open", "a,b\n1,2\n")
    assert r.status == 201, r
    assert ok(srv, "SELECT a + b FROM sq_later")["rows"] == [[3]]
    r = srv.post("/api/v1/datasets/sq-later/versions", "a,b\n5,6\n7,8\n")
    assert r.status == 201, r
    assert ok(srv, "SELECT count(*) FROM sq_later")["rows"] == [[2]]
    assert ok(srv, "SELECT count(*) FROM sq_later_v1")["rows"] == [[1]]
    p = env.kho("classify", "sq-later", "--sharing", "private")
    assert p.returncode == 0, p.stderr
    r = sql(srv, "SELECT count(*) FROM sq_later")
    assert r.status == 400 and err(r)["message"] == f"no such table: sq_later{HINT}", r
    assert srv.get("/healthz").status == 200
