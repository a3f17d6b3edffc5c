"""The HTTP API read paths and uploads against the demo data (province 33, Hưng Yên).

The demo CSV files shipped in data/demo are the reference for what the rows
endpoint must return, and the rows are the reference for the quality report.
"""
import csv
import json
import os
import re
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "data", "demo")
HSDVC = "ho-so-dich-vu-cong"
DNDK = "doanh-nghiep-dang-ky-moi"
CSKT = "chi-so-kinh-te-xa-hoi"

_state = {}


def srv_of(env):
    if "srv" not in _state:
        env.init()
        _state["srv"] = env.server()
    return _state["srv"]


def get_json(srv, path, status=200, auth=False):
    r = srv.get(path, auth=auth)
    assert r.status == status, (path, r)
    assert r.header("Content-Type") == "application/json; charset=utf-8", (path, r.headers)
    return r.json()


def q(s):
    return urllib.parse.quote(s, safe="")


def ids(j):
    return [d["id"] for d in j["datasets"]]


def demo_rows_hsdvc():
    """The demo CSV as the API should type it: dd/mm/yyyy dates -> ISO, "89,8" -> 89.8."""
    out = []
    with open(os.path.join(DEMO, f"{HSDVC}.csv"), encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        next(r)
        for i, (ma, ten, thang, lv, a, b, tl) in enumerate(r, 1):
            d, m, y = thang.split("/")
            out.append({"_row": i, "ma_xa": ma, "ten_xa": ten, "thang": f"{y}-{m}-{d}", "linh_vuc": lv,
                        "so_ho_so_tiep_nhan": int(a), "so_ho_so_giai_quyet_dung_han": int(b),
                        "ty_le_dung_han": float(tl.replace(",", "."))})
    return out


# ---- index, health ------------------------------------------------------------------------


def test_index_api_and_health(env):
    srv = srv_of(env)
    r = srv.get("/")
    assert r.status == 200 and r.header("Content-Type") == "text/html; charset=utf-8", r
    assert "<title>kho" in r.text and "/api/v1/datasets" in r.text
    j = get_json(srv, "/api/v1")
    assert j["name"] == "kho" and re.fullmatch(r"\d+\.\d+\.\d+\S*", j["version"]), j
    eps = {(e["method"], e["path"]) for e in j["endpoints"]}
    for want in [("GET", "/healthz"), ("GET", "/api/v1/datasets"), ("GET", "/api/v1/datasets/{id}/rows"),
                 ("POST", "/api/v1/datasets/{id}/versions"), ("GET", "/api/v1/units/{code}"),
                 ("GET", "/api/v1/units/gaps"), ("GET", "/api/v1/organisations")]:
        assert want in eps, (want, eps)
    h = get_json(srv, "/healthz")
    assert h["status"] == "ok" and h["version"] == j["version"] and h["schema"] >= 1, h


# ---- catalog --------------------------------------------------------------------------------


def test_datasets_list_and_search(env):
    srv = srv_of(env)
    j = get_json(srv, "/api/v1/datasets")
    assert j["total"] == 3 and j["limit"] == 100 and j["offset"] == 0, j
    assert sorted(ids(j)) == [CSKT, DNDK, HSDVC], j
    d = {x["id"]: x for x in j["datasets"]}
    assert d[HSDVC]["row_count"] == 5200 and d[HSDVC]["current_version"] == 1
    assert d[DNDK]["row_count"] == 624 and d[DNDK]["current_version"] == 1
    assert d[CSKT]["row_count"] == 43117 and d[CSKT]["current_version"] == 1
    assert d[CSKT]["organisation"] == {"id": "so-tai-chinh", "name": "Sở Tài chính"}
    assert d[CSKT]["synthetic"] is True and d[CSKT]["sharing"] == "open"
    assert sorted(d[CSKT]["tags"]) == sorted(["Hưng Yên", "chỉ số", "kinh tế – xã hội", "thống kê"]), d[CSKT]
    assert d[HSDVC]["organisation"] == {"id": "phuc-vu-hanh-chinh-cong", "name": "Trung tâm Phục vụ hành chính công"}
    assert d[HSDVC]["synthetic"] is True and d[HSDVC]["sharing"] == "open"
    for words in ("dich vu", "dịch vụ", "DỊCH VỤ", "Dich Vu", "dịch vụ công", "hanh chinh cong", "Hưng Yên dịch"):
        j = get_json(srv, "/api/v1/datasets?q=" + q(words))
        assert ids(j) == [HSDVC] and j["total"] == 1, (words, j)
    for words in ("doanh nghiep", "doanh nghiệp", "vốn đăng ký"):
        assert ids(get_json(srv, "/api/v1/datasets?q=" + q(words))) == [DNDK], words
    for words in ("mô phỏng", "mo phong", "Thái Bình", "chỉ số kinh tế mô phỏng"):
        j = get_json(srv, "/api/v1/datasets?q=" + q(words))
        assert ids(j) == [CSKT] and j["total"] == 1, (words, j)
    j = get_json(srv, "/api/v1/datasets?q=" + q("dịch vụ doanh nghiệp"))  # every word must match
    assert ids(j) == [] and j["total"] == 0, j
    j = get_json(srv, "/api/v1/datasets?q=" + q("giả lập"))
    assert sorted(ids(j)) == [DNDK, HSDVC]
    assert ids(get_json(srv, "/api/v1/datasets?q=khongtontai")) == []
    # organisation and tag filters
    assert sorted(ids(get_json(srv, "/api/v1/datasets?org=so-tai-chinh"))) == [CSKT, DNDK]
    assert ids(get_json(srv, "/api/v1/datasets?org=phuc-vu-hanh-chinh-cong")) == [HSDVC]
    j = get_json(srv, "/api/v1/datasets?org=khong-co")
    assert j["datasets"] == [] and j["total"] == 0
    assert ids(get_json(srv, "/api/v1/datasets?tag=" + q("dịch vụ công"))) == [HSDVC]
    assert ids(get_json(srv, "/api/v1/datasets?tag=" + q("thống kê"))) == [CSKT]
    assert ids(get_json(srv, "/api/v1/datasets?org=so-tai-chinh&q=" + q("dịch vụ"))) == []
    # paging
    j1 = get_json(srv, "/api/v1/datasets?limit=1")
    j2 = get_json(srv, "/api/v1/datasets?limit=1&offset=1")
    j3 = get_json(srv, "/api/v1/datasets?limit=1&offset=2")
    assert j1["total"] == j2["total"] == j3["total"] == 3, (j1, j2, j3)
    assert len(j1["datasets"]) == len(j2["datasets"]) == len(j3["datasets"]) == 1, (j1, j2, j3)
    assert sorted(ids(j1) + ids(j2) + ids(j3)) == [CSKT, DNDK, HSDVC]


def test_datasets_total_does_not_depend_on_offset(env):
    """total is the number of matching datasets, also for a page past the end."""
    srv = srv_of(env)
    j = get_json(srv, "/api/v1/datasets?offset=5")
    assert j["datasets"] == [] and j["offset"] == 5, j
    assert j["total"] == 3, j


def test_dataset_detail(env):
    srv = srv_of(env)
    d = get_json(srv, f"/api/v1/datasets/{HSDVC}")
    assert d["id"] == HSDVC and d["current_version"] == 1 and d["row_count"] == 5200, d
    assert d["title"] == "Hồ sơ dịch vụ công theo xã, phường, lĩnh vực và tháng (2025)"
    assert d["licence"] == "CC-BY-4.0" and d["spatial"] == "33", d
    assert d["temporal"] == {"start": "2025-01-01", "end": "2025-10-31"}, d["temporal"]
    assert sorted(d["tags"]) == sorted(["dịch vụ công", "cải cách hành chính", "giả lập"]), d["tags"]
    cols = [(c["name"], c["label"], c["type"], c["tags"]) for c in d["columns"]]
    assert cols == [
        ("ma_xa", "Mã xã", "text", ["commune_code"]),
        ("ten_xa", "Tên xã", "text", []),
        ("thang", "Tháng", "date", []),
        ("linh_vuc", "Lĩnh vực", "text", []),
        ("so_ho_so_tiep_nhan", "Số hồ sơ tiếp nhận", "integer", []),
        ("so_ho_so_giai_quyet_dung_han", "Số hồ sơ giải quyết đúng hạn", "integer", []),
        ("ty_le_dung_han", "Tỷ lệ đúng hạn (%)", "real", []),
    ], cols
    assert len(d["versions"]) == 1, d["versions"]
    v = d["versions"][0]
    assert v["number"] == 1 and v["row_count"] == 5200 and v["format"] == "csv", v
    assert re.fullmatch(r"[0-9a-f]{64}", v["sha256"]) and v["bytes"] == os.path.getsize(
        os.path.join(DEMO, f"{HSDVC}.csv")), v
    qual = d["quality"]
    assert (qual["rows_read"], qual["rows_loaded"], qual["rows_rejected"]) == (5200, 5200, 0), qual
    assert qual["sha256"] == v["sha256"] and qual["rejected"] == [], qual
    qc = {c["name"]: c for c in qual["columns"]}
    assert qc["ma_xa"]["nulls"] == 0 and qc["ma_xa"]["distinct"] == 104, qc["ma_xa"]
    assert qc["ma_xa"]["min"] == "11953" and qc["ma_xa"]["max"] == "13279", qc["ma_xa"]
    assert qc["ma_xa"]["codes"]["current"] == 5200 and qc["ma_xa"]["codes"]["unknown"] == 0, qc["ma_xa"]
    assert qc["thang"]["distinct"] == 10 and (qc["thang"]["min"], qc["thang"]["max"]) == ("2025-01-01", "2025-10-01")
    assert qc["linh_vuc"]["distinct"] == 5
    d2 = get_json(srv, f"/api/v1/datasets/{DNDK}")
    assert d2["columns"][0]["tags"] == ["commune_code"] and d2["row_count"] == 624
    assert [c["type"] for c in d2["columns"]] == ["text", "text", "integer", "integer", "real", "integer"]
    # one version alone
    v1 = get_json(srv, f"/api/v1/datasets/{HSDVC}/versions/1")
    assert v1["number"] == 1 and v1["dataset"] == HSDVC and v1["columns"] == d["columns"], v1
    assert v1["quality"] == d["quality"]


def test_quality_report_matches_the_rows(env):
    srv = srv_of(env)
    rows = get_json(srv, f"/api/v1/datasets/{HSDVC}/rows?_limit=10000")["rows"]
    assert rows == demo_rows_hsdvc(), "the rows differ from data/demo/ho-so-dich-vu-cong.csv"
    qual = get_json(srv, f"/api/v1/datasets/{HSDVC}")["quality"]
    for c in qual["columns"]:
        vals = [r[c["name"]] for r in rows]
        nn = [v for v in vals if v is not None]
        assert c["nulls"] == len(vals) - len(nn), c
        assert c["distinct"] == len(set(nn)), (c["name"], c["distinct"], len(set(nn)))
        if c["type"] == "text":
            key = lambda s: s.encode("utf-8")  # noqa: E731 - byte order, as SQLite compares
            assert (c["min"], c["max"]) == (min(nn, key=key), max(nn, key=key)), c
        else:
            assert (c["min"], c["max"]) == (min(nn), max(nn)), c


def test_rows_paging(env):
    srv = srv_of(env)
    base = f"/api/v1/datasets/{HSDVC}/rows"
    expected = demo_rows_hsdvc()
    j = get_json(srv, base)
    assert (j["dataset"], j["version"], j["total"], j["limit"]) == (HSDVC, 1, 5200, 100), j
    assert [c["name"] for c in j["columns"]] == list(expected[0].keys())[1:], j["columns"]
    assert j["rows"] == expected[:100]
    assert j["next"].startswith(f"{base}?version=1&_after="), j["next"]
    assert get_json(srv, j["next"])["rows"] == expected[100:200]
    # follow the next links with a page size that does not divide the total
    seen, path, pages = [], f"{base}?_limit=1500", 0
    while path:
        j = get_json(srv, path)
        assert j["total"] == 5200 and j["limit"] == 1500 and j["version"] == 1, j
        seen += j["rows"]
        path = j["next"]
        pages += 1
        assert pages <= 4
    assert pages == 4 and seen == expected, (pages, len(seen))
    j = get_json(srv, f"{base}?_limit=7&_offset=5193")
    assert [r["_row"] for r in j["rows"]] == list(range(5194, 5201)) and j["next"] is None, j
    j = get_json(srv, f"{base}?_limit=7&_offset=5192")
    assert len(j["rows"]) == 7 and j["next"].startswith(f"{base}?_limit=7&version=1&_after="), j["next"]
    assert [r["_row"] for r in get_json(srv, j["next"])["rows"]] == [5200]
    j = get_json(srv, f"{base}?_offset=5200")
    assert j["rows"] == [] and j["next"] is None and j["total"] == 5200, j
    j = get_json(srv, f"{base}?_offset=999999999")
    assert j["rows"] == [] and j["next"] is None, j
    j = get_json(srv, f"{base}?_limit=10000&version=1")
    assert len(j["rows"]) == 5200 and j["next"] is None
    j = get_json(srv, f"{base}?_limit=3&_offset=10")
    assert j["rows"] == expected[10:13]


def test_upload_creates_versions(env):
    srv = srv_of(env)
    ds = "api-upload"
    r = srv.post(f"/api/v1/datasets/{ds}/versions?title={q('Tải lên thử')}&org=so-moi&org_name={q('Sở Mới')}"
                 f"&tag=thu&tag={q('kiểm thử')}&sharing=shared&importance=core",
                 "Mã xã,Số\n12031,1\n11953,2\n13279,3\n")
    assert r.status == 201, r
    assert r.header("Location") == f"/api/v1/datasets/{ds}/versions/1", r.headers
    j = r.json()
    assert (j["dataset"], j["version"], j["rows_read"], j["rows_loaded"], j["rows_rejected"]) == (ds, 1, 3, 3, 0)
    assert j["quality"]["columns"][0]["tags"] == ["commune_code"], j["quality"]["columns"][0]
    r = srv.post(f"/api/v1/datasets/{ds}/versions", '[{"Mã xã": "12034", "Số": 9.5}, {"Mã xã": null, "Số": 8}]',
                 content_type="application/json")
    assert r.status == 201 and r.json()["version"] == 2, r
    loc = r.header("Location")
    assert loc == f"/api/v1/datasets/{ds}/versions/2", r.headers
    v2 = get_json(srv, loc, auth=True)
    assert v2["number"] == 2 and v2["row_count"] == 2 and v2["format"] == "json" and v2["source"] == "upload", v2
    assert v2["quality"]["columns"][0]["codes"]["pre_2025_only"] == 1, v2["quality"]["columns"][0]
    d = get_json(srv, f"/api/v1/datasets/{ds}", auth=True)
    assert d["current_version"] == 2 and d["row_count"] == 2, d
    assert d["title"] == "Tải lên thử" and d["organisation"] == {"id": "so-moi", "name": "Sở Mới"}, d
    assert sorted(d["tags"]) == sorted(["thu", "kiểm thử"]) and d["sharing"] == "shared" and d["importance"] == "core"
    assert [v["number"] for v in d["versions"]] == [2, 1], d["versions"]
    vs = get_json(srv, f"/api/v1/datasets/{ds}/versions", auth=True)
    assert vs["dataset"] == ds and vs["current_version"] == 2 and vs["versions"] == d["versions"], vs
    assert [v["row_count"] for v in vs["versions"]] == [2, 3]
    # the current rows are version 2; version=1 still gives the old rows and columns
    j = get_json(srv, f"/api/v1/datasets/{ds}/rows", auth=True)
    assert j["version"] == 2 and j["rows"] == [{"_row": 1, "ma_xa": "12034", "so": 9.5},
                                               {"_row": 2, "ma_xa": None, "so": 8.0}], j
    j = get_json(srv, f"/api/v1/datasets/{ds}/rows?version=1", auth=True)
    assert j["version"] == 1 and j["total"] == 3, j
    assert j["rows"] == [{"_row": 1, "ma_xa": "12031", "so": 1}, {"_row": 2, "ma_xa": "11953", "so": 2},
                         {"_row": 3, "ma_xa": "13279", "so": 3}], j
    assert [c["type"] for c in j["columns"]] == ["text", "integer"], j["columns"]
    j = get_json(srv, f"/api/v1/datasets/{ds}/rows?version=1&_limit=2", auth=True)
    assert j["next"].startswith(f"/api/v1/datasets/{ds}/rows?_limit=2&version=1&_after="), j["next"]
    assert get_json(srv, j["next"], auth=True)["rows"] == [{"_row": 3, "ma_xa": "13279", "so": 3}]
    # metadata given once stays with later versions; the list and search see the new dataset
    assert ids(get_json(srv, "/api/v1/datasets?q=" + q("tai len thu"), auth=True)) == [ds]
    assert ids(get_json(srv, "/api/v1/datasets?org=so-moi", auth=True)) == [ds]
    orgs = {o["id"]: o for o in get_json(srv, "/api/v1/organisations", auth=True)["organisations"]}
    assert orgs["so-moi"]["name"] == "Sở Mới" and orgs["so-moi"]["datasets"] == 1, orgs
    # an NDJSON version, with ?format= instead of a content type
    r = srv.post(f"/api/v1/datasets/{ds}/versions?format=ndjson", '{"Mã xã": "11953", "Số": 1}\n', content_type=None)
    assert r.status == 201 and r.json()["version"] == 3, r
    assert get_json(srv, f"/api/v1/datasets/{ds}", auth=True)["current_version"] == 3


def test_organisations(env):
    srv = srv_of(env)
    orgs = {o["id"]: o for o in get_json(srv, "/api/v1/organisations")["organisations"]}
    assert orgs["so-tai-chinh"]["name"] == "Sở Tài chính" and orgs["so-tai-chinh"]["datasets"] == 2, orgs
    assert orgs["phuc-vu-hanh-chinh-cong"]["datasets"] == 1, orgs


# ---- administrative units ------------------------------------------------------------------


def test_units_search(env):
    srv = srv_of(env)
    for words in ("nghia tru", "Nghĩa Trụ", "NGHIA TRU", "nghĩa trụ", "Xã Nghĩa Trụ"):
        j = get_json(srv, "/api/v1/units?q=" + q(words))
        assert j["units"] and j["units"][0]["code"] == "12031", (words, j)
        u = j["units"][0]
        assert (u["name"], u["level"], u["era"], u["province_code"]) == ("Xã Nghĩa Trụ", "commune", "current", "33")
    assert get_json(srv, "/api/v1/units?q=" + q("Nghĩa Trụ"))["units"][0]["match"] == "exact"
    # the province: its 104 communes and itself
    j = get_json(srv, "/api/v1/units?province=33&limit=1000")
    assert j["total"] == 105 and len(j["units"]) == 105, j["total"]
    levels = sorted(u["level"] for u in j["units"])
    assert levels.count("commune") == 104 and levels.count("province") == 1, levels
    assert all(u["era"] == "current" for u in j["units"])
    assert all(u.get("province_code", "33") == "33" for u in j["units"] if u["level"] == "commune")
    codes = {u["code"] for u in j["units"]}
    assert {"33", "11953", "12031", "13279"} <= codes
    j = get_json(srv, "/api/v1/units?province=33&level=commune&limit=1000")
    assert j["total"] == 104
    # paging through the same list gives the same units
    p1 = get_json(srv, "/api/v1/units?province=33&level=commune&limit=60")
    p2 = get_json(srv, "/api/v1/units?province=33&level=commune&limit=60&offset=60")
    assert len(p1["units"]) == 60 and len(p2["units"]) == 44
    assert {u["code"] for u in p1["units"] + p2["units"]} == {u["code"] for u in j["units"]}
    # before July 2025
    j = get_json(srv, "/api/v1/units?era=old&q=" + q("nghia tru"))
    assert j["units"][0]["code"] == "12031" and all(u["era"] == "old" for u in j["units"]), j
    assert j["units"][0]["district_code"] == "326", j["units"][0]
    j = get_json(srv, "/api/v1/units?era=old&q=" + q("Long Hưng") + "&province=33")
    assert "12034" in [u["code"] for u in j["units"]], j
    j = get_json(srv, "/api/v1/units?era=old&province=33&limit=1000")
    assert all(u["era"] == "old" for u in j["units"]) and {"province", "district", "commune"} == {
        u["level"] for u in j["units"]}, j["total"]
    j = get_json(srv, "/api/v1/units?era=all&q=" + q("Nghĩa Trụ") + "&province=33")
    assert {(u["code"], u["era"]) for u in j["units"]} >= {("12031", "current"), ("12031", "old")}, j
    # search by code prefix
    j = get_json(srv, "/api/v1/units?q=1203")
    assert "12031" in [u["code"] for u in j["units"]], j
    # bad filters
    for path, code in [("/api/v1/units?era=future", "bad_parameter"), ("/api/v1/units?level=village", "bad_parameter"),
                       ("/api/v1/units?limit=0", "bad_parameter"), ("/api/v1/units?limit=1001", "bad_parameter")]:
        assert get_json(srv, path, status=400)["error"]["code"] == code, path


def test_unit_detail(env):
    srv = srv_of(env)
    u = get_json(srv, "/api/v1/units/11953")
    assert (u["code"], u["name"], u["era"], u["level"], u["province_code"]) == (
        "11953", "Phường Phố Hiến", "current", "commune", "33"), u
    pre = u["predecessors"]
    assert len(pre) >= 2 and "11953" in [p["code"] for p in pre], pre
    for p in pre:
        assert p["relation"] and p["province"]["code"] == "33" and p["district"]["code"], p
    assert u["old_unit"]["code"] == "11953" and u["old_unit"]["era"] == "old", u["old_unit"]
    # a pre-2025 code that no longer exists: its successors
    u = get_json(srv, "/api/v1/units/12034")
    assert u["era"] == "old" and u["name"] == "Xã Long Hưng", u
    assert "12031" in [s["code"] for s in u["successors"]], u["successors"]
    u = get_json(srv, "/api/v1/units/12031?era=old")
    assert u["era"] == "old" and [s["code"] for s in u["successors"]] == ["12031"], u
    u = get_json(srv, "/api/v1/units/12031")
    assert {"12031", "12034"} <= {p["code"] for p in u["predecessors"]}, u["predecessors"]
    # the province was formed from the old provinces 33 (Hưng Yên) and 34 (Thái Bình)
    u = get_json(srv, "/api/v1/units/33")
    assert u["level"] == "province" and u["name"] == "Tỉnh Hưng Yên", u
    assert sorted(p["code"] for p in u["predecessors"]) == ["33", "34"], u["predecessors"]
    assert {p["name"] for p in u["predecessors"]} == {"Tỉnh Hưng Yên", "Tỉnh Thái Bình"}
    e = get_json(srv, "/api/v1/units/99999", status=404)["error"]
    assert e["code"] == "unknown_unit" and "99999" in e["message"], e
    assert get_json(srv, "/api/v1/units/abc", status=400)["error"]["code"] == "bad_code"
    assert get_json(srv, "/api/v1/units/11953?bogus=1", status=400)["error"]["code"] == "unknown_parameter"


def test_units_gaps(env):
    srv = srv_of(env)
    j = get_json(srv, "/api/v1/units/gaps")
    assert j["count"] > 0 and j["count"] == len(j["gaps"]), j["count"]
    for g in j["gaps"]:
        assert g["kind"] and g["code"] and g["detail"], g
    p = env.kho("units", "gaps", "--json")
    assert p.returncode == 0 and json.loads(p.stdout) == j["gaps"]


# ---- methods, HEAD, content types -------------------------------------------------------------


def test_method_not_allowed(env):
    srv = srv_of(env)
    cases = [("DELETE", f"/api/v1/datasets/{HSDVC}", "GET, PATCH"),
             ("PUT", f"/api/v1/datasets/{HSDVC}/versions", "GET, POST"),
             ("DELETE", f"/api/v1/datasets/{HSDVC}/versions", "GET, POST"),
             ("POST", "/healthz", "GET"),
             ("POST", "/api/v1/datasets", "GET"),
             ("PATCH", "/api/v1/units/11953", "GET"),
             ("DELETE", "/", "GET")]
    for method, path, allow in cases:
        r = srv.request(method, path, body=b"x" if method in ("PUT", "POST", "PATCH") else None)
        assert r.status == 405, (method, path, r)
        assert r.header("Allow") == allow, (method, path, r.headers)
        assert r.header("Content-Type") == "application/json; charset=utf-8"
        e = r.json()["error"]
        assert e["code"] == "method_not_allowed" and method in e["message"], e
    r = srv.request("DELETE", "/api/v1/nothing-here")
    assert r.status == 404, r
    d = get_json(srv, f"/api/v1/datasets/{HSDVC}")
    assert d["current_version"] == 1 and d["row_count"] == 5200


def test_head_is_get_without_a_body(env):
    srv = srv_of(env)
    for path, status in [("/healthz", 200), (f"/api/v1/datasets/{HSDVC}", 200),
                         (f"/api/v1/datasets/{HSDVC}/rows?_limit=5", 200), ("/api/v1/units/11953", 200),
                         ("/api/v1/datasets/nope", 404), (f"/api/v1/datasets/{HSDVC}/rows?_limit=0", 400)]:
        g = srv.get(path)
        h = srv.request("HEAD", path)
        assert h.status == g.status == status, (path, h, g)
        assert h.body == b"", (path, h.body[:100])
        assert h.header("Content-Type") == g.header("Content-Type") == "application/json; charset=utf-8", path
        cl = h.header("Content-Length")
        assert cl is None or int(cl) == len(g.body), (path, cl, len(g.body))
    h = srv.request("HEAD", "/")
    assert h.status == 200 and h.body == b"" and h.header("Content-Type").startswith("text/html")


def test_every_response_is_json_except_the_home_page(env):
    srv = srv_of(env)
    paths = ["/healthz", "/api/v1", "/api/v1/datasets", f"/api/v1/datasets/{HSDVC}",
             f"/api/v1/datasets/{HSDVC}/rows", f"/api/v1/datasets/{HSDVC}/versions",
             f"/api/v1/datasets/{HSDVC}/versions/1", "/api/v1/organisations", "/api/v1/units?q=hung",
             "/api/v1/units/33", "/api/v1/units/gaps", "/nope", "/api/v1/datasets/nope",
             f"/api/v1/datasets/{HSDVC}/rows?_limit=x", "/api/v1/datasets?bogus=1", "/api/v1/datasets/%zz",
             "/index.html", "/api", "/api/v2/datasets", "/favicon.ico", "/healthz/"]
    for path in paths:
        r = srv.get(path)
        assert r.header("Content-Type") == "application/json; charset=utf-8", (path, r.status, r.headers)
        j = r.json()
        if r.status >= 400:
            assert set(j) == {"error"} and set(j["error"]) >= {"code", "message"}, (path, j)
    for method, path, body, ct in [("POST", "/api/v1/datasets/ct-a/versions", "a\n1\n", "text/csv"),
                                   ("POST", "/api/v1/datasets/ct-b/versions", "a\n1\n", "application/xml"),
                                   ("POST", "/api/v1/datasets/ct-c/versions", "a\n", "text/csv"),
                                   ("DELETE", "/healthz", None, None)]:
        r = srv.request(method, path, body=body.encode() if body else None,
                        headers={"Content-Type": ct} if ct else {})
        assert r.header("Content-Type") == "application/json; charset=utf-8", (method, path, r.status, r.headers)
        r.json()
    r = srv.get("/")
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    log = srv.stop()
    assert " 500 " not in log, [l for l in log.splitlines() if " 500 " in l]
