"""CKAN's Action API (/api/3/action/...): the shapes CKAN clients read, datastore_search against the
REST rows endpoint, the access rules (a private dataset is never listed or counted for callers who may
not read it), masking and auditing, and hostile input (always a CKAN-style error, never a 500).

Every expected value comes from the REST API or the demo files, so a difference shows as a wrong
record, not as a count that happens to match.
"""
import csv
import datetime
import io
import json
import time
import urllib.parse

HSDVC = "ho-so-dich-vu-cong"
DNDK = "doanh-nghiep-dang-ky-moi"
CSKT = "chi-so-kinh-te-xa-hoi"  # open, Sở Tài chính, the source of the socio-economic indicators
TCXH = "doi-tuong-tro-cap-xa-hoi"  # private, important, personal columns (Sở Y tế)
ROWS = f"/api/v1/datasets/{HSDVC}/rows"

_state = {}


def setup(env):
    if "srv" not in _state:
        env.init()
        _state["analyst"] = env.add_user("ck-analyst", "analyst")          # no grant
        _state["granted"] = env.add_user("ck-granted", "analyst")          # a grant without personal data
        p = env.kho("grant", "add", TCXH, "user:ck-granted")
        assert p.returncode == 0, p.stderr
        _state["srv"] = env.server()
    return _state["srv"]


def q(s):
    return urllib.parse.quote(s, safe="")


def call(srv, action, params=None, body=None, key=None, headers=None, path="/api/3/action/", ctype="application/json"):
    h = dict(headers or {})
    if key:
        h["Authorization"] = "Bearer " + key
    if body is None:
        qs = urllib.parse.urlencode(params or {}, doseq=True)
        return srv.request("GET", path + action + ("?" + qs if qs else ""), headers=h)
    if ctype:
        h["Content-Type"] = ctype
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return srv.request("POST", path + action, body=data.encode("utf-8") if isinstance(data, str) else data,
                       headers=h)


def envelope(srv, r, action, status):
    """The CKAN envelope of a response; checks its shape."""
    assert r.status == status, (action, r.status, r.body[:600])
    assert r.header("content-type").startswith("application/json"), r.headers
    j = r.json()
    assert j["help"] == f"{srv.url}/api/3/action/help_show?name={q(action)}", j["help"]
    assert j["success"] is (status == 200), j
    if status == 200:
        assert set(j) == {"help", "success", "result"}, j.keys()
        return j["result"]
    assert set(j) == {"help", "success", "error"}, j.keys()
    assert isinstance(j["error"]["__type"], str) and isinstance(j["error"]["message"], str), j
    return j["error"]


def ok(srv, action, params=None, **kw):
    return envelope(srv, call(srv, action, params, **kw), action, 200)


def err(srv, action, status, params=None, **kw):
    return envelope(srv, call(srv, action, params, **kw), action, status)


def rest(srv, path, key=None):
    r = srv.get(path, headers={"Authorization": "Bearer " + key} if key else None)
    assert r.status == 200, (path, r.status, r.body[:300])
    return r.json()


def rest_rows(srv, qs, key=None):
    return rest(srv, f"{ROWS}?_limit=10000&{qs}", key)["rows"]


def as_rest(records):
    """CKAN records with _id renamed back to kho's _row."""
    out = []
    for r in records:
        r = dict(r)
        if "_id" in r:
            r = {"_row": r.pop("_id"), **r}
        out.append(r)
    return out


# ---- shapes -------------------------------------------------------------------------------------


def test_package_list_and_envelope_get_and_post(env):
    srv = setup(env)
    names = ok(srv, "package_list")
    assert names == sorted([CSKT, DNDK, HSDVC]), names
    assert ok(srv, "package_list", body={}) == names
    assert ok(srv, "package_list", {"limit": 1, "offset": 1}) == names[1:2]
    assert ok(srv, "package_list", {"limit": 1, "offset": 2}) == names[2:]
    assert ok(srv, "package_list", body={"limit": 1}) == names[:1]
    # ckanapi's path and a POST with its headers: the bare key, as CKAN's clients send it
    r = call(srv, "package_list", body={}, path="/api/action/",
             headers={"Authorization": env.admin_key, "X-CKAN-API-Key": env.admin_key})
    assert sorted(envelope(srv, r, "package_list", 200)) == sorted(names + [TCXH])
    r = call(srv, "package_list", body={}, headers={"X-CKAN-API-Key": env.admin_key})
    assert sorted(envelope(srv, r, "package_list", 200)) == sorted(names + [TCXH])
    # a bare value that is not a key is refused, not ignored
    r = call(srv, "package_list", body={}, headers={"X-CKAN-API-Key": "kho_" + "x" * 43})
    assert r.status == 401, r
    # the help URL follows the Host the client used
    r = srv.request("GET", "/api/3/action/package_list", headers={"Host": "du-lieu.hungyen.example:8443"})
    assert r.json()["help"] == "http://du-lieu.hungyen.example:8443/api/3/action/help_show?name=package_list"
    r = srv.request("GET", "/api/3/action/package_list", headers={"Host": "evil\"host/x"})
    assert r.status == 400 or r.json()["help"] == f"{srv.url}/api/3/action/help_show?name=package_list", r


def test_package_show_has_ckan_fields_and_types(env):
    srv = setup(env)
    meta = rest(srv, f"/api/v1/datasets/{HSDVC}")
    for params in ({"id": HSDVC}, {"name_or_id": HSDVC}):
        p = ok(srv, "package_show", params)
        assert p == ok(srv, "package_show", body=params)
    assert p["id"] == p["name"] == HSDVC and p["title"] == meta["title"] and p["notes"] == meta["description"]
    assert p["type"] == "dataset" and p["state"] == "active" and p["private"] is False
    assert p["owner_org"] == meta["organisation"]["id"]
    org = p["organization"]
    assert org["name"] == org["id"] == meta["organisation"]["id"] and org["title"] == meta["organisation"]["name"]
    assert org["is_organization"] is True and org["type"] == "organization" and org["state"] == "active"
    assert p["license_id"] == "CC-BY-4.0" and p["license_title"].startswith("Creative Commons Attribution")
    assert p["license_url"].startswith("https://creativecommons.org/") and p["isopen"] is True
    assert [t["name"] for t in p["tags"]] == meta["tags"] and p["num_tags"] == len(p["tags"])
    assert all(set(t) >= {"name", "display_name", "id", "state", "vocabulary_id"} for t in p["tags"])
    extras = {e["key"]: e["value"] for e in p["extras"]}
    assert all(isinstance(e["value"], str) for e in p["extras"])
    assert extras["sharing"] == "open" and extras["importance"] == "other"
    assert extras["temporal_start"] == meta["temporal"]["start"] and extras["spatial_units"] == "33"
    assert extras["publisher_name"] == meta["publisher"] and extras["current_version"] == "1"
    for k in ("metadata_created", "metadata_modified"):
        when = datetime.datetime.fromisoformat(p[k])  # CKAN's naive UTC with microseconds
        assert when.tzinfo is None and p[k].endswith(".000000"), p[k]
    assert p["metadata_modified"][:19] == meta["updated_at"][:19]
    assert p["num_resources"] == len(p["resources"]) == 1
    assert p["groups"] == [] and p["url"] == f"{srv.url}/datasets/{HSDVC}"
    res = p["resources"][0]
    assert res["id"] == res["package_id"] == HSDVC, res  # the resource id is the dataset id
    assert res["format"] == "CSV" and res["mimetype"] == "text/csv" and res["datastore_active"] is True
    assert res["url"] == f"{srv.url}/api/v1/datasets/{HSDVC}/rows?_format=csv" and res["position"] == 0
    body = srv.get(res["url"][len(srv.url):])
    assert body.status == 200 and body.text.count("\r\n") == meta["row_count"] + 1
    assert ok(srv, "resource_show", {"id": HSDVC}) == res
    e = err(srv, "package_show", 404, {"id": "khong-co"})
    assert e["__type"] == "Not Found Error" and e["message"].startswith("Not found")
    e = err(srv, "package_show", 409, {})
    assert e["__type"] == "Validation Error" and e["id"] == [e["message"]], e


def test_organizations_tags_status_help(env):
    srv = setup(env)
    orgs = rest(srv, "/api/v1/organisations")["organisations"]
    names = ok(srv, "organization_list")
    assert sorted(names) == sorted(o["id"] for o in orgs)
    full = ok(srv, "organization_list", {"all_fields": "true"})
    counts = {o["id"]: o["datasets"] for o in orgs}
    assert {o["name"]: o["package_count"] for o in full} == counts
    assert all(o["is_organization"] and o["title"] for o in full)
    by_count = ok(srv, "organization_list", {"all_fields": True, "sort": "package_count desc"}, body=None)
    assert [o["package_count"] for o in by_count] == sorted(counts.values(), reverse=True)
    assert ok(srv, "organization_list", {"sort": "name desc"}) == sorted(counts, reverse=True)
    assert err(srv, "organization_list", 409, {"sort": "stars"})["__type"] == "Validation Error"
    o = ok(srv, "organization_show", {"id": "so-tai-chinh", "include_datasets": "true"})
    assert o["name"] == "so-tai-chinh" and o["package_count"] == 2
    assert sorted(p["name"] for p in o["packages"]) == [CSKT, DNDK], o["packages"]
    for p in o["packages"]:
        assert p == ok(srv, "package_show", {"id": p["name"]})
    assert "packages" not in ok(srv, "organization_show", {"id": "so-tai-chinh"})
    assert err(srv, "organization_show", 404, {"id": "khong-co"})["__type"] == "Not Found Error"
    tags = ok(srv, "tag_list")
    want = sorted({t for d in rest(srv, "/api/v1/datasets")["datasets"] for t in d["tags"]})
    assert tags == want
    assert ok(srv, "tag_list", {"query": "dich vu"}) == [t for t in want if "dịch vụ" in t]
    assert ok(srv, "group_list") == []
    st = ok(srv, "status_show")
    assert st["site_url"] == srv.url and "datastore" in st["extensions"] and st["ckan_version"].startswith("2.")
    assert "resource_id" in ok(srv, "help_show", {"name": "datastore_search"})
    assert err(srv, "help_show", 404, {"name": "nope"})["__type"] == "Not Found Error"


# ---- package_search -------------------------------------------------------------------------------


def search(srv, key=None, **params):
    return ok(srv, "package_search", params, key=key)


def test_package_search_text_filters_sort_and_pages(env):
    srv = setup(env)
    for words in ("dịch vụ công", "dich vu cong", "DICH VU", "hồ sơ", "ho so", "doanh nghiệp", "mô phỏng"):
        r = search(srv, q=words)
        want = rest(srv, "/api/v1/datasets?q=" + q(words))
        assert sorted(p["name"] for p in r["results"]) == sorted(d["id"] for d in want["datasets"]), words
        assert r["count"] == want["total"] >= 1, (words, r["count"])
    assert [p["name"] for p in search(srv, q="dich vu cong")["results"]] == [HSDVC]
    r = search(srv)
    assert r["count"] == 3 and set(r) >= {"count", "results", "facets", "search_facets", "sort"}
    assert r["results"][0] == ok(srv, "package_show", {"id": r["results"][0]["name"]})
    assert search(srv, q="*:*")["count"] == 3
    assert sorted(p["name"] for p in search(srv, fq="organization:so-tai-chinh")["results"]) == [CSKT, DNDK]
    assert sorted(p["name"] for p in search(srv, fq='organization:"so-tai-chinh"')["results"]) == [CSKT, DNDK]
    assert [p["name"] for p in search(srv, fq='tags:"dịch vụ công"')["results"]] == [HSDVC]
    assert [p["name"] for p in search(srv, fq='tags:"thống kê"')["results"]] == [CSKT]
    assert search(srv, fq="tags:dịch")["count"] == 0  # tags match whole
    assert search(srv, fq="organization:so-tai-chinh OR organization:phuc-vu-hanh-chinh-cong")["count"] == 3
    assert [p["name"] for p in search(srv, fq="-organization:so-tai-chinh")["results"]] == [HSDVC]
    assert search(srv, q="organization:so-tai-chinh kinh")["count"] == 2
    assert [p["name"] for p in search(srv, q="organization:so-tai-chinh doanh")["results"]] == [DNDK]
    assert search(srv, fq="metadata_modified:[2000-01-01T00:00:00Z TO *]")["count"] == 3
    assert search(srv, fq="metadata_modified:[NOW+1DAY TO *]")["count"] == 0
    assert search(srv, fq="metadata_created:[* TO NOW]")["count"] == 3
    assert search(srv, fq="res_format:CSV license_id:CC-BY-4.0 dataset_type:dataset")["count"] == 3
    assert search(srv, fq="groups:x")["count"] == 0
    assert search(srv, fq_list=json.dumps(["organization:so-tai-chinh", "tags:kinh tế"]))["count"] == 0
    names = [p["name"] for p in search(srv, sort="name desc")["results"]]
    assert names == sorted(names, reverse=True)
    assert [p["name"] for p in search(srv, sort="name asc", rows=1, start=1)["results"]] == [DNDK]
    assert [p["name"] for p in search(srv, sort="name asc", rows=1, start=2)["results"]] == [HSDVC]
    assert [list(p) for p in search(srv, fl="id,name")["results"]] == [["id", "name"]] * 3
    f = search(srv, **{"facet.field": json.dumps(["organization", "tags", "res_format", "license_id"])})
    assert f["facets"]["organization"] == {"so-tai-chinh": 2, "phuc-vu-hanh-chinh-cong": 1}
    assert f["facets"]["res_format"] == {"CSV": 3} and f["facets"]["tags"]["giả lập"] == 2
    assert f["facets"]["tags"]["thống kê"] == 1
    items = f["search_facets"]["organization"]["items"]
    assert {i["name"]: i["display_name"] for i in items}["so-tai-chinh"] == "Sở Tài chính"
    assert search(srv, q="dịch vụ 12:30")["count"] == rest(srv, "/api/v1/datasets?q=" + q("dịch vụ 12:30"))["total"]
    e = err(srv, "package_search", 400, {"fq": "color:red"})
    assert e["__type"] == "Search Query Error" and "color" in e["message"]
    assert err(srv, "package_search", 400, {"sort": "stars desc"})["__type"] == "Search Query Error"
    assert err(srv, "package_search", 409, {"rows": "-1"})["__type"] == "Validation Error"
    assert len(search(srv, rows=5000)["results"]) == 3  # capped, as CKAN does


def test_a_harvester_pages_through_everything(env):
    """What ckanext-harvest's CKAN harvester does: sort by id, page with rows/start until an empty page,
    with its organisation and modified-since filters."""
    srv = setup(env)
    since = (datetime.datetime.utcnow() - datetime.timedelta(days=1)).isoformat()
    for key, want in ((None, [CSKT, DNDK, HSDVC]), (env.admin_key, [CSKT, DNDK, TCXH, HSDVC])):
        for fq in ("", f"metadata_modified:[{since}Z TO *]", "-organization:khong-co"):
            got, start, previous = [], 0, None
            while True:
                params = {"rows": 1, "start": start, "sort": "id asc", **({"fq": fq} if fq else {})}
                r = call(srv, "package_search", params, key=key)
                assert r.body != previous, "the paging does not move"
                previous = r.body
                page = envelope(srv, r, "package_search", 200)["results"]
                if not page:
                    break
                got += [p["id"] for p in page]
                start += 1
            assert got == sorted(want), (key, fq, got)


# ---- access -----------------------------------------------------------------------------------------


def test_private_dataset_is_never_listed_or_counted_without_access(env):
    srv = setup(env)
    tcxh_tags = set(rest(srv, f"/api/v1/datasets/{TCXH}", env.admin_key)["tags"])
    only_tcxh = tcxh_tags - {t for d in rest(srv, "/api/v1/datasets")["datasets"] for t in d["tags"]}
    assert only_tcxh, tcxh_tags
    for who, key, sees in (("anonymous", None, False), ("analyst", _state["analyst"], False),
                           ("granted", _state["granted"], True), ("admin", env.admin_key, True)):
        total = rest(srv, "/api/v1/datasets", key)["total"]
        assert (TCXH in ok(srv, "package_list", key=key)) is sees, who
        s = search(srv, key=key, rows=100)
        assert s["count"] == total == (4 if sees else 3), (who, s["count"], total)
        assert (TCXH in [p["name"] for p in s["results"]]) is sees, who
        assert search(srv, key=key, fq="organization:so-y-te")["count"] == (1 if sees else 0), who
        assert search(srv, key=key, q="trợ cấp")["count"] == (1 if sees else 0), who
        facets = search(srv, key=key, **{"facet.field": '["organization","tags"]'})["facets"]
        assert facets["organization"].get("so-y-te", 0) == (1 if sees else 0), who
        assert bool(only_tcxh & set(facets["tags"])) is sees, who
        org = ok(srv, "organization_show", {"id": "so-y-te", "include_datasets": True}, key=key)
        assert org["package_count"] == (1 if sees else 0) and len(org["packages"]) == org["package_count"], who
        listed = {o["name"]: o["package_count"] for o in ok(srv, "organization_list", {"all_fields": 1}, key=key)}
        assert listed["so-y-te"] == (1 if sees else 0), who
        assert bool(only_tcxh & set(ok(srv, "tag_list", key=key))) is sees, who
        for action, params in (("package_show", {"id": TCXH}), ("resource_show", {"id": TCXH}),
                               ("datastore_search", {"resource_id": TCXH, "limit": 1})):
            r = call(srv, action, params, key=key)
            if sees:
                envelope(srv, r, action, 200)
            else:  # exactly as a dataset that does not exist
                e = envelope(srv, r, action, 404)
                e2 = err(srv, action, 404, {k: "khong-ton-tai" for k in params if k != "limit"}, key=key)
                assert e["__type"] == e2["__type"] == "Not Found Error"
                assert e["message"].replace(TCXH, "X") == e2["message"].replace("khong-ton-tai", "X"), (e, e2)
    p = ok(srv, "package_show", {"id": TCXH}, key=env.admin_key)
    assert p["private"] is True and {e["key"]: e["value"] for e in p["extras"]}["sharing"] == "private"
    assert search(srv, key=env.admin_key, include_private="false")["count"] == 3


def test_datastore_search_masks_and_audits_like_the_rows_endpoint(env):
    srv = setup(env)
    key = _state["granted"]
    want = rest(srv, f"/api/v1/datasets/{TCXH}/rows?_limit=20&_offset=5", key)
    assert want["masked"] is True
    r = ok(srv, "datastore_search", {"resource_id": TCXH, "limit": 20, "offset": 5}, key=key,
           headers={"X-Purpose": "đối soát CKAN".encode("utf-8")})
    assert r["kho"] == {"version": 1, "masked": True}
    assert as_rest(r["records"]) == want["rows"]
    types = {f["id"]: f["type"] for f in r["fields"]}
    assert types["ngay_sinh"] == "text" and types["muc_tro_cap_dong_thang"] == "int" and types["_id"] == "int"
    raw = ok(srv, "datastore_search", {"resource_id": TCXH, "limit": 20, "offset": 5}, key=env.admin_key)
    assert raw["kho"]["masked"] is False and {f["id"]: f["type"] for f in raw["fields"]}["ngay_sinh"] == "date"
    assert raw["records"] != r["records"]
    # encrypted columns cannot be filtered by anyone; a masked caller cannot filter, search or sort on
    # personal columns (an open dataset whose personal column is stored in clear)
    e = err(srv, "datastore_search", 409, {"resource_id": TCXH, "filters": json.dumps({"ho_va_ten": "x"})}, key=key)
    assert "encrypted" in e["message"] and e["filters"] == [e["message"]], e
    r = srv.post("/api/v1/datasets/ck-personal/versions?sharing=open&column_tags=" + q("ten=personal"),
                 "ten,so\nNguyễn Văn An,1\nTrần Thị Bình,2\n")
    assert r.status == 201, r
    m = ok(srv, "datastore_search", {"resource_id": "ck-personal"})
    assert m["kho"]["masked"] is True and [x["ten"] for x in m["records"]] == ["***", "***"]
    assert as_rest(m["records"]) == rest(srv, "/api/v1/datasets/ck-personal/rows")["rows"]
    for params in ({"filters": json.dumps({"ten": "x"})}, {"q": json.dumps({"ten": "an"})}, {"sort": "ten desc"}):
        e = err(srv, "datastore_search", 403, {"resource_id": "ck-personal", **params})
        assert e["__type"] == "Authorization Error" and "ten" in e["message"], (params, e)
    assert ok(srv, "datastore_search", {"resource_id": "ck-personal", "filters": json.dumps({"ten": "Trần Thị Bình"})},
              key=env.admin_key)["records"] == [{"_id": 2, "ten": "Trần Thị Bình", "so": 2}]
    # the read is in the audit log, with its purpose and where it came from
    deadline = time.monotonic() + 10
    while True:
        es = rest(srv, "/api/v1/audit/entries?" + urllib.parse.urlencode(
            {"action": "read", "target": TCXH, "actor": "ck-granted", "limit": 1000}), env.admin_key)["entries"]
        # an earlier read by the same caller (limit 1, no purpose) is in the log already; the audit
        # writer commits every few ms, so wait for this read's own entry, the one with its purpose
        es = [e["entry"] for e in es if e["entry"]["details"].get("via") == "ckan datastore_search"
              and e["entry"]["details"].get("purpose") == "đối soát CKAN"]
        if es or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(es) == 1, ("one audit entry for the CKAN read with its purpose", es)
    d = es[0]["details"]
    assert d["masked"] is True and d["rows"] == 20 and d["version"] == 1, d
    # open data is not audited
    ok(srv, "datastore_search", {"resource_id": HSDVC, "limit": 1})


# ---- datastore_search against the REST rows endpoint ------------------------------------------------------


def test_datastore_search_equals_the_rows_endpoint(env):
    srv = setup(env)
    cases = [
        # (CKAN parameters, the REST query string)
        ({}, "_limit=100"),
        ({"limit": 7, "offset": 5000}, "_limit=7&_offset=5000"),
        ({"filters": {"ma_xa": ["11953", "12031"]}, "limit": 500}, "ma_xa=11953&ma_xa=12031&_limit=500"),
        ({"filters": {"ma_xa": "11953", "linh_vuc": "Hộ tịch"}}, "ma_xa=11953&linh_vuc=" + q("Hộ tịch")),
        ({"filters": {"so_ho_so_tiep_nhan": 100}}, "so_ho_so_tiep_nhan=100"),
        ({"sort": "so_ho_so_tiep_nhan desc, ma_xa", "limit": 50, "offset": 10},
         "_sort=-so_ho_so_tiep_nhan,ma_xa&_limit=50&_offset=10"),
        ({"sort": "_id desc", "limit": 3}, "_sort=-_row&_limit=3"),
        ({"fields": "ma_xa,ty_le_dung_han", "filters": {"thang": "2025-03-01"}, "limit": 1000},
         "_fields=ma_xa,ty_le_dung_han&thang=2025-03-01&_limit=1000"),
        ({"q": "pho hien", "limit": 1000}, "q=" + q("pho hien") + "&_limit=1000"),
        ({"q": "Phố Hiến", "limit": 30}, "q=" + q("Phố Hiến") + "&_limit=30"),
        ({"q": {"ten_xa": "pho hien"}, "limit": 1000}, "ten_xa__contains=" + q("pho hien") + "&_limit=1000"),
    ]
    for params, qs in cases:
        for how in ("get", "post"):
            if how == "get":
                gp = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                      for k, v in params.items()}
                r = ok(srv, "datastore_search", {"resource_id": HSDVC, **gp})
            else:
                r = ok(srv, "datastore_search", body={"resource_id": HSDVC, **params})
            want = rest(srv, f"{ROWS}?{qs}&_count=true")
            got = as_rest(r["records"])
            if "fields" in params:  # fields without _id: CKAN leaves it out, kho's rows keep _row
                want_rows = [{k: v for k, v in w.items() if k != "_row"} for w in want["rows"]]
            else:
                want_rows = want["rows"]
            assert got == want_rows, (params, how, got[:2], want_rows[:2])
            assert r["total"] == want["total"] and r["total_was_estimated"] is False, (params, r["total"])
            assert r["limit"] == params.get("limit", 100) and r["resource_id"] == HSDVC
            assert r["_links"]["start"].startswith("/api/3/action/datastore_search?")
            assert "offset=" in r["_links"]["next"]
    # the fields and their CKAN types
    r = ok(srv, "datastore_search", {"resource_id": HSDVC, "limit": 0})
    assert r["records"] == [] and r["total"] == 5200
    assert [(f["id"], f["type"]) for f in r["fields"]] == [
        ("_id", "int"), ("ma_xa", "text"), ("ten_xa", "text"), ("thang", "date"), ("linh_vuc", "text"),
        ("so_ho_so_tiep_nhan", "int"), ("so_ho_so_giai_quyet_dung_han", "int"), ("ty_le_dung_han", "numeric")]
    assert r["fields"][1]["info"]["label"] == "Mã xã"
    assert "total" not in ok(srv, "datastore_search", {"resource_id": HSDVC, "include_total": "false"})
    # following _links.next walks the same rows as the REST pages
    walked, path = [], f"/api/3/action/datastore_search?resource_id={HSDVC}&limit=2000&filters=" + q('{"linh_vuc":"Hộ tịch"}')
    while True:
        page = srv.get(path).json()["result"]
        if not page["records"]:
            break
        walked += page["records"]
        path = page["_links"]["next"]
    assert as_rest(walked) == rest_rows(srv, "linh_vuc=" + q("Hộ tịch"))


def test_datastore_search_distinct_lists_and_csv(env):
    srv = setup(env)
    everything = rest_rows(srv, "")
    # distinct over the returned fields, in the sort's order
    r = ok(srv, "datastore_search", {"resource_id": HSDVC, "distinct": "true", "fields": "linh_vuc,thang",
                                     "sort": "linh_vuc, thang desc", "limit": 1000})
    want = sorted({(x["linh_vuc"], x["thang"]) for x in everything}, key=lambda t: t[1], reverse=True)
    want = sorted(want, key=lambda t: t[0].encode("utf-8"))
    assert [(x["linh_vuc"], x["thang"]) for x in r["records"]] == want
    assert r["total"] == len(want) and all(set(x) == {"linh_vuc", "thang"} for x in r["records"])
    assert r["distinct"] is True
    # lists: [_id, values...] in the order of fields
    r = ok(srv, "datastore_search", {"resource_id": HSDVC, "records_format": "lists", "limit": 40, "offset": 100,
                                     "filters": json.dumps({"linh_vuc": "Đất đai"})})
    want = rest(srv, f"{ROWS}?linh_vuc={q('Đất đai')}&_limit=40&_offset=100")["rows"]
    assert r["records"] == [list(w.values()) for w in want]
    r = ok(srv, "datastore_search", body={"resource_id": HSDVC, "records_format": "lists", "limit": 3,
                                          "fields": ["so_ho_so_tiep_nhan", "ma_xa"]})
    assert r["records"] == [[w["so_ho_so_tiep_nhan"], w["ma_xa"]] for w in everything[:3]]
    # csv: the records as one CSV text, no header; the same lines as the REST export
    for fields, with_id in (("ma_xa,thang,ty_le_dung_han", False), ("_id,ma_xa,ty_le_dung_han", True)):
        r = ok(srv, "datastore_search", {"resource_id": HSDVC, "records_format": "csv", "limit": 25, "offset": 7,
                                         "fields": fields, "sort": "ty_le_dung_han desc"})
        assert isinstance(r["records"], str)
        plain = fields.replace("_id,", "")
        export = srv.get(f"{ROWS}?_format=csv&_fields={plain}&_sort=-ty_le_dung_han&_limit=25&_offset=7").text
        lines = export.split("\r\n")[1:]
        if with_id:
            ids = [w["_row"] for w in rest(srv, f"{ROWS}?_sort=-ty_le_dung_han&_limit=25&_offset=7")["rows"]]
            lines = [f"{i},{line}" for i, line in zip(ids, lines)] + [""]
        assert r["records"] == "\r\n".join(lines), (r["records"][:200], lines[:3])
        parsed = list(csv.reader(io.StringIO(r["records"])))
        assert len(parsed) == 25 and len(parsed[0]) == len(fields.split(","))


# ---- the SQL sandbox ----------------------------------------------------------------------------------


def test_datastore_search_sql(env):
    srv = setup(env)
    r = ok(srv, "datastore_search_sql", {"sql": f'SELECT count(*) AS n, max(so_ho_so_tiep_nhan) AS m FROM "{HSDVC}"'})
    everything = rest_rows(srv, "")
    assert r["records"] == [{"n": 5200, "m": max(x["so_ho_so_tiep_nhan"] for x in everything)}]
    assert r["fields"] == [{"id": "n", "type": "int"}, {"id": "m", "type": "int"}]
    assert r["records_truncated"] is False and r["sql"].startswith("SELECT count(*)")
    r2 = ok(srv, "datastore_search_sql", body={"sql": "SELECT count(*) AS n, max(so_ho_so_tiep_nhan) AS m "
                                                      "FROM ho_so_dich_vu_cong -- \"x-y\""})
    assert r2["records"] == r["records"]
    # a string that looks like a resource id stays a string
    r3 = ok(srv, "datastore_search_sql", {"sql": f"SELECT '\"{HSDVC}\"' AS s, \"ma_xa\" FROM \"{HSDVC}\" LIMIT 1"})
    assert r3["records"] == [{"s": f'"{HSDVC}"', "ma_xa": everything[0]["ma_xa"]}]
    # the private dataset does not exist for the public, as any unknown table
    e = err(srv, "datastore_search_sql", 409, {"sql": f'SELECT count(*) FROM "{TCXH}"'})
    e2 = err(srv, "datastore_search_sql", 409, {"sql": 'SELECT count(*) FROM "khong-co"'})
    assert e["__type"] == e2["__type"] == "Validation Error" and "no such table" in e["message"]
    assert e["query"] == [e["message"]] and e["info"]["statement"] == [f'SELECT count(*) FROM "{TCXH}"']
    assert ok(srv, "datastore_search_sql", {"sql": f'SELECT count(*) AS n FROM "{TCXH}"'},
              key=env.admin_key)["records"] == [{"n": 1716}]
    r = call(srv, "datastore_search_sql", {"sql": f'DELETE FROM "{HSDVC}"'})
    assert r.status in (403, 409) and r.json()["success"] is False, r
    assert err(srv, "datastore_search_sql", 403, {"sql": "SELECT load_extension('x')"})["__type"] == "Authorization Error"
    assert err(srv, "datastore_search_sql", 409, {"sql": "SELEC 1"})["__type"] == "Validation Error"
    assert err(srv, "datastore_search_sql", 409, {})["sql"] == ["Missing value: give \"sql\""]


# ---- hostile input --------------------------------------------------------------------------------------


def test_hostile_input_gets_ckan_errors_never_500(env):
    srv = setup(env)
    big = "dịch vụ " * 12800  # 100 KB
    cases = [
        # (action, how, payload, status, __type, key at fault)
        ("package_show", "raw", b'{"id": ', 400, "Bad Request", None),
        ("package_show", "raw", b"[1, 2]", 400, "Bad Request", None),
        ("package_show", "raw", b'{"id": "a", "id": "b"}', 400, "Bad Request", None),
        ("package_show", "raw", b'{"id": "\xff\xfe"}', 400, "Bad Request", None),
        ("package_list", "raw", b"x" * (1024 * 1024 + 1), 413, "Bad Request", None),
        ("datastore_search", "post", {"resource_id": HSDVC, "filters": "abc"}, 409, "Validation Error", "filters"),
        ("datastore_search", "post", {"resource_id": HSDVC, "filters": ["ma_xa"]}, 409, "Validation Error", "filters"),
        ("datastore_search", "post", {"resource_id": HSDVC, "filters": {"ma_xa": {"$gt": 1}}}, 409, "Validation Error", "filters"),
        ("datastore_search", "post", {"resource_id": HSDVC, "filters": {"ma_xa": []}}, 409, "Validation Error", "filters"),
        ("datastore_search", "post", {"resource_id": HSDVC, "filters": {"khong_co": 1}}, 409, "Validation Error", "filters"),
        ("datastore_search", "post", {"resource_id": HSDVC, "filters": {"so_ho_so_tiep_nhan": "abc"}}, 409, "Validation Error", "filters"),
        ("datastore_search", "get", {"resource_id": HSDVC, "filters": "{not json"}, 409, "Validation Error", "filters"),
        ("datastore_search", "get", {"resource_id": "khong-co"}, 404, "Not Found Error", None),
        ("datastore_search", "get", {"resource_id": "../../etc/passwd"}, 404, "Not Found Error", None),
        ("datastore_search", "get", {"resource_id": "x" * 5000}, 404, "Not Found Error", None),
        ("datastore_search", "get", {}, 409, "Validation Error", "resource_id"),
        ("datastore_search", "get", {"resource_id": HSDVC, "limit": "-1"}, 409, "Validation Error", "limit"),
        ("datastore_search", "get", {"resource_id": HSDVC, "limit": "abc"}, 409, "Validation Error", "limit"),
        ("datastore_search", "get", {"resource_id": HSDVC, "limit": "99999999999999999999999"}, 409, "Validation Error", "limit"),
        ("datastore_search", "get", {"resource_id": HSDVC, "offset": "-5"}, 409, "Validation Error", "offset"),
        ("datastore_search", "get", {"resource_id": HSDVC, "sort": "ma_xa sideways"}, 409, "Validation Error", "sort"),
        ("datastore_search", "get", {"resource_id": HSDVC, "sort": 'ma_xa"; DROP TABLE datasets; --'}, 409, "Validation Error", "sort"),
        ("datastore_search", "get", {"resource_id": HSDVC, "fields": "ma_xa,zzz"}, 409, "Validation Error", "fields"),
        ("datastore_search", "get", {"resource_id": HSDVC, "records_format": "xml"}, 409, "Validation Error", "records_format"),
        ("datastore_search", "get", {"resource_id": HSDVC, "distinct": "maybe"}, 409, "Validation Error", "distinct"),
        ("datastore_search", "post", {"resource_id": HSDVC, "q": big}, 409, "Validation Error", "q"),
        ("datastore_search", "post", {"resource_id": HSDVC, "q": {"so_ho_so_tiep_nhan": "1"}}, 409, "Validation Error", "q"),
        ("datastore_search", "post", {"resource_id": HSDVC, "q": 5}, 409, "Validation Error", "q"),
        ("datastore_search", "post", {"resource_id": ["a", "b"]}, 409, "Validation Error", "resource_id"),
        ("package_search", "post", {"q": big}, 400, "Search Query Error", None),
        ("package_search", "post", {"fq": 'tags:"unterminated'}, 400, "Search Query Error", None),
        ("package_search", "post", {"fq": "metadata_modified:[yesterday TO *]"}, 400, "Search Query Error", None),
        ("package_search", "post", {"fq": "organization:(a OR b)"}, 400, "Search Query Error", None),
        ("package_search", "post", {"q": " ".join(["w"] * 40)}, 400, "Search Query Error", None),
        ("package_search", "post", {"facet.field": {"a": 1}}, 409, "Validation Error", "facet.field"),
        ("package_search", "post", {"start": -1}, 409, "Validation Error", "start"),
        ("package_show", "post", {"id": {"a": 1}}, 409, "Validation Error", "id"),
        ("package_show", "get", {"id": "a\u0000b"}, 400, None, None),
        ("organization_show", "post", {"id": 12}, 404, "Not Found Error", None),
        ("package_create", "post", {"name": "x"}, 403, "Authorization Error", None),
        ("datastore_upsert", "post", {"resource_id": HSDVC}, 403, "Authorization Error", None),
        ("khong_co_hanh_dong", "get", {}, 400, "Bad Request", None),
    ]
    for action, how, payload, status, etype, field in cases:
        if how == "raw":
            r = srv.request("POST", "/api/3/action/" + action, body=payload, headers={"Content-Type": "application/json"})
        elif how == "post":
            r = call(srv, action, body=payload)
        else:
            r = call(srv, action, payload)
        assert r.status == status, (action, payload if len(str(payload)) < 200 else "...", r.status, r.body[:300])
        if etype is None:  # refused by the HTTP layer before the action (kho's own error shape)
            continue
        e = envelope(srv, r, action, status)
        assert e["__type"] == etype, (action, e)
        if field:
            assert e[field] == [e["message"]], (action, e)
    # a form body, and curl -d '{...}' (JSON sent as a form), as CKAN accepts them
    r = srv.request("POST", "/api/3/action/package_show", body=b"id=" + HSDVC.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert envelope(srv, r, "package_show", 200)["name"] == HSDVC
    r = srv.request("POST", "/api/3/action/package_show", body=json.dumps({"id": HSDVC}).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert envelope(srv, r, "package_show", 200)["name"] == HSDVC
    r = srv.request("POST", "/api/3/action/package_show", body=b"id=%ZZ",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert envelope(srv, r, "package_show", 400)["__type"] == "Bad Request"
    # nested JSON deeper than anyone needs
    deep = ("[" * 5000) + ("]" * 5000)
    r = srv.request("POST", "/api/3/action/datastore_search", body=('{"resource_id":"%s","filters":%s}' % (HSDVC, deep)).encode(),
                    headers={"Content-Type": "application/json"})
    assert r.status in (400, 409) and r.json()["success"] is False, r
    assert srv.get("/healthz").status == 200
    log = srv.log()
    assert "AddressSanitizer" not in log and "runtime error" not in log


def test_datastore_search_answers_follow_new_versions(env):
    """Answers are kept in the response cache, but a new version is never served stale, by GET or POST."""
    srv = setup(env)
    ds = "ck-cache"
    r = srv.post(f"/api/v1/datasets/{ds}/versions", "n,ten\n1,một\n2,hai\n")
    assert r.status == 201, r
    params = {"resource_id": ds, "filters": json.dumps({"n": 2})}
    for _ in range(2):
        assert [x["ten"] for x in ok(srv, "datastore_search", params)["records"]] == ["hai"]
        assert [x["ten"] for x in ok(srv, "datastore_search", body={"resource_id": ds, "filters": {"n": 2}})
                ["records"]] == ["hai"]
    r = srv.post(f"/api/v1/datasets/{ds}/versions", "n,ten\n2,hai mới\n3,ba\n")
    assert r.status == 201, r
    assert [x["ten"] for x in ok(srv, "datastore_search", params)["records"]] == ["hai mới"]
    assert [x["ten"] for x in ok(srv, "datastore_search", body={"resource_id": ds, "filters": {"n": 2}})
            ["records"]] == ["hai mới"]
    # the help URL still follows each request's Host
    r = srv.request("GET", "/api/3/action/datastore_search?" + urllib.parse.urlencode(params),
                    headers={"Host": "khac.example"})
    assert r.json()["help"].startswith("http://khac.example/"), r.json()["help"]
