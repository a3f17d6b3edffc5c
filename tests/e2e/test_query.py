"""Row queries, exports and aggregates: /api/v1/datasets/{id}/rows and /aggregate.

Every answer is checked against a reference computed here in Python from the
demo CSV files (or from the rows the API returns unfiltered), so a wrong filter,
order or page boundary shows up as a difference, not as a count that happens to
match.
"""
import collections
import csv
import io
import json
import os
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "data", "demo")
HSDVC = "ho-so-dich-vu-cong"
DNDK = "doanh-nghiep-dang-ky-moi"
TCXH = "doi-tuong-tro-cap-xa-hoi"
ROWS = f"/api/v1/datasets/{HSDVC}/rows"

_state = {}


def q(s):
    return urllib.parse.quote(s, safe="")


def srv_of(env):
    if "srv" not in _state:
        env.init()
        _state["srv"] = env.server()
    return _state["srv"]


def get(srv, path, status=200, **kw):
    r = srv.get(path, **kw)
    assert r.status == status, (path, r.status, r.body[:400])
    return r


def js(srv, path, status=200, **kw):
    return get(srv, path, status, **kw).json()


def all_rows():
    """Every row of the demo dataset as the API types it."""
    if "all" not in _state:
        out = []
        with open(os.path.join(DEMO, f"{HSDVC}.csv"), encoding="utf-8", newline="") as f:
            r = csv.reader(f)
            next(r)
            for i, (ma, ten, thang, lv, a, b, tl) in enumerate(r, 1):
                d, m, y = thang.split("/")
                out.append({"_row": i, "ma_xa": ma, "ten_xa": ten, "thang": f"{y}-{m}-{d}", "linh_vuc": lv,
                            "so_ho_so_tiep_nhan": int(a), "so_ho_so_giai_quyet_dung_han": int(b),
                            "ty_le_dung_han": float(tl.replace(",", "."))})
        _state["all"] = out
    return _state["all"]


def follow(srv, path, **kw):
    """Every row of a query, following the next links; checks the pages' shape."""
    rows, pages = [], 0
    while path:
        j = js(srv, path, **kw)
        rows += j["rows"]
        path = j["next"]
        pages += 1
        assert pages < 10000
    return rows, pages


def fold(s):
    import unicodedata
    s = s.replace("đ", "d").replace("Đ", "D")
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


# ---- filters ----------------------------------------------------------------------------


def test_filters_every_operator(env):
    srv = srv_of(env)
    rows = all_rows()
    cases = [
        ("ma_xa=11953", lambda r: r["ma_xa"] == "11953"),
        ("ma_xa=11953&ma_xa=12031", lambda r: r["ma_xa"] in ("11953", "12031")),
        ("ma_xa__in=11953,12031,99999", lambda r: r["ma_xa"] in ("11953", "12031")),
        ("linh_vuc__ne=" + q("Hộ tịch"), lambda r: r["linh_vuc"] != "Hộ tịch"),
        ("so_ho_so_tiep_nhan__gt=100", lambda r: r["so_ho_so_tiep_nhan"] > 100),
        ("so_ho_so_tiep_nhan__gte=100", lambda r: r["so_ho_so_tiep_nhan"] >= 100),
        ("so_ho_so_tiep_nhan__lt=20", lambda r: r["so_ho_so_tiep_nhan"] < 20),
        ("so_ho_so_tiep_nhan__lte=20&so_ho_so_tiep_nhan__gte=10", lambda r: 10 <= r["so_ho_so_tiep_nhan"] <= 20),
        # a Vietnamese decimal comma and an international dot read the same
        ("ty_le_dung_han__gte=" + q("90,5"), lambda r: r["ty_le_dung_han"] >= 90.5),
        ("ty_le_dung_han__gte=90.5", lambda r: r["ty_le_dung_han"] >= 90.5),
        # dates in either form
        ("thang=" + q("01/03/2025"), lambda r: r["thang"] == "2025-03-01"),
        ("thang__gte=2025-06-01&thang__lt=2025-08-01", lambda r: "2025-06-01" <= r["thang"] < "2025-08-01"),
        # folded text: no case, no tone marks, đ = d
        ("ten_xa__contains=" + q("pho hien"), lambda r: "pho hien" in fold(r["ten_xa"])),
        ("ten_xa__contains=" + q("PHỐ HIẾN"), lambda r: "pho hien" in fold(r["ten_xa"])),
        ("linh_vuc__contains=" + q("dat dai"), lambda r: "dat dai" in fold(r["linh_vuc"])),
        ("ten_xa__startswith=" + q("xa "), lambda r: fold(r["ten_xa"]).startswith("xa ")),
        ("ten_xa__isnull=false", lambda r: True),
        ("ten_xa__isnull=true", lambda r: False),
    ]
    for qs, pred in cases:
        want = [r for r in rows if pred(r)]
        got, pages = follow(srv, f"{ROWS}?_limit=700&{qs}")
        assert got == want, (qs, len(got), len(want))
        j = js(srv, f"{ROWS}?_limit=1&_count=true&{qs}")
        assert j["total"] == len(want) and j["total_is_lower_bound"] is False, (qs, j["total"], len(want))
    assert len([r for r in rows if "pho hien" in fold(r["ten_xa"])]) > 0


def test_like_wildcards_are_literal(env):
    srv = srv_of(env)
    ds = "q-wild"
    r = srv.post(f"/api/v1/datasets/{ds}/versions", "ten,so\n50% giảm,1\nabc_def,2\nabcxdef,3\nback\\slash,4\n")
    assert r.status == 201, r
    base = f"/api/v1/datasets/{ds}/rows"
    assert [x["so"] for x in js(srv, f"{base}?ten__contains=" + q("%"), auth=True)["rows"]] == [1]
    assert [x["so"] for x in js(srv, f"{base}?ten__contains=" + q("c_d"), auth=True)["rows"]] == [2]
    assert [x["so"] for x in js(srv, f"{base}?ten__contains=" + q("\\"), auth=True)["rows"]] == [4]
    assert [x["so"] for x in js(srv, f"{base}?ten__startswith=" + q("ABC"), auth=True)["rows"]] == [2, 3]


def test_bad_queries_are_clear_400s(env):
    srv = srv_of(env)
    cases = [
        ("nope=1", "unknown_column", ["nope", "ma_xa", "ty_le_dung_han"]),
        ("ma_xa__like=1", "bad_operator", ["__like"]),
        ("so_ho_so_tiep_nhan=abc", "bad_value", ["so_ho_so_tiep_nhan", "abc"]),
        ("thang=2025-13-45", "bad_value", ["thang"]),
        ("so_ho_so_tiep_nhan__contains=1", "bad_operator", ["so_ho_so_tiep_nhan"]),
        ("ten_xa__isnull=maybe", "bad_value", ["isnull"]),
        ("_sort=nope", "unknown_column", ["nope"]),
        ("_sort=ma_xa,ma_xa", "bad_sort", ["twice"]),
        ("_sort=" + q('ma_xa"; DROP TABLE datasets; --'), "unknown_column", []),
        ("_fields=ma_xa,zzz", "unknown_column", ["zzz"]),
        ("_facet=zzz", "unknown_column", ["zzz"]),
        ("_after=xyz", "bad_cursor", []),
        ("_after=" + "A" * 3000, "bad_cursor", []),
        ("_limit=0", "bad_parameter", []),
        ("_limit=10001", "bad_parameter", ["10000"]),
        ("_count=perhaps", "bad_parameter", []),
        ("_format=xml", "bad_parameter", []),
        ("_bogus=1", "unknown_parameter", ["_bogus"]),
        ("ma_xa__in=" + ",".join(str(i) for i in range(101)), "too_many_values", []),
        ("q=" + "a" * 600, "query_too_long", []),
    ]
    for qs, code, words in cases:
        r = srv.get(f"{ROWS}?{qs}")
        assert r.status in (400, 413), (qs, r.status, r.body[:300])
        e = r.json()["error"]
        assert e["code"] == code, (qs, e)
        for w in words:
            assert w in e["message"], (qs, w, e)
    # the server is still fine
    assert js(srv, f"{ROWS}?_limit=1")["rows"][0]["_row"] == 1


# ---- full-text search -------------------------------------------------------------------


def test_full_text_with_and_without_tone_marks(env):
    srv = srv_of(env)
    ds = "q-fts"
    body = ("mo_ta,so\n"
            "Nhãn lồng Hưng Yên loại 1,1\n"
            "nhan long say kho,2\n"
            "Chuối tiêu hồng,3\n"
            "Bàn gỗ,4\n"
            "Bán nhãn,5\n"
            "ban tay,6\n"
            "Đường phèn,7\n")
    r = srv.post(f"/api/v1/datasets/{ds}/versions", body)
    assert r.status == 201, r
    base = f"/api/v1/datasets/{ds}/rows"

    def found(text, extra=""):
        return [x["so"] for x in js(srv, f"{base}?q={q(text)}{extra}", auth=True)["rows"]]

    # without tone marks: matches with or without them
    assert found("nhan long") == [1, 2]
    assert found("NHAN") == [1, 2, 5]
    assert found("duong") == [7]          # đ = d
    assert found("chuoi hong") == [3]     # every word, any order
    assert found("chu") == [3]            # words are prefixes
    assert found("xyz") == []
    # with tone marks: still found without them, but exact matches first
    assert found("bàn") == [4, 5, 6]
    assert found("bán") == [5, 4, 6]
    assert found("nhãn lồng") == [1, 2]
    assert found("nhan lồng") == [1, 2]
    # with filters, counts and a cursor that continues the same ranking
    assert found("ban", "&so__gt=4") == [5, 6]
    j = js(srv, f"{base}?q={q('bán')}&_limit=1&_count=true", auth=True)
    assert j["total"] == 3 and [x["so"] for x in j["rows"]] == [5]
    rows, pages = follow(srv, f"{base}?q={q('bán')}&_limit=1", auth=True)
    assert [x["so"] for x in rows] == [5, 4, 6] and pages == 3
    # quotes and FTS syntax in q are words, never operators
    for text in ['"', 'nhan" OR "chuoi', "NEAR(a b)", "*", "mo_ta:nhan", "-", "a AND", "(", "^x"]:
        r = srv.get(f"{base}?q={q(text)}", auth=True)
        assert r.status == 200, (text, r)
    # a dataset without text columns says how to search instead
    r = srv.post("/api/v1/datasets/q-nums/versions", "a,b\n1,2\n")
    assert r.status == 201
    r = srv.get("/api/v1/datasets/q-nums/rows?q=1", auth=True)
    assert r.status == 400 and r.json()["error"]["code"] == "no_text_index", r


def test_full_text_never_indexes_personal_columns(env):
    srv = srv_of(env)
    ds = "q-fts-pii"
    r = srv.post(f"/api/v1/datasets/{ds}/versions?sharing=shared&column_tags={q('Ghi chú=personal')}",
                 "Họ và tên,Ghi chú,Xã\nNguyễn Văn An,bí mật riêng,Phố Hiến\n")
    assert r.status == 201, r
    analyst = env.add_user("q-analyst", "analyst")
    h = {"Authorization": f"Bearer {analyst}"}
    base = f"/api/v1/datasets/{ds}/rows"
    assert len(js(srv, f"{base}?q=pho", headers=h)["rows"]) == 1
    assert js(srv, f"{base}?q={q('nguyen')}", headers=h)["rows"] == []
    assert js(srv, f"{base}?q={q('bi mat')}", headers=h)["rows"] == []
    assert js(srv, f"{base}?q={q('bi mat')}", auth=True)["rows"] == []


# ---- sort and keyset pagination ------------------------------------------------------------


def sort_key(spec):
    def key(r):
        out = []
        for s in spec:
            desc = s.startswith("-")
            name = s.lstrip("-")
            v = r[name]
            # NULL first ascending, last descending (SQLite's order)
            out.append((v is not None, v) if not desc else (v is None, Neg(v)))
        out.append(r["_row"])
        return out
    return key


class Neg:
    def __init__(self, v):
        self.v = v

    def __lt__(self, o):
        return o.v is not None and self.v is not None and self.v > o.v

    def __eq__(self, o):
        return self.v == o.v


def test_sort_and_keyset_pages(env):
    srv = srv_of(env)
    rows = all_rows()
    for spec in (["-so_ho_so_tiep_nhan"], ["ten_xa", "-thang"], ["ty_le_dung_han", "linh_vuc"], ["-_row"],
                 ["linh_vuc", "so_ho_so_tiep_nhan", "-ma_xa"]):
        sspec = ",".join(spec)
        want = sorted(rows, key=sort_key([s for s in spec if s.lstrip("-") != "_row"])) if spec != ["-_row"] \
            else list(reversed(rows))
        got, pages = follow(srv, f"{ROWS}?_sort={q(sspec)}&_limit=997")
        assert [r["_row"] for r in got] == [r["_row"] for r in want], sspec
        assert pages == 6, (sspec, pages)


def test_keyset_with_nulls_and_ties(env):
    srv = srv_of(env)
    ds = "q-nulls"
    lines = ["k,v,t"]
    for i in range(1, 301):
        k = "" if i % 7 == 0 else str(i % 5)
        v = "" if i % 11 == 0 else f"{(i * 37) % 13},5"
        t = "" if i % 3 == 0 else ["an", "Ân", "ăn", "bình"][i % 4]
        lines.append(f"{k},\"{v}\",{t}")
    r = srv.post(f"/api/v1/datasets/{ds}/versions?decimal=comma", "\n".join(lines) + "\n")
    assert r.status == 201, r
    base = f"/api/v1/datasets/{ds}/rows"
    full = js(srv, f"{base}?_limit=1000", auth=True)["rows"]
    assert len(full) == 300
    for spec in (["k"], ["-k"], ["v", "-k"], ["-v", "t"], ["t", "k", "v"], ["-t", "-v"]):
        want = sorted(full, key=sort_key(spec))
        for limit in (1, 7, 50):
            got, _ = follow(srv, f"{base}?_sort={q(','.join(spec))}&_limit={limit}", auth=True)
            assert [r["_row"] for r in got] == [r["_row"] for r in want], (spec, limit)


def test_cursor_stays_with_its_version(env):
    srv = srv_of(env)
    ds = "q-versions"
    assert srv.post(f"/api/v1/datasets/{ds}/versions", "n\n" + "".join(f"{i}\n" for i in range(1, 11))).status == 201
    j = js(srv, f"/api/v1/datasets/{ds}/rows?_limit=4&_sort=-n", auth=True)
    assert [r["n"] for r in j["rows"]] == [10, 9, 8, 7] and "version=1" in j["next"]
    # a new version is published between two pages
    assert srv.post(f"/api/v1/datasets/{ds}/versions", "n\n" + "".join(f"{i}\n" for i in range(100, 200))).status == 201
    j2 = js(srv, j["next"], auth=True)
    assert j2["version"] == 1 and [r["n"] for r in j2["rows"]] == [6, 5, 4, 3]
    # the cursor refuses another version, another sort, another dataset
    cur = urllib.parse.parse_qs(urllib.parse.urlparse(j["next"]).query)["_after"][0]
    for path, code in [(f"/api/v1/datasets/{ds}/rows?_sort=-n&version=2&_after={cur}", "bad_cursor"),
                       (f"/api/v1/datasets/{ds}/rows?_sort=n&version=1&_after={cur}", "bad_cursor"),
                       (f"/api/v1/datasets/{DNDK}/rows?_sort=-n&version=1&_after={cur}", None)]:
        r = srv.get(path, auth=True)
        assert r.status == 400, (path, r)
        if code:
            assert r.json()["error"]["code"] == code, r.json()
    # without version=, the cursor's own version is not guessed: the current one is 2
    r = srv.get(f"/api/v1/datasets/{ds}/rows?_sort=-n&_after={cur}", auth=True)
    assert r.status == 400 and "version=1" in r.json()["error"]["message"], r


# ---- fields, counts, facets ----------------------------------------------------------------


def test_fields_count_and_facets(env):
    srv = srv_of(env)
    rows = all_rows()
    j = js(srv, f"{ROWS}?_fields=ten_xa,so_ho_so_tiep_nhan&_limit=3")
    assert [c["name"] for c in j["columns"]] == ["ten_xa", "so_ho_so_tiep_nhan"]
    assert j["rows"] == [{"_row": r["_row"], "ten_xa": r["ten_xa"], "so_ho_so_tiep_nhan": r["so_ho_so_tiep_nhan"]}
                         for r in rows[:3]]
    j = js(srv, f"{ROWS}?_facet=linh_vuc&_facet=ma_xa&so_ho_so_tiep_nhan__gt=100&_limit=1&_count=true")
    sel = [r for r in rows if r["so_ho_so_tiep_nhan"] > 100]
    assert j["total"] == len(sel)
    want = collections.Counter(r["linh_vuc"] for r in sel)
    got = {f["value"]: f["count"] for f in j["facets"]["linh_vuc"]}
    assert got == dict(want), (got, want)
    counts = [f["count"] for f in j["facets"]["ma_xa"]]
    assert counts == sorted(counts, reverse=True) and len(counts) <= 30
    assert counts[0] == max(collections.Counter(r["ma_xa"] for r in sel).values())


# ---- formats and exports -------------------------------------------------------------------


def test_csv_and_ndjson_exports(env):
    srv = srv_of(env)
    rows = all_rows()
    want = [r for r in rows if r["so_ho_so_tiep_nhan"] > 50]
    r = get(srv, f"{ROWS}?so_ho_so_tiep_nhan__gt=50&_format=csv")
    assert r.header("Content-Type").startswith("text/csv"), r.headers
    assert "attachment" in r.header("Content-Disposition") and f"{HSDVC}-v1.csv" in r.header("Content-Disposition")
    got = list(csv.DictReader(io.StringIO(r.body.decode("utf-8"), newline="")))
    assert len(got) == len(want) and got[0]["ten_xa"] == want[0]["ten_xa"]
    assert [int(g["so_ho_so_tiep_nhan"]) for g in got] == [w["so_ho_so_tiep_nhan"] for w in want]
    assert [float(g["ty_le_dung_han"]) for g in got] == [w["ty_le_dung_han"] for w in want]
    # Accept: text/csv without _format; NDJSON with the fields asked
    r = get(srv, ROWS, headers={"Accept": "text/csv"})
    assert r.header("Content-Type").startswith("text/csv") and r.body.count(b"\r\n") == len(rows) + 1
    r = get(srv, f"{ROWS}?_format=ndjson&_fields=ma_xa&_sort=-_row")
    lines = [json.loads(l) for l in r.body.decode("utf-8").splitlines()]
    assert lines == [{"_row": x["_row"], "ma_xa": x["ma_xa"]} for x in reversed(rows)]
    # an export given a _limit stops there; one without has no page limit
    r = get(srv, f"{ROWS}?_format=ndjson&_limit=3")
    assert len(r.body.splitlines()) == 3
    # numbers in the shortest form that reads back to the same value
    assert b"9999999" not in get(srv, f"{ROWS}?_format=csv").body


def test_large_export_streams(env):
    """A 200,000-row CSV export arrives whole and in order (it streams in chunks from a worker)."""
    srv = srv_of(env)
    ds = "q-big"
    n = 200_000
    body = "i,ten,x\n" + "".join(f"{i},dòng {i},{i / 8}\n" for i in range(1, n + 1))
    r = srv.post(f"/api/v1/datasets/{ds}/versions", body, timeout=300)
    assert r.status == 201, r
    r = get(srv, f"/api/v1/datasets/{ds}/rows?_format=csv", auth=True, timeout=300)
    lines = r.body.decode("utf-8").split("\r\n")
    assert lines[0] == "i,ten,x" and lines[-1] == "" and len(lines) == n + 2
    assert lines[1] == "1,dòng 1,0.125" and lines[n] == f"{n},dòng {n},{n / 8:g}".replace("e+04", "0000")
    # a client that goes away mid-export does not hurt the server
    import socket
    host, port = srv.url.split("//")[1].split(":")
    for _ in range(3):
        s = socket.create_connection((host, int(port)))
        s.sendall(f"GET /api/v1/datasets/{ds}/rows?_format=csv HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {env.admin_key}\r\n\r\n".encode())
        s.recv(1000)
        s.close()
    assert js(srv, f"/api/v1/datasets/{ds}/rows?_limit=1", auth=True)["rows"][0]["i"] == 1


# ---- aggregates -------------------------------------------------------------------------------


def test_aggregate(env):
    srv = srv_of(env)
    rows = all_rows()
    base = f"/api/v1/datasets/{HSDVC}/aggregate"
    j = js(srv, f"{base}?group=linh_vuc&count=1&sum=so_ho_so_tiep_nhan&avg=ty_le_dung_han"
                f"&min=thang&max=so_ho_so_tiep_nhan")
    by = collections.defaultdict(list)
    for r in rows:
        by[r["linh_vuc"]].append(r)
    assert [g["linh_vuc"] for g in j["groups"]] == sorted(by, key=lambda s: s.encode("utf-8"))
    for g in j["groups"]:
        rs = by[g["linh_vuc"]]
        assert g["count"] == len(rs)
        assert g["sum_so_ho_so_tiep_nhan"] == sum(r["so_ho_so_tiep_nhan"] for r in rs)
        assert abs(g["avg_ty_le_dung_han"] - sum(r["ty_le_dung_han"] for r in rs) / len(rs)) < 1e-9
        assert g["min_thang"] == min(r["thang"] for r in rs)
        assert g["max_so_ho_so_tiep_nhan"] == max(r["so_ho_so_tiep_nhan"] for r in rs)
    # filters and two group columns; no group at all is one total
    j = js(srv, f"{base}?group=ma_xa,linh_vuc&sum=so_ho_so_tiep_nhan&thang__gte=2025-06-01")
    sel = [r for r in rows if r["thang"] >= "2025-06-01"]
    assert j["group_count"] == len({(r["ma_xa"], r["linh_vuc"]) for r in sel})
    assert sum(g["count"] for g in j["groups"]) == len(sel) or j["truncated"]
    j = js(srv, f"{base}?sum=so_ho_so_tiep_nhan")
    assert j["groups"] == [{"count": len(rows), "sum_so_ho_so_tiep_nhan": sum(r["so_ho_so_tiep_nhan"] for r in rows)}]
    # errors
    for qs, code in [("sum=ten_xa", "bad_aggregate"), ("group=zzz", "unknown_column"), ("avg=zzz", "unknown_column"),
                     ("_sort=ma_xa", "unknown_parameter"), ("count=maybe", "bad_parameter"),
                     ("group=ma_xa&_limit=0", "bad_parameter")]:
        r = srv.get(f"{base}?{qs}")
        assert r.status == 400 and r.json()["error"]["code"] == code, (qs, r.body[:300])
    # JSON numbers in the shortest round-trip form
    import re
    body = get(srv, f"{base}?group=ma_xa&avg=ty_le_dung_han").text
    nums = re.findall(r'"avg_ty_le_dung_han":([-0-9.e+]+)', body)
    assert nums and all(n == repr(float(n)) or (float(n).is_integer() and n == str(int(float(n)))) for n in nums), \
        nums


# ---- personal data ------------------------------------------------------------------------------


def test_personal_columns_in_queries_and_aggregates(env):
    srv = srv_of(env)
    ds = "q-pii"
    lines = ["Mã xã,Họ và tên,Giới tính,Thu nhập"]
    for i in range(60):
        lines.append(f"{11953 if i < 51 else 12031},Nguyễn Văn {chr(65 + i % 26)}{i},{'Nam' if i % 2 else 'Nữ'},"
                     f"{1000 + i}")
    r = srv.post(f"/api/v1/datasets/{ds}/versions?sharing=shared&column_tags={q('Giới tính=personal')}"
                 f"&column_tags={q('Thu nhập=personal')}", "\n".join(lines) + "\n")
    assert r.status == 201, r
    analyst = env.add_user("q-pii-analyst", "analyst")
    h = {"Authorization": f"Bearer {analyst}"}
    base = f"/api/v1/datasets/{ds}"
    j = js(srv, f"{base}/rows?_limit=2", headers=h)
    assert j["masked"] is True and j["rows"][0]["ho_va_ten"] != "Nguyễn Văn A0", j["rows"][0]
    for qs in ("ho_va_ten=x", "gioi_tinh=Nam", "_sort=thu_nhap", "_facet=gioi_tinh", "ho_va_ten__contains=nguyen"):
        r = srv.get(f"{base}/rows?{qs}", headers=h)
        assert r.status == 403 and r.json()["error"]["code"] == "personal_column", (qs, r.body[:300])
    # the CSV export is masked too
    body = get(srv, f"{base}/rows?_format=csv", headers=h).text
    assert "Nguyễn Văn A0" not in body and body.count("\r\n") == 61
    # aggregates: small groups are left out, min/max of a personal column refused
    j = js(srv, f"{base}/aggregate?group=ma_xa&avg=thu_nhap", headers=h)
    assert [g["ma_xa"] for g in j["groups"]] == ["11953"] and j["suppressed"] == 1 and j["min_group_size"] == 10, j
    assert j["groups"][0]["count"] == 51
    j = js(srv, f"{base}/aggregate?group=ma_xa", headers=h)  # nothing personal: every group
    assert [g["count"] for g in j["groups"]] == [51, 9] and "suppressed" not in j, j
    j = js(srv, f"{base}/aggregate?group=gioi_tinh,ma_xa", headers=h)
    assert all(g["count"] >= 10 for g in j["groups"]) and j["suppressed"] == 2, j
    r = srv.get(f"{base}/aggregate?max=thu_nhap", headers=h)
    assert r.status == 403 and r.json()["error"]["code"] == "personal_column", r
    # an admin (pii:read) sees everything
    j = js(srv, f"{base}/aggregate?group=ma_xa&max=thu_nhap", auth=True)
    assert [g["count"] for g in j["groups"]] == [51, 9] and j["groups"][1]["max_thu_nhap"] == 1059, j
    assert js(srv, f"{base}/rows?ho_va_ten={q('Nguyễn Văn A0')}", auth=True)["rows"][0]["thu_nhap"] == 1000


def test_private_dataset_is_absent_from_queries(env):
    srv = srv_of(env)
    for path in (f"/api/v1/datasets/{TCXH}/rows?ma_xa=11953", f"/api/v1/datasets/{TCXH}/rows?_format=csv",
                 f"/api/v1/datasets/{TCXH}/aggregate?group=ma_xa"):
        r = srv.get(path)
        assert r.status == 404 and r.json()["error"]["code"] == "unknown_dataset", (path, r)
    # encrypted columns cannot be filtered, sorted or grouped, even by an admin
    for qs in ("rows?gioi_tinh=Nam", "rows?_sort=ngay_sinh", "aggregate?group=gioi_tinh"):
        r = srv.get(f"/api/v1/datasets/{TCXH}/{qs}", auth=True)
        assert r.status == 400 and r.json()["error"]["code"] == "encrypted_column", (qs, r.body[:300])


def test_restricted_queries_are_audited(env):
    import time
    srv = srv_of(env)

    def entries(action):
        return [e["entry"] for e in js(srv, f"/api/v1/audit/entries?action={action}&target={TCXH}&limit=1000",
                                      auth=True)["entries"]]

    n0 = len(entries("read"))
    r = srv.get(f"/api/v1/datasets/{TCXH}/rows?ma_xa=11953&_limit=5", auth=True, headers={"X-Purpose": "kiem tra"})
    assert r.status == 200
    r = srv.get(f"/api/v1/datasets/{TCXH}/rows?_format=csv&ma_xa=12031", auth=True)
    assert r.status == 200
    exported = r.text.count("\r\n") - 1
    deadline = time.time() + 10
    while time.time() < deadline:
        reads, ex = entries("read"), entries("export")
        if len(reads) > n0 and ex:
            break
        time.sleep(0.2)
    last = [e for e in reads if e["details"].get("query", {}).get("ma_xa") == "11953"][-1]
    assert last["target"] == TCXH and last["details"]["query"]["ma_xa"] == "11953", last
    assert last["details"]["rows"] == 5 and last["details"].get("purpose") == "kiem tra", last
    assert any(e["details"]["rows"] == exported and e["details"]["query"]["ma_xa"] == "12031" for e in ex), ex


# ---- HTTP: ETag, cache, gzip, CORS ------------------------------------------------------------


def test_etag_and_not_modified(env):
    srv = srv_of(env)
    path = f"{ROWS}?ma_xa=11953&_sort=-so_ho_so_tiep_nhan&_limit=5"
    r1 = get(srv, path)
    etag = r1.header("ETag")
    assert etag and etag.startswith('"'), r1.headers
    assert r1.header("Cache-Control") == "public, no-cache", r1.headers
    r2 = get(srv, path)  # the second answer comes from the cache: the same bytes
    assert r2.body == r1.body and r2.header("ETag") == etag
    r3 = srv.get(path, headers={"If-None-Match": etag})
    assert r3.status == 304 and r3.body == b"" and r3.header("ETag") == etag, r3
    assert srv.get(path, headers={"If-None-Match": '"other"'}).status == 200
    # a pinned version may be kept for good; another query has another ETag
    r4 = get(srv, path + "&version=1")
    assert r4.header("Cache-Control") == "public, max-age=31536000, immutable" and r4.header("ETag") != etag
    # aggregates too
    a = get(srv, f"/api/v1/datasets/{HSDVC}/aggregate?group=linh_vuc")
    assert srv.get(f"/api/v1/datasets/{HSDVC}/aggregate?group=linh_vuc",
                   headers={"If-None-Match": a.header("ETag")}).status == 304
    # a signed-in caller's answers are private; audited reads have no ETag and are never kept
    r5 = get(srv, path, auth=True)
    assert r5.header("Cache-Control") == "private, no-store", r5.headers
    r6 = get(srv, f"/api/v1/datasets/{TCXH}/rows?_limit=1", auth=True)
    assert r6.header("ETag") is None, r6.headers


def test_a_new_version_is_never_served_stale(env):
    srv = srv_of(env)
    ds = "q-stale"
    assert srv.post(f"/api/v1/datasets/{ds}/versions", "n\n1\n2\n").status == 201
    path = f"/api/v1/datasets/{ds}/rows?n__gt=0"
    r1 = get(srv, path)
    assert [x["n"] for x in r1.json()["rows"]] == [1, 2]
    get(srv, path)  # cached now
    assert srv.post(f"/api/v1/datasets/{ds}/versions", "n\n7\n8\n9\n").status == 201
    r2 = get(srv, path)
    assert [x["n"] for x in r2.json()["rows"]] == [7, 8, 9] and r2.header("ETag") != r1.header("ETag")
    assert srv.get(path, headers={"If-None-Match": r1.header("ETag")}).status == 200
    # a reclassification hides it from anonymous callers at once, cached or not
    r = srv.request("PATCH", f"/api/v1/datasets/{ds}", body=json.dumps({"sharing": "private"}).encode(),
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {env.admin_key}"})
    assert r.status == 200, r
    assert srv.get(path).status == 404


def test_gzip_and_cors(env):
    import gzip
    srv = srv_of(env)
    r = srv.get(f"{ROWS}?_limit=500", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.header("Content-Encoding") == "gzip", r.headers
    plain = get(srv, f"{ROWS}?_limit=500").body
    assert gzip.decompress(r.body) == plain and len(r.body) < len(plain) / 3
    r = srv.get(f"{ROWS}?_format=csv", headers={"Accept-Encoding": "gzip"})
    assert r.header("Content-Encoding") == "gzip" and gzip.decompress(r.body).count(b"\r\n") == 5201
    # CORS: the public API may be read from any page, without credentials
    r = get(srv, ROWS + "?_limit=1", headers={"Origin": "https://example.org"})
    assert r.header("Access-Control-Allow-Origin") == "*" and r.header("Access-Control-Allow-Credentials") is None
    r = srv.request("OPTIONS", ROWS, headers={"Origin": "https://example.org",
                                              "Access-Control-Request-Method": "GET",
                                              "Access-Control-Request-Headers": "authorization"})
    assert r.status == 204 and "Authorization" in r.header("Access-Control-Allow-Headers"), (r, r.headers)
    assert get(srv, "/").header("Access-Control-Allow-Origin") is None


def test_indexes_are_made_in_the_background(env):
    """After an upload the server indexes the new version's columns (not the encrypted ones), and
    filters then use them: the query plan of an equality filter is an index search."""
    import sqlite3
    import time
    srv = srv_of(env)
    ds = "q-index"
    assert srv.post(f"/api/v1/datasets/{ds}/versions",
                    "nhom,so\n" + "".join(f"n{i % 50},{i}\n" for i in range(1000))).status == 201
    con = sqlite3.connect(f"file:{os.path.join(env.data, 'kho.db')}?mode=ro", uri=True)
    table = con.execute("SELECT v.table_name FROM versions v JOIN datasets d ON d.id = v.dataset_id "
                        "WHERE d.slug = ?", (ds,)).fetchone()[0]
    deadline = time.time() + env.slow(30)
    names = set()
    while time.time() < deadline:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                                           (table,))}
        if {f"ix_{table}_nhom", f"ix_{table}_so"} <= names:
            break
        time.sleep(0.2)
    assert {f"ix_{table}_nhom", f"ix_{table}_so"} <= names, names
    plan = " ".join(r[-1] for r in con.execute(f'EXPLAIN QUERY PLAN SELECT t._row FROM "{table}" AS t '
                                               f"WHERE t.nhom = 'n7' ORDER BY t._row LIMIT 101"))
    assert f"ix_{table}_nhom" in plan and "TEMP B-TREE" not in plan, plan
    con.close()
    rows = js(srv, f"/api/v1/datasets/{ds}/rows?nhom=n7")["rows"]
    assert [r["so"] for r in rows] == list(range(7, 1000, 50))
    # the encrypted columns of the private demo dataset get none
    con = sqlite3.connect(f"file:{os.path.join(env.data, 'kho.db')}?mode=ro", uri=True)
    tcxh = con.execute("SELECT v.table_name FROM versions v JOIN datasets d ON d.id = v.dataset_id "
                       "WHERE d.slug = ?", (TCXH,)).fetchone()[0]
    idx = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (tcxh,))}
    con.close()
    assert f"ix_{tcxh}_ma_xa" in idx and f"ix_{tcxh}_so_dinh_danh_ca_nhan" not in idx, idx
