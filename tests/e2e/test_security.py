"""The security layer over HTTP and the command line: who may see, change and manage
which dataset (the Data Law classes), masking of personal data in every format,
API keys, browser sessions and CSRF, sign-in lockout, rate limits, security
headers and the audit entries that reads and sign-ins leave.

The rules under test are those of src/security/access.h:

    sharing  open     anyone                 shared  staff (not partners)
             private  the owning organisation's stewards, admins, named grants
    a dataset the caller may not read is absent (404, not listed, not counted);
    writing and managing need datasets:write and belong to the owner's stewards and admins;
    personal columns are masked unless the caller holds pii:read and is an admin,
    an owning steward or has a grant with personal data;
    reads of private, core/important or personal data are audited.

One server (rate limits off) serves the whole module; the tests of rate limits, body
limits and key rotation start servers of their own on the same data directory.
Tests that check the class rules collect every mismatch and report them together.
"""
import csv
import hashlib
import http.client
import io
import json
import os
import re
import sqlite3
import time
import urllib.parse

import harness

TCXH = "doi-tuong-tro-cap-xa-hoi"  # demo: private, important, so-y-te, personal (encrypted)
HSDVC = "ho-so-dich-vu-cong"
DNDK = "doanh-nghiep-dang-ky-moi"
ORG = "so-y-te"
OTHER_ORG = "so-tai-chinh"
PARTNER_ORG = "doi-tac-ngoai"
SHARINGS = ("open", "shared", "private")
IMPORTANCES = ("other", "important")
ALL_SCOPES = {"datasets:read", "datasets:write", "pii:read", "audit:read", "users:admin", "trace:read",
              "trace:write"}

_state = {}


# ---- helpers ---------------------------------------------------------------------------------


def q(s):
    return urllib.parse.quote(s, safe="")


def call(srv, method, path, key=None, body=None, ctype=None, headers=None, cookie=None, source=None):
    """One request; key: an API key (Bearer), cookie: a Cookie header value; source: a
    local address to connect from (127.0.0.x) so that per-address limits are separate."""
    h = {}
    if key:
        h["Authorization"] = "Bearer " + key
    if ctype:
        h["Content-Type"] = ctype
    if cookie:
        h["Cookie"] = cookie
    h.update(headers or {})
    if isinstance(body, str):
        body = body.encode("utf-8")
    if source is None:
        return srv.request(method, path, body=body, headers=h)
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=60, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return harness.Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def jcall(srv, method, path, status, **kw):
    r = call(srv, method, path, **kw)
    assert r.status == status, (method, path, status, r)
    return r.json()


def err_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout[-1500:]}\nstderr: {p.stderr[-1500:]}"
    return p


class Principal:
    def __init__(self, name, role, org, scopes, key, user=None):
        self.name, self.role, self.org, self.scopes, self.key, self.user = name, role, org, set(scopes), key, user

    def __repr__(self):
        return f"<{self.name}>"


def slug(sharing, importance, personal):
    return f"sx-{sharing}-{importance}-{'p' if personal else 'n'}"


def personal_rows(n):
    """Rows of a dataset with personal columns (detected by their headers); the id
    numbers and phones differ per dataset so that they can be looked for in the files."""
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường"]
    return [{"ma_xa": ["11953", "12031", "13279"][i], "ho_va_ten": names[i],
             "so_dinh_danh_ca_nhan": f"0{n:02d}{i}97531{i}{n:02d}",
             "ngay_sinh": f"19{70 + i}-0{i + 1}-1{i}", "so_dien_thoai": f"09{n:02d}{i}4567{i}{n % 10}",
             "so_tien": 100 * (i + 1)} for i in range(3)]


def personal_csv(rows):
    out = ["Mã xã,Họ và tên,Số định danh cá nhân,Ngày sinh,Số điện thoại,Số tiền"]
    for r in rows:
        out.append(f"{r['ma_xa']},{r['ho_va_ten']},{r['so_dinh_danh_ca_nhan']},{r['ngay_sinh']},"
                   f"{r['so_dien_thoai']},{r['so_tien']}")
    return "\n".join(out) + "\n"


PLAIN_CSV = "Mã xã,Số hồ sơ\n11953,5\n12031,7\n"


def masked(row):
    """The masked form of a personal row, as security/mask.h describes it."""
    m = dict(row)
    m["ho_va_ten"] = " ".join(w[0].upper() + "." for w in row["ho_va_ten"].split())
    i = row["so_dinh_danh_ca_nhan"]
    m["so_dinh_danh_ca_nhan"] = i[:3] + "*" * (len(i) - 6) + i[-3:]
    m["ngay_sinh"] = row["ngay_sinh"][:4]
    m["so_dien_thoai"] = "*" * (len(row["so_dien_thoai"]) - 3) + row["so_dien_thoai"][-3:]
    return m


def expected_rows(ds, mask):
    rows = _state["rows"][ds]
    return [dict(_row=i + 1, **(masked(r) if mask else r)) for i, r in enumerate(rows)]


def audit_entries(srv, key, **filters):
    """Every audit entry matching the filters (entries endpoint, paged)."""
    out, frm = [], 0
    while True:
        params = {"from": frm, "limit": 1000, **filters}
        j = jcall(srv, "GET", "/api/v1/audit/entries?" + urllib.parse.urlencode(params), 200, key=key)
        out += j["entries"]
        if j["next"] >= j["size"] or j["next"] == frm:
            return out
        frm = j["next"]


def wait_audit(srv, key, pred, what, timeout=10, **filters):
    """The entries matching pred, waiting for the audit writer (it commits every few ms)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e["entry"] for e in audit_entries(srv, key, **filters) if pred(e["entry"])]
        if found or time.monotonic() > deadline:
            assert found, f"no audit entry: {what}"
            return found
        time.sleep(0.05)


def login(srv, name, password, status=200, source=None):
    r = call(srv, "POST", "/api/v1/auth/login", body=json.dumps({"name": name, "password": password}),
             ctype="application/json", source=source)
    assert r.status == status, (name, r)
    if status != 200:
        return r
    cookies = [v for k, v in r.headers if k.lower() == "set-cookie"]
    assert len(cookies) == 1, r.headers
    return r, cookies[0].split(";")[0], r.json()["csrf_token"]


def db_bytes(data):
    """The raw bytes of the database files (the WAL holds recent pages)."""
    out = b""
    for name in ("kho.db", "kho.db-wal"):
        p = os.path.join(data, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                out += f.read()
    return out


def security_headers_ok(r, what):
    h = {k.lower(): v for k, v in r.headers}
    assert h.get("x-content-type-options") == "nosniff", (what, r.headers)
    assert h.get("x-frame-options", "").upper() == "DENY", (what, r.headers)
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src" in csp, (what, csp)
    assert h.get("referrer-policy") == "no-referrer", (what, r.headers)
    assert "strict-transport-security" not in h, (what, "HSTS over plain HTTP", r.headers)


# ---- setup ---------------------------------------------------------------------------------


def setup(env):
    """The module's server, principals and the matrix datasets (made once)."""
    if "srv" in _state:
        return _state
    env.init()
    P = {}
    P["anonymous"] = Principal("anonymous", "public", None, {"datasets:read"}, None)
    for name, role, org in [("analyst", "analyst", None), ("leader", "leader", None),
                            ("partner", "partner", PARTNER_ORG), ("steward", "steward", ORG),
                            ("steward_other", "steward", OTHER_ORG)]:
        user = "sec-" + name.replace("_", "-")
        key = env.add_user(user, role, org)
        P[name] = Principal(name, role, org, env.ROLE_SCOPES[role].split(","), key, user)
    P["admin"] = Principal("admin", "admin", None, ALL_SCOPES, env.admin_key, "e2e-admin")
    p = ok(env.kho("key", "create", "--user", "e2e-admin", "--scopes", "audit:read", "--name", "no-read"))
    P["nokey"] = Principal("nokey", "admin", None, {"audit:read"}, p.stdout.strip(), "e2e-admin")
    srv = env.server()
    _state.update(srv=srv, P=P, rows={}, classes={})
    n = 0
    for sharing in SHARINGS:
        for importance in IMPORTANCES:
            for personal in (False, True):
                ds = slug(sharing, importance, personal)
                n += 1
                body = PLAIN_CSV
                if personal:
                    _state["rows"][ds] = personal_rows(n)
                    body = personal_csv(_state["rows"][ds])
                _state["classes"][ds] = (sharing, importance, personal, body)
                r = call(srv, "POST", f"/api/v1/datasets/{ds}/versions?sharing={sharing}&importance={importance}"
                         f"&org={ORG}&title={q('Ma trận ' + ds)}", key=env.admin_key, body=body, ctype="text/csv")
                assert r.status == 201, (ds, r)
    return _state


# ---- the rules, as access.h states them ------------------------------------------------------


def owner(p, org):
    return p.role == "steward" and p.org is not None and p.org == org


def may_read(p, sharing, org):
    if sharing == "open":
        return True
    if "datasets:read" not in p.scopes:
        return False
    if p.role == "admin" or owner(p, org):
        return True
    return sharing == "shared" and p.role in ("analyst", "leader", "steward", "admin")


def sees_pii(p, org):
    return "pii:read" in p.scopes and (p.role == "admin" or owner(p, org))


def upload_status(p, sharing, org):
    if p.key is None:
        return 401
    if "datasets:write" not in p.scopes:
        return 403  # the route's scope
    if not may_read(p, sharing, org):
        return 404
    return 201 if p.role == "admin" or owner(p, org) else 403


def manage_status(p, sharing, org):
    if p.key is None:
        return 401
    if not may_read(p, sharing, org):
        return 404
    if "datasets:write" not in p.scopes:
        return 403
    return 200 if p.role == "admin" or owner(p, org) else 403


# ---- the access matrix ----------------------------------------------------------------------


def test_access_matrix_reads(env):
    """Every principal x every read endpoint x every class: status, hiding, masking."""
    st = setup(env)
    srv, P = st["srv"], st["P"]
    bad = []
    missing = call(srv, "GET", "/api/v1/datasets/sx-khong-ton-tai", key=env.admin_key)
    assert missing.status == 404 and err_code(missing) == "unknown_dataset", missing
    for ds, (sharing, importance, personal, _) in st["classes"].items():
        for p in P.values():
            want = 200 if may_read(p, sharing, ORG) else 404
            for path in (f"/api/v1/datasets/{ds}", f"/api/v1/datasets/{ds}/versions",
                         f"/api/v1/datasets/{ds}/versions/1", f"/api/v1/datasets/{ds}/rows",
                         f"/api/v1/datasets/{ds}/rows?version=1&_limit=2"):
                for method in ("GET", "HEAD"):
                    r = call(srv, method, path, key=p.key)
                    if r.status != want:
                        bad.append(f"{p.name} {method} {path}: {r.status}, expected {want}")
                        continue
                    if want == 404 and method == "GET":
                        # a hidden dataset looks exactly like one that does not exist
                        e = r.json()["error"]
                        if e != {"code": "unknown_dataset", "message": f"no dataset has the id '{ds}'"}:
                            bad.append(f"{p.name} {path}: hidden dataset answered {e}")
            if want != 200:
                continue
            j = call(srv, "GET", f"/api/v1/datasets/{ds}/rows", key=p.key).json()
            mask = personal and not sees_pii(p, ORG)
            if j["masked"] is not mask:
                bad.append(f"{p.name} rows of {ds}: masked={j['masked']}, expected {mask}")
            if personal and j["rows"] != expected_rows(ds, mask):
                bad.append(f"{p.name} rows of {ds} (mask {mask}): {j['rows']}")
            d = call(srv, "GET", f"/api/v1/datasets/{ds}", key=p.key).json()
            if (d["sharing"], d["importance"], d["organisation"]["id"]) != (sharing, importance, ORG):
                bad.append(f"{p.name} detail of {ds}: {d['sharing']} {d['importance']} {d['organisation']}")
            if personal and (mask or p.key is None):
                # nothing personal leaks through the metadata or the quality report
                for r in st["rows"][ds]:
                    for col in ("ho_va_ten", "so_dinh_danh_ca_nhan", "so_dien_thoai"):
                        for path in (f"/api/v1/datasets/{ds}", f"/api/v1/datasets/{ds}/versions/1",
                                     f"/api/v1/datasets/{ds}/rows"):
                            if r[col] in call(srv, "GET", path, key=p.key).text:
                                bad.append(f"{p.name}: {path} shows the personal value {r[col]!r}")
    assert not bad, "\n".join(bad[:40]) + f"\n({len(bad)} problems)"


def test_access_matrix_lists_and_counts(env):
    """Lists, searches and organisation counts hide what the caller may not read, totals too."""
    st = setup(env)
    srv, P = st["srv"], st["P"]
    everything = jcall(srv, "GET", "/api/v1/datasets?limit=1000", 200, key=env.admin_key)
    classes = {d["id"]: (d["sharing"], d["organisation"]["id"] if d["organisation"] else None)
               for d in everything["datasets"]}
    assert everything["total"] == len(classes) >= 15, everything["total"]
    assert set(st["classes"]) | {TCXH, HSDVC, DNDK} <= set(classes)
    bad = []
    for p in P.values():
        want = {ds for ds, (sharing, org) in classes.items() if may_read(p, sharing, org)}
        j = jcall(srv, "GET", "/api/v1/datasets?limit=1000", 200, key=p.key)
        got = {d["id"] for d in j["datasets"]}
        if got != want or j["total"] != len(want):
            bad.append(f"{p.name}: list {sorted(got ^ want)} differ, total {j['total']} for {len(want)}")
        # paging: the total does not count hidden datasets either
        j = jcall(srv, "GET", "/api/v1/datasets?limit=1&offset=0", 200, key=p.key)
        if j["total"] != len(want):
            bad.append(f"{p.name}: total {j['total']} with limit=1, expected {len(want)}")
        # search and filters do not find hidden datasets
        j = jcall(srv, "GET", "/api/v1/datasets?limit=1000&q=" + q("ma tran"), 200, key=p.key)
        want_q = {ds for ds in want if ds.startswith("sx-") and ds in st["classes"]}
        if {d["id"] for d in j["datasets"]} != want_q or j["total"] != len(want_q):
            bad.append(f"{p.name}: search found {sorted(d['id'] for d in j['datasets'])}, expected {sorted(want_q)}")
        j = jcall(srv, "GET", "/api/v1/datasets?limit=1000&q=" + q("trợ cấp xã hội"), 200, key=p.key)
        if (TCXH in {d["id"] for d in j["datasets"]}) != (TCXH in want):
            bad.append(f"{p.name}: search for the private demo dataset: {j}")
        j = jcall(srv, "GET", f"/api/v1/datasets?limit=1000&org={ORG}", 200, key=p.key)
        want_org = {ds for ds in want if classes[ds][1] == ORG}
        if {d["id"] for d in j["datasets"]} != want_org or j["total"] != len(want_org):
            bad.append(f"{p.name}: org filter {sorted(d['id'] for d in j['datasets'])}, expected {sorted(want_org)}")
        orgs = {o["id"]: o["datasets"] for o in jcall(srv, "GET", "/api/v1/organisations", 200, key=p.key)[
            "organisations"]}
        for org in (ORG, OTHER_ORG):
            n = len([ds for ds in want if classes[ds][1] == org])
            if orgs.get(org, 0) != n:
                bad.append(f"{p.name}: organisation {org} counts {orgs.get(org)}, expected {n}")
    assert not bad, "\n".join(bad)


def test_access_matrix_writes(env):
    """Upload, reclassify (to the same class) and grants (list, add) for every principal and class."""
    st = setup(env)
    srv, P = st["srv"], st["P"]
    bad = []
    for ds, (sharing, importance, personal, body) in st["classes"].items():
        for p in P.values():
            r = call(srv, "POST", f"/api/v1/datasets/{ds}/versions", key=p.key, body=body, ctype="text/csv")
            want = upload_status(p, sharing, ORG)
            if r.status != want:
                bad.append(f"{p.name} upload {ds}: {r.status} {err_code(r)}, expected {want}")
            elif want == 401 and r.header("WWW-Authenticate") is None:
                bad.append(f"{p.name} upload {ds}: 401 without WWW-Authenticate")
            elif want == 404 and err_code(r) != "unknown_dataset":
                bad.append(f"{p.name} upload {ds}: 404 {err_code(r)}")
            want = manage_status(p, sharing, ORG)
            r = call(srv, "PATCH", f"/api/v1/datasets/{ds}", key=p.key, body=json.dumps({"importance": importance}),
                     ctype="application/json")
            if r.status != want:
                bad.append(f"{p.name} PATCH {ds}: {r.status} {err_code(r)}, expected {want}")
            r = call(srv, "GET", f"/api/v1/datasets/{ds}/grants", key=p.key)
            if r.status != want:
                bad.append(f"{p.name} GET grants of {ds}: {r.status} {err_code(r)}, expected {want}")
            # a grant to an organisation no principal here belongs to: visibility stays as it is
            r = call(srv, "POST", f"/api/v1/datasets/{ds}/grants", key=p.key, ctype="application/json",
                     body=json.dumps({"grantee": "org:phuc-vu-hanh-chinh-cong", "pii": False}))
            if r.status != want:
                bad.append(f"{p.name} POST grants of {ds}: {r.status} {err_code(r)}, expected {want}")
            # the class did not change
            d = jcall(srv, "GET", f"/api/v1/datasets/{ds}", 200, key=env.admin_key)
            if (d["sharing"], d["importance"]) != (sharing, importance):
                bad.append(f"after {p.name} on {ds}: the class is now {d['sharing']}/{d['importance']}")
    assert not bad, "\n".join(bad[:40]) + f"\n({len(bad)} problems)"
    # the successful uploads made new versions: the admin's and the owning steward's
    for ds in st["classes"]:
        d = jcall(srv, "GET", f"/api/v1/datasets/{ds}/versions", 200, key=env.admin_key)
        assert d["current_version"] == 3, (ds, d["current_version"])
        g = jcall(srv, "GET", f"/api/v1/datasets/{ds}/grants", 200, key=env.admin_key)
        assert [x["grantee"] for x in g["grants"]] == ["org:phuc-vu-hanh-chinh-cong"], g
        r = call(srv, "DELETE", f"/api/v1/datasets/{ds}/grants/org:phuc-vu-hanh-chinh-cong", key=env.admin_key)
        assert r.status == 200, r


def test_refused_writes_are_audited(env):
    st = setup(env)
    srv, P = st["srv"], st["P"]
    ds = slug("shared", "other", False)
    r = call(srv, "POST", f"/api/v1/datasets/{ds}/versions", key=P["steward_other"].key, body=PLAIN_CSV,
             ctype="text/csv")
    assert r.status == 403, r
    wait_audit(srv, env.admin_key, lambda e: e.get("target") == ds and e["actor"] == "sec-steward-other",
               "a refused upload", action="denied")


def test_publishing_as_a_steward(env):
    """A steward publishes for its own organisation only; creating a dataset makes it the owner."""
    st = setup(env)
    srv, P = st["srv"], st["P"]
    stew, other = P["steward"], P["steward_other"]
    r = call(srv, "POST", "/api/v1/datasets/sx-stew-new/versions?sharing=private", key=stew.key, body=PLAIN_CSV,
             ctype="text/csv")
    assert r.status == 201, r
    d = jcall(srv, "GET", "/api/v1/datasets/sx-stew-new", 200, key=stew.key)
    assert d["organisation"]["id"] == ORG and d["sharing"] == "private", d
    for p in (other, P["analyst"], P["partner"]):
        assert call(srv, "GET", "/api/v1/datasets/sx-stew-new", key=p.key).status == 404, p
    # not for another organisation, neither new nor existing
    r = call(srv, "POST", f"/api/v1/datasets/sx-stew-foreign/versions?org={OTHER_ORG}", key=stew.key, body=PLAIN_CSV,
             ctype="text/csv")
    assert r.status == 403 and err_code(r) == "forbidden", r
    assert call(srv, "GET", "/api/v1/datasets/sx-stew-foreign", key=env.admin_key).status == 404
    r = call(srv, "POST", f"/api/v1/datasets/{DNDK}/versions", key=stew.key, body=PLAIN_CSV, ctype="text/csv")
    assert r.status == 403, r  # open, of so-tai-chinh: visible but not its to publish
    r = call(srv, "POST", f"/api/v1/datasets/sx-stew-new/versions?org={OTHER_ORG}", key=stew.key, body=PLAIN_CSV,
             ctype="text/csv")
    assert r.status == 403, r  # moving its own dataset to another organisation
    assert jcall(srv, "GET", "/api/v1/datasets/sx-stew-new", 200, key=stew.key)["organisation"]["id"] == ORG
    # the other organisation's steward cannot even find it, nor publish a version over it
    r = call(srv, "POST", "/api/v1/datasets/sx-stew-new/versions", key=other.key, body=PLAIN_CSV, ctype="text/csv")
    assert r.status == 404, r
    assert jcall(srv, "GET", "/api/v1/datasets/sx-stew-new", 200, key=stew.key)["current_version"] == 1
    # a steward key without pii:read sees its own personal data masked
    k = env.kho("key", "create", "--user", "sec-steward", "--scopes", "datasets:read")
    ds = slug("private", "important", True)
    j = jcall(srv, "GET", f"/api/v1/datasets/{ds}/rows", 200, key=ok(k).stdout.strip())
    assert j["masked"] is True and j["rows"] == expected_rows(ds, True), j


def test_upload_column_tags_over_http(env):
    """column_tags=COL=TAGS marks a column personal on an HTTP upload, as --column-tags does for kho import."""
    st = setup(env)
    srv = st["srv"]
    body = "Mã xã,Ghi chú riêng\n11953,bệnh tiểu đường\n12031,khỏe mạnh\n"
    f = env.write("coltags.csv", body)
    ok(env.kho("import", f, "--dataset", "sx-coltags-cli", "--sharing", "open", "--org", ORG,
               "--column-tags", "Ghi chú riêng=sensitive"))
    j = jcall(srv, "GET", "/api/v1/datasets/sx-coltags-cli/rows", 200)
    assert j["masked"] is True and [r["ghi_chu_rieng"] for r in j["rows"]] == ["***", "***"], j
    r = call(srv, "POST", "/api/v1/datasets/sx-coltags-http/versions?sharing=open&org=" + ORG + "&column_tags="
             + q("Ghi chú riêng=sensitive"), key=env.admin_key, body=body, ctype="text/csv")
    assert r.status == 201, f"POST ...versions?column_tags=... refused: {r}"
    j = jcall(srv, "GET", "/api/v1/datasets/sx-coltags-http/rows", 200)
    assert j["masked"] is True and [r["ghi_chu_rieng"] for r in j["rows"]] == ["***", "***"], j


# ---- grants and classification -------------------------------------------------------------


def test_grants_open_private_data_to_named_readers(env):
    st = setup(env)
    srv, P = st["srv"], st["P"]
    ds = slug("private", "other", True)
    partner, other, analyst = P["partner"], P["steward_other"], P["analyst"]
    base = f"/api/v1/datasets/{ds}"
    for p in (partner, other, analyst):
        assert call(srv, "GET", base, key=p.key).status == 404
    # to an organisation: its partner account reads, masked (a partner holds no pii:read)
    r = call(srv, "POST", base + "/grants", key=env.admin_key, ctype="application/json",
             body=json.dumps({"grantee": f"org:{PARTNER_ORG}", "pii": True}))
    assert r.status == 200 and r.json()["grantee"] == f"org:{PARTNER_ORG}", r
    j = jcall(srv, "GET", base + "/rows", 200, key=partner.key)
    assert j["masked"] is True and j["rows"] == expected_rows(ds, True), j
    assert ds in {d["id"] for d in jcall(srv, "GET", "/api/v1/datasets?limit=1000", 200, key=partner.key)["datasets"]}
    # a grant to read is no right to manage
    assert call(srv, "GET", base + "/grants", key=partner.key).status == 403
    # to an account: another organisation's steward, first without personal data, then with
    r = call(srv, "POST", base + "/grants", key=env.admin_key, ctype="application/json",
             body=json.dumps({"grantee": "user:sec-steward-other"}))
    assert r.status == 200 and r.json()["pii"] is False, r
    j = jcall(srv, "GET", base + "/rows", 200, key=other.key)
    assert j["masked"] is True and j["rows"] == expected_rows(ds, True), j
    r = call(srv, "POST", base + "/grants", key=P["steward"].key, ctype="application/json",
             body=json.dumps({"grantee": "user:sec-steward-other", "pii": True}))
    assert r.status == 200, r  # the owning steward manages its grants
    j = jcall(srv, "GET", base + "/rows", 200, key=other.key)
    assert j["masked"] is False and j["rows"] == expected_rows(ds, False), j
    assert call(srv, "PATCH", base, key=other.key, ctype="application/json",
                body=json.dumps({"sharing": "open"})).status == 403
    mine = {f"org:{PARTNER_ORG}", "user:sec-steward-other", "user:sec-analyst"}
    g = jcall(srv, "GET", base + "/grants", 200, key=P["steward"].key)["grants"]
    assert {(x["grantee"], x["pii"]) for x in g if x["grantee"] in mine} == {
        (f"org:{PARTNER_ORG}", True), ("user:sec-steward-other", True)}, g
    # a partner reads a shared dataset only with a grant
    shared = f"/api/v1/datasets/{slug('shared', 'other', False)}"
    assert call(srv, "GET", shared, key=partner.key).status == 404
    ok(env.kho("grant", "add", slug("shared", "other", False), f"org:{PARTNER_ORG}"))
    assert call(srv, "GET", shared + "/rows", key=partner.key).status == 200
    ok(env.kho("grant", "remove", slug("shared", "other", False), f"org:{PARTNER_ORG}"))
    assert call(srv, "GET", shared, key=partner.key).status == 404
    # an analyst granted personal data still has no pii:read: masked
    ok(env.kho("grant", "add", ds, "user:sec-analyst", "--pii"))
    j = jcall(srv, "GET", base + "/rows", 200, key=analyst.key)
    assert j["masked"] is True, j
    # bad grants
    for body, status, code in [({"grantee": "sec-analyst"}, 400, "bad_grantee"),
                               ({"grantee": "user:khong-co-ai"}, 404, "unknown_grantee"),
                               ({"grantee": "org:khong-co"}, 404, "unknown_grantee"),
                               ({"grantee": "user:sec-analyst", "pii": "yes"}, 400, "bad_parameter"),
                               ({}, 400, "bad_parameter")]:
        r = call(srv, "POST", base + "/grants", key=env.admin_key, ctype="application/json", body=json.dumps(body))
        assert r.status == status and err_code(r) == code, (body, r)
    r = call(srv, "DELETE", base + "/grants/user:khong-co-ai", key=env.admin_key)
    assert r.status == 404, r
    # revoking takes effect at once, over HTTP and on the command line
    for grantee in (f"org:{PARTNER_ORG}", "user:sec-steward-other"):
        r = call(srv, "DELETE", f"{base}/grants/{grantee}", key=env.admin_key)
        assert r.status == 200, r
    ok(env.kho("grant", "remove", ds, "user:sec-analyst"))
    for p in (partner, other, analyst):
        assert call(srv, "GET", base + "/rows", key=p.key).status == 404, p
        assert ds not in {d["id"] for d in jcall(srv, "GET", "/api/v1/datasets?limit=1000", 200, key=p.key)["datasets"]}
    left = jcall(srv, "GET", base + "/grants", 200, key=env.admin_key)["grants"]
    assert not [x for x in left if x["grantee"] in mine], left
    wait_audit(srv, env.admin_key, lambda e: e.get("target") == ds and e["details"]["grantee"] == f"org:{PARTNER_ORG}",
               "the grant to the partner organisation", action="grant")


def test_reclassification_changes_who_sees(env):
    st = setup(env)
    srv, P = st["srv"], st["P"]
    ds = "sx-reclass"
    r = call(srv, "POST", f"/api/v1/datasets/{ds}/versions?sharing=private&importance=other&org={ORG}",
             key=env.admin_key, body=PLAIN_CSV, ctype="text/csv")
    assert r.status == 201, r
    assert call(srv, "GET", f"/api/v1/datasets/{ds}", key=P["analyst"].key).status == 404
    r = call(srv, "PATCH", f"/api/v1/datasets/{ds}", key=P["steward"].key, ctype="application/json",
             body=json.dumps({"sharing": "shared"}))
    assert r.status == 200 and r.json()["sharing"] == "shared", r
    assert call(srv, "GET", f"/api/v1/datasets/{ds}", key=P["analyst"].key).status == 200
    assert call(srv, "GET", f"/api/v1/datasets/{ds}", key=P["partner"].key).status == 404
    assert call(srv, "GET", f"/api/v1/datasets/{ds}").status == 404
    ok(env.kho("classify", ds, "--sharing", "open"))
    assert call(srv, "GET", f"/api/v1/datasets/{ds}").status == 200
    for body, code in [({"sharing": "secret"}, 400), ({"colour": "red"}, 400), ({}, 400),
                       ({"importance": 3}, 400)]:
        r = call(srv, "PATCH", f"/api/v1/datasets/{ds}", key=env.admin_key, ctype="application/json",
                 body=json.dumps(body))
        assert r.status == code, (body, r)
    r = call(srv, "PATCH", f"/api/v1/datasets/{ds}", key=env.admin_key, ctype="text/plain", body="sharing=private")
    assert r.status == 415, r
    assert jcall(srv, "GET", f"/api/v1/datasets/{ds}", 200)["sharing"] == "open"
    wait_audit(srv, env.admin_key, lambda e: e["actor"] == "sec-steward" and e["details"] == {"sharing": "shared"},
               "the steward's reclassification", action="classify", target=ds)


# ---- masking in every format -------------------------------------------------------------------


def parse_export(fmt, text):
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        return [{k: v for k, v in r.items()} for r in rows]
    if fmt == "json":
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line]


def as_strings(rows):
    return [{k: ("" if v is None else str(v)) for k, v in r.items() if k != "_row"} for r in rows]


def test_export_masks_unless_pii(env):
    st = setup(env)
    for ds in (slug("private", "important", True), slug("open", "other", True)):
        for fmt in ("csv", "json", "ndjson"):
            for pii in (False, True):
                p = ok(env.kho("export", ds, "--format", fmt, *(["--pii"] if pii else [])))
                got = parse_export(fmt, p.stdout)
                want = expected_rows(ds, not pii)
                if fmt == "csv":
                    assert as_strings(got) == as_strings(want), (ds, fmt, pii, p.stdout)
                else:
                    assert [{k: v for k, v in r.items() if k != "_row"} for r in got] == \
                           [{k: v for k, v in r.items() if k != "_row"} for r in want], (ds, fmt, pii, got)
                for r in st["rows"][ds]:
                    assert (r["so_dinh_danh_ca_nhan"] in p.stdout) is pii, (ds, fmt, pii)
                    assert (r["so_dien_thoai"] in p.stdout) is pii, (ds, fmt, pii)
    # the demo dataset: every kind of mask, sensitive and plain personal columns too
    p = ok(env.kho("export", TCXH, "--format", "ndjson"))
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(rows) == 1716, len(rows)
    r1 = rows[0]
    assert (r1["ho_va_ten"], r1["so_dinh_danh_ca_nhan"], r1["ngay_sinh"], r1["gioi_tinh"], r1["so_dien_thoai"]) == (
        "Đ. Đ. H.", "034******925", "2013", "***", "*******559"), r1
    assert all(r["dang_khuyet_tat"] in (None, "***") for r in rows), {r["dang_khuyet_tat"] for r in rows}
    assert any(r["dang_khuyet_tat"] == "***" for r in rows)
    assert {r["gioi_tinh"] for r in rows} == {"***"}
    raw = [json.loads(line) for line in ok(env.kho("export", TCXH, "--format", "ndjson", "--pii")).stdout.splitlines()]
    assert raw[0]["ho_va_ten"] == "Đặng Đức Hải" and raw[0]["so_dinh_danh_ca_nhan"] == "034213348925", raw[0]
    assert {r["gioi_tinh"] for r in raw} == {"Nam", "Nữ"}
    assert "Nhìn" in {r["dang_khuyet_tat"] for r in raw}
    # exports of private/important/personal data are audited, with the masking
    srv = st["srv"]
    es = wait_audit(srv, env.admin_key, lambda e: True, "kho export", action="export",
                    target=slug("private", "important", True))
    assert {(e["details"]["format"], e["details"]["masked"]) for e in es} == {
        (f, m) for f in ("csv", "json", "ndjson") for m in (False, True)}, es
    assert all(e["via"] == "cli" for e in es), es


def test_http_rows_mask_the_demo_dataset(env):
    st = setup(env)
    srv, P = st["srv"], st["P"]
    path = f"/api/v1/datasets/{TCXH}/rows?_limit=1716"
    raw = jcall(srv, "GET", path, 200, key=P["steward"].key)
    assert raw["masked"] is False and raw["rows"][0]["ho_va_ten"] == "Đặng Đức Hải", raw["rows"][0]
    nopii = ok(env.kho("key", "create", "--user", "e2e-admin", "--scopes", "datasets:read")).stdout.strip()
    m = jcall(srv, "GET", path, 200, key=nopii)
    assert m["masked"] is True and len(m["rows"]) == 1716
    for a, b in zip(raw["rows"], m["rows"]):
        assert b["ho_va_ten"] == " ".join(w[0].upper() + "." for w in a["ho_va_ten"].split()), (a, b)
        assert b["so_dinh_danh_ca_nhan"] == a["so_dinh_danh_ca_nhan"][:3] + "******" + a["so_dinh_danh_ca_nhan"][-3:]
        assert b["ngay_sinh"] == a["ngay_sinh"][:4]
        assert b["gioi_tinh"] == "***"
        assert b["so_dien_thoai"] == (None if a["so_dien_thoai"] is None else "*******" + a["so_dien_thoai"][-3:])
        assert b["dang_khuyet_tat"] == (None if a["dang_khuyet_tat"] is None else "***")
        for k in ("ma_xa", "ten_xa", "dien_huong", "muc_tro_cap_dong_thang", "_row"):
            assert a[k] == b[k], k
    # the same dataset export masked equals the HTTP masked rows
    ex = [json.loads(line) for line in ok(env.kho("export", TCXH, "--format", "ndjson")).stdout.splitlines()]
    assert ex == m["rows"]


def test_personal_columns_of_important_data_are_encrypted_at_rest(env):
    st = setup(env)
    srv = st["srv"]
    blob = db_bytes(env.data)
    for ds, (sharing, importance, personal, _) in st["classes"].items():
        if not personal:
            continue
        cols = {c["name"]: c["tags"] for c in jcall(srv, "GET", f"/api/v1/datasets/{ds}", 200,
                                                     key=env.admin_key)["columns"]}
        enc = importance != "other"
        for col in ("ho_va_ten", "so_dinh_danh_ca_nhan", "ngay_sinh", "so_dien_thoai"):
            assert "personal" in cols[col] and ("encrypted" in cols[col]) is enc, (ds, col, cols[col])
        assert "encrypted" not in cols["ma_xa"] and "personal" not in cols["so_tien"], cols
        for r in st["rows"][ds]:
            for col in ("so_dinh_danh_ca_nhan", "so_dien_thoai"):
                # plaintext in the files only when not encrypted (the positive control)
                assert (r[col].encode() in blob) is not enc, (ds, col, r[col], enc)
    for value in ("034213348925", "0345614559", "Đặng Đức Hải"):
        assert value.encode() not in blob, value


# ---- API keys ----------------------------------------------------------------------------------


def test_cli_keys_are_shown_once(env):
    st = setup(env)
    srv = st["srv"]
    p = ok(env.kho("key", "create", "--user", "sec-analyst", "--scopes", "datasets:read", "--name", "một lần"))
    key = p.stdout.strip()
    assert re.fullmatch(r"kho_[A-Za-z0-9_-]{43}", key) and p.stdout == key + "\n", p.stdout
    assert key not in p.stderr and "only now" in p.stderr, p.stderr
    lst = ok(env.kho("key", "list", "--user", "sec-analyst"))
    assert key not in lst.stdout and key[:12] in lst.stdout, lst.stdout
    js = json.loads(ok(env.kho("key", "list", "--json")).stdout)
    mine = [k for k in js["keys"] if k["name"] == "một lần"]
    assert len(mine) == 1 and mine[0]["prefix"] == key[:12] and mine[0]["active"] is True, mine
    assert key not in json.dumps(js) and "key" not in mine[0] and "hash" not in mine[0], mine
    # only the SHA-256 is kept
    con = sqlite3.connect(f"file:{os.path.join(env.data, 'kho.db')}?mode=ro", uri=True)
    try:
        (stored,) = con.execute("SELECT hash FROM api_keys WHERE id = ?", (mine[0]["id"],)).fetchone()
    finally:
        con.close()
    assert stored == hashlib.sha256(key.encode()).hexdigest(), stored
    assert key.encode() not in db_bytes(env.data)
    me = jcall(srv, "GET", "/api/v1/auth/me", 200, key=key)
    assert (me["user"], me["role"], me["via"]) == ("sec-analyst", "analyst", f"key:{mine[0]['id']}"), me
    # a role never gets more than it may hold
    p = env.kho("key", "create", "--user", "sec-analyst", "--scopes", "datasets:read,datasets:write")
    assert p.returncode != 0 and p.stdout == "" and "datasets:write" in p.stderr, (p.returncode, p.stdout, p.stderr)
    # revoked on the command line: refused with the very next request
    assert call(srv, "GET", f"/api/v1/datasets/{slug('shared', 'other', False)}", key=key).status == 200
    ok(env.kho("key", "revoke", str(mine[0]["id"])))
    r = call(srv, "GET", f"/api/v1/datasets/{slug('shared', 'other', False)}", key=key)
    assert r.status == 401 and err_code(r) == "key_revoked" and r.header("WWW-Authenticate"), r
    # and it does not fall back to anonymous access either
    r = call(srv, "GET", f"/api/v1/datasets/{HSDVC}", key=key)
    assert r.status == 401, r


def test_http_keys_sessions_only_shown_once_revocable(env):
    st = setup(env)
    srv, P = st["srv"], st["P"]
    r = call(srv, "POST", "/api/v1/keys", key=env.admin_key, ctype="application/json",
             body=json.dumps({"scopes": "datasets:read"}))
    assert r.status == 403 and err_code(r) == "session_required", r
    r = call(srv, "POST", "/api/v1/keys", ctype="application/json", body=json.dumps({"scopes": "datasets:read"}))
    assert r.status == 401, r
    _, cookie, csrf = login(srv, "sec-leader", env.PASSWORD)
    hdr = {"X-CSRF-Token": csrf}
    r = call(srv, "POST", "/api/v1/keys", cookie=cookie, ctype="application/json",
             body=json.dumps({"scopes": "datasets:read", "name": "http"}))
    assert r.status == 403 and err_code(r) == "csrf", r
    r = call(srv, "POST", "/api/v1/keys", cookie=cookie, headers=hdr, ctype="application/json",
             body=json.dumps({"scopes": "datasets:read,audit:read"}))
    assert r.status == 403 and err_code(r) == "bad_scope", r
    r = call(srv, "POST", "/api/v1/keys", cookie=cookie, headers=hdr, ctype="application/json",
             body=json.dumps({"scopes": "datasets:read", "expires": "2001-01-01"}))
    assert r.status == 400 and err_code(r) == "bad_expiry", r
    r = call(srv, "POST", "/api/v1/keys", cookie=cookie, headers=hdr, ctype="application/json",
             body=json.dumps({"scopes": "datasets:read", "name": "http", "expires": "7d"}))
    assert r.status == 201, r
    k = r.json()
    key, kid = k["key"], k["id"]
    assert re.fullmatch(r"kho_[A-Za-z0-9_-]{43}", key) and k["user"] == "sec-leader", k
    exp = time.strptime(k["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
    days = (time.mktime(exp) - time.mktime(time.gmtime())) / 86400
    assert 6.9 < days <= 7.01, k["expires_at"]
    lst = call(srv, "GET", "/api/v1/keys", cookie=cookie)
    assert lst.status == 200 and key not in lst.text, lst
    mine = [x for x in lst.json()["keys"] if x["id"] == kid]
    assert len(mine) == 1 and mine[0]["prefix"] == key[:12] and "key" not in mine[0], lst.json()
    assert {x["user"] for x in lst.json()["keys"]} == {"sec-leader"}, lst.json()
    # listing other accounts' keys needs users:admin
    assert call(srv, "GET", "/api/v1/keys?all=1", cookie=cookie).status == 403
    assert call(srv, "GET", "/api/v1/keys?user=sec-analyst", cookie=cookie).status == 403
    assert call(srv, "GET", "/api/v1/keys?user=sec-analyst", key=env.admin_key).status == 200
    assert call(srv, "GET", "/api/v1/keys", key=key).status == 200
    # nobody but the owner (or users:admin) revokes a key
    analyst_keys = jcall(srv, "GET", "/api/v1/keys?user=sec-analyst", 200, key=env.admin_key)["keys"]
    victim = [x for x in analyst_keys if x["active"]][0]
    r = call(srv, "DELETE", f"/api/v1/keys/{victim['id']}", cookie=cookie, headers=hdr)
    assert r.status == 404, r
    assert call(srv, "GET", "/api/v1/auth/me", key=P["analyst"].key).json()["user"] == "sec-analyst"
    # revoke the new key from the session: the very next request with it fails
    assert jcall(srv, "GET", "/api/v1/auth/me", 200, key=key)["user"] == "sec-leader"
    r = call(srv, "DELETE", f"/api/v1/keys/{kid}", cookie=cookie)
    assert r.status == 403 and err_code(r) == "csrf", r
    assert call(srv, "GET", "/api/v1/auth/me", key=key).status == 200
    r = call(srv, "DELETE", f"/api/v1/keys/{kid}", cookie=cookie, headers=hdr)
    assert r.status == 200 and r.json()["revoked"] is True, r
    r = call(srv, "GET", "/api/v1/auth/me", key=key)
    assert r.status == 401 and err_code(r) == "key_revoked", r
    r = call(srv, "DELETE", f"/api/v1/keys/{kid}", cookie=cookie, headers=hdr)
    assert r.status == 404, r
    wait_audit(srv, env.admin_key, lambda e: e["details"]["key"] == kid, "the key's creation", action="key_create",
               actor="sec-leader")
    wait_audit(srv, env.admin_key, lambda e: e["details"]["key"] == kid, "the key's revocation",
               action="key_revoke", actor="sec-leader")


def test_expired_and_malformed_keys(env):
    st = setup(env)
    srv = st["srv"]
    key = ok(env.kho("key", "create", "--user", "sec-analyst", "--scopes", "datasets:read", "--expires", "1d",
                     "--name", "expiring")).stdout.strip()
    path = f"/api/v1/datasets/{slug('shared', 'other', False)}"
    assert call(srv, "GET", path, key=key).status == 200
    con = sqlite3.connect(os.path.join(env.data, "kho.db"), timeout=30)
    try:
        with con:
            n = con.execute("UPDATE api_keys SET expires_at = ? WHERE name = 'expiring'", (int(time.time()) - 1,))
            assert n.rowcount == 1
    finally:
        con.close()
    r = call(srv, "GET", path, key=key)
    assert r.status == 401 and err_code(r) == "key_expired", r
    js = json.loads(ok(env.kho("key", "list", "--json", "--user", "sec-analyst")).stdout)
    assert [k["active"] for k in js["keys"] if k["name"] == "expiring"] == [False], js
    for authz in ("Bearer kho_" + "A" * 43, "Bearer " + key[:-1], "Bearer " + key + "x", "Basic dXNlcjpwYXNz",
                  "Bearer ", "Bearer kho_ä"):
        r = call(srv, "GET", path, headers={"Authorization": authz})
        assert r.status == 401 and r.header("WWW-Authenticate") == 'Bearer realm="kho"', (authz, r)
    assert call(srv, "GET", path).status == 404  # no credentials: the anonymous public


# ---- sessions ---------------------------------------------------------------------------------


def test_sessions_csrf_logout_password_change(env):
    st = setup(env)
    srv = st["srv"]
    name, pw2, pw3 = "sec-sess", "mật khẩu mới thứ hai", "mật khẩu mới thứ ba"
    env.add_user(name, "steward", ORG)
    private = f"/api/v1/datasets/{slug('private', 'important', True)}/rows"
    anon = jcall(srv, "GET", "/api/v1/auth/me", 200)
    assert (anon["user"], anon["role"], anon["via"]) == ("anonymous", "public", "anonymous"), anon
    assert "csrf_token" not in anon, anon
    # a wrong password, and an unknown account, answer alike
    r1 = login(srv, name, "sai mật khẩu rồi", 401)
    r2 = login(srv, "khong-ton-tai", "sai mật khẩu rồi", 401)
    assert r1.json() == r2.json() and err_code(r1) == "bad_credentials", (r1, r2)
    r, cookie, csrf = login(srv, name, env.PASSWORD)
    setc = r.header("Set-Cookie")
    attrs = [a.strip().lower() for a in setc.split(";")]
    assert "httponly" in attrs and "samesite=strict" in attrs and "path=/" in attrs, setc
    assert "secure" not in attrs, setc  # plain HTTP here
    assert "max-age=43200" in attrs, setc  # session_max_hours (12)
    assert re.fullmatch(r"kho_session=[A-Za-z0-9_-]{43}", cookie), cookie
    j = r.json()
    assert (j["user"], j["role"], j["org"], j["via"]) == (name, "steward", ORG, "session"), j
    assert set(j["scopes"].split()) == {"datasets:read", "datasets:write", "pii:read", "trace:read", "trace:write"}, j
    me = jcall(srv, "GET", "/api/v1/auth/me", 200, cookie=cookie)
    assert me["user"] == name and me["via"] == "session" and me["csrf_token"] == csrf, me
    rows = jcall(srv, "GET", private, 200, cookie=cookie)
    assert rows["masked"] is False, rows
    # state-changing requests with the cookie need the session's CSRF token
    patch = f"/api/v1/datasets/{slug('private', 'important', True)}"
    body = json.dumps({"importance": "important"})
    for hdr in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": csrf[:-1]}, {"X-CSRF-Token": csrf + "A"},
                {"X-CSRF-Token": "x" * 43}):
        r = call(srv, "PATCH", patch, cookie=cookie, headers=hdr, ctype="application/json", body=body)
        assert r.status == 403 and err_code(r) == "csrf", (hdr, r)
        r = call(srv, "POST", f"{patch}/versions", cookie=cookie, headers=hdr, ctype="text/csv",
                 body=personal_csv(st["rows"][slug("private", "important", True)]))
        assert r.status == 403 and err_code(r) == "csrf", (hdr, r)
    r = call(srv, "PATCH", patch, cookie=cookie, headers={"X-CSRF-Token": csrf}, ctype="application/json", body=body)
    assert r.status == 200, r
    r = call(srv, "POST", "/api/v1/datasets/sx-sess-upload/versions", cookie=cookie, headers={"X-CSRF-Token": csrf},
             ctype="text/csv", body=PLAIN_CSV)
    assert r.status == 201, r
    assert jcall(srv, "GET", "/api/v1/datasets/sx-sess-upload", 200)["organisation"]["id"] == ORG
    wait_audit(srv, env.admin_key, lambda e: e["via"] == "session", "the upload in a session", action="upload",
               actor=name, target="sx-sess-upload")
    # another session's token does not do
    _, cookie_b, csrf_b = login(srv, name, env.PASSWORD)
    assert cookie_b != cookie and csrf_b != csrf
    r = call(srv, "PATCH", patch, cookie=cookie, headers={"X-CSRF-Token": csrf_b}, ctype="application/json", body=body)
    assert r.status == 403, r
    # logout needs the token too, then ends the session (the cookie is cleared)
    r = call(srv, "POST", "/api/v1/auth/logout", cookie=cookie)
    assert r.status == 403 and err_code(r) == "csrf", r
    assert jcall(srv, "GET", "/api/v1/auth/me", 200, cookie=cookie)["user"] == name
    r = call(srv, "POST", "/api/v1/auth/logout", cookie=cookie, headers={"X-CSRF-Token": csrf})
    assert r.status == 200, r
    wait_audit(srv, env.admin_key, lambda e: e["via"] == "session" and e["ip"] == "127.0.0.1", "the sign-in",
               action="login", actor=name)
    wait_audit(srv, env.admin_key, lambda e: True, "the sign-out", action="logout", actor=name)
    assert re.search(r"kho_session=;.*Max-Age=0", r.header("Set-Cookie") or ""), r.headers
    me = jcall(srv, "GET", "/api/v1/auth/me", 200, cookie=cookie)
    assert me["user"] == "anonymous" and "csrf_token" not in me, me
    assert call(srv, "GET", private, cookie=cookie).status == 404
    r = call(srv, "PATCH", patch, cookie=cookie, headers={"X-CSRF-Token": csrf}, ctype="application/json", body=body)
    assert r.status == 401, r  # the ended session is the anonymous public
    assert jcall(srv, "GET", "/api/v1/auth/me", 200, cookie=cookie_b)["user"] == name  # the other one lives on
    # a password change (by an admin over HTTP) ends every session of the account
    r = call(srv, "PATCH", f"/api/v1/users/{name}", key=env.admin_key, ctype="application/json",
             body=json.dumps({"password": pw2}))
    assert r.status == 200 and r.json()["password_changed"] is True, r
    assert jcall(srv, "GET", "/api/v1/auth/me", 200, cookie=cookie_b)["user"] == "anonymous"
    assert call(srv, "GET", private, cookie=cookie_b).status == 404
    login(srv, name, env.PASSWORD, 401)
    _, cookie_c, _ = login(srv, name, pw2)
    assert call(srv, "GET", private, cookie=cookie_c).status == 200
    # ... and so does kho user passwd, with the server running
    ok(env.kho("user", "passwd", name, input=pw3 + "\n"))
    assert jcall(srv, "GET", "/api/v1/auth/me", 200, cookie=cookie_c)["user"] == "anonymous"
    login(srv, name, pw2, 401)
    _, cookie_d, _ = login(srv, name, pw3)
    # disabling the account ends its sessions and stops its keys
    key = ok(env.kho("key", "create", "--user", name, "--scopes", "datasets:read")).stdout.strip()
    assert call(srv, "GET", private, key=key).status == 200
    r = call(srv, "PATCH", f"/api/v1/users/{name}", key=env.admin_key, ctype="application/json",
             body=json.dumps({"disabled": True}))
    assert r.status == 200, r
    assert jcall(srv, "GET", "/api/v1/auth/me", 200, cookie=cookie_d)["user"] == "anonymous"
    assert call(srv, "GET", private, key=key).status == 401
    login(srv, name, pw3, 401)
    # account management needs users:admin
    r = call(srv, "PATCH", f"/api/v1/users/{name}", key=st["P"]["steward"].key, ctype="application/json",
             body=json.dumps({"disabled": False}))
    assert r.status == 403 and err_code(r) == "missing_scope", r
    assert call(srv, "GET", "/api/v1/users", key=st["P"]["steward"].key).status == 403
    assert call(srv, "GET", "/api/v1/users").status == 401
    # accounts made over HTTP: the password policy applies, stewards need an organisation
    for body, code in [({"name": "sec-newcomer", "role": "analyst", "password": "ngắn"}, "weak_password"),
                       ({"name": "sec-newcomer", "role": "analyst", "password": "sec-newcomer"}, "weak_password"),
                       ({"name": "sec-newcomer", "role": "steward", "password": pw2}, "bad_role"),
                       ({"name": "sec-newcomer", "role": "public", "password": pw2}, "bad_role"),
                       ({"name": "Sec New", "role": "analyst", "password": pw2}, "bad_name")]:
        r = call(srv, "POST", "/api/v1/users", key=env.admin_key, ctype="application/json", body=json.dumps(body))
        assert r.status == 400 and err_code(r) == code, (body, r)
    r = call(srv, "POST", "/api/v1/users", key=env.admin_key, ctype="application/json",
             body=json.dumps({"name": "sec-newcomer", "role": "leader", "password": pw2}))
    assert r.status == 201, r
    assert login(srv, "sec-newcomer", pw2)[0].json()["role"] == "leader"
    r = call(srv, "POST", "/api/v1/users", key=env.admin_key, ctype="application/json",
             body=json.dumps({"name": "sec-newcomer", "role": "leader", "password": pw2}))
    assert r.status == 409, r
    users = {u["name"]: u for u in jcall(srv, "GET", "/api/v1/users", 200, key=env.admin_key)["users"]}
    assert users[name]["disabled"] is True and "password_hash" not in users[name], users[name]
    assert env.PASSWORD not in json.dumps(users) and "argon2" not in json.dumps(users)


def test_login_lockout(env):
    st = setup(env)
    srv = st["srv"]
    name = "sec-lock"
    env.add_user(name, "analyst")
    for i in range(5):
        r = login(srv, name, f"sai mật khẩu số {i}", 401)
        assert err_code(r) == "bad_credentials", (i, r)
    r = login(srv, name, env.PASSWORD, 429)  # the right password, refused while locked
    assert err_code(r) == "account_locked", r
    ra = r.header("Retry-After")
    assert ra is not None and ra.isdigit() and 1 <= int(ra) <= 30, r.headers
    assert "Set-Cookie" not in {k for k, _ in r.headers}, r.headers
    r = login(srv, name, "sai mật khẩu lần nữa", 429)
    assert err_code(r) == "account_locked", r
    users = json.loads(ok(env.kho("user", "list", "--json")).stdout)["users"]
    assert [u["locked"] for u in users if u["name"] == name] == [True], users
    # other accounts are not affected
    login(srv, "sec-leader", env.PASSWORD)
    # the audit log has every failure, and never the passwords tried
    es = wait_audit(srv, env.admin_key, lambda e: e["details"].get("name") == name and
                    e["details"].get("reason") == "account_locked", "a refusal while locked",
                    action="login_failed")
    fails = [e for e in audit_entries(srv, env.admin_key, action="login_failed")
             if e["entry"]["details"].get("name") == name]
    assert len(fails) == 7, fails
    assert [e["entry"]["details"]["reason"] for e in fails] == ["bad_credentials"] * 5 + ["account_locked"] * 2
    assert all(e["entry"]["actor"] == "anonymous" and e["entry"]["ip"] == "127.0.0.1" for e in fails), fails
    for e in fails:
        assert "sai mật khẩu" not in json.dumps(e, ensure_ascii=False) and env.PASSWORD not in json.dumps(
            e, ensure_ascii=False), e
    assert es
    # an administrator unlocks the account
    ok(env.kho("user", "enable", name))
    login(srv, name, env.PASSWORD)


# ---- audit of reads ------------------------------------------------------------------------------


def test_reads_are_audited_with_their_purpose(env):
    st = setup(env)
    srv, P = st["srv"], st["P"]
    purpose = "Xét duyệt hồ sơ trợ cấp #4711 — kiểm tra"
    r = call(srv, "GET", f"/api/v1/datasets/{TCXH}/rows?_limit=7&_offset=3", key=P["steward"].key,
             headers={"X-Purpose": purpose.encode("utf-8").decode("latin-1")})
    assert r.status == 200, r
    kid = jcall(srv, "GET", "/api/v1/auth/me", 200, key=P["steward"].key)["via"]
    e = wait_audit(srv, env.admin_key, lambda e: e["details"].get("purpose") == purpose, "the read with a purpose",
                   action="read", target=TCXH)
    assert len(e) == 1, e
    e = e[0]
    assert (e["actor"], e["role"], e["via"], e["ip"]) == ("sec-steward", "steward", kid, "127.0.0.1"), e
    assert e["details"] == {"version": 1, "query": {"_limit": "7", "_offset": "3"}, "rows": 7, "masked": False,
                            "purpose": purpose}, e
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]), e
    # masked reads are audited as masked; every audited class is audited, the others are not
    marks = {}
    for ds, (sharing, importance, personal, _) in st["classes"].items():
        mark = f"purpose-{ds}"
        marks[ds] = mark
        assert call(srv, "GET", f"/api/v1/datasets/{ds}/rows", key=P["admin"].key,
                    headers={"X-Purpose": mark}).status == 200
        if personal:
            assert call(srv, "GET", f"/api/v1/datasets/{ds}/rows", key=P["nokey"].key if sharing == "open"
                        else P["analyst"].key if sharing == "shared" else P["steward"].key,
                        headers={"X-Purpose": mark + "-2"}).status == 200
    assert call(srv, "GET", f"/api/v1/datasets/{HSDVC}/rows", headers={"X-Purpose": "purpose-open"}).status == 200
    # entries are committed in order: once this last one is there, all before it are
    assert call(srv, "GET", f"/api/v1/datasets/{TCXH}/rows?_limit=1", key=env.admin_key,
                headers={"X-Purpose": "sentinel"}).status == 200
    wait_audit(srv, env.admin_key, lambda e: e["details"].get("purpose") == "sentinel", "the sentinel read",
               action="read", target=TCXH)
    reads = [x["entry"] for x in audit_entries(srv, env.admin_key, action="read")]
    for ds, (sharing, importance, personal, _) in st["classes"].items():
        want = sharing == "private" or importance != "other" or personal
        got = [x for x in reads if x["target"] == ds and x["details"].get("purpose") == marks[ds]]
        assert len(got) == (1 if want else 0), (ds, got)
        if personal:
            m = [x for x in reads if x["target"] == ds and x["details"].get("purpose") == marks[ds] + "-2"]
            assert len(m) == 1 and m[0]["details"]["masked"] is (sharing != "private"), (ds, m)
    assert not [x for x in reads if x["details"].get("purpose") == "purpose-open"]
    # the audit trail itself is only for audit:read
    assert call(srv, "GET", "/api/v1/audit/entries").status == 401
    assert call(srv, "GET", "/api/v1/audit/entries", key=P["steward"].key).status == 403
    assert call(srv, "GET", "/api/v1/audit/entries", key=P["nokey"].key).status == 200
    assert call(srv, "GET", "/audit/tile/entries/000.p/1").status == 401
    assert call(srv, "GET", "/audit/tile/entries/000.p/1", key=P["analyst"].key).status == 403
    assert call(srv, "GET", "/audit/tile/0/000.p/1").status == 200  # hashes are public


def test_masking_follows_the_version(env):
    """Masking is decided by the columns of the version read, not of the current one."""
    st = setup(env)
    srv = st["srv"]
    ds = "sx-versions"
    rows = personal_rows(88)
    r = call(srv, "POST", f"/api/v1/datasets/{ds}/versions?sharing=open&org={ORG}", key=env.admin_key,
             body=personal_csv(rows), ctype="text/csv")
    assert r.status == 201, r
    r = call(srv, "POST", f"/api/v1/datasets/{ds}/versions", key=env.admin_key, body=PLAIN_CSV, ctype="text/csv")
    assert r.status == 201 and r.json()["version"] == 2, r
    _state["rows"][ds] = rows
    j = jcall(srv, "GET", f"/api/v1/datasets/{ds}/rows", 200)
    assert j["version"] == 2 and j["masked"] is False, j
    j = jcall(srv, "GET", f"/api/v1/datasets/{ds}/rows?version=1", 200)
    assert j["version"] == 1 and j["masked"] is True and j["rows"] == expected_rows(ds, True), j
    p = ok(env.kho("export", ds, "--version", "1", "--format", "ndjson"))
    assert [json.loads(x) for x in p.stdout.splitlines()] == expected_rows(ds, True), p.stdout
    # reading the old, personal version is audited; the current one is not
    wait_audit(srv, env.admin_key, lambda e: e["details"]["version"] == 1 and e["details"]["masked"] is True,
               "the read of the personal version", action="read", target=ds)
    assert not [e for e in audit_entries(srv, env.admin_key, action="read", target=ds)
                if e["entry"]["details"]["version"] == 2]


# ---- headers and rate limits -----------------------------------------------------------------------


def test_security_headers_on_every_response(env):
    st = setup(env)
    srv, P = st["srv"], st["P"]
    cases = [("GET", "/", None, None, None, 200), ("GET", "/healthz", None, None, None, 200),
             ("GET", f"/api/v1/datasets/{HSDVC}/rows?_limit=1", None, None, None, 200),
             ("GET", f"/api/v1/datasets/{TCXH}", None, None, None, 404),
             ("GET", "/nowhere", None, None, None, 404),
             ("GET", "/api/v1/users", None, None, None, 401),
             ("GET", "/api/v1/users", P["analyst"].key, None, None, 403),
             ("GET", f"/api/v1/datasets/{HSDVC}", "Bearer-less", None, None, 401),
             ("DELETE", "/healthz", None, None, None, 405),
             ("GET", "/api/v1/datasets?limit=0", None, None, None, 400),
             ("POST", "/api/v1/datasets/sx-hdr/versions", env.admin_key, PLAIN_CSV, "text/csv", 201),
             ("GET", "/api/v1/audit/key", None, None, None, 200),
             ("GET", "/audit/checkpoint", None, None, None, 200),
             ("GET", "/audit/tile/0/000.p/1", None, None, None, 200),
             ("HEAD", f"/api/v1/datasets/{HSDVC}", None, None, None, 200)]
    for method, path, key, body, ctype, status in cases:
        if key == "Bearer-less":
            r = call(srv, method, path, headers={"Authorization": "Token abc"})
        else:
            r = call(srv, method, path, key=key, body=body, ctype=ctype)
        assert r.status == status, (method, path, r)
        security_headers_ok(r, f"{method} {path}")
    # what a signed-in caller gets is not cached by shared caches
    r = call(srv, "GET", f"/api/v1/datasets/{TCXH}/rows?_limit=1", key=env.admin_key)
    assert "no-store" in (r.header("Cache-Control") or ""), r.headers


def test_rate_limits(env):
    st = setup(env)
    P = st["P"]
    rl = env.server(extra_env={"KHO_RATE_PUBLIC": "0.05/3", "KHO_RATE_ANALYST": "0.05/2",
                               "KHO_RATE_LOGIN": "0.05/2"})
    ds = f"/api/v1/datasets/{HSDVC}"

    def limited(r, what):
        assert r.status == 429 and err_code(r) == "rate_limited", (what, r)
        ra = r.header("Retry-After")
        assert ra is not None and ra.isdigit() and 1 <= int(ra) <= 21, (what, r.headers)
        security_headers_ok(r, what)

    # anonymous callers: per address
    a = "127.0.0.2"
    for i in range(3):
        assert call(rl, "GET", ds, source=a).status == 200, i
    limited(call(rl, "GET", ds, source=a), "the 4th anonymous request")
    limited(call(rl, "GET", "/healthz", source=a), "any path")
    # X-Forwarded-For is not believed without trust_proxy
    limited(call(rl, "GET", ds, source=a, headers={"X-Forwarded-For": "10.9.8.7"}), "a forged X-Forwarded-For")
    assert call(rl, "GET", ds, source="127.0.0.5").status == 200  # another address has its own bucket
    # a key: its own bucket, not the address's
    an = P["analyst"].key
    assert call(rl, "GET", ds, key=an, source=a).status == 200
    assert call(rl, "GET", ds, key=an, source="127.0.0.6").status == 200
    limited(call(rl, "GET", ds, key=an, source="127.0.0.7"), "the analyst's 3rd request")
    # other roles' limits are their own (admin: off here)
    for _ in range(5):
        assert call(rl, "GET", ds, key=env.admin_key, source=a).status == 200
    # sign-in attempts: their own bucket per address, on top of the lockout
    s = "127.0.0.3"
    for i in range(2):
        assert login(rl, "sec-leader", "sai mật khẩu nhé", 401, source=s).status == 401, i
    r = login(rl, "sec-leader", env.PASSWORD, 429, source=s)
    limited(r, "the 3rd sign-in attempt")
    login(rl, "sec-leader", env.PASSWORD, source="127.0.0.8")  # another address signs in
    # bad keys count against the address
    b = "127.0.0.4"
    for i in range(3):
        r = call(rl, "GET", ds, source=b, headers={"Authorization": "Bearer kho_" + "B" * 43})
        assert r.status == 401, (i, r)
    limited(call(rl, "GET", ds, source=b), "anonymous after three bad keys")
    rl.stop()


def test_security_headers_on_oversized_bodies(env):
    """Bodies over max_body_mb are refused (413) with the same security headers as every response."""
    setup(env)
    small = env.server(extra_env={"KHO_MAX_BODY_MB": "1"})
    # announce a 1.6 MB body and wait for the answer: the server refuses it from the headers
    # (sending the body as well would race the server closing the connection)
    import http.client
    host, port = small.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", "/api/v1/datasets/sx-too-big/versions")
    conn.putheader("Authorization", "Bearer " + env.admin_key)
    conn.putheader("Content-Type", "text/csv")
    conn.putheader("Content-Length", str(1_600_000))
    conn.endheaders()
    resp = conn.getresponse()

    class R:
        status = resp.status
        headers = resp.getheaders()
    r = R()
    conn.close()
    assert r.status == 413, (r.status, r.headers)
    try:
        security_headers_ok(r, "413 for an oversized body")
    finally:
        small.stop()


def test_key_rotation_while_serving(env):
    """kho keys rotate [--data-key] runs beside kho serve (keys.h: running servers keep their
    keys and are not interrupted): data written with the new data key by the command line
    reads through the running server, and the server keeps encrypting uploads."""
    setup(env)
    srv = env.server()  # its own server: what this does to a server's key ring stays here
    ds_old = slug("private", "important", True)
    bad = []

    def rows(server, ds, what):
        r = call(server, "GET", f"/api/v1/datasets/{ds}/rows", key=env.admin_key)
        if r.status != 200:
            bad.append(f"{what}: GET rows of {ds}: {r.status} {r.text[:200]}")
            return None
        return r.json()

    master = os.path.join(env.data, "keys", "master.key")
    before = open(master, "rb").read()
    ok(env.kho("keys", "rotate"))
    assert open(master, "rb").read() != before, "the master key did not change"
    j = rows(srv, ds_old, "after kho keys rotate")
    if j and j["rows"] != expected_rows(ds_old, False):
        bad.append(f"after kho keys rotate: {j['rows']}")
    ok(env.kho("keys", "rotate", "--data-key"))
    fresh = personal_rows(77)
    f = env.write("rotated.csv", personal_csv(fresh))
    ok(env.kho("import", f, "--dataset", "sx-rot-cli", "--sharing", "private", "--importance", "important",
               "--org", ORG))
    assert fresh[0]["so_dinh_danh_ca_nhan"].encode() not in db_bytes(env.data), "not encrypted"
    _state["rows"]["sx-rot-cli"] = fresh
    j = rows(srv, "sx-rot-cli", "data encrypted with the new data key, read by the running server")
    if j and j["rows"] != expected_rows("sx-rot-cli", False):
        bad.append(f"sx-rot-cli through the running server: {j['rows']}")
    r = call(srv, "POST", f"/api/v1/datasets/sx-rot-http/versions?sharing=private&importance=important&org={ORG}",
             key=env.admin_key, body=personal_csv(fresh), ctype="text/csv")
    if r.status != 201:
        bad.append(f"an upload of personal, important data to the running server after the rotation: "
                   f"{r.status} {r.text[:200]}")
    j = rows(srv, ds_old, "data of before the rotations, through the running server")
    if j and j["rows"] != expected_rows(ds_old, False):
        bad.append(f"{ds_old} after both rotations: {j['rows']}")
    p = env.kho("export", "sx-rot-cli", "--format", "csv", "--pii")
    if p.returncode != 0 or fresh[0]["so_dien_thoai"] not in p.stdout:
        bad.append(f"kho export --pii after the rotation: exit {p.returncode} {p.stderr[-200:]}")
    srv.stop()
    # a server started after the rotations reads and writes everything (the data is sound)
    again = env.server()
    for ds in (ds_old, "sx-rot-cli"):
        j = rows(again, ds, "a server started after the rotations")
        if j and j["rows"] != expected_rows(ds, False):
            bad.append(f"{ds} through a new server: {j['rows']}")
    r = call(again, "POST", f"/api/v1/datasets/sx-rot-http2/versions?sharing=private&importance=important&org={ORG}",
             key=env.admin_key, body=personal_csv(fresh), ctype="text/csv")
    if r.status != 201:
        bad.append(f"an upload to a server started after the rotations: {r.status} {r.text[:200]}")
    again.stop()
    assert not bad, "\n".join(bad)
