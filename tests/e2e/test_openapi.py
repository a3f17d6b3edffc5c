"""The OpenAPI document (/api/v1/openapi.json, from web/openapi.json) stays in step with the router:
every route of the route table (GET /api/v1 lists it) is documented, and every documented path is one
the router serves. Also: the document is well formed (OpenAPI 3.1, unique operation ids, every $ref
resolves, path parameters match the templates), its examples work against the demo data, and the /api
page is served.
"""
import json
import os
import re
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = ("get", "post", "put", "patch", "delete")

_state = {}


def setup(env):
    if "srv" not in _state:
        env.init()
        _state["srv"] = env.server()
        r = _state["srv"].get("/api/v1/openapi.json")
        assert r.status == 200 and r.header("content-type") == "application/json; charset=utf-8", r
        _state["doc"] = r.json()
        _state["raw"] = r.body
    return _state["srv"], _state["doc"]


def segments(path):
    return [s for s in path.split("/") if s]


def normal(path):
    """A path pattern with every placeholder ({x}, and the router's final *) as {}."""
    return "/" + "/".join("{}" if re.fullmatch(r"\{[^}]+\}|\*", s) else s for s in segments(path))


def router_serves(pattern, path):
    """The router's own matching (api/router.c): literal segments, {x} one segment, a final * one or more."""
    p, s = segments(pattern), segments(path)
    for i, seg in enumerate(p):
        if seg == "*":
            return len(s) > i
        if i >= len(s):
            return False
        if not seg.startswith("{") and seg != s[i]:
            return False
    return len(p) == len(s)


def test_every_route_is_documented_and_nothing_else(env):
    srv, doc = setup(env)
    routes = srv.get("/api/v1").json()["endpoints"]
    assert len(routes) > 40
    documented = {(m.upper(), normal(p)) for p, item in doc["paths"].items() for m in item if m in METHODS}
    missing = [(r["method"], r["path"]) for r in routes if (r["method"], normal(r["path"])) not in documented]
    assert not missing, f"routes missing from web/openapi.json: {missing}"
    for path, item in doc["paths"].items():
        for m in item:
            if m not in METHODS:
                continue
            served = [r for r in routes if r["method"] == m.upper() and router_serves(r["path"], path)]
            assert served, f"web/openapi.json documents {m.upper()} {path}, which no route serves"


def test_the_document_is_well_formed(env):
    srv, doc = setup(env)
    assert doc["openapi"].startswith("3.1") and doc["info"]["title"] and doc["info"]["version"]
    with open(os.path.join(HERE, "..", "..", "web", "openapi.json"), "rb") as f:
        assert f.read() == _state["raw"], "the server serves web/openapi.json as it is in the tree"
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerKey"]["scheme"] == "bearer" and schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["csrfHeader"] == {**schemes["csrfHeader"], "in": "header", "name": "X-CSRF-Token"}
    assert "Error" in doc["components"]["schemas"]

    def resolve(ref):
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, f"$ref {ref} does not resolve"
            node = node[part]
        return node

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    ids = []
    tags = {t["name"] for t in doc["tags"]}
    for path, item in doc["paths"].items():
        placeholders = set(re.findall(r"\{([^}]+)\}", path))
        for m, op in item.items():
            if m not in METHODS:
                continue
            ids.append(op["operationId"])
            assert op["summary"] and op["x-summary-vi"] and op["responses"], (m, path)
            assert set(op["tags"]) <= tags, (m, path, op["tags"])
            params = [resolve(p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == placeholders, (m, path, in_path, placeholders)
            assert all(p["required"] for p in params if p["in"] == "path")
            for code, resp in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", code), (m, path, code)
                resp = resolve(resp["$ref"]) if "$ref" in resp else resp
                assert resp["description"], (m, path, code)
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    # the rows endpoint with every parameter it takes
    rows = doc["paths"]["/api/v1/datasets/{id}/rows"]["get"]
    names = {p["name"] for p in rows["parameters"]}
    assert {"q", "_sort", "_fields", "_limit", "_after", "_offset", "_count", "_facet", "_format", "version"} <= names


def example_url(path, op, doc):
    params = [doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
              for p in op.get("parameters", [])]
    for p in params:
        if p["in"] == "path":
            if "example" not in p:
                return None
            path = path.replace("{%s}" % p["name"], urllib.parse.quote(str(p["example"]), safe=""))
    if any(p["in"] == "query" and p.get("required") and "example" not in p for p in params):
        return None
    required = {p["name"]: p["example"] for p in params if p["in"] == "query" and p.get("required")}
    if required:
        path += "?" + urllib.parse.urlencode(required)
    query = {p["name"]: p["example"] for p in params
             if p["in"] == "query" and "example" in p and not isinstance(p["example"], dict) and not p.get("required")}
    return path, query


def test_the_examples_work(env):
    srv, doc = setup(env)
    tried = 0
    for path, item in doc["paths"].items():
        op = item.get("get")
        if not op or op.get("security") not in (None, [{}]) or "{tile}" in path:
            continue
        ex = example_url(path, op, doc)
        if not ex:
            continue
        url, query = ex
        r = srv.get(url)
        assert r.status == 200, (url, r.status, r.body[:200])
        for name, value in query.items():  # each example parameter alone
            if url.startswith("/api/3/") and name not in ("id", "q", "resource_id", "sort", "fq", "facet.field",
                                                           "filters", "sql"):
                continue
            r = srv.get(url + ("&" if "?" in url else "?") + urllib.parse.urlencode({name: value}))
            if url.startswith("/api/3/"):
                assert r.status in (200, 409, 404), (url, name, r.status, r.body[:200])
            else:
                assert r.status == 200, (url, name, r.status, r.body[:200])
        tried += 1
    assert tried >= 15, tried
    # the CKAN examples, each with its action
    for action, params in (("datastore_search", {"resource_id": "ho-so-dich-vu-cong", "filters": '{"ma_xa": ["11953", "12031"]}'}),
                           ("datastore_search_sql", {"sql": 'SELECT count(*) FROM "ho-so-dich-vu-cong"'}),
                           ("package_search", {"q": "dich vu", "facet.field": '["organization","tags"]'})):
        r = srv.get(f"/api/3/action/{action}?" + urllib.parse.urlencode(params))
        assert r.status == 200 and r.json()["success"] is True, (action, r.body[:300])


def test_the_api_page(env):
    srv, doc = setup(env)
    page = srv.get("/api", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status == 200 and page.header("content-type").startswith("text/html")
    assert page.body == srv.get("/").body  # the portal's shell; its script draws the page
    entry = srv.get("/api")  # a client that is not a browser: where the API is
    assert entry.header("content-type") == "application/json; charset=utf-8" and "Accept" in entry.header("vary")
    for key, path in entry.json().items():
        if key != "name":
            assert srv.get(path).status == 200, (key, path)
    app = srv.get("/static/app.js").text
    m = re.search(r'"\./(apidocs\.[0-9a-f]{16}\.js)"', app)
    assert m, "app.js imports the API page's module by its hashed name"
    js = srv.get("/static/" + m.group(1))
    assert js.status == 200 and "/api/v1/openapi.json" in js.text
    r = srv.request("GET", "/api/v1/openapi.json", headers={"If-None-Match": srv.get("/api/v1/openapi.json").header("etag")})
    assert r.status == 304
    assert srv.get("/api/v1/openapi.json?x=1").status == 400
