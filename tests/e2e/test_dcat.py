"""DCAT-AP in JSON-LD: /catalog.jsonld and /api/v1/datasets/{id}.jsonld.

The documents are checked as JSON (fields against the REST API, every URL they give answers) and, with
rdflib (python3-rdflib, scripts/deps.sh test), as RDF: the triples a DCAT harvester reads.
"""
import json
import os
import sys

HSDVC = "ho-so-dich-vu-cong"
DNDK = "doanh-nghiep-dang-ky-moi"
CSKT = "chi-so-kinh-te-xa-hoi"
TCXH = "doi-tuong-tro-cap-xa-hoi"

_state = {}


def setup(env):
    if "srv" not in _state:
        env.init()
        _state["analyst"] = env.add_user("dc-analyst", "analyst")
        _state["srv"] = env.server()
    return _state["srv"]


def rdflib():
    try:
        import rdflib as r
        return r
    except ImportError:
        deb = "/usr/lib/python3/dist-packages"  # python3-rdflib from Debian, under another interpreter
        if os.path.isdir(os.path.join(deb, "rdflib")) and deb not in sys.path:
            sys.path.append(deb)
            try:
                import rdflib as r
                return r
            except ImportError:
                pass
    return None


def get_ld(srv, path, key=None, headers=None, status=200):
    h = dict(headers or {})
    if key:
        h["Authorization"] = "Bearer " + key
    r = srv.request("GET", path, headers=h)
    assert r.status == status, (path, r.status, r.body[:300])
    if status == 200:
        assert r.header("content-type") == "application/ld+json; charset=utf-8", r.headers
    return r


def rest(srv, path, key=None):
    r = srv.get(path, headers={"Authorization": "Bearer " + key} if key else None)
    assert r.status == 200, (path, r)
    return r.json()


def local(srv, url):
    assert url.startswith(srv.url + "/"), url
    return url[len(srv.url):]


def test_dataset_jsonld_fields_and_links(env):
    srv = setup(env)
    meta = rest(srv, f"/api/v1/datasets/{HSDVC}")
    d = get_ld(srv, f"/api/v1/datasets/{HSDVC}.jsonld").json()
    ctx = d["@context"]
    assert {"dcat", "dct", "foaf", "vcard", "xsd"} <= set(ctx) and ctx["dcat"] == "http://www.w3.org/ns/dcat#"
    assert d["@type"] == "dcat:Dataset" and d["@id"] == f"{srv.url}/api/v1/datasets/{HSDVC}"
    assert d["dct:identifier"] == HSDVC
    assert d["dct:title"] == {"@value": meta["title"], "@language": "vi"}
    assert d["dct:description"]["@value"] == meta["description"]
    assert d["dct:publisher"]["@type"] == "foaf:Agent" and d["dct:publisher"]["foaf:name"]["@value"] == meta["publisher"]
    assert d["dcat:contactPoint"]["vcard:fn"]["@value"] == meta["organisation"]["name"]
    assert d["dct:license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}
    assert d["dct:accessRights"]["@id"].endswith("/access-right/PUBLIC")
    assert [k["@value"] for k in d["dcat:keyword"]] == meta["tags"]
    t = d["dct:temporal"]
    assert t["@type"] == "dct:PeriodOfTime"
    assert t["dcat:startDate"] == {"@value": meta["temporal"]["start"], "@type": "xsd:date"}
    assert t["dcat:endDate"]["@value"] == meta["temporal"]["end"]
    (place,) = d["dct:spatial"]
    assert place["@id"] == f"{srv.url}/api/v1/units/33" and place["dct:identifier"] == "33"
    unit = rest(srv, local(srv, place["@id"]))
    assert place["rdfs:label"]["@value"] == unit["name"] == "Tỉnh Hưng Yên"
    assert d["dct:issued"] == {"@value": meta["created_at"], "@type": "xsd:dateTime"}
    assert d["dct:modified"]["@value"] == meta["updated_at"]
    assert d["dcat:landingPage"]["@id"] == f"{srv.url}/datasets/{HSDVC}"
    page = srv.get(local(srv, d["dcat:landingPage"]["@id"]))
    assert page.status == 200 and page.header("content-type").startswith("text/html")
    assert d["kho:sharing"] == "open" and d["kho:importance"] == "other" and d["kho:synthetic"] is True
    dist = {x["dct:title"]: x for x in d["dcat:distribution"]}
    assert set(dist) == {"CSV", "NDJSON", "JSON"}
    for fmt, media in (("CSV", "text/csv"), ("NDJSON", "application/x-ndjson"), ("JSON", "application/json")):
        x = dist[fmt]
        assert x["@type"] == "dcat:Distribution"
        assert x["dcat:mediaType"]["@id"] == f"http://www.iana.org/assignments/media-types/{media}"
        url = x["dcat:accessURL"]["@id"]
        assert url == f"{srv.url}/api/v1/datasets/{HSDVC}/rows?_format={fmt.lower()}"
        assert ("dcat:downloadURL" in x) is (fmt != "JSON")
        r = srv.get(local(srv, url))
        assert r.status == 200 and r.header("content-type").startswith(media), (fmt, r.headers)
        if fmt == "CSV":
            assert r.text.count("\r\n") == meta["row_count"] + 1
        if fmt == "NDJSON":
            assert len(r.text.splitlines()) == meta["row_count"]


def test_catalogue_lists_what_the_caller_may_read(env):
    srv = setup(env)
    for who, key in (("anonymous", None), ("analyst", _state["analyst"]), ("admin", env.admin_key)):
        cat = get_ld(srv, "/catalog.jsonld", key=key).json()
        assert cat["@type"] == "dcat:Catalog" and cat["@id"] == f"{srv.url}/catalog.jsonld"
        assert {"dcat", "dct", "foaf", "vcard", "xsd"} <= set(cat["@context"])
        want = sorted(x["id"] for x in rest(srv, "/api/v1/datasets", key)["datasets"])
        got = sorted(x["dct:identifier"] for x in cat["dcat:dataset"])
        assert got == want, (who, got, want)
        assert (TCXH in got) is (who == "admin"), who
        for x in cat["dcat:dataset"]:  # each entry is the dataset's own document
            one = get_ld(srv, local(srv, x["@id"]) + ".jsonld", key=key).json()
            one.pop("@context")
            assert one == x, x["@id"]
    private = get_ld(srv, f"/api/v1/datasets/{TCXH}.jsonld", key=env.admin_key).json()
    assert private["dct:accessRights"]["@id"].endswith("/NON_PUBLIC") and private["kho:sharing"] == "private"
    # a dataset the caller may not read is exactly as one that does not exist
    a = get_ld(srv, f"/api/v1/datasets/{TCXH}.jsonld", status=404).json()
    b = get_ld(srv, "/api/v1/datasets/khong-co.jsonld", status=404).json()
    assert a["error"]["code"] == b["error"]["code"] and a["error"]["message"].replace(TCXH, "X") == \
        b["error"]["message"].replace("khong-co", "X")
    for path, status in ((f"/api/v1/datasets/{HSDVC}.jsonld?x=1", 400), ("/catalog.jsonld?x=1", 400),
                         ("/api/v1/datasets/.jsonld", 404), (f"/api/v1/datasets/{HSDVC}.json", 404),
                         (f"/api/v1/datasets/{'a' * 300}.jsonld", 404)):
        r = srv.get(path)
        assert r.status == status and r.json()["error"], (path, r)
    assert srv.get(f"/api/v1/datasets/{HSDVC}").json()["id"] == HSDVC  # the plain route is unchanged


def test_jsonld_parses_as_rdf_with_the_expected_triples(env):
    srv = setup(env)
    rl = rdflib()
    if rl is None:
        print("# python3-rdflib is not installed (scripts/deps.sh test): the RDF checks are skipped")
        return
    from rdflib import Literal, Namespace, URIRef
    from rdflib.namespace import RDF, XSD
    DCAT, DCT, FOAF = Namespace("http://www.w3.org/ns/dcat#"), Namespace("http://purl.org/dc/terms/"), \
        Namespace("http://xmlns.com/foaf/0.1/")
    KHO = Namespace("urn:kho:vocab#")
    body = get_ld(srv, "/catalog.jsonld").body
    g = rl.Graph().parse(data=body, format="json-ld")
    cat = URIRef(f"{srv.url}/catalog.jsonld")
    assert (cat, RDF.type, DCAT.Catalog) in g
    listed = sorted(str(o) for o in g.objects(cat, DCAT.dataset))
    datasets = sorted(str(s) for s in g.subjects(RDF.type, DCAT.Dataset))
    assert listed == datasets == sorted(f"{srv.url}/api/v1/datasets/{x}" for x in (CSKT, DNDK, HSDVC)), listed
    meta = rest(srv, f"/api/v1/datasets/{HSDVC}")
    ds = URIRef(f"{srv.url}/api/v1/datasets/{HSDVC}")
    assert (ds, DCT.title, Literal(meta["title"], lang="vi")) in g
    assert (ds, DCT.identifier, Literal(HSDVC)) in g
    assert {str(k) for k in g.objects(ds, DCAT.keyword)} == set(meta["tags"])
    assert (ds, DCAT.landingPage, URIRef(f"{srv.url}/datasets/{HSDVC}")) in g
    assert (ds, DCT.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in g
    assert (ds, DCT.spatial, URIRef(f"{srv.url}/api/v1/units/33")) in g
    assert (ds, DCT.modified, Literal(meta["updated_at"], datatype=XSD.dateTime)) in g
    assert (ds, KHO.sharing, Literal("open")) in g
    (pub,) = list(g.objects(ds, DCT.publisher))
    assert (pub, RDF.type, FOAF.Agent) in g and str(g.value(pub, FOAF.name)) == meta["publisher"]
    (period,) = list(g.objects(ds, DCT.temporal))
    assert (period, RDF.type, DCT.PeriodOfTime) in g
    assert g.value(period, DCAT.startDate) == Literal(meta["temporal"]["start"], datatype=XSD.date)
    dists = list(g.objects(ds, DCAT.distribution))
    assert len(dists) == 3
    downloads = {str(u) for d in dists for u in g.objects(d, DCAT.downloadURL)}
    assert downloads == {f"{srv.url}/api/v1/datasets/{HSDVC}/rows?_format=csv",
                         f"{srv.url}/api/v1/datasets/{HSDVC}/rows?_format=ndjson"}
    media = {str(u) for d in dists for u in g.objects(d, DCAT.mediaType)}
    assert "http://www.iana.org/assignments/media-types/text/csv" in media
    one = rl.Graph().parse(data=get_ld(srv, f"/api/v1/datasets/{HSDVC}.jsonld").body, format="json-ld")
    named = lambda graph: {t for t in graph if not any(isinstance(x, rl.BNode) for x in t)}
    assert len(named(one)) > 20 and named(one) <= named(g)  # the dataset's own document says the same
    # the indicators' source dataset is in the catalogue as any other open dataset
    cs = URIRef(f"{srv.url}/api/v1/datasets/{CSKT}")
    assert (cs, DCT.identifier, Literal(CSKT)) in g and (cs, KHO.sharing, Literal("open")) in g
    assert {str(k) for k in g.objects(cs, DCAT.keyword)} == {"Hưng Yên", "chỉ số", "kinh tế – xã hội", "thống kê"}


def test_urls_follow_the_request_host_and_a_trusted_proxy(env):
    srv = setup(env)
    d = get_ld(srv, f"/api/v1/datasets/{HSDVC}.jsonld", headers={"Host": "du-lieu.hungyen.example"}).json()
    assert d["@id"] == f"http://du-lieu.hungyen.example/api/v1/datasets/{HSDVC}"
    assert all(x["dcat:accessURL"]["@id"].startswith("http://du-lieu.hungyen.example/") for x in d["dcat:distribution"])
    # X-Forwarded-Proto counts only with trust_proxy = on
    d = get_ld(srv, "/catalog.jsonld", headers={"X-Forwarded-Proto": "https"}).json()
    assert d["@id"].startswith("http://")
    proxied = env.server(extra_env={"KHO_TRUST_PROXY": "on"})
    d = get_ld(proxied, "/catalog.jsonld", headers={"X-Forwarded-Proto": "https", "Host": "du-lieu.example.vn"}).json()
    assert d["@id"] == "https://du-lieu.example.vn/catalog.jsonld"
    assert all(x["@id"].startswith("https://du-lieu.example.vn/") for x in d["dcat:dataset"])
    r = proxied.request("GET", "/api/3/action/package_show?id=" + HSDVC,
                        headers={"X-Forwarded-Proto": "https", "Host": "du-lieu.example.vn"})
    res = json.loads(r.body)["result"]["resources"][0]
    assert res["url"] == f"https://du-lieu.example.vn/api/v1/datasets/{HSDVC}/rows?_format=csv"
    proxied.stop()
