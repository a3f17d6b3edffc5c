#!/usr/bin/env python3
"""Evaluates kho's virtual assistant (GET /api/v1/ask, docs/assistant.md) against the question set
tests/assistant/questions.jsonl.

    python3 tests/assistant/eval.py --base http://127.0.0.1:8080 [--key KEY] [--questions FILE]
                                    [--only INTENT] [--failures 5] [--year 2026] [--json OUT]

For every question it asks the assistant, and computes the expected answer independently from the
STRUCTURED indicators API (GET /api/v1/indicators, /indicators/{code}, /values, /forecast, /targets)
by the definitions of docs/assistant.md:

  value     the value of the (last) period asked
  compare   first unit minus second, or later period minus earlier
  rank      the values API's `rank=` order of the province's communes; value = the first one's
  filter    communes strictly above / below the number, descending; value = how many
  change    kind rate: v(B) - v(A) (percentage points); else 100 * ((v(B)/v(A))^(1/(B-A)) - 1)
  share     100 * unit / province
  forecast  the forecast point of that year, horizon = year - latest year with data
            (a year that already has data is a `value`)
  target    the forecast at the target's period (and the target's status)
  suggest   hints recomputed from the values and targets APIs (decline, jump, target, lagging;
            at most 8; without an indicator: decline, jump and lagging over the commune-level
            indicators, target over all); value = how many. Within a kind the order is free; a
            kind cut by the limit of 8 must hold a subset of the expected observations
  definition, source   value null (source: the answer's sources name the indicator's datasets)
  clarify   intent clarify with at least `candidates_min` candidates
  help      intent help

A question is correct when intent, indicator code, unit codes (a set; in order for rank), periods
(a set) and value (relative tolerance 1e-6, or both null) all match. The library entry point is
evaluate(base, ...) -> Report; tests/e2e/test_assistant.py uses it.
"""
import argparse
import collections
import datetime
import http.client
import json
import math
import os
import statistics
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
QUESTIONS = os.path.join(HERE, "questions.jsonl")
PROVINCE = "33"
INTENTS = ("value", "compare", "rank", "filter", "change", "share", "forecast", "target", "definition", "source",
           "suggest", "clarify", "help")
REL_TOL = 1e-6
MAX_HINTS = 8


def load_questions(path=QUESTIONS):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---- HTTP -----------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, path, status, body):
        super().__init__(f"GET {path}: HTTP {status}: {body[:300]!r}")
        self.path, self.status, self.body = path, status, body


class Client:
    """GETs JSON from a kho server; structured API answers are cached (the data do not change
    during an evaluation)."""

    def __init__(self, base, key=None, timeout=60):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port or 80
        self.key = key
        self.timeout = timeout
        self.cache = {}

    def raw(self, method, path, body=None, headers=None):
        """One request; a 429 (a server with rate limits on) is retried after the time it asks."""
        h = {"Authorization": "Bearer " + self.key} if self.key else {}
        h.update(headers or {})
        for attempt in range(60):
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request(method, path, body=body, headers=h)
                r = conn.getresponse()
                status, data, retry = r.status, r.read(), r.getheader("Retry-After")
            finally:
                conn.close()
            if status != 429:
                return status, data
            try:
                wait = float(retry)
            except (TypeError, ValueError):
                wait = 1.0
            time.sleep(min(max(wait, 0.2), 10))
        return status, data

    def get(self, path, cache=True):
        if cache and path in self.cache:
            return self.cache[path]
        status, body = self.raw("GET", path)
        if status != 200:
            raise ApiError(path, status, body)
        j = json.loads(body.decode("utf-8"))
        if cache:
            self.cache[path] = j
        return j

    def ask(self, q):
        status, body = self.raw("GET", "/api/v1/ask?q=" + urllib.parse.quote(q, safe=""))
        try:
            j = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            j = None
        return status, j, body


# ---- the structured API, as the assistant's definitions need it ------------------------------------


def q(params):
    return urllib.parse.urlencode(params, safe=",")


class Truth:
    """Expected answers from the structured indicators API."""

    def __init__(self, client, year=None):
        self.c = client
        self.year = year or datetime.date.today().year
        self._defs = None

    # catalogue
    def defs(self):
        if self._defs is None:
            j = self.c.get("/api/v1/indicators")
            self._defs = {d["code"]: d for d in j["indicators"]}
        return self._defs

    def definition(self, code):
        return self.c.get(f"/api/v1/indicators/{code}")

    def kind(self, code):
        return self.defs()[code]["kind"]

    def higher_is_better(self, code):
        return self.defs()[code].get("higher_is_better", True)

    # values
    def series(self, code, unit):
        """{period: value} of one unit (every period)."""
        j = self.c.get(f"/api/v1/indicators/{code}/values?" + q({"unit": unit}))
        return {v["period"]: v["value"] for v in j["values"] if v["unit"] == unit}

    def value(self, code, unit, period):
        return self.series(code, unit).get(period)

    def latest(self, code, unit):
        s = {p: v for p, v in self.series(code, unit).items() if v is not None}
        return max(s) if s else None

    def communes(self, code, period=None):
        """The province's communes at one period (default: the latest), in the API's descending
        rank order: (period, [(unit, value)])."""
        params = {"unit": PROVINCE, "level": "commune", "rank": "desc"}
        if period:
            params["period"] = period
        j = self.c.get(f"/api/v1/indicators/{code}/values?" + q(params))
        return j.get("period"), [(v["unit"], v["value"]) for v in j["values"]]

    def commune_history(self, code):
        """{unit: {period: value}} of the province's communes, every period."""
        j = self.c.get(f"/api/v1/indicators/{code}/values?" + q({"unit": PROVINCE, "level": "commune"}))
        out = collections.defaultdict(dict)
        for v in j["values"]:
            out[v["unit"]][v["period"]] = v["value"]
        return out

    def rank(self, code, period, order, n):
        params = {"unit": PROVINCE, "level": "commune", "rank": order, "limit": n}
        if period:
            params["period"] = period
        j = self.c.get(f"/api/v1/indicators/{code}/values?" + q(params))
        return j.get("period"), [(v["unit"], v["value"]) for v in j["values"]]

    def forecast(self, code, unit, horizon):
        return self.c.get(f"/api/v1/indicators/{code}/forecast?" + q({"unit": unit, "horizon": horizon}))

    def targets(self, code, unit=None):
        path = f"/api/v1/indicators/{code}/targets" + (("?" + q({"unit": unit})) if unit else "")
        return self.c.get(path)["targets"]

    # period tokens
    def resolve(self, token, code, unit):
        y = self.year
        if token == "THIS_YEAR":
            return str(y)
        if token == "LAST_YEAR":
            return str(y - 1)
        if token == "YEAR_BEFORE_LAST":
            return str(y - 2)
        if token in ("LATEST", "PREV_LATEST"):
            lt = self.latest(code, unit)
            if lt is None:
                return None
            return lt if token == "LATEST" else str(int(lt) - 1)
        if token.startswith("LASTN_START:"):
            n = int(token.split(":")[1])
            years = sorted(p for p, v in self.series(code, unit).items() if v is not None and int(p) <= y)
            return years[-n] if len(years) >= n else None
        if token == "TARGET":
            ts = self.targets(code, unit)
            return ts[0]["period"] if len(ts) == 1 else None
        return token

    # ---- the expected answer of one question -------------------------------------------------

    def expect(self, item):
        """{"intent", "indicator", "units", "units_ordered", "periods", "periods_alt", "value",
        "status", "hints", "sources", "candidates_min"}: what a correct answer holds (None: not
        checked)."""
        intent, code = item["intent"], item.get("indicator")
        e = {"intent": intent, "indicator": code, "units": None, "units_alt": [], "units_ordered": False,
             "periods": None, "periods_alt": [], "value": None, "check_value": intent not in ("clarify", "help")}
        if intent in ("clarify", "help"):
            e["check_value"] = False
            e["indicator_checked"] = False
            e["candidates_min"] = item.get("candidates_min", 2) if intent == "clarify" else None
            return e
        e["indicator_checked"] = True
        units = item.get("units")
        unit = units[0] if units else PROVINCE
        per = [self.resolve(t, code, unit) for t in item["periods"]] if item.get("periods") is not None else None
        if per is not None and None in per:
            raise ValueError(f"cannot resolve periods {item['periods']} for {code} {unit}")
        e["units"] = list(units) if units is not None else None
        e["periods"] = per
        if intent == "value":
            e["value"] = self.value(code, unit, per[-1])
        elif intent == "compare":
            if len(units) == 2:
                a, b = self.value(code, units[0], per[0]), self.value(code, units[1], per[0])
            else:
                lo, hi = sorted(per)
                a, b = self.value(code, unit, hi), self.value(code, unit, lo)
            e["value"] = None if a is None or b is None else a - b
        elif intent == "rank":
            n = min(int(item.get("n", 5)), 20)
            period = None if item["periods"] == ["LATEST"] else per[0]
            p, rows = self.rank(code, period, item.get("order", "desc"), n)
            e["periods"] = [p]
            e["units"] = [u for u, _ in rows]
            e["units_ordered"] = True
            e["value"] = rows[0][1] if rows else None
        elif intent == "filter":
            period = None if item["periods"] == ["LATEST"] else per[0]
            p, rows = self.communes(code, period)
            thr, op = float(item["threshold"]), item["op"]
            keep = [(u, v) for u, v in rows if v is not None and (v > thr if op == "gt" else v < thr)]
            keep.sort(key=lambda t: -t[1])
            e["periods"] = [p]
            e["units"] = [u for u, _ in keep]
            e["value"] = len(keep)
        elif intent == "change":
            a, b = sorted(per, key=int)
            va, vb = self.value(code, unit, a), self.value(code, unit, b)
            e["periods"] = [a, b]
            e["periods_alt"] = [[str(y) for y in range(int(a), int(b) + 1)]]
            if va is None or vb is None:
                e["value"] = None
            elif self.kind(code) == "rate":
                e["value"] = vb - va
            elif va > 0 and vb >= 0 and int(b) > int(a):
                e["value"] = 100 * ((vb / va) ** (1.0 / (int(b) - int(a))) - 1)
            else:
                e["value"] = None
        elif intent == "share":
            v, t = self.value(code, unit, per[0]), self.value(code, PROVINCE, per[0])
            e["value"] = None if v is None or not t else 100 * v / t
            e["units_alt"] = [[unit, PROVINCE]]
        elif intent == "forecast":
            y = per[0]
            lt = self.latest(code, unit)
            if lt is not None and int(y) <= int(lt):
                # a year that already has data is answered as a value
                e["intent"] = "value"
                e["value"] = self.value(code, unit, y)
            else:
                f = self.forecast(code, unit, int(y) - int(lt))
                pts = [p for p in f["points"] if p["period"] == y]
                e["value"] = pts[0]["value"] if pts else None
        elif intent == "target":
            ts = [t for t in self.targets(code, unit) if t["indicator"] == code]
            if item["periods"] != ["TARGET"]:
                ts = [t for t in ts if t["period"] == per[0]]
            if len(ts) != 1:
                raise ValueError(f"no single target of {code} for {unit} {per}: {ts}")
            t = ts[0]
            e["periods"] = [t["period"]]
            e["value"] = (t.get("forecast") or {}).get("value")
            e["status"] = t["status"]
        elif intent == "definition":
            e["value"] = None
        elif intent == "source":
            e["value"] = None
            e["sources"] = sorted({s["dataset"] for s in self.definition(code)["sources"]})
        elif intent == "suggest":
            full = self.hints(code)
            e["hints_full"] = full
            e["hints"] = full[:MAX_HINTS]
            e["value"] = len(e["hints"])
        return e

    # ---- suggest: the observations of docs/assistant.md ----------------------------------------------

    def hints(self, code=None):
        """Every observation (untruncated), ordered decline, jump, target, lagging; each
        (kind, indicator, unit). Per indicator; without one, decline, jump and lagging over every
        visible commune-level indicator and target over every visible indicator."""
        defs = self.defs()
        codes = [code] if code else list(defs)
        by = {"decline": [], "jump": [], "target": [], "lagging": []}
        for c in codes:
            d = defs[c]
            for t in self.targets(c):
                if t["status"] in ("at_risk", "off_track"):
                    by["target"].append(("target", c, t["unit"]))
            if d["level"] != "commune":
                continue
            hib = d.get("higher_is_better", True)
            hist = self.commune_history(c)
            prov = self.series(c, PROVINCE)
            years = sorted({p for h in hist.values() for p, v in h.items() if v is not None and int(p) <= self.year},
                           key=int)
            if not years:
                continue
            L = int(years[-1])

            def worse(a, b):  # the move from a to b is the wrong way
                return b < a if hib else b > a

            def better(a, b):
                return b > a if hib else b < a

            # decline: the wrong way in each of L-2, L-1, L while the province went the right way
            pv = [prov.get(str(y)) for y in range(L - 3, L + 1)]
            prov_right = None not in pv and all(better(pv[i], pv[i + 1]) for i in range(3))
            for u in sorted(hist):
                vs = [hist[u].get(str(y)) for y in range(L - 3, L + 1)]
                if prov_right and None not in vs and all(worse(vs[i], vs[i + 1]) for i in range(3)):
                    by["decline"].append(("decline", c, u))
            # jump: a relative year-on-year change above 5 x the median of that year, and >= 50 %
            jumped = set()
            for y in years[1:]:
                prev = str(int(y) - 1)
                ch = {}
                for u, h in hist.items():
                    a, b = h.get(prev), h.get(y)
                    if a is None or b is None or a == 0:
                        continue
                    ch[u] = 100.0 * (b - a) / abs(a)
                if not ch:
                    continue
                med = statistics.median(abs(x) for x in ch.values())
                for u, x in ch.items():
                    if abs(x) > 5 * med and abs(x) >= 50:
                        jumped.add(u)
            by["jump"] += [("jump", c, u) for u in sorted(jumped)]
            # lagging
            if d["kind"] in ("rate", "ratio"):
                _, rows = self.rank(c, str(L), "desc" if not hib else "asc", 3)
                by["lagging"] += [("lagging", c, u) for u, _ in rows]
            else:
                a0, b0 = prov.get(str(L - 3)), prov.get(str(L))
                if a0 and b0 is not None:
                    pg = (b0 - a0) / a0
                    gs = []
                    for u, h in hist.items():
                        a, b = h.get(str(L - 3)), h.get(str(L))
                        if a is None or b is None or a == 0:
                            continue
                        g = (b - a) / a
                        if (g < pg) if hib else (g > pg):
                            gs.append((g if hib else -g, u))
                    gs.sort()
                    by["lagging"] += [("lagging", c, u) for _, u in gs[:3]]
        return by["decline"] + by["jump"] + by["target"] + by["lagging"]


# ---- comparing ------------------------------------------------------------------------------------


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or isinstance(a, bool):
        return False
    if math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b)) + 1e-12


def fmt(v):
    if isinstance(v, float):
        return f"{v:.10g}"
    return json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v


def short_list(xs, n=8):
    xs = list(xs)
    return "[" + ", ".join(map(str, xs[:n])) + (f", … {len(xs) - n} more" if len(xs) > n else "") + "]"


def compare(item, e, status, ans):
    """A list of differences (empty: correct)."""
    if status != 200 or not isinstance(ans, dict):
        return [f"HTTP {status}" + (f" {ans.get('error')}" if isinstance(ans, dict) else "")]
    diffs = []
    intent = ans.get("intent")
    if intent != e["intent"]:
        diffs.append(f"intent: got {intent} want {e['intent']}")
        return diffs
    if e["intent"] == "help":
        return diffs
    if e["intent"] == "clarify":
        c = ans.get("candidates")
        n = len(c) if isinstance(c, list) else 0
        if n < e["candidates_min"]:
            diffs.append(f"candidates: got {n} want >= {e['candidates_min']}")
        return diffs
    got_ind = (ans.get("indicator") or {}).get("code") if isinstance(ans.get("indicator"), dict) else None
    if e["indicator_checked"] and got_ind != e["indicator"]:
        diffs.append(f"indicator: got {got_ind} want {e['indicator']}")
    units = [u.get("code") for u in (ans.get("units") or []) if isinstance(u, dict)]
    if e["units"] is not None:
        if e["units_ordered"]:
            ok = units == e["units"]
        else:
            ok = set(units) == set(e["units"]) or any(set(units) == set(a) for a in e["units_alt"])
        if not ok:
            diffs.append(f"units: got {short_list(units)} want {short_list(e['units'])}"
                         + (" (in this order)" if e["units_ordered"] else ""))
    periods = ans.get("periods") or []
    if e["periods"] is not None:
        if not (set(periods) == set(e["periods"]) or any(set(periods) == set(a) for a in e["periods_alt"])):
            diffs.append(f"periods: got {periods} want {e['periods']}")
    if e["check_value"] and not close(ans.get("value"), e["value"]):
        diffs.append(f"value: got {fmt(ans.get('value'))} want {fmt(e['value'])}")
    if e["intent"] == "target" and ans.get("status") != e.get("status"):
        diffs.append(f"status: got {ans.get('status')} want {e.get('status')}")
    if e["intent"] == "source":
        got = {s.get("dataset") for s in (ans.get("sources") or []) if isinstance(s, dict)}
        if not set(e["sources"]) <= got:
            diffs.append(f"sources: got {sorted(got)} want {e['sources']}")
    if e["intent"] == "suggest":
        diffs += compare_hints(ans.get("hints"), e["hints"], e["hints_full"])
    return diffs


def compare_hints(got, want, full):
    if not isinstance(got, list):
        return [f"hints: got {type(got).__name__} want a list of {len(want)}"]
    g = [(h.get("kind"), h.get("indicator"), h.get("unit")) for h in got if isinstance(h, dict)]
    out = []
    if [k for k, _, _ in g] != [k for k, _, _ in want]:
        out.append(f"hints kinds: got {[k for k, _, _ in g]} want {[k for k, _, _ in want]}")
    for kind in ("decline", "jump", "target", "lagging"):
        gs = {(i, u) for k, i, u in g if k == kind}
        ws = {(i, u) for k, i, u in want if k == kind}
        fs = {(i, u) for k, i, u in full if k == kind}
        cut = len(ws) < len(fs)
        if (not cut and gs != ws) or (cut and not gs <= fs):
            out.append(f"hints {kind}: got {short_list(sorted(gs), 5)} want {short_list(sorted(ws), 5)}")
    return out


# ---- the evaluation -------------------------------------------------------------------------------


class Result:
    def __init__(self, item, expected, status, answer, diffs):
        self.item, self.expected, self.status, self.answer, self.diffs = item, expected, status, answer, diffs

    @property
    def ok(self):
        return not self.diffs

    @property
    def intent(self):
        return self.item["intent"]


class Report:
    def __init__(self, results):
        self.results = results

    def by_intent(self):
        out = collections.OrderedDict((i, [0, 0]) for i in INTENTS)
        for r in self.results:
            t = out.setdefault(r.intent, [0, 0])
            t[0] += 1
            t[1] += r.ok
        return out

    def accuracy(self, intent=None):
        rs = [r for r in self.results if intent is None or r.intent == intent]
        return sum(r.ok for r in rs) / len(rs) if rs else 1.0

    def failures(self, intent=None):
        return [r for r in self.results if not r.ok and (intent is None or r.intent == intent)]

    def table(self):
        lines = [f"{'intent':<11} {'total':>5} {'correct':>7} {'accuracy':>8}"]
        for i, (n, ok) in self.by_intent().items():
            if n:
                lines.append(f"{i:<11} {n:>5} {ok:>7} {ok / n:>8.3f}")
        n = len(self.results)
        ok = sum(r.ok for r in self.results)
        lines.append(f"{'overall':<11} {n:>5} {ok:>7} {(ok / n if n else 1):>8.3f}")
        return lines

    def failure_lines(self, per_intent=5):
        lines = []
        for i in INTENTS:
            fs = self.failures(i)
            if not fs:
                continue
            lines.append(f"{i}: {len(fs)} failed")
            for r in fs[:per_intent]:
                lines.append(f"  {r.item['id']} {r.item['q']!r}" + (f" [{r.item['tag']}]" if r.item.get("tag") else ""))
                for d in r.diffs:
                    lines.append(f"      {d}")
        return lines


def evaluate(base, key=None, questions=None, year=None, only=None, progress=None):
    """Ask every question; returns a Report. `questions`: a list of items or a path."""
    if questions is None or isinstance(questions, str):
        questions = load_questions(questions or QUESTIONS)
    if only:
        questions = [x for x in questions if x["intent"] in only]
    client = Client(base, key)
    truth = Truth(client, year)
    results = []
    for n, item in enumerate(questions):
        try:
            e = truth.expect(item)
        except (ApiError, ValueError, KeyError) as ex:
            # the reference itself failed: count it as a failure and say why
            results.append(Result(item, None, None, None, [f"EVAL: cannot compute the expected answer: {ex}"]))
            continue
        status, ans, _ = client.ask(item["q"])
        results.append(Result(item, e, status, ans, compare(item, e, status, ans)))
        if progress:
            progress(n + 1, len(questions))
    return Report(results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--key", default=os.environ.get("KHO_KEY"), help="an API key (default: anonymous)")
    ap.add_argument("--questions", default=QUESTIONS)
    ap.add_argument("--only", action="append", help="only this intent (repeatable)")
    ap.add_argument("--failures", type=int, default=5, help="failures shown per intent")
    ap.add_argument("--year", type=int, help="'this year' (default: the clock's)")
    ap.add_argument("--json", help="write every result (question, expected, answer, differences) to this file")
    a = ap.parse_args()
    rep = evaluate(a.base, a.key, a.questions, a.year, a.only)
    for line in rep.table():
        print(line)
    fl = rep.failure_lines(a.failures)
    if fl:
        print()
        print("failures (first %d per intent):" % a.failures)
        for line in fl:
            print(line)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            for r in rep.results:
                exp = dict(r.expected) if r.expected else None
                if exp:
                    exp.pop("hints_full", None)
                f.write(json.dumps({"item": r.item, "expected": exp, "status": r.status, "answer": r.answer,
                                    "diffs": r.diffs}, ensure_ascii=False) + "\n")
    sys.exit(0 if rep.accuracy() == 1.0 else 1)


if __name__ == "__main__":
    main()
