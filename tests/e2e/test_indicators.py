"""Socio-economic indicators over HTTP and the command line (apps/indicators/indicators.h,
api/h_indicators.h, cli/cmd_indicators.h) against the demo dataset chi-so-kinh-te-xa-hoi.

The references are independent of kho's code: the RAW reports of the demo dataset
(read once through the SQL sandbox, cross-checked with the rows endpoint) and the
official tables shipped in data/units (conversion-2025-07.csv, communes-before-2025-07.csv,
communes.csv). From them the tests recompute what indicators.h promises:

    new commune = sum of w * old commune, w = 1 for an old commune that went whole into
                  it and 1/k for one split between k new communes (or its loaded weight);
    ratio, rate = scale * num / den from the converted parts, never an average;
    province    = sum of its 104 communes; old district = sum of its old communes;
    2025 values are the reports themselves (not converted).

One server serves the whole module; CLI commands (weights, targets, catalogue, source)
run against its data directory while it runs (SQLite WAL). Uploads of new versions of
the demo dataset go through the ingest hook: a version with bad reports is refused whole.
"""
import collections
import csv
import io
import json
import os
import sqlite3
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
UNITS = os.path.join(ROOT, "data", "units")
CATALOGUE = os.path.join(ROOT, "data", "indicators", "catalogue.json")
DS = "chi-so-kinh-te-xa-hoi"
OWNER_ORG = "so-tai-chinh"
PARTIAL = ("11992", "11995", "12004", "11983", "12322")  # new communes with a split predecessor
WHOLE = "12031"  # Xã Nghĩa Trụ = Nghĩa Trụ + Long Hưng + Vĩnh Khúc, all whole
SAMPLE = (WHOLE,) + PARTIAL
OLD_YEARS = [str(y) for y in range(2015, 2025)]
YEARS = OLD_YEARS + ["2025"]
TYPES = "type=" + urllib.parse.quote("unit_code=text", safe="") + "&type=" + urllib.parse.quote("period=text", safe="")

_state = {}


# ---- helpers ---------------------------------------------------------------------------------


def q(s):
    return urllib.parse.quote(s, safe="")


def call(srv, method, path, key=None, body=None, ctype=None):
    h = {}
    if key:
        h["Authorization"] = "Bearer " + key
    if ctype:
        h["Content-Type"] = ctype
    if isinstance(body, str):
        body = body.encode("utf-8")
    return srv.request(method, path, body=body, headers=h)


def jget(srv, path, status=200, key=None):
    r = call(srv, "GET", path, key=key)
    assert r.status == status, (path, r)
    assert r.header("Content-Type") == "application/json; charset=utf-8", (path, r.headers)
    return r.json()


def err(r):
    try:
        return r.json()["error"]
    except (ValueError, KeyError, TypeError):
        return {}


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout[-1500:]}\nstderr: {p.stderr[-1500:]}"
    return p


def close(got, want, tol=1e-3):
    return abs(got - want) <= tol + 1e-9 * abs(want)


def catalogue():
    with open(CATALOGUE, encoding="utf-8") as f:
        return json.load(f)


def defs():
    return {d["code"]: d for d in catalogue()["indicators"]}


def commune_additive():
    """The commune-level additive indicators of the demo dataset (the traceability ones, reported by
    the ledger for its harvest years only, are tested in test_trace.py)."""
    return [d["code"] for d in catalogue()["indicators"] if d["kind"] == "additive" and d["level"] == "commune"
            and d.get("source_dataset", DS) == DS]


def read_csv(name):
    with open(os.path.join(UNITS, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def conversion():
    """preds[new] = [(old, whole)], k[old] = conversion rows of old, names[old] (old commune names)."""
    if "conv" not in _state:
        rows = read_csv("conversion-2025-07.csv")
        k = collections.Counter(r["old_code"] for r in rows)
        preds, names = collections.defaultdict(list), {}
        for r in rows:
            if r["new_province_code"] == "33":
                preds[r["new_code"]].append(r["old_code"])
                names[r["old_code"]] = r["old_name"]
        _state["conv"] = (dict(preds), k, names)
    return _state["conv"]


def shares(new, weights=None):
    """[(old, w)] of a new commune of province 33."""
    preds, k, _ = conversion()
    out = []
    for old in preds[new]:
        w = (weights or {}).get((old, new))
        out.append((old, w if w is not None else 1.0 / k[old]))
    return out


def srv_of(env):
    if "srv" not in _state:
        env.init()
        _state["srv"] = env.server()
    return _state["srv"]


def raw(env):
    """Every report of the demo dataset as {(indicator, unit_code, period): value}, read through
    the SQL sandbox (CSV), before any test changes the dataset."""
    if "raw" not in _state:
        srv = srv_of(env)
        sql = "SELECT indicator, unit_code, period, value FROM chi_so_kinh_te_xa_hoi ORDER BY _row"
        r = call(srv, "GET", "/api/v1/sql?_format=csv&q=" + q(sql))
        assert r.status == 200, r
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["indicator", "unit_code", "period", "value"], rows[0]
        out = {(a, b, c): float(d) for a, b, c, d in rows[1:]}
        assert len(out) == len(rows) - 1 > 40000, len(rows)
        _state["raw"] = out
        _state["raw_csv"] = r.text
    return _state["raw"]


def converted(env, ind, new, period, weights=None):
    R = raw(env)
    return sum(w * R[(ind, old, period)] for old, w in shares(new, weights))


def values(srv, ind, query="", key=None):
    return jget(srv, f"/api/v1/indicators/{ind}/values" + (("?" + query) if query else ""), key=key)


def by_unit_period(j):
    return {(v["unit"], v["period"]): v for v in j["values"]}


def db_values(env):
    """Every computed value and the catalogue's sources, read from the database itself."""
    con = sqlite3.connect(f"file:{os.path.join(env.data, 'kho.db')}?mode=ro", uri=True)
    try:
        vals = con.execute("SELECT indicator, level, unit_code, period, value, converted, method, source_dataset,"
                           " source_version FROM ind_values ORDER BY 1, 2, 3, 4").fetchall()
        srcs = con.execute("SELECT code, sources FROM ind_catalogue ORDER BY code").fetchall()
        return vals, srcs
    finally:
        con.close()


def steward(env):
    if "steward" not in _state:
        _state["steward"] = env.add_user("ind-steward", "steward", OWNER_ORG)
    return _state["steward"]


def upload(srv, key, body, ds=DS, extra=""):
    return call(srv, "POST", f"/api/v1/datasets/{ds}/versions?{TYPES}{extra}", key=key, body=body, ctype="text/csv")


def current_version(srv, ds=DS, key=None):
    return jget(srv, f"/api/v1/datasets/{ds}/versions", key=key)["current_version"]


def status_by_rule(t):
    """A target's status as indicators.c states the rule, from the numbers it returned."""
    inc = t["direction"] == "increase"
    if t["latest"]["period"] == t["period"]:
        met = t["latest"]["value"] >= t["target"] if inc else t["latest"]["value"] <= t["target"]
        return "achieved" if met else "missed"
    f = t["forecast"]
    if inc:
        return "on_track" if f["value"] >= t["target"] else "at_risk" if f["hi80"] >= t["target"] else "off_track"
    return "on_track" if f["value"] <= t["target"] else "at_risk" if f["lo80"] <= t["target"] else "off_track"


# ---- the catalogue ---------------------------------------------------------------------------


def test_catalogue_list_and_definition(env):
    srv = srv_of(env)
    cat = catalogue()["indicators"]
    j = jget(srv, "/api/v1/indicators")
    assert j["count"] == len(cat) == len(j["indicators"]), j["count"]
    assert [d["code"] for d in j["indicators"]] == [d["code"] for d in cat]
    for got, want in zip(j["indicators"], cat):
        for k in ("name", "name_en", "unit_of_measure", "kind", "level"):
            assert got[k] == want[k], (want["code"], k, got[k], want[k])
        assert got["frequency"] == want.get("frequency", "year"), got
        assert got["higher_is_better"] == want.get("higher_is_better", True), got
        if want["kind"] in ("ratio", "rate"):
            assert (got["numerator"], got["denominator"], got["scale"]) == (
                want["numerator"], want["denominator"], want["scale"]), got
            assert "không lấy trung bình" in got["aggregation"], got
        else:
            assert "numerator" not in got, got
    # one definition: coverage (every unit of every level and period), sources, synthetic
    old = {r["code"]: r for r in read_csv("communes-before-2025-07.csv")}
    preds, _, _ = conversion()
    districts = {old[o]["district_code"] for ps in preds.values() for o in ps}
    d = jget(srv, "/api/v1/indicators/dan_so")
    cov = d["coverage"]
    assert cov["commune"] == {"units": 104, "values": 104 * 11, "converted": 104 * 10, "from": "2015", "to": "2025"}, cov
    assert cov["province"] == {"units": 1, "values": 11, "converted": 10, "from": "2015", "to": "2025"}, cov
    assert cov["district-before-2025"] == {"units": len(districts), "values": 10 * len(districts), "converted": 0,
                                           "from": "2015", "to": "2024"}, cov
    assert d["sources"] == [{"dataset": DS, "version": 1}], d["sources"]
    assert d["synthetic"] is True, d
    r = jget(srv, "/api/v1/indicators/ty_le_ho_ngheo")
    assert (r["kind"], r["numerator"], r["denominator"], r["scale"]) == ("rate", "so_ho_ngheo", "tong_so_ho", 100), r
    assert r["sources"] == [{"dataset": DS, "version": 1}] and r["synthetic"] is True, r
    assert r["coverage"]["commune"]["units"] == 104 and r["coverage"]["province"]["values"] == 11, r["coverage"]
    g = jget(srv, "/api/v1/indicators/grdp")
    assert g["level"] == "province" and "commune" not in g["coverage"], g["coverage"]
    assert g["coverage"]["province"]["converted"] == 10, g["coverage"]


# ---- conversion against the raw reports -------------------------------------------------------


def test_raw_reports_agree_with_the_rows_endpoint(env):
    srv = srv_of(env)
    R = raw(env)
    for ind, unit, per in [("dan_so", "11989", "2020"), ("so_ho_ngheo", "12004", "2017"), ("grdp", "34", "2019"),
                           ("dan_so", "11992", "2025")]:
        j = jget(srv, f"/api/v1/datasets/{DS}/rows?indicator={ind}&unit_code={unit}&period={per}")
        assert len(j["rows"]) == 1, j
        assert j["rows"][0]["value"] == R[(ind, unit, per)], (j, R[(ind, unit, per)])


def test_conversion_whole_and_split_communes(env):
    srv = srv_of(env)
    R = raw(env)
    _, k, names = conversion()
    # the split communes of the brief: each of 11989, 12004, 12322 went into two new communes
    assert (k["11989"], k["12004"], k["12322"]) == (2, 2, 2)
    # by hand, for one case: 11992 Xã Lạc Đạo = 1/2 Lạc Đạo (11989) + Chỉ Đạo (11992) + Minh Hải (12007)
    want = 0.5 * R[("dan_so", "11989", "2020")] + R[("dan_so", "11992", "2020")] + R[("dan_so", "12007", "2020")]
    v = by_unit_period(values(srv, "dan_so", "unit=11992&period=2020"))[("11992", "2020")]
    assert close(v["value"], want) and v["converted"] is True, (v, want)
    bad = []
    for ind in commune_additive():
        got = by_unit_period(values(srv, ind, "unit=" + ",".join(SAMPLE)))
        for new in SAMPLE:
            assert sorted(p for u, p in got if u == new) == YEARS, (ind, new, sorted(got))
            for per in OLD_YEARS:
                v = got[(new, per)]
                want = converted(env, ind, new, per)
                if not close(v["value"], want):
                    bad.append(f"{ind} {new} {per}: {v['value']} != {want}")
                if v["converted"] is not True:
                    bad.append(f"{ind} {new} {per}: not marked converted")
                m = v["method"]
                for old, w in shares(new):
                    if names[old] not in m:
                        bad.append(f"{ind} {new} {per}: method does not name {old} {names[old]}: {m}")
                    if w < 1 and f"1/{k[old]} × {names[old]} (chia đều)" not in m:
                        bad.append(f"{ind} {new} {per}: method does not mention the split of {old}: {m}")
                if new == WHOLE and "×" in m:
                    bad.append(f"{ind} {new} {per}: a whole merge is described as a split: {m}")
            # 2025 is reported against today's units: not converted, the report itself
            v = got[(new, "2025")]
            if v["converted"] is not False or v["method"] != "" or not close(v["value"], R[(ind, new, "2025")], 1e-9):
                bad.append(f"{ind} {new} 2025: {v} (report {R[(ind, new, '2025')]})")
    assert not bad, "\n".join(bad[:20])


def test_every_commune_of_2020_converted(env):
    """All 104 communes, one year: additive values and the poverty rate, from the raw reports."""
    srv = srv_of(env)
    R = raw(env)
    preds, _, _ = conversion()
    assert len(preds) == 104
    bad = []
    for ind in ("dan_so", "so_ho_ngheo", "tong_so_ho"):
        got = by_unit_period(values(srv, ind, "unit=33&level=commune&period=2020"))
        assert len(got) == 104, (ind, len(got))
        for new in preds:
            if not close(got[(new, "2020")]["value"], converted(env, ind, new, "2020")):
                bad.append(f"{ind} {new}: {got[(new, '2020')]['value']} != {converted(env, ind, new, '2020')}")
    rate = by_unit_period(values(srv, "ty_le_ho_ngheo", "unit=33&level=commune&period=2020"))
    for new in preds:
        want = 100 * converted(env, "so_ho_ngheo", new, "2020") / converted(env, "tong_so_ho", new, "2020")
        if not close(rate[(new, "2020")]["value"], want, 1e-4):
            bad.append(f"ty_le_ho_ngheo {new}: {rate[(new, '2020')]['value']} != {want}")
    assert not bad, "\n".join(bad[:20])
    assert R[("dan_so", "11992", "2025")] > 0


def test_rates_are_recomputed_not_averaged(env):
    srv = srv_of(env)
    R = raw(env)
    preds, _, _ = conversion()
    got = by_unit_period(values(srv, "ty_le_ho_ngheo", "unit=33&level=commune"))
    assert len(got) == 104 * 11, len(got)
    bad, differs = [], []
    for new in preds:
        for per in YEARS:
            v = got[(new, per)]
            if per == "2025":
                want = 100 * R[("so_ho_ngheo", new, per)] / R[("tong_so_ho", new, per)]
            else:
                want = 100 * converted(env, "so_ho_ngheo", new, per) / converted(env, "tong_so_ho", new, per)
                olds = [o for o, _ in shares(new)]
                mean = sum(100 * R[("so_ho_ngheo", o, per)] / R[("tong_so_ho", o, per)] for o in olds) / len(olds)
                if len(olds) > 1 and abs(want - mean) > 0.05:
                    differs.append((new, per, want, mean))
                    if not abs(v["value"] - mean) > 0.04:
                        bad.append(f"{new} {per}: {v['value']} is the mean of the old rates {mean}")
                if v["converted"] is not True or "100 × so_ho_ngheo / tong_so_ho" not in v["method"]:
                    bad.append(f"{new} {per}: {v}")
            if not close(v["value"], want, 1e-4):
                bad.append(f"{new} {per}: {v['value']} != 100 × Σ so_ho_ngheo / Σ tong_so_ho = {want}")
    assert differs, "no merged commune whose rate differs from the mean of its old rates: the check is void"
    assert not bad, "\n".join(bad[:20])
    # a ratio with scale 1: mật độ dân số = dân số / diện tích, of the converted parts
    dens = by_unit_period(values(srv, "mat_do_dan_so", "unit=" + ",".join(SAMPLE) + "&period=2018"))
    for new in SAMPLE:
        want = converted(env, "dan_so", new, "2018") / converted(env, "dien_tich", new, "2018")
        assert close(dens[(new, "2018")]["value"], want, 1e-4), (new, dens[(new, "2018")], want)


# ---- provinces, old codes ---------------------------------------------------------------------


def test_province_totals_and_ratios(env):
    srv = srv_of(env)
    R = raw(env)
    prov = {}
    for ind in commune_additive():
        communes = values(srv, ind, "unit=33&level=commune")
        p = by_unit_period(values(srv, ind, "unit=33"))
        assert sorted(per for _, per in p) == YEARS, (ind, sorted(p))
        for per in YEARS:
            s = sum(v["value"] for v in communes["values"] if v["period"] == per)
            n = sum(1 for v in communes["values"] if v["period"] == per)
            assert n == 104 and close(p[("33", per)]["value"], s, 0.01), (ind, per, p[("33", per)], s, n)
            assert p[("33", per)]["converted"] == (per != "2025"), (ind, per, p[("33", per)])
            assert "104" in p[("33", per)]["method"], p[("33", per)]
        prov[ind] = {per: p[("33", per)]["value"] for per in YEARS}
    # 2025: the sum of the reports themselves
    new_communes = {r["code"] for r in read_csv("communes.csv") if r["province_code"] == "33"}
    assert len(new_communes) == 104
    assert close(prov["dan_so"]["2025"], sum(R[("dan_so", c, "2025")] for c in new_communes))
    # province indicators: old Hưng Yên (33) + old Thái Bình (34) before 2025
    for ind in ("grdp", "gia_tri_kinh_te_so", "thu_ngan_sach"):
        p = by_unit_period(values(srv, ind, "unit=33"))
        for per in OLD_YEARS:
            want = R[(ind, "33", per)] + R[(ind, "34", per)]
            assert close(p[("33", per)]["value"], want) and p[("33", per)]["converted"] is True, (ind, per, p)
        assert close(p[("33", "2025")]["value"], R[(ind, "33", "2025")]) and not p[("33", "2025")]["converted"]
        prov[ind] = {per: p[("33", per)]["value"] for per in YEARS}
    gbq = by_unit_period(values(srv, "grdp_binh_quan", "unit=33"))
    tkts = by_unit_period(values(srv, "ty_trong_kinh_te_so", "unit=33"))
    rate = by_unit_period(values(srv, "ty_le_ho_ngheo", "unit=33"))
    for per in YEARS:
        want = 1000 * prov["grdp"][per] / prov["dan_so"][per]
        assert close(gbq[("33", per)]["value"], want, 1e-3), (per, gbq[("33", per)], want)
        assert close(tkts[("33", per)]["value"], 100 * prov["gia_tri_kinh_te_so"][per] / prov["grdp"][per], 1e-3)
        assert close(rate[("33", per)]["value"], 100 * prov["so_ho_ngheo"][per] / prov["tong_so_ho"][per], 1e-3)
        if per != "2025":
            assert gbq[("33", per)]["converted"] is True and "1000 × grdp / dan_so" in gbq[("33", per)]["method"]
    # independent of the API's own sums: GRDP per head in 2020 from the raw reports
    old = {r["code"]: r for r in read_csv("communes-before-2025-07.csv")}
    pop = sum(v for (i, u, p), v in R.items() if i == "dan_so" and p == "2020" and old.get(u, {}).get("province_code")
              in ("33", "34"))
    want = 1000 * (R[("grdp", "33", "2020")] + R[("grdp", "34", "2020")]) / pop
    assert close(gbq[("33", "2020")]["value"], want, 1e-3), (gbq[("33", "2020")], want)


def test_old_codes_resolve_to_successors(env):
    srv = srv_of(env)
    # old province 34 (Thái Bình) resolves to 33, with a note
    j = values(srv, "grdp_binh_quan", "unit=34&period=2020")
    assert [v["unit"] for v in j["values"]] == ["33"], j
    (res,) = j["resolved"]
    assert res["code"] == "34" and res["era"] == "before-2025" and res["successors"] == [
        {"code": "33", "name": "Tỉnh Hưng Yên"}] and "1/7/2025" in res["note"], res
    assert j["values"][0]["value"] == values(srv, "grdp_binh_quan", "unit=33&period=2020")["values"][0]["value"]
    # old commune 11989 (split in two) resolves to both successors
    j = values(srv, "dan_so", "unit=11989&period=2020")
    assert sorted(v["unit"] for v in j["values"]) == ["11992", "11995"], j
    (res,) = j["resolved"]
    assert res["code"] == "11989" and res["name"] == "Xã Lạc Đạo", res
    assert sorted(s["code"] for s in res["successors"]) == ["11992", "11995"], res
    for v in j["values"]:
        assert close(v["value"], converted(env, "dan_so", v["unit"], "2020")), v
    # a code that is also today's code is today's unit: no note
    j = values(srv, "dan_so", "unit=12004&period=2020")
    assert j["resolved"] == [] and [v["unit"] for v in j["values"]] == ["12004"], j
    # an old commune merged whole: one successor
    j = values(srv, "dan_so", "unit=11950&period=2020")
    assert [v["unit"] for v in j["values"]] == ["11983"] and j["resolved"][0]["successors"][0]["code"] == "11983", j


# ---- rankings ---------------------------------------------------------------------------------


def check_ranks(vals, desc):
    seq = [v["value"] for v in vals]
    assert seq == sorted(seq, reverse=desc), seq[:20]
    for v in vals:  # competition ranking: 1 + the number of strictly better values
        better = sum(1 for x in seq if (x > v["value"] if desc else x < v["value"]))
        assert v["rank"] == better + 1, (v, better)


def test_ranking(env):
    srv = srv_of(env)
    j = values(srv, "so_doanh_nghiep", "rank=desc")
    assert j["period"] == "2025" and j["level"] == "commune" and j["count"] == 104, (j["period"], j["count"])
    assert {v["period"] for v in j["values"]} == {"2025"}
    check_ranks(j["values"], True)
    full = j["values"]
    # competition ranks need ties: look for them in the commune indicators of 2025
    tied = 0
    for ind in ["so_doanh_nghiep"] + commune_additive():
        r = values(srv, ind, "rank=desc")
        check_ranks(r["values"], True)
        for t in [v for a, v in zip(r["values"], r["values"][1:]) if a["value"] == v["value"]]:
            tied += 1  # tied values share a rank; the next value skips
            same = [v for v in r["values"] if v["value"] == t["value"]]
            assert len({v["rank"] for v in same}) == 1, (ind, same)
            after = [v for v in r["values"] if v["value"] < t["value"]]
            if after:
                assert after[0]["rank"] == same[0]["rank"] + len(same), (ind, same, after[0])
        if tied:
            break
    assert tied, "no tie in any ranking: competition ranks are not exercised"
    j = values(srv, "so_doanh_nghiep", "rank=asc&limit=10")
    assert j["count"] == 10 and j["period"] == "2025", j
    check_ranks(j["values"], False)
    assert [v["value"] for v in j["values"]] == sorted(v["value"] for v in full)[:10]
    j = values(srv, "so_doanh_nghiep", "rank=desc&limit=3&period=2020")
    assert j["period"] == "2020" and j["count"] == 3 and [v["rank"] for v in j["values"]][0] == 1, j
    # old districts in 2020: sums of their old communes, ranked
    R = raw(env)
    old = {r["code"]: r for r in read_csv("communes-before-2025-07.csv")}
    want = collections.defaultdict(float)
    for (i, u, p), v in R.items():
        if i == "dan_so" and p == "2020" and u in old and old[u]["province_code"] in ("33", "34"):
            want[old[u]["district_code"]] += v
    j = values(srv, "dan_so", "level=district-before-2025&period=2020&rank=desc")
    assert j["level"] == "district-before-2025" and j["count"] == len(want), (j["count"], len(want))
    check_ranks(j["values"], True)
    for v in j["values"]:
        assert close(v["value"], want[v["unit"]]) and v["converted"] is False, (v, want[v["unit"]])
        assert v["unit_name"] == old[next(c for c in old if old[c]["district_code"] == v["unit"])]["district_name"]
    j2 = values(srv, "dan_so", "unit=33&level=district-before-2025&period=2020")
    assert sorted(v["unit"] for v in j2["values"]) == sorted(want), j2
    j3 = values(srv, "dan_so", "unit=325&period=2020")  # one old district by its code
    assert j3["level"] == "district-before-2025" and close(j3["values"][0]["value"], want["325"]), j3
    # a province ranking has one unit
    j = values(srv, "grdp", "rank=desc")
    assert j["level"] == "province" and [(v["unit"], v["rank"]) for v in j["values"]] == [("33", 1)], j


# ---- forecasts ---------------------------------------------------------------------------------


def test_forecast(env):
    srv = srv_of(env)
    f = jget(srv, "/api/v1/indicators/dan_so/forecast?unit=12031&horizon=3")
    assert (f["indicator"], f["unit"], f["unit_name"], f["method"]) == ("dan_so", "12031", "Xã Nghĩa Trụ", "holt"), f
    hist = by_unit_period(values(srv, "dan_so", "unit=12031"))
    assert [h["period"] for h in f["history"]] == YEARS
    assert [h["value"] for h in f["history"]] == [hist[("12031", p)]["value"] for p in YEARS]
    assert [p["period"] for p in f["points"]] == ["2026", "2027", "2028"], f["points"]
    for p in f["points"]:
        assert p["lo95"] < p["lo80"] < p["value"] < p["hi80"] < p["hi95"], p
    assert isinstance(f["mape"], (int, float)) and f["mape"] >= 0, f["mape"]
    assert 0 < f["alpha"] <= 1 and 0 <= f["beta"] <= 1 and f["backtest_periods"] == 3, f
    assert f["resolved"] == []
    assert len(jget(srv, "/api/v1/indicators/dan_so/forecast?unit=12031")["points"]) == 5  # default horizon
    assert len(jget(srv, "/api/v1/indicators/dan_so/forecast?unit=12031&horizon=20")["points"]) == 20
    for h in ("0", "21", "-1", "abc", "1.5", ""):
        r = call(srv, "GET", "/api/v1/indicators/dan_so/forecast?unit=12031&horizon=" + h)
        assert r.status == 400 and err(r)["code"] == "bad_parameter" and "horizon" in err(r)["message"], (h, r)
    # an old code split in two is ambiguous; one merged whole resolves
    r = call(srv, "GET", "/api/v1/indicators/dan_so/forecast?unit=11989")
    assert r.status == 400 and err(r)["code"] == "ambiguous_unit", r
    assert "11992" in err(r)["message"] and "11995" in err(r)["message"], r
    f = jget(srv, "/api/v1/indicators/dan_so/forecast?unit=11950&horizon=1")
    assert f["unit"] == "11983" and f["resolved"][0]["code"] == "11950", f
    f = jget(srv, "/api/v1/indicators/grdp_binh_quan/forecast?unit=34&horizon=2")
    assert f["unit"] == "33" and len(f["points"]) == 2 and f["resolved"][0]["code"] == "34", f
    r = call(srv, "GET", "/api/v1/indicators/dan_so/forecast")
    assert r.status == 400 and err(r)["code"] == "missing_unit", r
    r = call(srv, "GET", "/api/v1/indicators/dan_so/forecast?unit=99999")
    assert r.status == 404 and err(r)["code"] == "unknown_unit", r
    r = call(srv, "GET", "/api/v1/indicators/khong_co/forecast?unit=12031")
    assert r.status == 404 and err(r)["code"] == "unknown_indicator", r
    r = call(srv, "GET", "/api/v1/indicators/grdp/forecast?unit=12031")  # no commune values of a province indicator
    assert r.status == 400 and err(r)["code"] == "too_few_values", r


# ---- targets ----------------------------------------------------------------------------------


def test_targets_status_follows_the_forecast(env):
    srv = srv_of(env)
    latest = {u: by_unit_period(values(srv, "dan_so", f"unit={u}&period=2025"))[(u, "2025")]["value"]
              for u in ("12031", "11953")}
    fc = {u: jget(srv, f"/api/v1/indicators/dan_so/forecast?unit={u}&horizon=2")["points"][1]
          for u in ("11980", "12103", "12127")}
    fh = jget(srv, "/api/v1/indicators/so_ho_ngheo/forecast?unit=12031&horizon=2")["points"][1]
    fd = jget(srv, "/api/v1/indicators/so_ho_ngheo/forecast?unit=11953&horizon=2")["points"][1]
    rows = [
        ("dan_so", "12031", "2025", latest["12031"] - 100, "increase", "achieved"),
        ("dan_so", "11953", "2025", latest["11953"] + 100000, "increase", "missed"),
        ("dan_so", "11980", "2027", fc["11980"]["value"] - 1, "increase", "on_track"),
        ("dan_so", "12103", "2027", (fc["12103"]["value"] + fc["12103"]["hi80"]) / 2, "increase", "at_risk"),
        ("dan_so", "12127", "2027", fc["12127"]["hi80"] + 1000, "increase", "off_track"),
        ("so_ho_ngheo", "12031", "2027", (fh["value"] + fh["lo80"]) / 2, "decrease", "at_risk"),
        ("so_ho_ngheo", "11953", "2027", fd["value"] + 1, "decrease", "on_track"),
    ]
    path = env.write("targets.csv", "indicator,unit_code,period,value,direction,note\n" + "".join(
        f"{i},{u},{p},{v:.4f},{d},thử {s}\n" for i, u, p, v, d, s in rows))
    p = ok(env.kho("indicators", "targets", path))
    assert "targets loaded" in p.stdout, p.stdout
    for ind, unit, per, val, direction, want in rows:
        j = jget(srv, f"/api/v1/indicators/{ind}/targets?unit={unit}")
        (t,) = [t for t in j["targets"] if t["period"] == per]
        assert t["status"] == want == status_by_rule(t), (ind, unit, per, want, t)
        assert t["direction"] == direction and close(t["target"], val), t
        assert t["baseline"]["period"] == "2015" and t["latest"]["period"] == "2025", t
        assert close(t["progress"], (t["latest"]["value"] - t["baseline"]["value"]) / (t["target"] - t["baseline"]["value"]), 1e-3)
        if per == "2027":  # the same forecast as the forecast endpoint, two years ahead
            f = fc.get(unit) if ind == "dan_so" else fh if unit == "12031" else fd
            assert (t["forecast"]["value"], t["forecast"]["lo80"], t["forecast"]["hi80"]) == (
                f["value"], f["lo80"], f["hi80"]), (t["forecast"], f)
        else:
            assert "forecast" not in t, t
    # the catalogue's targets of the province: statuses by the same rule
    j = jget(srv, "/api/v1/indicators/ty_trong_kinh_te_so/targets")
    (t,) = j["targets"]
    assert (t["unit"], t["period"], t["target"]) == ("33", "2030", 30) and t["status"] == status_by_rule(t), t
    want = {(t["indicator"], t["period"], t["value"]) for t in catalogue()["targets"]}
    got = set()
    for ind in {i for i, _, _ in want}:
        for t in jget(srv, f"/api/v1/indicators/{ind}/targets?unit=34")["targets"]:  # 34 resolves to 33
            assert t["status"] == status_by_rule(t) and t["unit"] == "33", t
            got.add((t["indicator"], t["period"], t["target"]))
    assert got == want, (got, want)
    # a targets file with a problem loads nothing and names the line
    bad = env.write("targets-bad.csv", "indicator,unit_code,period,value\ndan_so,12031,2028,1\nkhong_co,12031,2028,1\n"
                    "dan_so,99999,2028,1\ndan_so,12031,2028-Q1,1\n")
    p = env.kho("indicators", "targets", bad)
    assert p.returncode != 0, p
    for s in ("line 3", "khong_co", "line 4", "99999", "line 5"):
        assert s in p.stderr, (s, p.stderr)
    j = jget(srv, "/api/v1/indicators/dan_so/targets?unit=12031")
    assert [t["period"] for t in j["targets"]] == ["2025"], j


# ---- the dashboard ----------------------------------------------------------------------------


def test_dashboard_province(env):
    srv = srv_of(env)
    d = jget(srv, "/api/v1/dashboard")
    assert d["unit"] == {"code": "33", "name": "Tỉnh Hưng Yên", "level": "province", "resolved_from": None}, d["unit"]
    assert d["period"] == "2025" and d["periods"] == YEARS and d["synthetic"] is True and d["parent"] is None, d["period"]
    demo = {x["code"] for x in catalogue()["indicators"] if x.get("source_dataset", DS) == DS}
    # every indicator of the demo dataset; the traceability ones only once `kho trace esg` has run
    shown = {k["indicator"] for k in d["kpis"]}
    codes = [x["code"] for x in catalogue()["indicators"] if x["code"] in demo or x["code"] in shown]
    assert [k["indicator"] for k in d["kpis"]] == codes == [i["code"] for i in d["indicators"]]
    for k in d["kpis"]:  # each KPI is the value the values endpoint gives
        v = by_unit_period(values(srv, k["indicator"], "unit=33&period=2025"))[("33", "2025")]
        assert k["value"] == v["value"] and k["period"] == "2025" and k["converted"] == v["converted"], (k, v)
        if k["indicator"] not in demo:  # the traceability ledger's: its harvest year only
            assert "previous" not in k and [s["period"] for s in k["series"]] == ["2025"], k
            continue
        prev = by_unit_period(values(srv, k["indicator"], "unit=33&period=2024"))[("33", "2024")]["value"]
        assert k["previous"] == prev and k["previous_period"] == "2024", k
        # computed before rounding to 4 decimals: allow for the rounding of both values
        assert close(k["change_pct"], 100 * (k["value"] - prev) / abs(prev), 1e-3 + 1e-2 / abs(prev)), k
        assert [s["period"] for s in k["series"]] == YEARS, k["series"]
    s = d["series"]
    assert s["indicator"] == "dan_so" and [h["period"] for h in s["history"]] == YEARS, s
    assert [h["value"] for h in s["history"]] == [x["value"] for x in d["kpis"][0]["series"]]
    assert [p["period"] for p in s["forecast"]["points"]] == ["2026", "2027", "2028", "2029", "2030"], s["forecast"]
    f = jget(srv, "/api/v1/indicators/dan_so/forecast?unit=33")
    assert s["forecast"]["points"] == f["points"] and s["forecast"]["mape"] == f["mape"], (s["forecast"], f)
    rk = d["ranking"]
    assert rk["indicator"] == "dan_so" and rk["period"] == "2025" and rk["order"] == "desc", rk["indicator"]
    assert len(rk["values"]) == 104
    check_ranks(rk["values"], True)
    ref = by_unit_period(values(srv, "dan_so", "unit=33&level=commune&period=2025"))
    assert {(v["unit"], v["value"]) for v in rk["values"]} == {(u, v["value"]) for (u, _), v in ref.items()}
    communes = {r["code"]: r["name"] for r in read_csv("communes.csv") if r["province_code"] == "33"}
    assert {c["code"]: c["name"] for c in d["children"]} == communes and len(d["children"]) == 104
    want = {(t["indicator"], t["period"], t["value"]) for t in catalogue()["targets"]}
    assert {(t["indicator"], t["period"], t["target"]) for t in d["targets"]} == want, d["targets"]
    for t in d["targets"]:
        assert t["status"] == status_by_rule(t), t
    # a rate with lower-is-better: ranking ascending
    d2 = jget(srv, "/api/v1/dashboard?indicator=ty_le_ho_ngheo&period=2020")
    assert d2["series"]["indicator"] == "ty_le_ho_ngheo" and d2["ranking"]["order"] == "asc", d2["ranking"]["order"]
    assert d2["period"] == "2020" and d2["ranking"]["period"] == "2020" and len(d2["ranking"]["values"]) == 104
    check_ranks(d2["ranking"]["values"], False)
    k = {x["indicator"]: x for x in d2["kpis"]}
    assert k["dan_so"]["value"] == by_unit_period(values(srv, "dan_so", "unit=33&period=2020"))[("33", "2020")]["value"]
    # old province 34 opens the same view, saying so
    d3 = jget(srv, "/api/v1/dashboard?unit=34")
    assert d3["unit"]["code"] == "33" and d3["unit"]["resolved_from"]["code"] == "34", d3["unit"]
    assert d3["kpis"] == d["kpis"]


def test_dashboard_commune_and_errors(env):
    srv = srv_of(env)
    d = jget(srv, "/api/v1/dashboard?unit=12031")
    assert d["unit"]["code"] == "12031" and d["unit"]["level"] == "commune", d["unit"]
    assert d["parent"] == {"code": "33", "name": "Tỉnh Hưng Yên"} and d["children"] == [], (d["parent"], d["children"])
    for k in d["kpis"]:
        v = by_unit_period(values(srv, k["indicator"], "unit=12031&period=2025"))[("12031", "2025")]
        assert k["value"] == v["value"], (k, v)
    assert "grdp" not in [k["indicator"] for k in d["kpis"]]  # a province indicator has no commune values
    assert len(d["ranking"]["values"]) == 104 and d["series"]["indicator"] == "dan_so"
    # the commune's targets (loaded by the targets test), with statuses by the rule
    assert {(t["indicator"], t["period"]) for t in d["targets"]} == {("dan_so", "2025"), ("so_ho_ngheo", "2027")}
    for t in d["targets"]:
        assert t["unit"] == "12031" and t["status"] == status_by_rule(t), t
    d = jget(srv, "/api/v1/dashboard?unit=11950")  # an old commune merged whole
    assert d["unit"]["code"] == "11983" and d["unit"]["resolved_from"]["code"] == "11950", d["unit"]
    for path, status, code, needle in [
            ("unit=99999", 404, "unknown_unit", "99999"),
            ("unit=98", 404, "unknown_unit", "98"),
            ("unit=abc", 400, "bad_unit", "abc"),
            ("unit=325", 400, "bad_unit", "district"),
            ("unit=11989", 400, "ambiguous_unit", "11989"),
            ("period=1999", 400, "bad_period", "1999"),
            ("period=2020-Q1", 400, "bad_period", "2020-Q1"),
            ("indicator=khong_co", 404, "unknown_indicator", "khong_co"),
            ("unit=12031&indicator=grdp", 400, "no_values", "grdp"),
            ("foo=1", 400, "unknown_parameter", "foo")]:
        r = call(srv, "GET", "/api/v1/dashboard?" + path)
        assert r.status == status and err(r).get("code") == code and needle in err(r).get("message", ""), (path, r)


# ---- bad input --------------------------------------------------------------------------------


def test_bad_input(env):
    srv = srv_of(env)
    base = "/api/v1/indicators/dan_so/values?"
    for path, status, code, needle in [
            ("/api/v1/indicators/khong_co", 404, "unknown_indicator", "khong_co"),
            ("/api/v1/indicators/khong_co/values", 404, "unknown_indicator", "khong_co"),
            ("/api/v1/indicators/khong_co/targets", 404, "unknown_indicator", "khong_co"),
            (base + "unit=99999", 404, "unknown_unit", "99999"),
            (base + "unit=98", 404, "unknown_unit", "98"),
            (base + "unit=999", 404, "unknown_unit", "999"),
            (base + "unit=1a", 400, "bad_unit", "1a"),
            (base + "unit=1234", 400, "bad_unit", "1234"),
            (base + "unit=,", 400, "bad_unit", ""),
            (base + "unit=11992,33", 400, "mixed_levels", "one level"),
            (base + "period=20x0", 400, "bad_period", "20x0"),
            (base + "period=2020-Q1", 400, "bad_period", "2020-Q1"),
            (base + "from=abcd", 400, "bad_period", "abcd"),
            (base + "to=99", 400, "bad_period", "99"),
            (base + "level=ward", 400, "bad_level", "ward"),
            (base + "unit=12031&level=province", 400, "bad_level", "province"),
            (base + "rank=up", 400, "bad_rank", "desc or asc"),
            (base + "limit=-1", 400, "bad_parameter", "limit"),
            (base + "limit=abc", 400, "bad_parameter", "limit"),
            (base + "limit=100001", 400, "bad_parameter", "limit"),
            (base + "bogus=1", 400, "unknown_parameter", "bogus"),
            ("/api/v1/indicators?x=1", 400, "unknown_parameter", "x"),
            ("/api/v1/indicators/dan_so?x=1", 400, "unknown_parameter", "x"),
            ("/api/v1/indicators/dan_so/targets?unit=1a", 400, "bad_unit", "1a"),
            ("/api/v1/indicators/dan_so/targets?unit=11989", 400, "ambiguous_unit", "11989"),
            ("/api/v1/indicators/dan_so/forecast?unit=12031&x=1", 400, "unknown_parameter", "x")]:
        r = call(srv, "GET", path)
        assert r.status == status and err(r).get("code") == code and needle in err(r).get("message", ""), (path, r)
    # 10 KB parameters: refused, with the value cut short in the message
    big = "1" * 10240
    for path in (base + "unit=" + big, base + "period=" + big, base + "level=" + "x" * 10240,
                 base + "rank=" + "d" * 10240, base + "limit=" + big, "/api/v1/dashboard?unit=" + big,
                 "/api/v1/dashboard?indicator=" + "a" * 10240, "/api/v1/indicators/" + "a" * 10240,
                 "/api/v1/indicators/dan_so/forecast?unit=" + big):
        r = call(srv, "GET", path)
        assert r.status in (400, 404, 414, 431) and len(r.body) < 2000, (path[:80], r.status, r.body[:300])
    # never a 500, whatever the parameters
    hostile = ["", "'", "%00", "%FF", "33%2C", ",,", "33,,33", "-1", "0", "00", "00000", "1e5", "2025-13", "2025-00",
               "9999", "0000", "2025-Q5", "null", "%E1%BB%B9", "..%2F..", "33;DROP", "2147483648", "1" * 300]
    for v in hostile:
        for path in (base + "unit=" + v, base + "period=" + v, base + "from=" + v + "&to=" + v, base + "level=" + v,
                     base + "rank=" + v, base + "limit=" + v, "/api/v1/indicators/dan_so/forecast?unit=" + v,
                     "/api/v1/indicators/dan_so/forecast?unit=12031&horizon=" + v,
                     "/api/v1/indicators/dan_so/targets?unit=" + v, "/api/v1/dashboard?unit=" + v,
                     "/api/v1/dashboard?period=" + v, "/api/v1/dashboard?indicator=" + v,
                     "/api/v1/indicators/" + v, "/api/v1/indicators/" + v + "/values"):
            r = call(srv, "GET", path)
            assert r.status < 500, (path, r)
    # empty answers are answers: a period with no values, a rank of an empty period
    j = values(srv, "dan_so", "period=2030")
    assert j["values"] == [] and j["count"] == 0, j
    j = values(srv, "dan_so", "rank=desc&period=2030")
    assert j["values"] == [] and j["period"] == "2030", j
    assert jget(srv, "/api/v1/indicators/dan_so")["code"] == "dan_so"  # still serving


# ---- uploads through the ingest hook ------------------------------------------------------------


GOOD = "indicator,unit_code,period,value\ndan_so,11950,2015,1\ndan_so,11953,2015,2\n"


def test_upload_with_bad_reports_is_refused(env):
    srv = srv_of(env)
    raw(env)
    key = steward(env)
    before = db_values(env)
    v0 = current_version(srv)
    cases = [
        ("khong_co,11950,2016,1\n", "line 4, field indicator", "khong_co"),
        ("dan_so,99999,2016,1\n", "line 4, field unit", "99999"),
        ("dan_so,11950,2016,abc\n", "line 4, field value", "abc"),
        ("dan_so,11950,2015,7\n", "line 4", "second report"),
        ("ty_le_ho_ngheo,11950,2016,1.5\n", "line 4, field indicator", "so_ho_ngheo"),
        ("dan_so,11950,2016-Q1,1\n", "line 4, field period", "2016-Q1"),
        ("grdp,11950,2016,1\n", "line 4, field unit", "11950"),
    ]
    for extra, where, what in cases:
        r = upload(srv, key, GOOD + extra)
        e = err(r)
        assert 400 <= r.status < 500 and e.get("code") == "bad_indicator_data", (extra, r)
        assert DS in e["message"] and where in e["message"] and what in e["message"], (extra, e["message"])
    # the admin is refused the same way
    r = upload(srv, env.admin_key, GOOD + "khong_co,11950,2016,1\n")
    assert r.status == 400 and "line 4, field indicator" in err(r)["message"], r
    assert current_version(srv) == v0
    after = db_values(env)
    assert after == before, "a refused upload changed the indicator values"
    j = jget(srv, f"/api/v1/datasets/{DS}/rows?indicator=dan_so&unit_code=11950&period=2015")
    assert j["version"] == v0 and j["rows"][0]["value"] == raw(env)[("dan_so", "11950", "2015")], j


def test_upload_names_every_bad_line(env):
    """One file with several bad reports: the message names each line and field (indicators.h:
    'naming the dataset, line and field of each problem')."""
    srv = srv_of(env)
    before = db_values(env)
    v0 = current_version(srv)
    body = (GOOD + "khong_co,11950,2016,1\n" + "dan_so,99999,2016,1\n" + "dan_so,11953,2016,abc\n"
            + "dan_so,11950,2015,9\n")
    r = upload(srv, steward(env), body)
    assert r.status == 400 and err(r).get("code") == "bad_indicator_data", r
    m = err(r)["message"]
    missing = [s for s in ("line 4, field indicator", "line 5, field unit", "line 6, field value", "line 7")
               if s not in m]
    assert not missing, f"not named: {missing} in: {m}"
    assert "4 problems" in m, m
    assert current_version(srv) == v0 and db_values(env) == before


def test_upload_good_version_rebuilds(env):
    srv = srv_of(env)
    R = raw(env)
    v0 = current_version(srv)
    old = R[("dan_so", "11992", "2025")]
    prov_before = by_unit_period(values(srv, "dan_so", "unit=33&period=2025"))[("33", "2025")]["value"]
    rate_before = by_unit_period(values(srv, "ty_le_ho_ngheo", "unit=11992&period=2020"))[("11992", "2020")]["value"]
    text = _state["raw_csv"]
    line = "dan_so,11992,2025,%s" % (int(old) if old == int(old) else old)
    assert text.count(line + "\r\n") == 1, line
    text = text.replace(line + "\r\n", "dan_so,11992,2025,%d\r\n" % (int(old) + 777))
    r = upload(srv, env.admin_key, text)
    assert r.status == 201, r
    v1 = r.json()["version"]
    assert v1 == v0 + 1 and current_version(srv) == v1, r.json()
    v = by_unit_period(values(srv, "dan_so", "unit=11992&period=2025"))[("11992", "2025")]
    assert v["value"] == int(old) + 777 and v["converted"] is False, v
    p = by_unit_period(values(srv, "dan_so", "unit=33&period=2025"))[("33", "2025")]
    assert close(p["value"], prov_before + 777), (p, prov_before)
    d = jget(srv, "/api/v1/indicators/dan_so")
    assert d["sources"] == [{"dataset": DS, "version": v1}], d["sources"]
    assert jget(srv, "/api/v1/indicators/grdp")["sources"] == [{"dataset": DS, "version": v1}]
    # what did not change did not move
    assert by_unit_period(values(srv, "ty_le_ho_ngheo", "unit=11992&period=2020"))[("11992", "2020")]["value"] == rate_before
    R[("dan_so", "11992", "2025")] = int(old) + 777
    # the steward of the owning organisation may publish too
    _state["good_csv"] = text
    r = upload(srv, steward(env), text)
    assert r.status == 201 and r.json()["version"] == v1 + 1, r
    assert jget(srv, "/api/v1/indicators/dan_so")["sources"] == [{"dataset": DS, "version": v1 + 1}]


# ---- split weights from the command line ---------------------------------------------------------


WEIGHTS = {("11989", "11992"): 0.3, ("11989", "11995"): 0.7, ("12004", "11995"): 0.35, ("12004", "12004"): 0.65}


def weights_csv():
    return "old_code,new_code,weight,basis\n" + "".join(f"{o},{n},{w},diện tích\n" for (o, n), w in WEIGHTS.items())


def check_weighted(env, srv, weights):
    bad = []
    for ind in ("dan_so", "so_ho_ngheo", "tong_so_ho"):
        got = by_unit_period(values(srv, ind, "unit=" + ",".join(SAMPLE)))
        for new in SAMPLE:
            for per in OLD_YEARS:
                want = converted(env, ind, new, per, weights)
                if not close(got[(new, per)]["value"], want):
                    bad.append(f"{ind} {new} {per}: {got[(new, per)]['value']} != {want}")
    rate = by_unit_period(values(srv, "ty_le_ho_ngheo", "unit=11995&period=2019"))[("11995", "2019")]
    want = 100 * converted(env, "so_ho_ngheo", "11995", "2019", weights) / converted(env, "tong_so_ho", "11995", "2019",
                                                                                    weights)
    if not close(rate["value"], want, 1e-4):
        bad.append(f"ty_le_ho_ngheo 11995 2019: {rate['value']} != {want}")
    return bad


def test_weights_change_the_split_values(env):
    srv = srv_of(env)
    prov = by_unit_period(values(srv, "dan_so", "unit=33&period=2020"))[("33", "2020")]["value"]
    try:
        p = ok(env.kho("indicators", "weights", env.write("weights.csv", weights_csv())))
        assert "rebuilt" in p.stdout, p.stdout
        bad = check_weighted(env, srv, WEIGHTS)
        assert not bad, "\n".join(bad[:20])
        v = by_unit_period(values(srv, "dan_so", "unit=11995&period=2020"))[("11995", "2020")]
        assert "70% × Xã Lạc Đạo (theo trọng số)" in v["method"] and "35% × Xã Đình Dù (theo trọng số)" in v["method"], v
        v = by_unit_period(values(srv, "dan_so", "unit=11983&period=2020"))[("11983", "2020")]
        assert "1/2 × Xã Ngọc Thanh (chia đều)" in v["method"], v  # 12322 keeps the equal split
        # shares still add up to the whole: the province does not move
        assert close(by_unit_period(values(srv, "dan_so", "unit=33&period=2020"))[("33", "2020")]["value"], prov)
        # files with problems are refused, naming lines and fields; the values stay
        for text, needles in [
                ("old_code,new_code,weight\n11989,11992,0.3\n11989,11995,0.6\n", ["11989", "0.9"]),
                ("old_code,new_code,weight\n11989,11992,0.3\n11989,11995,0.7\n12322,11983,0.5\n", ["12322", "0.5"]),
                ("old_code,new_code,weight\n11989,11992,0.3\n11989,12031,0.7\n", ["line 3", "11989", "12031"]),
                ("old_code,new_code,weight\n11989,11992,abc\n11989,11995,1.5\n", ["line 2", "line 3", "weight"]),
                ("old,new,weight\n11989,11992,1\n", ["old_code"])]:
            p = env.kho("indicators", "weights", env.write("weights-bad.csv", text))
            assert p.returncode != 0, (text, p.stdout)
            for n in needles:
                assert n in p.stderr, (text, n, p.stderr)
            bad = check_weighted(env, srv, WEIGHTS)
            assert not bad, (text, bad[:5])
    finally:  # back to equal shares for the tests that follow
        ok(env.kho("indicators", "weights", env.write("weights-none.csv", "old_code,new_code,weight\n")))
    bad = check_weighted(env, srv, None)
    assert not bad, "\n".join(bad[:20])


def test_refused_weights_keep_the_previous_ones(env):
    """A refused weights file loads nothing (cmd_indicators.h: 'a file with a problem loads nothing'):
    the weights loaded before stay, and a later rebuild still uses them."""
    srv = srv_of(env)
    try:
        ok(env.kho("indicators", "weights", env.write("weights.csv", weights_csv())))
        p = env.kho("indicators", "weights", env.write("weights-bad.csv",
                                                       "old_code,new_code,weight\n11989,11992,0.3\n11989,11995,0.6\n"))
        assert p.returncode != 0, p
        ok(env.kho("indicators", "rebuild"))
        bad = check_weighted(env, srv, WEIGHTS)
        assert not bad, "after a refused weights file and a rebuild the earlier weights are gone:\n" + "\n".join(bad[:6])
    finally:
        ok(env.kho("indicators", "weights", env.write("weights-none.csv", "old_code,new_code,weight\n")))


# ---- a private source ----------------------------------------------------------------------------


EXTRA = "so_du_an_fdi"


def test_private_source_is_hidden(env):
    srv = srv_of(env)
    ds = "chi-so-rieng"
    cat = {"indicators": [{"code": EXTRA, "name": "Số dự án FDI", "name_en": "FDI projects",
                           "unit_of_measure": "dự án", "kind": "additive", "level": "province", "decimals": 0}]}
    ok(env.kho("indicators", "catalogue", env.write("extra.json", json.dumps(cat, ensure_ascii=False))))
    body = f"indicator,unit_code,period,value\n{EXTRA},33,2024,10\n{EXTRA},34,2024,5\n{EXTRA},33,2025,20\n"
    r = upload(srv, env.admin_key, body, ds=ds, extra=f"&sharing=private&org={OWNER_ORG}&title={q('Chỉ số riêng')}")
    assert r.status == 201, r
    mapping = {"form": "long", "indicator": "indicator", "unit": "unit_code", "period": "period", "value": "value"}
    p = ok(env.kho("indicators", "source", ds, json.dumps(mapping)))
    assert "rebuilt" in p.stdout, p.stdout
    analyst = env.add_user("ind-analyst", "analyst")
    own = steward(env)
    # who may read the dataset sees the indicator
    for key in (env.admin_key, own):
        j = jget(srv, "/api/v1/indicators", key=key)
        assert EXTRA in [d["code"] for d in j["indicators"]], j["count"]
        d = jget(srv, f"/api/v1/indicators/{EXTRA}", key=key)
        assert d["sources"] == [{"dataset": ds, "version": 1}] and d["synthetic"] is False, d
        v = by_unit_period(values(srv, EXTRA, "unit=33", key=key))
        assert v[("33", "2024")]["value"] == 15 and v[("33", "2024")]["converted"] is True, v  # old 33 + old 34
        assert v[("33", "2025")]["value"] == 20 and v[("33", "2025")]["converted"] is False, v
        dash = jget(srv, "/api/v1/dashboard", key=key)
        k = {x["indicator"]: x for x in dash["kpis"]}
        assert k[EXTRA]["value"] == 20 and EXTRA in [i["code"] for i in dash["indicators"]], dash["indicators"]
        assert jget(srv, f"/api/v1/dashboard?indicator={EXTRA}", key=key)["series"]["indicator"] == EXTRA
    # anyone else: as if it did not exist
    n_public = len(catalogue()["indicators"])
    for key in (None, analyst):
        j = jget(srv, "/api/v1/indicators", key=key)
        assert EXTRA not in [d["code"] for d in j["indicators"]] and j["count"] == n_public, j["count"]
        for path in (f"/api/v1/indicators/{EXTRA}", f"/api/v1/indicators/{EXTRA}/values",
                     f"/api/v1/indicators/{EXTRA}/values?unit=33", f"/api/v1/indicators/{EXTRA}/forecast?unit=33",
                     f"/api/v1/indicators/{EXTRA}/targets", f"/api/v1/dashboard?indicator={EXTRA}",
                     f"/api/v1/datasets/{ds}"):
            r = call(srv, "GET", path, key=key)
            assert r.status == 404, (key is None, path, r)
        r = call(srv, "GET", f"/api/v1/indicators/{EXTRA}", key=key)
        assert err(r)["code"] == "unknown_indicator" and err(r)["message"] == err(
            call(srv, "GET", "/api/v1/indicators/khong_co_dau", key=key))["message"].replace("khong_co_dau", EXTRA), r
        dash = jget(srv, "/api/v1/dashboard", key=key)
        assert EXTRA not in [x["indicator"] for x in dash["kpis"]] and EXTRA not in [
            i["code"] for i in dash["indicators"]], [x["indicator"] for x in dash["kpis"]]
        assert EXTRA not in json.dumps(dash), "the dashboard mentions the hidden indicator"
        # the public indicators are unaffected
        assert jget(srv, "/api/v1/indicators/dan_so", key=key)["sources"][0]["dataset"] == DS


# ---- a command that fails leaves nothing behind ---------------------------------------------------


def test_failed_cli_changes_leave_nothing_behind(env):
    """cmd_indicators.h: 'Every write is one transaction: a file with a problem loads nothing.'
    A catalogue or a source declaration whose rebuild is refused must not stay: otherwise the
    definitions no longer match the values, and every later upload of any source is refused
    because of the other dataset's reports."""
    srv = srv_of(env)
    problems = []
    before = db_values(env)
    # a catalogue that makes a reported indicator a computed one: the rebuild refuses the reports
    cat = {"indicators": [{"code": "so_ho_ngheo", "name": "Số hộ nghèo", "unit_of_measure": "hộ", "kind": "ratio",
                           "level": "commune", "numerator": "dan_so", "denominator": "dien_tich"}]}
    p = env.kho("indicators", "catalogue", env.write("catalogue-bad.json", json.dumps(cat, ensure_ascii=False)))
    assert p.returncode != 0 and "so_ho_ngheo" in p.stderr and DS in p.stderr, (p.returncode, p.stderr)
    try:
        d = jget(srv, "/api/v1/indicators/so_ho_ngheo")
        if d["kind"] != "additive":
            problems.append(f"the refused catalogue stayed: so_ho_ngheo is now a {d['kind']} of "
                            f"{d.get('numerator')}/{d.get('denominator')}, its values still household counts")
        if db_values(env) != before:
            problems.append("the refused catalogue changed the values")
    finally:
        ok(env.kho("indicators", "catalogue", CATALOGUE))
    # a dataset with a bad report declared a source: refused, and not left declared
    r = upload(srv, env.admin_key, "indicator,unit_code,period,value\nkhong_co,33,2025,1\n", ds="nguon-xau",
               extra=f"&org={OWNER_ORG}")
    assert r.status == 201, r  # not a source yet: any dataset
    mapping = {"form": "long", "indicator": "indicator", "unit": "unit_code", "period": "period", "value": "value"}
    p = env.kho("indicators", "source", "nguon-xau", json.dumps(mapping))
    assert p.returncode != 0 and "nguon-xau" in p.stderr and "line 2" in p.stderr and "khong_co" in p.stderr, p.stderr
    try:
        v0 = current_version(srv)
        r = upload(srv, env.admin_key, _state.get("good_csv") or _state["raw_csv"])
        if r.status != 201:
            problems.append(f"after the refused source, a good version of {DS} is refused: {r.status} "
                            f"{err(r).get('message', '')[:200]}")
        else:
            assert current_version(srv) == v0 + 1
    finally:  # a good version of nguon-xau lets the rebuild pass again, whatever the outcome
        r = upload(srv, env.admin_key, "indicator,unit_code,period,value\ndan_so,12031,2030,1\n", ds="nguon-xau")
        assert r.status == 201, r
    assert not problems, "\n".join(problems)
