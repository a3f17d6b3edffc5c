"""The assistant's optional language model (docs/assistant.md, "The optional language model")
against a small local stand-in for an OpenAI-compatible server (a Python HTTP server on
127.0.0.1 that records what it is sent and answers with a canned structured query).

kho asks the model only about questions its parser answers with "help"; it validates the
model's query against the catalogue and the unit tables and runs it itself: the number in
the answer is kho's (the same as the indicators API's), never the model's.
"""
import http.server
import json
import threading
import urllib.parse

_state = {}


class StandIn(http.server.BaseHTTPRequestHandler):
    reply = {}      # the structured query the "model" returns
    seen = []       # request bodies

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n))
        StandIn.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        content = "```json\n" + json.dumps(StandIn.reply, ensure_ascii=False) + "\n```"
        out = json.dumps({"id": "x", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


def setup(env):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    _state["httpd"] = httpd
    url = "http://127.0.0.1:%d/v1" % httpd.server_address[1]
    _state["srv"] = env.server(extra_env={"KHO_ASSISTANT_LLM_URL": url, "KHO_ASSISTANT_LLM_MODEL": "stand-in",
                                          "KHO_ASSISTANT_LLM_KEY": "sk-test-123"})
    _state["plain"] = env.server()


def ask(srv, q):
    r = srv.get("/api/v1/ask?q=" + urllib.parse.quote(q))
    assert r.status == 200, r
    return r.json()


def test_parser_questions_never_reach_the_model(env):
    setup(env)
    StandIn.seen.clear()
    a = ask(_state["srv"], "dân số xã Nghĩa Trụ năm 2024")
    assert a["engine"] == "parser" and a["intent"] == "value", a
    assert StandIn.seen == []


def test_model_query_is_validated_and_run_by_kho(env):
    srv = _state["srv"]
    StandIn.seen.clear()
    StandIn.reply = {"intent": "value", "indicator": "dan_so", "units": ["12031"], "periods": ["2024"],
                     "value": 999999}
    q = "kể cho tôi nghe về vùng đất ấy hồi 2024"
    a = ask(srv, q)
    assert a["engine"] == "llm" and a["intent"] == "value", a
    want = srv.get("/api/v1/indicators/dan_so/values?unit=12031&period=2024").json()["values"][0]["value"]
    assert a["value"] == want and a["value"] != 999999, (a["value"], want)
    assert [u["code"] for u in a["units"]] == ["12031"]
    assert len(StandIn.seen) == 1, StandIn.seen
    req = StandIn.seen[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test-123", req
    assert req["body"]["model"] == "stand-in"
    text = json.dumps(req["body"], ensure_ascii=False)
    assert q in text and "dan_so" in text and "ty_trong_kinh_te_so" in text, text[:500]
    # the plain server (no model configured) answers the same question with help
    assert ask(_state["plain"], q)["intent"] == "help"


def test_invalid_model_queries_fall_back_to_help(env):
    srv = _state["srv"]
    for i, bad in enumerate([{"intent": "value", "indicator": "khong_co", "units": ["12031"], "periods": ["2024"]},
                             {"intent": "value", "indicator": "dan_so", "units": ["99999"], "periods": ["2024"]},
                             {"intent": "drop_table", "indicator": "dan_so"},
                             {"intent": "value", "indicator": "dan_so", "periods": ["2024; DROP TABLE units"]},
                             {"intent": "filter", "indicator": "dan_so"},
                             ["not", "an", "object"]]):
        StandIn.reply = bad
        a = ask(srv, "câu hỏi lạ số %d về chuyện gì đó không rõ" % i)
        assert a["intent"] == "help" and a["engine"] == "parser", (bad, a)
    assert srv.get("/api/v1/indicators/dan_so").status == 200


# ---- the steward's extra words (kho assistant synonyms) ------------------------------------------


def test_steward_synonyms_load_whole_or_not_at_all(env):
    """`kho assistant synonyms FILE` (CSV term,kind,code) adds words the running server uses at once;
    a file with any problem is refused naming its lines, and the words loaded before stay."""
    if "plain" not in _state:
        setup(env)
    srv = _state["plain"]
    q = "quy mô cư trú ở Phố Hiến xưa năm 2024"
    assert ask(srv, q)["intent"] != "value"
    p = env.kho("assistant", "synonyms", env.write("syn.csv", "term,kind,code\nquy mô cư trú,indicator,dan_so\n"
                                                   "Phố Hiến xưa,unit,11953\n"))
    assert p.returncode == 0 and "2 extra words" in p.stdout, (p.stdout, p.stderr)
    a = ask(srv, q)
    want = srv.get("/api/v1/indicators/dan_so/values?unit=11953&period=2024").json()["values"][0]["value"]
    assert a["intent"] == "value" and a["value"] == want and [u["code"] for u in a["units"]] == ["11953"], a
    for text, needles in [
            ("term,kind,code\nabc,indicator,khong_co\n", ["line 2", "no indicator"]),
            ("term,kind,code\nabc,place,11953\n", ["line 2", "kind"]),
            ("term,kind,code\n,unit,11953\nx,unit,99999\n", ["line 2", "line 3"]),
            ("term,kind,code\n" + "x" * 101 + ",unit,11953\n", ["line 2", "100 bytes"]),
            ("word,type,id\nabc,unit,11953\n", ["term,kind,code"]),
            (b"term,kind,code\n\xff\xfe,unit,11953\n", ["UTF-8"])]:
        p = env.kho("assistant", "synonyms", env.write("bad.csv", text))
        assert p.returncode != 0, (text, p.stdout)
        for n in needles:
            assert n in p.stderr, (text, n, p.stderr)
        a = ask(srv, q)  # the words loaded before still work
        assert a["intent"] == "value" and a["value"] == want, (text, a)
    p = env.kho("assistant", "synonyms", env.write("none.csv", "term,kind,code\n"))
    assert p.returncode == 0, p.stderr
    assert ask(srv, q)["intent"] != "value"


def test_kho_ask_command_line(env):
    """`kho ask` answers as the operator; bad questions get a clear error and a non-zero exit."""
    env.init()
    p = env.kho("ask", "dân số xã Nghĩa Trụ năm 2024")
    assert p.returncode == 0 and "Xã Nghĩa Trụ" in p.stdout and "người" in p.stdout, (p.stdout, p.stderr)
    p = env.kho("ask", "--json", "top 3 xã có sản lượng nhãn cao nhất năm 2024")
    assert p.returncode == 0 and json.loads(p.stdout)["intent"] == "rank", p.stdout[:300]
    for args, needle in [(("   ",), "câu hỏi trống"), (("x" * 501,), "tối đa 500"), ((), "one question"),
                         (("a", "b"), "one question")]:
        p = env.kho("ask", *args)
        assert p.returncode != 0 and needle in p.stderr, (args, p.returncode, p.stderr)
    p = env.kho("ask", "<script>alert(1)</script>'; DROP TABLE units; --")
    assert p.returncode == 0 and "Trợ lý trả lời" in p.stdout, (p.stdout, p.stderr)
    assert env.kho("ask", "dân số xã Nghĩa Trụ năm 2024").returncode == 0  # nothing was dropped
