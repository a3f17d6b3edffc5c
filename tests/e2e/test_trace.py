"""Traceability (docs/trace.md): EPCIS 2.0 capture and query, whole-document rejection,
master data, the GS1 Digital Link resolver and journey page, QR codes, proofs checked by an
independent verifier (tlogverify.py), and tampering detected by `kho trace verify`.

The example documents are written here in the shapes of the EPCIS 2.0 standard's JSON
examples; the demo supply chains (`kho init --demo`) give the journey pages.
"""
import copy
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import threading
import time
import urllib.parse

import tlogverify as tv

_state = {}

CP = "8930001"


def check_digit(d):
    s = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(d)))
    return str((10 - s % 10) % 10)


GTIN = "0" + CP + "00001" + check_digit("0" + CP + "00001")   # the harvest class of this test's lots
GTIN13 = GTIN[1:]
BAD_GTIN13 = GTIN13[:-1] + str((int(GTIN13[-1]) + 1) % 10)


def lgtin(lot, ir="000001"):
    return f"urn:epc:class:lgtin:{CP}.{ir}.{lot}"


def sgln(loc, ext="0"):
    return f"urn:epc:id:sgln:{CP}.{loc}.{ext}"


def sscc(tag):
    """A pallet of this test (serial references 09..., apart from the demo's)."""
    return f"urn:epc:id:sscc:{CP}.09{ord(tag[0]):08d}"


SSCC = sscc("T")


def doc(events):
    return {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": "2025-07-20T08:00:00+07:00",
            "epcisBody": {"eventList": events}}


def example_events(tag="T"):
    """One event of each type, in the standard's JSON shapes."""
    return [
        {"type": "TransformationEvent", "eventTime": "2025-07-18T06:30:00+07:00", "eventTimeZoneOffset": "+07:00",
         "outputQuantityList": [{"epcClass": lgtin(f"H{tag}1"), "quantity": 1200, "uom": "KGM"}],
         "bizStep": "commissioning", "disposition": "active", "readPoint": {"id": sgln("00001")},
         "bizLocation": {"id": sgln("00001")},
         "ilmd": {"kho:harvestDate": "2025-07-18", "kho:farmId": "FARM-TEST"}},
        {"type": "TransformationEvent", "eventTime": "2025-07-18T14:00:00+07:00", "eventTimeZoneOffset": "+07:00",
         "inputQuantityList": [{"epcClass": lgtin(f"H{tag}1"), "quantity": 1200, "uom": "KGM"}],
         "outputQuantityList": [{"epcClass": lgtin(f"P{tag}1", "000002"), "quantity": 1100, "uom": "KGM"}],
         "bizStep": "https://ref.gs1.org/cbv/BizStep-packing", "bizLocation": {"id": sgln("00002")}},
        {"type": "AggregationEvent", "eventTime": "2025-07-18T16:00:00.250+07:00", "eventTimeZoneOffset": "+07:00",
         "parentID": sscc(tag), "action": "ADD", "bizStep": "packing",
         "childQuantityList": [{"epcClass": lgtin(f"P{tag}1", "000002"), "quantity": 1100, "uom": "KGM"}],
         "bizLocation": {"id": sgln("00002")}},
        {"type": "ObjectEvent", "eventTime": "2025-07-19T01:00:00Z", "eventTimeZoneOffset": "+07:00",
         "epcList": [sscc(tag)], "action": "OBSERVE", "bizStep": "shipping",
         "disposition": "in_transit", "readPoint": {"id": sgln("00002")},
         "bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:8930001000002:D1"}],
         "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:8930001.00002"}],
         "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:8930001.00009"}],
         "sensorElementList": [{"sensorMetadata": {"time": "2025-07-19T02:00:00Z"},
                                "sensorReport": [{"type": "gs1:Temperature", "value": 5.5, "uom": "CEL"}]}]},
        {"type": "TransactionEvent", "eventTime": "2025-07-19T09:00:00+07:00", "eventTimeZoneOffset": "+07:00",
         "eventID": f"urn:uuid:6a1b3c7e-0000-4000-8000-00000000000{len(tag)}",
         "action": "ADD", "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:8930001000009:PO7"}],
         "quantityList": [{"epcClass": lgtin(f"P{tag}1", "000002"), "quantity": 1100, "uom": "KGM"}],
         "ex:note": {"text": "ghi chú"}},
    ]


def setup(env):
    if "srv" not in _state:
        env.init()
        # the ESG indicators follow captures of harvests 1 s after the last one (default 10 s)
        _state["srv"] = env.server(extra_env={"KHO_TRACE_ESG_DELAY_S": "1"})
        _state["steward"] = env.add_user("trace-steward", "steward", org="htx-nhan")
        _state["other"] = env.add_user("trace-other", "steward", org="htx-khac")
        _state["analyst"] = env.add_user("trace-analyst", "analyst")
    return _state["srv"]


def post(srv, path, body, key, ctype="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False)
    return srv.post(path, data, content_type=ctype, headers={"Authorization": "Bearer " + key})


def events(srv, query, key=None):
    r = srv.get("/api/v1/trace/events?" + query, headers={"Authorization": "Bearer " + (key or srv.key)})
    assert r.status == 200, r.text
    j = r.json()
    assert j["type"] == "EPCISQueryDocument" and j["schemaVersion"] == "2.0", j
    return j["epcisBody"]["queryResults"]["resultsBody"]["eventList"], r


def normalised(ev):
    """What kho stores for a sent event: CBV words bare, recordTime and eventID set by kho."""
    e = copy.deepcopy(ev)
    if e.get("bizStep", "").startswith("https://ref.gs1.org/cbv/BizStep-"):
        e["bizStep"] = e["bizStep"][len("https://ref.gs1.org/cbv/BizStep-"):]
    return e


def test_capture_and_query_round_trip(env):
    srv = setup(env)
    sent = example_events("T")
    r = post(srv, "/api/v1/trace/capture", doc(sent), _state["steward"])
    assert r.status == 201, r.text
    j = r.json()
    assert j["events"] == 5 and j["captured"] == 5 and j["repeated"] == 0, j
    ids = j["eventIDs"]
    assert all(re.fullmatch(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0", i) for i in ids[:4]), ids
    assert ids[4] == sent[4]["eventID"]
    _state["ids"] = ids
    got, _ = events(srv, "MATCH_epcClass=" + urllib.parse.quote(lgtin("PT1", "000002")) + "&perPage=100")
    by_id = {e["eventID"]: e for e in got}
    assert set(by_id) == set(ids[1:3] + ids[4:5]), sorted(by_id)
    # what comes back equals what was sent (CBV words bare; eventID and recordTime added)
    for i in (1, 2, 4):
        back = dict(by_id[ids[i]])
        assert back.pop("eventID") == ids[i] and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", back.pop("recordTime"))
        want = normalised(sent[i])
        want.pop("eventID", None)
        assert back == want, (back, want)
    # the pallet's shipping event: sensor data, transactions, sources and destinations kept
    got, _ = events(srv, "MATCH_anyEPC=" + urllib.parse.quote(SSCC) + "&eventType=ObjectEvent")
    assert len(got) == 1 and got[0]["sensorElementList"] == sent[3]["sensorElementList"], got
    assert got[0]["sourceList"] == sent[3]["sourceList"] and got[0]["bizTransactionList"] == sent[3]["bizTransactionList"]


def test_capture_is_idempotent(env):
    srv = setup(env)
    before, _ = events(srv, "perPage=1000")
    r = post(srv, "/api/v1/trace/capture", doc(example_events("T")), _state["steward"])
    assert r.status == 200, r.text
    assert r.json()["captured"] == 0 and r.json()["repeated"] == 5 and r.json()["eventIDs"] == _state["ids"]
    after, _ = events(srv, "perPage=1000")
    assert len(after) == len(before)
    # the same ID with other content is a conflict, and nothing of the document is kept
    changed = example_events("T")
    changed[4]["action"] = "DELETE"
    fresh = example_events("U")[0]
    r = post(srv, "/api/v1/trace/capture", doc([fresh, changed[4]]), _state["steward"])
    assert r.status == 409, r.text
    assert "eventList[1].eventID" in r.json()["error"]["message"]
    again, _ = events(srv, "perPage=1000")
    assert len(again) == len(before)


# Events published with GS1's reference event-hash generator, and their IDs: captured without an eventID,
# kho must give each the same ID (the document's @context defines the extensions' prefixes).
PUBLISHED = [
    ({"type": "ObjectEvent", "eventTime": "2020-03-04T11:00:30.000+01:00", "eventTimeZoneOffset": "+01:00",
      "recordTime": "2020-03-04T11:00:30.999+01:00",
      "epcList": ["urn:epc:id:sscc:4012345.0000000333", "urn:epc:id:sscc:4012345.0000000111",
                  "urn:epc:id:sscc:4012345.0000000222"], "action": "OBSERVE", "bizStep": "departing",
      "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"},
      "example:myField1": {"example:mySubField1": "2", "example:mySubField2": "5"},
      "example:myField2": "0", "example:myField3": {"example:mySubField3": ["3", "1"]}},
     "ni:///sha-256;6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7?ver=CBV2.0"),
    ({"type": "ObjectEvent", "eventTime": "2020-03-04T11:00:30+01:00", "eventTimeZoneOffset": "+01:00",
      "epcList": ["urn:epc:id:sgtin:0614141.011111.987"], "action": "OBSERVE", "bizStep": "departing",
      "disposition": "in_transit", "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.0", "example:myField1": "AB-12"},
      "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epc:id:gdti:4012345.11111.123"}],
      "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
      "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00000"}],
      "example:userExt": "CD-34"},
     "ni:///sha-256;a13cbe6c8bb6df3710b3edaeff760a1365ec8fd69ca1f4d7e0c10eb5189a883a?ver=CBV2.0"),
    ({"type": "ObjectEvent", "eventTime": "2023-02-02T11:04:03.1414Z", "eventTimeZoneOffset": "+01:00",
      "epcList": ["https://id.gs1.de/00/040123451111111110"], "action": "OBSERVE", "bizStep": "transporting",
      "readPoint": {"id": "geo:50.947573340894124,6.922120147375441"}},
     "ni:///sha-256;0550df44527332c1fe417c5837fe61b9e71eaa93307b88519dac549bf2d4dcf9?ver=CBV2.0"),
]


def test_hash_ids_match_the_published_ones(env):
    srv = setup(env)
    d = doc([e for e, _ in PUBLISHED])
    d["@context"] = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
                     {"gs1": "https://gs1.org/voc/", "example": "https://ns.example.com/epcis/"}]
    r = post(srv, "/api/v1/trace/capture", d, _state["steward"])
    assert r.status in (200, 201), r.text
    assert r.json()["eventIDs"] == [want for _, want in PUBLISHED], r.json()
    # the same events again, keys in another order: the same IDs, nothing new
    d["epcisBody"]["eventList"] = [dict(reversed(list(e.items()))) for e, _ in PUBLISHED]
    r = post(srv, "/api/v1/trace/capture", d, _state["steward"])
    assert r.status == 200 and r.json()["repeated"] == len(PUBLISHED), r.text
    # each event keeps the prefixes its extensions use, as its own @context: returned by a query it means
    # the same, and sent again alone, under the standard context only, it has the same hash ID
    got, _ = events(srv, "perPage=1000")
    by_id = {e["eventID"]: e for e in got}
    for sent, want in PUBLISHED:
        back = by_id[want]
        uses = "example:" in json.dumps(sent)
        assert back.get("@context") == ({"example": "https://ns.example.com/epcis/"} if uses else None), back
        alone = {k: v for k, v in back.items() if k not in ("eventID", "recordTime")}
        r = post(srv, "/api/v1/trace/capture", doc([alone]), _state["steward"])
        assert r.status == 200 and r.json()["eventIDs"] == [want] and r.json()["repeated"] == 1, (r.text, want)
    # a prefix no context defines is kept as it is, with no @context made up for it
    odd = {"type": "ObjectEvent", "eventTime": "2025-07-21T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
           "epcList": [f"urn:epc:id:sgtin:{CP}.000002.CTX-1"], "action": "OBSERVE", "zz:note": "x"}
    r = post(srv, "/api/v1/trace/capture", doc([odd]), _state["steward"])
    assert r.status == 201, r.text
    got, _ = events(srv, "MATCH_anyEPC=" + urllib.parse.quote(odd["epcList"][0]))
    assert len(got) == 1 and got[0]["zz:note"] == "x" and "@context" not in got[0], got


def test_whole_document_rejected_with_precise_errors(env):
    srv = setup(env)
    before, _ = events(srv, "perPage=1000")
    cases = []
    def bad(i, mutate, where):
        evs = example_events("R")
        mutate(evs[i])
        cases.append((evs, where))
    bad(2, lambda e: e["childQuantityList"][0].update(epcClass="https://id.gs1.org/01/" + BAD_GTIN13 + "/10/X"),
        "eventList[2].childQuantityList[0].epcClass")                      # wrong check digit
    bad(3, lambda e: e.update(action="MOVE"), "eventList[3].action")
    bad(0, lambda e: e.pop("eventTime"), "eventList[0]: eventTime is missing")
    bad(1, lambda e: e.update(eventTime="2025-02-30T10:00:00+07:00"), "eventList[1].eventTime")
    bad(3, lambda e: e.update(eventTime="2025-07-19T10:00:00"), "eventList[3].eventTime")
    bad(3, lambda e: e.update(bizStep="dancing"), "eventList[3].bizStep")
    bad(3, lambda e: e.update(colour="green"), "eventList[3].colour")
    bad(3, lambda e: e["sensorElementList"][0]["sensorReport"][0].update(value="warm"),
        "eventList[3].sensorElementList[0].sensorReport[0].value")
    bad(4, lambda e: e.update(bizTransactionList=[]), "eventList[4]: a TransactionEvent needs")
    bad(0, lambda e: e.update(type="SomethingEvent"), "eventList[0].type")
    bad(2, lambda e: e.update(inputEPCList=[SSCC]), "eventList[2].inputEPCList")
    bad(0, lambda e: e["outputQuantityList"][0].update(quantity=-1), "eventList[0].outputQuantityList[0].quantity")
    for evs, where in cases:
        r = post(srv, "/api/v1/trace/capture", doc(evs), _state["steward"])
        assert r.status == 400, (where, r.status, r.text)
        assert where in r.json()["error"]["message"], (where, r.json())
    after, _ = events(srv, "perPage=1000")
    assert len(after) == len(before), "a refused document left events behind"


def test_hostile_documents_never_500(env):
    srv = setup(env)
    key = _state["steward"]
    deep = {"a": 1}
    for _ in range(40):
        deep = {"ex:x": deep}
    ev = example_events("H")[3]
    ev["ex:deep"] = deep
    bodies = [
        ("application/json", b"not json"), ("application/json", b"[]"), ("application/json", b"{}"),
        ("application/json", json.dumps({"type": "EPCISDocument", "schemaVersion": "1.2"}).encode()),
        ("application/json", json.dumps(doc([])).encode()),
        ("application/json", json.dumps(doc([ev])).encode()),
        ("application/json", json.dumps(doc(["x", 1, None])).encode()),
        ("application/json", json.dumps(doc([{"type": "ObjectEvent", "eventTime": "x" * 5000}])).encode()),
        ("application/json", json.dumps(doc([dict(example_events("H")[3], epcList=["\u0000urn"])])).encode()),
        ("application/json", json.dumps(doc([dict(example_events("H")[3], epcList=["urn:epc:id:sgtin:" + "9" * 400])])).encode()),
        ("text/plain", json.dumps(doc(example_events("H"))).encode()),
    ]
    for ctype, body in bodies:
        r = post(srv, "/api/v1/trace/capture", body, key, ctype)
        assert 400 <= r.status < 500, (body[:80], r.status, r.text)
    many = doc([example_events("M")[3]] * 10001)
    r = post(srv, "/api/v1/trace/capture", many, key)
    assert r.status == 413, r.text


def test_query_parameters_and_paging(env):
    srv = setup(env)
    post(srv, "/api/v1/trace/capture", doc(example_events("Q")), _state["steward"])
    allev, _ = events(srv, "perPage=1000")
    n = len(allev)
    assert n >= 10
    # page through everything with perPage=3 following the Link header
    seen, path = [], "/api/v1/trace/events?perPage=3"
    while path:
        r = srv.get(path, headers={"Authorization": "Bearer " + srv.key})
        assert r.status == 200, r.text
        seen += r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        link = r.header("link")
        path = re.match(r"<([^>]+)>; rel=\"next\"", link).group(1) if link else None
    assert [e["eventID"] for e in seen] == [e["eventID"] for e in allev]
    step, _ = events(srv, "EQ_bizStep=shipping")
    assert step and all(e["bizStep"] == "shipping" for e in step)
    step2, _ = events(srv, "EQ_bizStep=" + urllib.parse.quote("https://ref.gs1.org/cbv/BizStep-shipping"))
    assert [e["eventID"] for e in step2] == [e["eventID"] for e in step]
    tt, _ = events(srv, "eventType=TransformationEvent|AggregationEvent")
    assert tt and all(e["type"] in ("TransformationEvent", "AggregationEvent") for e in tt)
    win, _ = events(srv, "GE_eventTime=2025-07-18T07:00:00Z&LT_eventTime=2025-07-18T10:00:00Z")
    assert win and all("2025-07-18T" in e["eventTime"] for e in win), win
    loc, _ = events(srv, "EQ_bizLocation=" + urllib.parse.quote(sgln("00002")))
    assert loc and all(e["bizLocation"]["id"] == sgln("00002") for e in loc)
    # a bare GTIN (Digital Link) matches every lot of the product, however the class is written
    cls, _ = events(srv, "MATCH_epcClass=" + urllib.parse.quote(f"https://id.gs1.org/01/{GTIN13}"))
    assert cls, "a GTIN-13 Digital Link did not match its lots"
    for q in ("perPage=0", "perPage=abc", "eventType=Nope", "GE_eventTime=yesterday", "EQ_action=MOVE",
              "unknown=1", "MATCH_anyEPC=" + "x" * 300):
        r = srv.get("/api/v1/trace/events?" + q, headers={"Authorization": "Bearer " + srv.key})
        assert r.status == 400, (q, r.status, r.text)


def test_access_rules(env):
    srv = setup(env)
    body = json.dumps(doc(example_events("A")))
    assert srv.post("/api/v1/trace/capture", body, content_type="application/json", auth=False).status == 401
    assert post(srv, "/api/v1/trace/capture", body, _state["analyst"]).status == 403
    assert srv.get("/api/v1/trace/events").status == 401
    assert srv.get("/api/v1/trace/events", headers={"Authorization": "Bearer " + _state["analyst"]}).status == 403
    # public: journey pages, QR codes, proofs
    assert srv.get("/api/v1/trace/qr?gtin=" + GTIN).status == 200


def test_master_data(env):
    srv = setup(env)
    farms = [{"id": "FARM-TEST", "name": "Tổ hợp tác Nhãn lồng Thử", "kind": "coop", "commune_code": "11953",
              "area_ha": 12.5, "certifications": [{"scheme": "VietGAP", "number": "VG-T-1", "valid_from": "2024-01-01",
                                                   "valid_to": "2026-12-31"}]}]
    r = post(srv, "/api/v1/trace/farms", farms, _state["steward"])
    assert r.status == 200, r.text
    got = srv.get("/api/v1/trace/farms").json()["farms"]
    f = [x for x in got if x["id"] == "FARM-TEST"][0]
    assert f["certifications"][0]["number"] == "VG-T-1" and f["area_ha"] == 12.5
    csv = "gtin,name,category,net_kg\n" + GTIN13 + ",Nhãn lồng thử – hộp 1 kg,longan,1\n"
    r = post(srv, "/api/v1/trace/products", csv, _state["steward"], "text/csv")
    assert r.status == 200, r.text
    prods = srv.get("/api/v1/trace/products").json()["products"]
    assert any(p["gtin"] == GTIN for p in prods), "the GTIN-13 was not kept as 14 digits"
    # whole or nothing, with the record and field named
    csv = "gtin,name,category\n" + GTIN13 + ",A,longan\n" + BAD_GTIN13 + ",B,longan\n"
    r = post(srv, "/api/v1/trace/products", csv, _state["steward"], "text/csv")
    assert r.status == 400 and "line 3" in r.json()["error"]["message"] and "gtin" in r.json()["error"]["message"], r.text
    bad = [dict(farms[0], id="FARM-X", commune_code="99999")]
    r = post(srv, "/api/v1/trace/farms", bad, _state["steward"])
    assert r.status == 400 and "commune_code" in r.text
    assert not any(x["id"] == "FARM-X" for x in srv.get("/api/v1/trace/farms").json()["farms"])
    # hostile bodies: clear 4xx, never a 500
    for body, ctype in ((b"{not json", "application/json"), (b"[1, 2]", "application/json"), (b'"x"', "application/json"),
                        (b"\xff\xfe,,,", "text/csv"), (b"", "text/csv"), (b"<x/>", "application/xml")):
        r = post(srv, "/api/v1/trace/farms", body, _state["steward"], ctype)
        assert 400 <= r.status < 500, (body, r.status, r.text)
    assert post(srv, "/api/v1/trace/cows", [], _state["steward"]).status == 404
    # another organisation may not change this co-op's records
    r = post(srv, "/api/v1/trace/farms", [dict(farms[0], name="Đổi tên")], _state["other"])
    assert r.status == 403, r.text
    loc = [{"id": sgln("00001"), "name": "Vườn nhãn thử", "kind": "orchard", "commune_code": "11953"},
           {"id": sgln("00002"), "name": "Nhà đóng gói thử", "kind": "packhouse", "commune_code": "11953"}]
    assert post(srv, "/api/v1/trace/locations", loc, _state["steward"]).status == 200
    r = post(srv, "/api/v1/trace/locations", [{"id": "urn:epc:id:sgtin:8930001.000001.1", "name": "x", "kind": "y"}],
             _state["steward"])
    assert r.status == 400 and "SGLN" in r.text


def journey_url(gtin, lot):
    return f"/01/{gtin}/10/{urllib.parse.quote(lot, safe='')}"


def test_journey_page_of_a_captured_lot(env):
    srv = setup(env)
    # the packed lot's class urn:epc:class:lgtin:8930001.000002.PT1 is GTIN 0 8930001 00002 + check digit
    lot = "PT1"
    gt = "0" + CP + "00002"
    gt = gt + check_digit(gt)
    r = srv.get(journey_url(gt, lot))
    assert r.status == 200, r.text
    html = r.text
    assert r.header("content-type").startswith("text/html")
    assert "Tổ hợp tác Nhãn lồng Thử" in html, "the farm of the harvest lot (a source of the packed lot) is missing"
    assert "Nhà đóng gói thử" in html and "Xuất hàng" in html and "Toàn vẹn" in html
    assert "<script" not in html
    # GTIN-13 in the URL works too
    assert srv.get(journey_url(gt[1:], lot)).status == 200
    # linkset for machines
    for hdr, q in (({"Accept": "application/json"}, ""), ({}, "?linkType=all")):
        r = srv.get(journey_url(gt, lot) + q, headers=hdr)
        assert r.status == 200 and r.json()["linkset"][0]["anchor"].endswith(f"/01/{gt}/10/{lot}"), r.text
    # one serialised item: /01/{gtin}/21/{serial}
    item = {"type": "ObjectEvent", "eventTime": "2025-07-19T10:00:00+07:00", "eventTimeZoneOffset": "+07:00",
            "epcList": [f"urn:epc:id:sgtin:{CP}.000002.SER-1"], "action": "ADD", "bizStep": "commissioning",
            "bizLocation": {"id": sgln("00002")}}
    assert post(srv, "/api/v1/trace/capture", doc([item]), _state["steward"]).status in (200, 201)
    r = srv.get(f"/01/{gt}/21/SER-1")
    assert r.status == 200 and "SER-1" in r.text and "Nhà đóng gói thử" in r.text, r.text[:300]
    assert srv.get(f"/01/{gt}/21/SER-2").status == 404
    # the page is cached; an event captured by another process (the CLI) shows on the next request
    before = srv.get(f"/01/{gt}/21/SER-1").text
    ship = dict(item, eventTime="2025-07-20T08:00:00+07:00", action="OBSERVE", bizStep="shipping")
    f = os.path.join(env.tmp, "ser1-ship.json")
    with open(f, "w") as fh:
        json.dump(doc([ship]), fh)
    p = env.kho("trace", "capture", f)
    assert p.returncode == 0, p.stderr
    after = srv.get(f"/01/{gt}/21/SER-1").text
    assert after.count("<li") == before.count("<li") + 1, (before.count("<li"), after.count("<li"))
    # unknown lot, bad GTIN: a friendly page, not an error dump
    for path in (journey_url(gt, "NOPE"), "/01/" + BAD_GTIN13 + "/10/X", "/01/123", "/01/" + gt):
        r = srv.get(path)
        assert r.status == 404 and "Không tìm thấy sản phẩm" in r.text, (path, r.status)


def test_association_events_and_the_times_a_lot_was_in_a_container(env):
    """AssociationEvent (EPCIS 2.0) is captured and queried like the others; a lot's journey shows a
    reusable crate's and a logger's events only while the lot was in the crate and the logger with it."""
    srv = setup(env)
    crate = f"urn:epc:id:grai:{CP}.00003.C1"
    logger = f"urn:epc:id:giai:{CP}.LOGGER1"
    gt = "0" + CP + "00002"
    gt = gt + check_digit(gt)

    def at(day, hour):
        return {"eventTime": f"2025-08-{day:02d}T{hour:02d}:00:00+07:00", "eventTimeZoneOffset": "+07:00"}

    def temp(v):
        return [{"sensorMetadata": {"time": "2025-08-01T00:00:00Z"},
                 "sensorReport": [{"type": "gs1:Temperature", "value": v, "uom": "CEL"}]}]
    q1 = [{"epcClass": lgtin("W1", "000002"), "quantity": 20, "uom": "KGM"}]
    q2 = [{"epcClass": lgtin("W2", "000002"), "quantity": 20, "uom": "KGM"}]
    evs = [
        dict(at(1, 6), type="ObjectEvent", action="ADD", bizStep="commissioning", quantityList=q1),           # 0
        dict(at(1, 8), type="AggregationEvent", action="ADD", bizStep="packing", parentID=crate,
             childQuantityList=q1),                                                                             # 1
        dict(at(1, 9), type="AssociationEvent", action="ADD", bizStep="assembling", parentID=logger,
             childEPCs=[crate], readPoint={"id": sgln("00002")}),                                             # 2
        dict(at(1, 12), type="ObjectEvent", action="OBSERVE", bizStep="sensor_reporting", epcList=[logger],
             sensorElementList=temp(3.5)),                                                                      # 3
        dict(at(1, 14), type="ObjectEvent", action="OBSERVE", bizStep="shipping", epcList=[crate]),          # 4
        dict(at(2, 6), type="AssociationEvent", action="DELETE", parentID=logger, childEPCs=[crate]),         # 5
        dict(at(2, 8), type="ObjectEvent", action="OBSERVE", bizStep="sensor_reporting", epcList=[logger],
             sensorElementList=temp(25.0)),                                                                     # 6
        dict(at(2, 10), type="AggregationEvent", action="DELETE", bizStep="unpacking", parentID=crate,
             childQuantityList=q1),                                                                             # 7
        dict(at(3, 6), type="ObjectEvent", action="ADD", bizStep="commissioning", quantityList=q2),           # 8
        dict(at(3, 8), type="AggregationEvent", action="ADD", bizStep="packing", parentID=crate,
             childQuantityList=q2),                                                                             # 9
        dict(at(3, 14), type="ObjectEvent", action="OBSERVE", bizStep="shipping", epcList=[crate]),          # 10
        dict(at(4, 9), type="AggregationEvent", action="DELETE", bizStep="unpacking", parentID=crate),       # 11
        dict(at(4, 12), type="ObjectEvent", action="OBSERVE", bizStep="storing", epcList=[crate]),           # 12
    ]
    r = post(srv, "/api/v1/trace/capture", doc(evs), _state["steward"])
    assert r.status == 201, r.text
    ids = r.json()["eventIDs"]
    assert all(i.startswith("ni:///sha-256;") for i in ids), ids
    # round trip of the association events
    got, _ = events(srv, "eventType=AssociationEvent&MATCH_anyEPC=" + urllib.parse.quote(crate))
    assert [e["eventID"] for e in got] == [ids[2], ids[5]], got
    for e, sent in zip(got, (evs[2], evs[5])):
        back = dict(e)
        back.pop("eventID"), back.pop("recordTime")
        assert back == sent, (back, sent)
    got, _ = events(srv, "MATCH_anyEPC=" + urllib.parse.quote(logger) + "&eventType=AssociationEvent")
    assert len(got) == 2

    def journey(lot):
        r = srv.get(f"/api/v1/trace/lots/{gt}/{lot}/proof")
        assert r.status == 200, r.text
        return [e["eventID"] for e in r.json()["events"]]
    # W1: its crate and logger only while it was in them; not the crate's later trip with W2
    assert sorted(journey("W1")) == sorted(ids[i] for i in (0, 1, 2, 3, 4, 5, 7)), journey("W1")
    # W2: the crate from its packing until the crate was emptied (a DELETE naming no children)
    assert sorted(journey("W2")) == sorted(ids[i] for i in (8, 9, 10, 11)), journey("W2")
    html = srv.get(journey_url(gt, "W1")).text
    assert "Gắn với thiết bị hoặc vị trí" in html and "3,5" in html and "25,0" not in html, html

    # whole-document rejection for what the standard requires of an AssociationEvent
    bad = [
        (dict(evs[2], parentID=None), "eventList[0]: parentID is missing"),
        (dict(evs[2], childEPCs=[]), "eventList[0]: an AssociationEvent ADD or OBSERVE needs"),
        (dict(evs[2], ilmd={"kho:x": 1}), "eventList[0].ilmd"),
        (dict(evs[2], epcList=[crate]), "eventList[0].epcList"),
        (dict(evs[2], action="MOVE"), "eventList[0].action"),
    ]
    for ev, where in bad:
        ev = {k: v for k, v in ev.items() if v is not None}
        r = post(srv, "/api/v1/trace/capture", doc([ev, evs[0]]), _state["steward"])
        assert r.status == 400 and where in r.json()["error"]["message"], (where, r.status, r.text)


def test_journey_page_in_english(env):
    srv = setup(env)
    gt = "0" + CP + "00002"
    gt = gt + check_digit(gt)
    path = journey_url(gt, "PT1")
    vi = srv.get(path)
    en = srv.get(path + "?lang=en")
    assert vi.status == 200 and en.status == 200
    assert '<html lang="vi">' in vi.text and "Hành trình" in vi.text and "Journey" not in vi.text
    assert '<html lang="en">' in en.text, en.text[:200]
    for words in ("Journey", "Origin", "Harvested on", "Authenticity", "Shipped", "Hưng Yên province"):
        assert words in en.text, words
    for words in ("Hành trình", "Nguồn gốc", "Xuất hàng", "Xác thực"):
        assert words not in en.text, words
    assert 'href="?lang=en"' in vi.text and 'href="?lang=vi"' in en.text
    # the browser's preference decides when the link does not; Vietnamese otherwise
    for al, lang in (("en-GB,en;q=0.9", "en"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi"), ("fr,en;q=0.5", "en"),
                     ("en;q=0.3,vi;q=0.7", "vi"), ("de", "vi"), ("en;q=0", "vi")):
        r = srv.get(path, headers={"Accept-Language": al})
        assert f'<html lang="{lang}">' in r.text, (al, r.text[:100])
        assert "Accept-Language" in (r.header("vary") or ""), r.header("vary")
    # hostile or odd language choices: Vietnamese, never an error
    for al in (";q=;;,,,-", "en;q=abc", "e", "," * 3000, "vi;q=" + "9" * 400, "EN-us;Q=0.9", "en-" + "x" * 4000):
        r = srv.get(path, headers={"Accept-Language": al})
        assert r.status == 200 and '<html lang="' in r.text, (al[:40], r.status)
    for q in ("?lang=", "?lang=xx", "?lang=" + "e" * 3000, "?lang=en&lang=vi"):
        r = srv.get(path + q)
        assert r.status == 200, (q[:40], r.status)
    assert '<html lang="vi">' in srv.get(path + "?lang=fr").text
    # a cached page of one language is never served for the other
    assert '<html lang="vi">' in srv.get(path).text
    r = srv.get(journey_url(gt, "NOPE") + "?lang=en")
    assert r.status == 404 and "Product not found" in r.text
    # the linkset offers the English page
    links = srv.get(path, headers={"Accept": "application/json"}).json()["linkset"][0]["https://gs1.org/voc/pip"]
    assert any(l["hreflang"] == ["en"] and l["href"].endswith(path + "?lang=en") for l in links), links


def test_demo_journey_and_qr_code(env):
    srv = setup(env)
    p = env.kho("init", "--demo")
    assert p.returncode == 0, p.stderr
    m = re.search(r"a lot's journey: (http://\S+)", p.stdout)
    assert m, p.stdout
    url = m.group(1)
    png = os.path.join(env.data, "demo-journey-qr.png")
    out = subprocess.run(["zbarimg", "--raw", "-q", png], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == url, (out.stdout, out.stderr, url)
    path = urllib.parse.urlparse(url).path
    r = srv.get(path)
    assert r.status == 200 and "Hành trình" in r.text and "Nguồn gốc" in r.text, r.text[:500]
    _state["demo_path"] = path
    # the QR endpoint encodes the same URL (public_url is the default http://127.0.0.1:8080)
    parts = path.split("/")
    r = srv.get(f"/api/v1/trace/qr?gtin={parts[2]}&lot={parts[4]}&format=png&size=6")
    assert r.status == 200 and r.header("content-type") == "image/png"
    f = env.write("qr.png", r.body)
    out = subprocess.run(["zbarimg", "--raw", "-q", f], capture_output=True, text=True)
    assert out.stdout.strip() == url, out.stdout
    r = srv.get(f"/api/v1/trace/qr?gtin={parts[2]}&lot={parts[4]}")
    assert r.status == 200 and r.header("content-type") == "image/svg+xml" and r.text.startswith("<svg")
    r = srv.get(f"/trace/labels?gtin={parts[2]}&lot={parts[4]}&count=30")
    assert r.status == 200 and r.text.count("<svg") == 30
    for q in ("gtin=123", "gtin=" + parts[2] + "&format=gif", "gtin=" + parts[2] + "&size=0", "lot=x",
              "gtin=" + parts[2] + "&lot=" + "x" * 30):
        r = srv.get("/api/v1/trace/qr?" + q)
        assert r.status == 400, (q, r.status)


def test_proofs_verify_independently(env):
    srv = setup(env)
    ids = _state["ids"]
    for eid in ids:
        r = srv.get("/api/v1/trace/events/" + urllib.parse.quote(eid, safe="") + "/proof")
        assert r.status == 200, r.text
        j = r.json()
        vkey = tv.parse_vkey(j["verifier_key"])
        cp = tv.verify_checkpoint(j["checkpoint"], vkey)
        assert cp.size == j["tree_size"] and j["intact"] is True
        tv.verify_inclusion(tv.leaf_hash(j["leaf"].encode()), j["leaf_index"], cp.size,
                            tv.b64hashes(j["inclusion"]), cp.root)
        assert json.loads(j["leaf"])["eventID"] == eid
    # the lot bundle of the demo lot verifies offline, event by event
    parts = _state["demo_path"].split("/")
    r = srv.get(f"/api/v1/trace/lots/{parts[2]}/{parts[4]}/proof")
    assert r.status == 200, r.text
    b = r.json()
    vkey = tv.parse_vkey(b["verifier_key"])
    cp = tv.verify_checkpoint(b["checkpoint"], vkey)
    assert len(b["events"]) >= 5
    for e in b["events"]:
        tv.verify_inclusion(tv.leaf_hash(e["leaf"].encode()), e["leaf_index"], cp.size, tv.b64hashes(e["inclusion"]),
                            cp.root)
    # a changed leaf does not verify
    e = b["events"][0]
    try:
        tv.verify_inclusion(tv.leaf_hash(e["leaf"].replace("2025", "2024", 1).encode()), e["leaf_index"], cp.size,
                            tv.b64hashes(e["inclusion"]), cp.root)
    except tv.VerifyError:
        pass
    else:
        raise AssertionError("an altered event verified")
    assert srv.get("/api/v1/trace/events/nope/proof").status == 404


def test_proofs_can_be_kept_from_the_public(env):
    """trace_public_proofs = off (or any value but on): proofs and bundles carry whole events, so they
    need trace:read; the journey page still says whether the lot's events are intact, without a link."""
    srv = setup(env)
    eid = urllib.parse.quote(_state["ids"][0], safe="")
    parts = _state["demo_path"].split("/")
    paths = (f"/api/v1/trace/events/{eid}/proof", f"/api/v1/trace/lots/{parts[2]}/{parts[4]}/proof")
    assert 'href="/api/v1/trace/lots/' in srv.get(_state["demo_path"]).text  # public by default
    for value in ("off", "yes"):
        private = env.server(extra_env={"KHO_TRACE_PUBLIC_PROOFS": value})
        for path in paths:
            assert private.get(path).status == 401, (value, path)
            assert srv.get(path).status == 200, path
            r = private.get(path, headers={"Authorization": "Bearer " + _state["analyst"]})  # datasets:read only
            assert r.status == 403 and "trace:read" in r.text, r.text
            r = private.get(path, headers={"Authorization": "Bearer " + _state["steward"]})
            assert r.status == 200 and r.json(), r.text
        for lang, says in (("vi", "chỉ dành cho các bên có quyền"), ("en", "for parties allowed")):
            r = private.get(_state["demo_path"] + "?lang=" + lang)
            assert r.status == 200 and says in r.text and "/proof" not in r.text, r.text[-1500:]
            assert ("Toàn vẹn" if lang == "vi" else "Intact") in r.text
        private.stop()


def test_tampering_is_detected(env):
    srv = setup(env)
    p = env.kho("trace", "verify")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "intact" in p.stdout
    # alter one stored event of the demo lot behind kho's back
    parts = _state["demo_path"].split("/")
    b = srv.get(f"/api/v1/trace/lots/{parts[2]}/{parts[4]}/proof").json()
    victim = b["events"][-1]["eventID"]
    con = sqlite3.connect(os.path.join(env.data, "kho.db"))
    con.execute("UPDATE trace_events SET body = replace(body, '2025-', '2024-') WHERE event_id = ?", (victim,))
    con.commit()
    con.close()
    p = env.kho("trace", "verify")
    assert p.returncode == 7, p.stdout + p.stderr
    assert victim in p.stdout and "altered" in p.stdout, p.stdout
    r = srv.get(_state["demo_path"])
    assert r.status == 200 and "Cảnh báo" in r.text and "Dữ liệu đã bị thay đổi" in r.text, r.text[:800]
    assert srv.get(f"/api/v1/trace/events/{urllib.parse.quote(victim, safe='')}/proof").json()["intact"] is False


def test_esg_indicators_from_the_ledger(env):
    """The traced volumes and the VietGAP share on the dashboard's indicators API equal what the
    events and the master data say, computed here independently."""
    srv = setup(env)
    # recompute from the ledger as it is now (this module captured harvests of its own)
    p = env.kho("trace", "esg")
    assert p.returncode == 0 and "traceability ESG indicators" in p.stdout, p.stdout + p.stderr
    farms = {f["id"]: f for f in srv.get("/api/v1/trace/farms").json()["farms"]}
    longan = {p["gtin"] for p in srv.get("/api/v1/trace/products").json()["products"] if p["category"] == "longan"}
    evs, _ = events(srv, "EQ_bizStep=commissioning&perPage=1000")
    tonnes, area, vietgap = {}, {}, {}
    n = 0
    for e in evs:
        if "kho:farmId" not in e.get("ilmd", {}) or e["ilmd"]["kho:farmId"] not in farms:
            continue
        farm = farms[e["ilmd"]["kho:farmId"]]
        day = e["ilmd"].get("kho:harvestDate", e["eventTime"][:10])
        kg = 0
        for q in e.get("outputQuantityList", []):
            c = q["epcClass"]  # urn:epc:class:lgtin:CP.IR.LOT -> GTIN
            cp, ir = c.split(":")[4].split(".")[:2]
            g = ir[0] + cp + ir[1:]
            if g + check_digit(g) in longan and q.get("uom") == "KGM":
                kg += q["quantity"]
        if not kg:
            continue
        n += 1
        tonnes[farm["commune_code"]] = tonnes.get(farm["commune_code"], 0) + kg / 1000
        area[farm["id"]] = farm["area_ha"]
        if any(c["scheme"] == "VietGAP" and c["valid_from"] <= day <= c["valid_to"] for c in farm["certifications"]):
            vietgap[farm["id"]] = farm["area_ha"]
    assert n >= 30, n
    assert 0 < len(vietgap) < len(area), "the demo has one farm whose certificate had expired"
    for commune, t in tonnes.items():
        j = srv.get(f"/api/v1/indicators/nhan_truy_xuat/values?unit={commune}&period=2025").json()
        got = j["values"][0]["value"]
        assert abs(got - t) < 1e-3, (commune, got, t)
    j = srv.get("/api/v1/indicators/ty_le_nhan_vietgap/values?unit=33&period=2025").json()
    want = 100 * sum(vietgap.values()) / sum(area.values())
    assert abs(j["values"][0]["value"] - want) < 1e-3, (j, want)
    # the assistant knows them
    r = srv.get("/api/v1/ask?q=" + urllib.parse.quote("tỷ lệ diện tích nhãn đạt VietGAP tỉnh Hưng Yên năm 2025")).json()
    assert r["indicator"]["code"] == "ty_le_nhan_vietgap" and abs(r["value"] - want) < 0.05, r


def wait_for_value(srv, path, want, what):
    """Poll an indicator value until it equals want (the server recomputes in the background)."""
    got = None
    for _ in range(150):
        vals = srv.get(path).json().get("values", [])
        got = vals[0]["value"] if vals else None
        if got is not None and abs(got - want) < 1e-6:
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: {got}, expected {want} (30 s after the change)")


def test_esg_indicators_follow_captures_and_farms(env):
    """A capture of a harvest, then a change of the farm's area, reach the dashboard's indicators
    without anyone running `kho trace esg` (the server recomputes them in the background)."""
    srv = setup(env)
    farm = {"id": "FARM-TEST", "name": "Tổ hợp tác Nhãn lồng Thử", "kind": "coop", "commune_code": "11953",
            "area_ha": 12.5, "certifications": [{"scheme": "VietGAP", "number": "VG-T-1", "valid_from": "2024-01-01",
                                                 "valid_to": "2026-12-31"}]}
    assert post(srv, "/api/v1/trace/farms", [farm], _state["steward"]).status == 200
    csv = "gtin,name,category,net_kg\n" + GTIN13 + ",Nhãn lồng thử – hộp 1 kg,longan,1\n"
    assert post(srv, "/api/v1/trace/products", csv, _state["steward"], "text/csv").status == 200
    tonnes = "/api/v1/indicators/nhan_truy_xuat/values?unit=11953&period=2026"
    area = "/api/v1/indicators/dien_tich_nhan_truy_xuat/values?unit=11953&period=2026"
    harvest = {"type": "TransformationEvent", "eventTime": "2026-07-10T06:00:00+07:00", "eventTimeZoneOffset": "+07:00",
               "outputQuantityList": [{"epcClass": lgtin("E2026"), "quantity": 800, "uom": "KGM"}],
               "bizStep": "commissioning", "bizLocation": {"id": sgln("00001")},
               "ilmd": {"kho:harvestDate": "2026-07-10", "kho:farmId": "FARM-TEST"}}
    r = post(srv, "/api/v1/trace/capture", doc([harvest]), _state["steward"])
    assert r.status == 201, r.text
    wait_for_value(srv, tonnes, 0.8, "traced longan of 2026 in the farm's commune")
    wait_for_value(srv, area, 12.5, "traced longan area")
    assert post(srv, "/api/v1/trace/farms", [dict(farm, area_ha=20.0)], _state["steward"]).status == 200
    wait_for_value(srv, area, 20.0, "traced longan area after the farm grew")
    # recomputing what has not changed adds no version of the dataset
    p = env.kho("trace", "esg")
    assert p.returncode == 0 and "unchanged" in p.stdout, p.stdout + p.stderr


def test_esg_recomputations_at_the_same_time(env):
    """Several `kho trace esg` at once, beside the server's own background recomputation: each has a
    scratch file of its own, each succeeds, and none is left behind."""
    srv = setup(env)
    for round_ in range(2):
        con = sqlite3.connect(os.path.join(env.data, "kho.db"))
        con.execute("DELETE FROM meta WHERE key = 'trace_esg_sha256'")  # every run writes its reports out
        con.commit()
        con.close()
        results = [None] * 4
        def run(i):
            results[i] = env.kho("trace", "esg")
        ts = [threading.Thread(target=run, args=(i,)) for i in range(4)]
        for t in ts: t.start()
        for t in ts: t.join()
        for p in results:
            assert p.returncode == 0 and "traceability ESG indicators" in p.stdout, (round_, p.stdout + p.stderr)
    assert not [f for f in os.listdir(env.data) if f.startswith(".trace-esg")], os.listdir(env.data)
    r = srv.get("/api/v1/indicators/ty_le_nhan_vietgap/values?unit=33&period=2025")
    assert r.status == 200 and r.json()["values"], r.text


def test_cli_refuses_bad_input_clearly(env):
    setup(env)
    bad_json = env.write("bad.json", "{not json")
    p = env.kho("trace", "capture", bad_json)
    assert p.returncode == 4 and "line 1" in p.stderr, (p.returncode, p.stderr)
    wrong = env.write("wrong.json", json.dumps(doc([dict(example_events("C")[3], action="MOVE")])))
    p = env.kho("trace", "capture", wrong)
    assert p.returncode == 4 and "eventList[0].action" in p.stderr, (p.returncode, p.stderr)
    p = env.kho("trace", "import", "cows", wrong)
    assert p.returncode == 2 and "farms, products, locations or partners" in p.stderr, p.stderr
    csv = env.write("farms.csv", "id,name,kind,commune_code\nF-1,Trại A,farm,11953\nF-2,Trại B,ranch,11953\n")
    p = env.kho("trace", "import", "farms", csv)
    assert p.returncode == 4 and "line 3" in p.stderr and "kind" in p.stderr, p.stderr
    farms = [f["id"] for f in _state["srv"].get("/api/v1/trace/farms").json()["farms"]]
    assert farms and "F-1" not in farms, farms  # nothing of the file was kept
    p = env.kho("trace", "qr", "--gtin", GTIN)
    assert p.returncode == 2, p.stderr
    p = env.kho("trace", "qr", "--gtin", BAD_GTIN13, "--out", os.path.join(env.tmp, "x.png"))
    assert p.returncode == 4 and "check digit" in p.stderr, p.stderr
    p = env.kho("trace", "nonsense")
    assert p.returncode == 2 and "usage" in p.stderr, p.stderr


def test_a_ledger_of_schema_5_is_migrated(env):
    """Schema 5 kept events under a unique index on their IDs; 6 looks them up by a 63-bit hash of the ID.
    A data directory of schema 5 is migrated when kho opens it: nothing lost, IDs still found, duplicates
    still refused."""
    data = os.path.join(env.tmp, "schema5")
    p = env.kho("init", "--demo", data=data)
    assert p.returncode == 0, p.stderr
    con = sqlite3.connect(os.path.join(data, "kho.db"), isolation_level=None)
    before = con.execute("SELECT seq, event_id, leaf, body FROM trace_events ORDER BY seq").fetchall()
    con.executescript("""
        BEGIN;
        CREATE TABLE old_ev (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
          event_time TEXT NOT NULL, record_time TEXT NOT NULL, action TEXT, biz_step TEXT, disposition TEXT,
          read_point TEXT, biz_location TEXT, leaf INTEGER NOT NULL UNIQUE, org TEXT NOT NULL DEFAULT '',
          body TEXT NOT NULL);
        INSERT INTO old_ev SELECT seq, event_id, type, event_time, record_time, action, biz_step, disposition,
          read_point, biz_location, leaf, org, body FROM trace_events;
        DROP TABLE trace_events;
        ALTER TABLE old_ev RENAME TO trace_events;
        CREATE INDEX trace_events_time ON trace_events(event_time);
        PRAGMA user_version = 5;
        COMMIT;""")
    con.close()
    p = env.kho("trace", "verify", data=data)
    assert p.returncode == 0 and "intact" in p.stdout, (p.stdout, p.stderr)
    con = sqlite3.connect(os.path.join(data, "kho.db"))
    assert con.execute("PRAGMA user_version").fetchone()[0] >= 6
    assert con.execute("SELECT seq, event_id, leaf, body FROM trace_events ORDER BY seq").fetchall() == before
    for eid, h in con.execute("SELECT event_id, id_hash FROM trace_events"):
        assert h == int.from_bytes(hashlib.sha256(eid.encode()).digest()[:8], "big") >> 1, eid
    # schema 7: the harvest events (ilmd kho:farmId) carry their farm, and the ESG query reads them by index
    farms = {}
    for seq, body in con.execute("SELECT seq, body FROM trace_events"):
        farm = json.loads(body).get("ilmd", {}).get("kho:farmId")
        if farm is not None:
            farms[seq] = farm if isinstance(farm, str) else ""
    assert farms and dict(con.execute("SELECT seq, farm_id FROM trace_events WHERE farm_id IS NOT NULL")) == farms
    plan = " ".join(r[-1] for r in con.execute(
        "EXPLAIN QUERY PLAN SELECT substr(event_time, 1, 4), body FROM trace_events WHERE farm_id IS NOT NULL ORDER BY seq"))
    assert "trace_events_farm" in plan, plan
    con.close()
    # the demo again: every event is found by its ID and is a repeat
    p = env.kho("init", "--demo", data=data)
    assert p.returncode == 0, p.stderr
    con = sqlite3.connect(os.path.join(data, "kho.db"))
    assert con.execute("SELECT count(*) FROM trace_events").fetchone()[0] == len(before)
    con.close()
    srv = env.server(data=data)
    for _, eid, leaf, _ in before[::50]:
        r = srv.get("/api/v1/trace/events/" + urllib.parse.quote(eid, safe="") + "/proof")
        assert r.status == 200 and r.json()["eventID"] == eid and r.json()["leaf_index"] == leaf, r
