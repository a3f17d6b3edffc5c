"""The virtual assistant, GET|POST /api/v1/ask (docs/assistant.md), against the demo data.

The evaluation set (tests/assistant/questions.jsonl, made by gen_questions.py) states for each
question the structured query a correct engine understands; tests/assistant/eval.py computes the
expected answer of each from the STRUCTURED indicators API (values, forecast, targets) by the
doc's definitions, independently of the assistant's code. One test per intent asserts its
accuracy (>= 0.95; clarify and help: all of them), one the overall accuracy; the per-intent table
and the first failures are printed as TAP comments.

Then: the JSON shape of an answer (every key of the doc), POST equals GET, bad input (400s),
hostile input (emoji, mixed scripts, SQL and HTML injection: 200, nothing echoed, nothing
changed), units outside the province, and the access rules (a source dataset that is not open:
no numbers for the public, the value for an admin).
"""
import json
import os
import sys
import unicodedata
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "assistant"))
import eval as assistant_eval  # noqa: E402  (tests/assistant/eval.py)

DS = "chi-so-kinh-te-xa-hoi"
ASK = "/api/v1/ask"
INTENTS = assistant_eval.INTENTS
ANSWER_KEYS = ("question", "intent", "indicator", "units", "periods", "answer", "value", "data", "chart", "sources",
               "confidence", "notes", "follow_ups", "engine")
_state = {}


# ---- helpers ---------------------------------------------------------------------------------------


def srv_of(env):
    if "srv" not in _state:
        env.init()
        _state["srv"] = env.server()
    return _state["srv"]


def qs(q):
    return urllib.parse.quote(q, safe="")


def call(srv, method, path, key=None, body=None, ctype=None):
    h = {}
    if key:
        h["Authorization"] = "Bearer " + key
    if ctype:
        h["Content-Type"] = ctype
    if isinstance(body, str):
        body = body.encode("utf-8")
    return srv.request(method, path, body=body, headers=h)


def ask(srv, q, key=None, status=200):
    r = call(srv, "GET", ASK + "?q=" + qs(q), key=key)
    assert r.status == status, (q, r)
    if status == 200:
        assert r.header("Content-Type") == "application/json; charset=utf-8", (q, r.headers)
    return r.json()


def err_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def jget(srv, path, key=None):
    r = call(srv, "GET", path, key=key)
    assert r.status == 200, (path, r)
    return r.json()


def vn_number(v, decimals):
    """A number the Vietnamese way: 1.234,5 (thousands '.', decimal ',')."""
    s = f"{abs(v):,.{decimals}f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return ("-" if v < 0 else "") + s


def report(env):
    """The evaluation over the demo data, run once for the module; prints the table."""
    if "report" not in _state:
        srv = srv_of(env)
        rep = assistant_eval.evaluate(srv.url)
        _state["report"] = rep
        print("# assistant evaluation (tests/assistant/questions.jsonl against the demo data):", flush=True)
        for line in rep.table():
            print("#   " + line, flush=True)
        fl = rep.failure_lines(3)
        if fl:
            print("# first failures per intent:", flush=True)
            for line in fl:
                print("#   " + line, flush=True)
    return _state["report"]


def check_intent(env, intent, minimum):
    rep = report(env)
    n = sum(1 for r in rep.results if r.intent == intent)
    assert n > 0, f"no question of intent {intent}"
    acc = rep.accuracy(intent)
    if acc < minimum:
        lines = [f"{intent}: accuracy {acc:.3f} < {minimum} ({n - len(rep.failures(intent))}/{n})"]
        for r in rep.failures(intent)[:10]:
            lines.append(f"{r.item['id']} {r.item['q']!r}: " + "; ".join(r.diffs))
        raise AssertionError("\n".join(lines))


# ---- the evaluation, per intent ----------------------------------------------------------------------


def test_eval_value(env):
    check_intent(env, "value", 0.95)


def test_eval_compare(env):
    check_intent(env, "compare", 0.95)


def test_eval_rank(env):
    check_intent(env, "rank", 0.95)


def test_eval_filter(env):
    check_intent(env, "filter", 0.95)


def test_eval_change(env):
    check_intent(env, "change", 0.95)


def test_eval_share(env):
    check_intent(env, "share", 0.95)


def test_eval_forecast(env):
    check_intent(env, "forecast", 0.95)


def test_eval_target(env):
    check_intent(env, "target", 0.95)


def test_eval_definition(env):
    check_intent(env, "definition", 0.95)


def test_eval_source(env):
    check_intent(env, "source", 0.95)


def test_eval_suggest(env):
    check_intent(env, "suggest", 0.95)


def test_eval_clarify(env):
    check_intent(env, "clarify", 1.0)


def test_eval_help(env):
    check_intent(env, "help", 1.0)


def test_eval_holdout(env):
    """tests/assistant/holdout.jsonl: 40 questions written after the engine was tuned on the main set
    (its first run, before any fix, is reported in the issue's closing note); now held to >= 0.95."""
    srv = srv_of(env)
    rep = assistant_eval.evaluate(srv.url, questions=os.path.join(HERE, "..", "assistant", "holdout.jsonl"))
    for line in rep.table():
        print("#   holdout " + line, flush=True)
    assert len(rep.results) >= 40
    assert rep.accuracy() >= 0.95, " | ".join(rep.table() + rep.failure_lines(3))


def test_eval_overall(env):
    rep = report(env)
    assert len(rep.results) >= 320, len(rep.results)
    assert {r.intent for r in rep.results} == set(INTENTS), {r.intent for r in rep.results}
    acc = rep.accuracy()
    assert acc >= 0.95, f"overall accuracy {acc:.3f} < 0.95: " + " | ".join(rep.table())


# ---- the answer --------------------------------------------------------------------------------------


def test_answer_shape(env):
    srv = srv_of(env)
    q = "dân số xã Nghĩa Trụ năm 2024"
    a = ask(srv, q)
    missing = [k for k in ANSWER_KEYS if k not in a]
    assert not missing, f"keys missing from the answer: {missing}: {a}"
    want = jget(srv, "/api/v1/indicators/dan_so/values?unit=12031&period=2024")["values"][0]
    d = jget(srv, "/api/v1/indicators/dan_so")
    assert a["question"] == q and a["intent"] == "value", a
    assert a["indicator"] == {"code": "dan_so", "name": d["name"], "unit_of_measure": d["unit_of_measure"]}, a["indicator"]
    assert a["units"] == [{"code": "12031", "name": "Xã Nghĩa Trụ"}], a["units"]
    assert a["periods"] == ["2024"] and a["value"] == want["value"], (a["periods"], a["value"], want)
    assert isinstance(a["answer"], str) and vn_number(want["value"], 0) in a["answer"], a["answer"]
    assert "người" in a["answer"], a["answer"]
    rows = [x for x in a["data"] if x.get("unit") == "12031" and x.get("period") == "2024"]
    assert len(rows) == 1, a["data"]
    for k in ("indicator", "unit", "unit_name", "period", "value", "converted"):
        assert k in rows[0], (k, rows[0])
    assert rows[0]["value"] == want["value"] and rows[0]["converted"] == want["converted"], rows[0]
    c = a["chart"]
    assert c is None or (c["type"] in ("line", "bar") and isinstance(c["x"], list) and isinstance(c["series"], list)), c
    if c:
        for s in c["series"]:
            assert "name" in s and len(s["values"]) == len(c["x"]), (s, c["x"])
    assert a["sources"] == d["sources"], (a["sources"], d["sources"])
    assert isinstance(a["confidence"], (int, float)) and 0 < a["confidence"] <= 1, a["confidence"]
    assert isinstance(a["notes"], list) and all(isinstance(n, str) for n in a["notes"]), a["notes"]
    assert isinstance(a["follow_ups"], list) and all(isinstance(f, str) and f for f in a["follow_ups"]), a["follow_ups"]
    assert a["engine"] == "parser", a["engine"]
    # a value with decimals: the indicator's decimals, Vietnamese separators
    b = ask(srv, "tỷ lệ hộ nghèo toàn tỉnh năm 2020")
    v = jget(srv, "/api/v1/indicators/ty_le_ho_ngheo/values?unit=33&period=2020")["values"][0]["value"]
    assert b["intent"] == "value" and b["value"] == v and vn_number(v, 2) in b["answer"], (b["answer"], v)
    # an old commune: answered for its successor, with a note saying so
    o = ask(srv, "dân số xã Vĩnh Khúc năm 2020")
    assert [u["code"] for u in o["units"]] == ["12031"], o["units"]
    assert any("Vĩnh Khúc" in n for n in o["notes"]), o["notes"]
    # help: confidence 0 and examples
    h = ask(srv, "xin chào")
    assert h["intent"] == "help" and h["confidence"] == 0 and h["value"] is None, h
    assert isinstance(h.get("examples"), list) and h["examples"] and all(isinstance(x, str) for x in h["examples"]), h
    for k in ANSWER_KEYS:
        assert k in h, (k, h)
    # clarify: candidates {label, question}, each an unambiguous question
    c = ask(srv, "dân số xã Tân Tiến")
    assert c["intent"] == "clarify" and c["value"] is None, c
    assert len(c["candidates"]) >= 2, c["candidates"]
    for cand in c["candidates"]:
        assert set(cand) >= {"label", "question"} and cand["label"] and cand["question"], cand
    follow = ask(srv, c["candidates"][0]["question"])
    assert follow["intent"] != "clarify", (c["candidates"][0], follow["intent"], follow.get("candidates"))
    # target: status; suggest: hints with their keys
    t = ask(srv, "tỷ trọng kinh tế số có đạt mục tiêu 2030 không")
    assert t["intent"] == "target" and t["status"] in ("on_track", "at_risk", "off_track"), t
    s = ask(srv, "đề xuất")
    assert s["intent"] == "suggest" and isinstance(s["hints"], list), s
    for hnt in s["hints"]:
        assert set(hnt) >= {"kind", "indicator", "unit", "unit_name", "text", "data"}, hnt
        assert hnt["kind"] in ("decline", "jump", "lagging", "target"), hnt


def test_confidence(env):
    """1 for an exact match of every part; lower when a part was defaulted or matched without
    tone marks; 0 for help."""
    srv = srv_of(env)
    exact = ask(srv, "dân số xã Nghĩa Trụ năm 2024")["confidence"]
    nomarks = ask(srv, "dan so xa nghia tru nam 2024")["confidence"]
    noperiod = ask(srv, "dân số xã Nghĩa Trụ")["confidence"]
    assert nomarks < exact and noperiod < exact, (exact, nomarks, noperiod)
    assert ask(srv, "asdfgh qwerty")["confidence"] == 0


def test_post_equals_get(env):
    srv = srv_of(env)
    for q in ("dân số xã Nghĩa Trụ năm 2024", "top 5 xã có sản lượng nhãn cao nhất 2024", "xin chào",
              "dân số xã Tân Tiến", "dự báo dân số Nghĩa Trụ năm 2027"):
        g = ask(srv, q)
        r = call(srv, "POST", ASK, body=json.dumps({"q": q}, ensure_ascii=False), ctype="application/json")
        assert r.status == 200 and r.header("Content-Type") == "application/json; charset=utf-8", (q, r)
        assert r.json() == g, (q, r.json(), g)
        # with a key too (the same open data)
        r = call(srv, "POST", ASK, key=env.admin_key, body=json.dumps({"q": q}), ctype="application/json")
        assert r.status == 200 and r.json() == ask(srv, q, key=env.admin_key), q


def test_bad_input(env):
    srv = srv_of(env)
    for path in (ASK, ASK + "?q=", ASK + "?q=%20%20%20", ASK + "?q=%09%0A%20%0D", ASK + "?q=+++"):
        r = call(srv, "GET", path)
        assert r.status == 400 and err_code(r) == "empty_question", (path, r)
    for body in ({}, {"q": ""}, {"q": "   \n\t "}):
        r = call(srv, "POST", ASK, body=json.dumps(body), ctype="application/json")
        assert r.status == 400 and err_code(r) == "empty_question", (body, r)
    # length: 500 characters are fine, 501 are not (characters, not bytes)
    for ch in ("a", "ệ"):
        r = call(srv, "GET", ASK + "?q=" + qs(ch * 500))
        assert r.status == 200, (ch, r)
        r = call(srv, "GET", ASK + "?q=" + qs(ch * 501))
        assert r.status == 400 and err_code(r) == "question_too_long", (ch, r)
    q500 = ("dân số xã Nghĩa Trụ năm 2024 " * 30)[:500]
    assert len(q500) == 500
    assert call(srv, "GET", ASK + "?q=" + qs(q500)).status == 200
    big = "dân số " * 1000  # 10 KB of UTF-8
    assert 10000 <= len(big.encode("utf-8")) <= 11000
    r = call(srv, "GET", ASK + "?q=" + qs(big))
    assert r.status == 400 and err_code(r) == "question_too_long", r
    assert len(r.body) < 2000, len(r.body)
    r = call(srv, "POST", ASK, body=json.dumps({"q": big}, ensure_ascii=False), ctype="application/json")
    assert r.status == 400 and err_code(r) == "question_too_long", r
    r = call(srv, "GET", ASK + "?q=" + "a" * 10240)
    assert r.status == 400 and err_code(r) == "question_too_long", r
    # not UTF-8
    for raw in ("%FF", "d%E2n+s%F3", "%C0%AF", "%ED%A0%80", "abc%80def", "%E1%BB"):
        r = call(srv, "GET", ASK + "?q=" + raw)
        assert r.status == 400, (raw, r)
    r = call(srv, "POST", ASK, body=b'{"q": "d\xe2n s\xf3"}', ctype="application/json")
    assert r.status == 400, r
    # malformed JSON bodies are refused, not answered
    for body in (b"{", b"[]", b'{"q": 5}', b'"q"'):
        r = call(srv, "POST", ASK, body=body, ctype="application/json")
        assert r.status == 400, (body, r)
    assert ask(srv, "dân số xã Nghĩa Trụ năm 2024")["intent"] == "value"  # still serving


def fingerprint(srv, key):
    return (jget(srv, "/api/v1/indicators", key),
            jget(srv, "/api/v1/indicators/dan_so/values?unit=12031", key),
            jget(srv, "/api/v1/units/12031", key),
            jget(srv, f"/api/v1/datasets/{DS}", key)["current_version"])


HOSTILE = [
    "'; DROP TABLE units; --",
    "1 OR 1=1",
    "dân số xã Nghĩa Trụ' OR '1'='1",
    "dân số 12031; DELETE FROM ind_values; --",
    "dân số\" UNION SELECT password FROM users --",
    "<script>alert(1)</script>",
    "dân số <script>alert('xã')</script> xã Nghĩa Trụ năm 2024",
    "<img src=x onerror=alert(1)> dân số",
    "dân số xã Nghĩa Trụ năm 2024 🎉🎉",
    "🙂🙃🤔",
    "人口 Nghĩa Trụ 2024",
    "dân số Нгиа Тру 2024",
    "مرحبا dân số",
    "d\u0323\u0302an so\u0302\u0301",  # combining marks, not NFC
    "dân số ‮xã Nghĩa Trụ‬",   # bidi overrides
    "dân số\u200b xã\u200b Nghĩa Trụ",  # zero-width spaces
    "%s%s%n %x {{7*7}} ${7*7}",
    "../../etc/passwd",
    "null",
    "\\u0000 \\x00",
]


def test_hostile_input(env):
    srv = srv_of(env)
    before = fingerprint(srv, env.admin_key)
    bad = []
    for q in HOSTILE:
        r = call(srv, "GET", ASK + "?q=" + qs(q))
        if r.status != 200:
            bad.append(f"{q!r}: {r.status} {r.body[:200]!r}")
            continue
        a = r.json()
        if a.get("intent") not in INTENTS or not isinstance(a.get("answer"), str):
            bad.append(f"{q!r}: not a sane answer: {a}")
            continue
        rest = {k: v for k, v in a.items() if k != "question"}
        text = json.dumps(rest, ensure_ascii=False).lower()
        for needle in ("<script", "onerror", "<img", "drop table", "delete from", "union select", "{{7*7}}",
                       "etc/passwd"):
            if needle in text:
                bad.append(f"{q!r}: the answer echoes {needle!r}: {rest.get('answer')!r}")
        if a.get("question") not in (q, unicodedata.normalize("NFC", q)):
            bad.append(f"{q!r}: question field {a.get('question')!r}")
        if a["intent"] not in ("help", "value", "clarify"):
            bad.append(f"{q!r}: intent {a['intent']}")
    # the same through POST
    for q in HOSTILE[:8]:
        r = call(srv, "POST", ASK, body=json.dumps({"q": q}), ctype="application/json")
        if r.status != 200:
            bad.append(f"POST {q!r}: {r.status}")
    # NUL and control bytes: refused or answered, never a server error
    for raw in ("%00", "d%C3%A2n%00s%E1%BB%91", "%01%02%03", "%1B%5B31m"):
        r = call(srv, "GET", ASK + "?q=" + raw)
        if r.status not in (200, 400):
            bad.append(f"{raw}: {r.status}")
    assert not bad, "\n".join(bad)
    assert fingerprint(srv, env.admin_key) == before, "a question changed the database"
    assert ask(srv, "dân số xã Nghĩa Trụ năm 2024")["intent"] == "value"


def test_units_outside_the_province(env):
    """A unit outside the province whose indicators kho holds: a clear answer, not an error."""
    srv = srv_of(env)
    bad = []
    for q in ("dân số Phường Hoàn Kiếm năm 2024", "số doanh nghiệp phường Ba Đình", "dân số phường Hàng Bạc năm 2020",
              "tỷ lệ hộ nghèo Phường Hoàn Kiếm"):
        r = call(srv, "GET", ASK + "?q=" + qs(q))
        if r.status != 200:
            bad.append(f"{q!r}: {r.status} {r.body[:200]!r}")
            continue
        a = r.json()
        ans = (a.get("answer") or "").lower()
        if a.get("value") is not None or [x for x in (a.get("data") or []) if x.get("value") is not None]:
            bad.append(f"{q!r}: numbers for a unit without data: {a.get('value')} {a.get('data')}")
        if not ans or not any(w in ans for w in ("không", "chưa")):
            bad.append(f"{q!r}: no clear 'no data' answer: {a.get('answer')!r} (intent {a.get('intent')})")
        if a.get("intent") == "clarify":
            bad.append(f"{q!r}: a clarifying question for a unit that names one unit")
    assert not bad, "\n".join(bad)


# ---- access: a source that is not open ---------------------------------------------------------------


def classify(srv, key, sharing):
    """Every source of indicators (the demo's and the traceability ledger's) becomes `sharing`."""
    for ds in (DS, "truy-xuat-nong-san"):
        r = call(srv, "PATCH", f"/api/v1/datasets/{ds}", key=key, body=json.dumps({"sharing": sharing}),
                 ctype="application/json")
        # the traceability source exists once `kho trace esg` has run (make run does it; init --demo does not)
        assert r.status == 200 or (r.status == 404 and ds != DS), (ds, sharing, r)


def no_numbers(a, value=None, formatted=None):
    """What an answer must not show a caller who may not read the indicator (value, formatted:
    a number that must not appear anywhere)."""
    problems = []
    if a.get("value") not in (None, 0):
        problems.append(f"value {a.get('value')}")
    if [x for x in (a.get("data") or []) if x.get("value") is not None]:
        problems.append(f"data {a.get('data')[:2]}")
    ch = a.get("chart") or {}
    if any(v is not None for s in ch.get("series") or [] for v in s.get("values") or []):
        problems.append("chart values")
    if value is not None:
        text = json.dumps({k: v for k, v in a.items() if k != "question"}, ensure_ascii=False)
        if formatted in (a.get("answer") or "") or json.dumps(value) in text:
            problems.append(f"the number {formatted} appears: {a.get('answer')!r}")
    if a.get("hints"):
        problems.append(f"hints {a['hints'][:2]}")
    return problems


def test_access_rules(env):
    srv = srv_of(env)
    q = "dân số xã Nghĩa Trụ năm 2024"
    value = jget(srv, "/api/v1/indicators/dan_so/values?unit=12031&period=2024")["values"][0]["value"]
    formatted = vn_number(value, 0)
    assert ask(srv, q)["value"] == value
    analyst = env.add_user("ask-analyst", "analyst")
    classify(srv, env.admin_key, "private")
    try:
        assert call(srv, "GET", "/api/v1/indicators/dan_so").status == 404  # the reclassification took effect
        bad = []
        for who, key in (("anonymous", None), ("analyst", analyst)):
            for question in (q, "top 5 xã có dân số cao nhất năm 2024", "dự báo dân số Nghĩa Trụ năm 2027",
                             "đề xuất", "số liệu dân số lấy từ đâu", "tỷ trọng kinh tế số có đạt mục tiêu 2030 không"):
                r = call(srv, "GET", ASK + "?q=" + qs(question), key=key)
                if r.status != 200:
                    bad.append(f"{who} {question!r}: {r.status} {r.body[:200]!r}")
                    continue
                a = r.json()
                p = no_numbers(a, value, formatted) if question == q else no_numbers(a)
                if a.get("intent") not in ("help", "value", "rank", "forecast", "suggest", "source", "target",
                                           "clarify"):
                    p.append(f"intent {a.get('intent')}")
                if a.get("intent") != "help" and not any(w in (a.get("answer") or "").lower() for w in (
                        "không có quyền", "không có chỉ số", "không có số liệu", "không tìm thấy", "chưa có")):
                    p.append(f"not a clear answer: {a.get('answer')!r}")
                if p:
                    bad.append(f"{who} {question!r}: " + "; ".join(p))
        # the admin still gets the value
        a = ask(srv, q, key=env.admin_key)
        if a["intent"] != "value" or a["value"] != value:
            bad.append(f"admin: {a['intent']} {a.get('value')} (want {value})")
        assert not bad, "\n".join(bad)
    finally:
        classify(srv, env.admin_key, "open")
    a = ask(srv, q)
    assert a["intent"] == "value" and a["value"] == value, ("after restoring the classification", a)
