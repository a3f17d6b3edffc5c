#!/usr/bin/env bash
# The virtual assistant (issue 6): GET /api/v1/ask?q=… over HTTP against nginx.
#   bash bench/assistant.sh     (DURATION=10s; KHO=binary; DATA=/tmp/bench-asst; QUESTIONS=file)
#
# Target (issue 6): p50 < 1 ms and p99 < 5 ms per question at 64 connections.
#
# A fresh data directory with the demo data (`kho init --demo`), `kho serve --threads 2` on
# 127.0.0.1 with the access log and the public rate limit off (as in api.sh and indicators.sh).
# The questions: those of tests/assistant/questions.jsonl when it exists (one JSON object a line,
# the question in "q" or "question"; at most 150, taken evenly over the file and, when the lines
# name an "intent", round-robin over the intents), else the ~150 below, which cover every intent
# of docs/assistant.md. Each is URL-encoded into a path of a wrk Lua script that cycles over them
# (bench/out/assistant/ask.lua), and each is fetched once first: it must answer 200 (the intents
# found are printed). wrk -t2 -c64 --latency runs on the same 2 cores as the server (so wrk takes
# about half of the CPU), right after nginx (2 workers, access log off) serving, as a static file,
# the answer of median size among the cycle's answers. Reported: req/s, p50, p99, and the req/s
# ratio to nginx in the same run.
#
# Twice: with the default response cache (answers kept per event loop, keyed by the data version
# and the caller, when the endpoint uses it), then with KHO_RESPONSE_CACHE_MB=0 (config key
# response_cache_mb; every request parses the question and reads the database), which measures the
# real work per question; then, still without the cache, the cycle without its `suggest` questions
# (bench/out/assistant/ask-nosuggest.lua: a suggestion without an indicator looks at every
# commune-level indicator). Each also gets one wrk -t1 -c1 run: the latency of one question with
# nothing queued. Any non-2xx response under wrk fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
KHO=${KHO:-$PWD/build/bench/kho}
OUT=$PWD/bench/out/assistant
DUR=${DURATION:-10s}
D=${DATA:-/tmp/bench-asst}
Q=${QUESTIONS:-tests/assistant/questions.jsonl}
mkdir -p "$OUT"
[ -x "$KHO" ] || { echo "assistant.sh: build kho first (make V=release B=build/bench bin)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) NPORT=$(free_port)
while [ "$NPORT" = "$PORT" ]; do NPORT=$(free_port); done

rm -rf "$D" && $KHO init --demo --data "$D" >/dev/null 2>&1
: > "$OUT/serve.log"
KPID= NPID=
www=$(mktemp -d); chmod 755 "$www"
cleanup() { kill $KPID $NPID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$www"; }
trap cleanup EXIT
serve() { # extra environment for the server...
  env KHO_ACCESS_LOG=off KHO_RATE_PUBLIC=off "$@" $KHO serve --data "$D" --listen 127.0.0.1:$PORT --threads 2 \
    2>>"$OUT/serve.log" &
  KPID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "assistant.sh: kho serve did not start" >&2; exit 1; }
}
stop() { kill $KPID 2>/dev/null || true; wait $KPID 2>/dev/null || true; KPID=; }
B=http://127.0.0.1:$PORT
serve

# The questions, the Lua script, and the typical answer for nginx.
python3 - "$B" "$OUT" "$www" "$Q" <<'PY'
import json, os, sys, urllib.error, urllib.parse, urllib.request
from collections import Counter, OrderedDict
base, out, www, qfile = sys.argv[1:5]

def own():
    units = ["xã Nghĩa Trụ", "phường Phố Hiến", "Phố Hiến", "x. Nghĩa Trụ", "P. Phố Hiến", "xã Văn Giang",
             "xã Khoái Châu", "phường Mỹ Hào", "xã Ân Thi", "phường Trần Hưng Đạo", "xã Tiền Hải", "xã Vũ Thư"]
    inds = ["dân số", "số doanh nghiệp", "sản lượng nhãn", "sản lượng lúa", "đàn gà", "tỷ lệ hộ nghèo",
            "số hộ nghèo", "mật độ dân số", "tỷ lệ hồ sơ nộp trực tuyến", "sản lượng chuối", "tổng số hộ", "diện tích"]
    q = []
    # value: with and without marks, codes, abbreviations, periods of every form
    for i, u in enumerate(units):
        q.append(f"{inds[i % len(inds)]} {u} năm {2016 + i % 9}")
    q += ["dân số toàn tỉnh", "tổng số doanh nghiệp toàn tỉnh", "GRDP năm 2023", "GRDP bình quân đầu người 2024",
          "thu ngân sách năm ngoái", "DAN SO XA NGHIA TRU 2024", "dan so phuong pho hien nam 2022", "dân số 12031 năm 2022",
          "số DN tỉnh HY năm nay", "tỷ trọng kinh tế số năm 2024", "sản lượng nhãn lồng Hưng Yên năm kia",
          "dân số xã Nghĩa Trụ 5 năm qua", "số doanh nghiệp phường Phố Hiến giai đoạn 2020–2024",
          "dân số Phố Hiến từ 2018 đến 2023", "tỷ lệ hộ nghèo xã Văn Giang 2019-2024", "diện tích tự nhiên của tỉnh",
          "dân số xã Nghĩa Trụ quý 3/2024", "số hồ sơ dịch vụ công tháng 7/2024", "hồ sơ trực tuyến quý III năm 2024",
          "tổng số hồ sơ dịch vụ công năm 2025", "số hộ nghèo toàn tỉnh năm 2021", "tổng số hộ phường Phố Hiến năm 2023",
          "mật độ dân số xã Khoái Châu", "sản lượng chuối xã Văn Giang năm 2017", "đàn gà HY năm 2020", "dân số 33 năm 2015"]
    # compare
    q += ["so sánh dân số Phố Hiến và Nghĩa Trụ năm 2024", "so sánh số doanh nghiệp xã Văn Giang và xã Khoái Châu",
          "so sánh tỷ lệ hộ nghèo xã Ân Thi và phường Mỹ Hào năm 2023", "dân số Phố Hiến 2024 so với 2020",
          "sản lượng nhãn xã Nghĩa Trụ 2024 so với 2015", "so sánh sản lượng lúa xã Tiền Hải và xã Vũ Thư",
          "GRDP 2024 so với 2020", "so sánh đàn gà xã Khoái Châu và xã Nghĩa Trụ năm 2022",
          "so sánh mật độ dân số phường Phố Hiến và phường Mỹ Hào", "tỷ lệ hộ nghèo tỉnh 2024 so với 2016"]
    # rank
    for n, ind, word, y in [(5, "sản lượng nhãn", "cao nhất", 2024), (3, "tỷ lệ hộ nghèo", "thấp nhất", 2023),
                            (10, "dân số", "nhiều nhất", 2025), (5, "số doanh nghiệp", "dẫn đầu", 2022),
                            (7, "sản lượng lúa", "lớn nhất", 2020), (5, "đàn gà", "ít nhất", 2021),
                            (4, "mật độ dân số", "cao nhất", 2024), (5, "tỷ lệ hồ sơ nộp trực tuyến", "thấp nhất", 2024),
                            (20, "dân số", "cao nhất", 2015), (6, "số hộ nghèo", "nhiều nhất", 2019),
                            (5, "sản lượng chuối", "cao nhất", 2018), (8, "tổng số hộ", "nhỏ nhất", 2024)]:
        q.append(f"top {n} xã có {ind} {word} {y}")
    q += ["3 xã có tỷ lệ hộ nghèo thấp nhất", "xã nào có dân số cao nhất", "5 phường xã cuối bảng về doanh nghiệp",
          "top 5 xã có sản lượng nhãn cao nhất năm ngoái"]
    # filter
    q += ["những xã có tỷ lệ hộ nghèo trên 2%", "những xã có tỷ lệ hộ nghèo dưới 1%", "các xã có dân số trên 50 nghìn",
          "những xã có dân số dưới 20.000", "xã nào có sản lượng nhãn hơn 1.000 tấn năm 2024",
          "những xã có số doanh nghiệp vượt 300", "những xã có tỷ lệ hồ sơ nộp trực tuyến thấp hơn 70%",
          "các xã có mật độ dân số lớn hơn 2.000", "những xã có đàn gà ít hơn 50 nghìn con", "xã có sản lượng lúa chưa đến 5.000 tấn"]
    # change
    for u in units[:8]:
        q.append(f"dân số {u} tăng bao nhiêu % so với năm trước")
    q += ["tăng trưởng bình quân GRDP giai đoạn 2020–2024", "số doanh nghiệp toàn tỉnh tăng bao nhiêu so với năm trước",
          "tỷ lệ hộ nghèo giảm bao nhiêu từ 2020 đến 2024", "thu ngân sách tăng bao nhiêu % năm 2023",
          "sản lượng nhãn xã Nghĩa Trụ thay đổi thế nào giai đoạn 2015-2025", "tăng trưởng kinh tế số 3 năm gần đây",
          "tỷ lệ hồ sơ nộp trực tuyến phường Phố Hiến tăng bao nhiêu điểm so với năm trước"]
    # share
    for u in ["Phố Hiến", "xã Nghĩa Trụ", "xã Văn Giang", "phường Mỹ Hào", "xã Khoái Châu"]:
        q.append(f"{u} chiếm bao nhiêu % dân số tỉnh")
    q += ["xã Nghĩa Trụ chiếm bao nhiêu phần trăm sản lượng nhãn của tỉnh",
          "phường Phố Hiến chiếm bao nhiêu % số doanh nghiệp toàn tỉnh năm 2024", "tỷ lệ số hộ nghèo của xã Ân Thi so với tỉnh"]
    # forecast
    q += ["dự báo dân số Nghĩa Trụ năm 2027", "dự báo GRDP năm 2030", "dự báo số doanh nghiệp toàn tỉnh 2028",
          "dự báo tỷ lệ hộ nghèo năm 2026", "dự báo sản lượng nhãn xã Nghĩa Trụ năm 2029", "dân số tỉnh năm 2030 sẽ là bao nhiêu",
          "dự báo tỷ trọng kinh tế số năm 2030", "dự báo thu ngân sách 2027", "dự báo dân số phường Phố Hiến 2026",
          "dự báo tỷ lệ hồ sơ nộp trực tuyến năm 2028"]
    # target
    q += ["tỷ trọng kinh tế số có đạt mục tiêu 2030 không", "GRDP bình quân đầu người có đạt mục tiêu không",
          "mục tiêu tỷ lệ hộ nghèo", "số doanh nghiệp có đạt mục tiêu 2030 không", "tỷ lệ hồ sơ nộp trực tuyến có đạt mục tiêu không",
          "tiến độ mục tiêu kinh tế số"]
    # definition, source
    for ind in ["mật độ dân số", "tỷ lệ hộ nghèo", "GRDP", "tỷ trọng kinh tế số", "tỷ lệ hồ sơ nộp trực tuyến", "số hộ nghèo"]:
        q.append(f"{ind} là gì")
    for ind in ["dân số", "GRDP", "sản lượng nhãn", "số doanh nghiệp", "tỷ lệ hộ nghèo", "thu ngân sách"]:
        q.append(f"số liệu {ind} lấy từ đâu")
    # suggest
    q += ["xã nào cần chú ý về doanh nghiệp", "đề xuất", "xã nào cần chú ý về tỷ lệ hộ nghèo", "cần chú ý điều gì về dân số",
          "gợi ý xã cần quan tâm về hồ sơ trực tuyến", "xã nào cần chú ý"]
    # clarify, old units (before July 2025)
    q += ["dân số xã Tân Tiến", "sản lượng xã Phố Hiến", "dân số xã Tân Hưng", "dân số Tân Hùng", "số doanh nghiệp xã An Bình",
          "dân số xã Long Hưng năm 2020", "dân số huyện Kim Động 2020", "dân số TP Hưng Yên năm 2019",
          "dân số tỉnh Thái Bình năm 2024", "số doanh nghiệp huyện Văn Lâm năm 2023", "dân số xã Nghĩa Trụ tỉnh Bắc Ninh"]
    # help
    q += ["xin chào", "thời tiết hôm nay thế nào", "bạn là ai", "giá vàng hôm nay", "?", "asdfgh",
          "SELECT * FROM units", "<img src=x onerror=alert(1)>"]
    return q

def from_file(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            o = json.loads(line)
            text = o.get("q") or o.get("question") if isinstance(o, dict) else o
            if isinstance(text, str) and text.strip():
                rows.append((text, o.get("intent") if isinstance(o, dict) else None))
    rows = list(OrderedDict((t, i) for t, i in rows).items())  # unique questions, in order
    if len(rows) <= 150:
        return [t for t, _ in rows]
    if all(i for _, i in rows):  # round-robin over the intents
        by = OrderedDict()
        for t, i in rows:
            by.setdefault(i, []).append(t)
        picked, k = [], 0
        while len(picked) < 150:
            for lst in by.values():
                if k < len(lst) and len(picked) < 150:
                    picked.append(lst[k])
            k += 1
        return picked
    step = len(rows) / 150
    return [rows[int(i * step)][0] for i in range(150)]

if os.path.exists(qfile):
    questions, origin = from_file(qfile), qfile
else:
    questions, origin = own(), "the script's own list"
questions = list(OrderedDict.fromkeys(questions))
paths = ["/api/v1/ask?" + urllib.parse.urlencode({"q": q}) for q in questions]
answers, intents, bad = [], Counter(), []
for q, p in zip(questions, paths):
    try:
        b = urllib.request.urlopen(base + p, timeout=30).read()
    except urllib.error.HTTPError as e:
        bad.append(f"{e.code} {q}")
        continue
    intent = json.loads(b).get("intent")
    intents[intent] += 1
    answers.append((len(b), p, b, intent))
if bad:
    sys.exit(f"assistant.sh: {len(bad)} questions did not answer 200:\n  " + "\n  ".join(bad))
print(f"{len(questions)} questions from {origin}; intents: " + ", ".join(f"{k} {v}" for k, v in intents.most_common()))
def lua(name, ps):
    with open(f"{out}/{name}.lua", "w") as f:
        f.write("local paths = {\n" + "".join(f'  "{q}",\n' for q in ps) + "}\n")
        f.write("local n, i = #paths, 0\n"
                "request = function()\n  i = i % n + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
lua("ask", paths)
lua("ask-nosuggest", [p for _, p, _, intent in answers if intent != "suggest"])
answers.sort(key=lambda t: t[0])
n, p, b, _ = answers[len(answers) // 2]
open(f"{www}/ask.json", "wb").write(b)
with open(f"{out}/questions.txt", "w", encoding="utf-8") as f:
    f.write("\n".join(questions) + "\n")
print(f"answers {answers[0][0]}-{answers[-1][0]} bytes; nginx serves the median {n} bytes ({urllib.parse.unquote_plus(p)})")
PY
chmod 644 "$www"/*.json
cat > "$www/nginx.conf" <<NGX
worker_processes 2; daemon off; pid $www/nginx.pid; error_log /dev/null;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$NPORT; root $www; } }
NGX
nginx -c "$www/nginx.conf" & NPID=$!
sleep 0.5

run() { # label, wrk args...
  local label=$1; shift
  local out; out=$(wrk "$@" --latency)
  local rps p50 p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  [ -n "$non2xx" ] && { echo "$label: $non2xx non-2xx responses" >&2; exit 1; }
  printf '%s %s %s %s\n' "$label" "$rps" "$p50" "$p99"
}
config() { # label
  local label=$1
  wrk -t2 -c64 -d2s -s "$OUT/ask.lua" "$B" >/dev/null   # warm-up, not counted
  read -r _ n_rps n_p50 n_p99 < <(run nginx -t2 -c64 -d"$DUR" "http://127.0.0.1:$NPORT/ask.json")
  read -r _ k_rps k_p50 k_p99 < <(run kho -t2 -c64 -d"$DUR" -s "$OUT/ask.lua" "$B")
  read -r _ o_rps o_p50 o_p99 < <(run kho-c1 -t1 -c1 -d5s -s "$OUT/ask.lua" "$B")
  printf '%-14s | nginx %8.0f req/s p50 %-8s p99 %-8s | kho %8.0f req/s p50 %-8s p99 %-8s | ratio %.3f | 1 connection: %6.0f req/s p50 %-8s p99 %s\n' \
    "$label" "$n_rps" "$n_p50" "$n_p99" "$k_rps" "$k_p50" "$k_p99" "$(echo "$k_rps / $n_rps" | bc -l)" "$o_rps" "$o_p50" "$o_p99"
}
echo "wrk -t2 -c64 -d$DUR --latency on the same 2 cores as kho serve --threads 2; nginx serves $(wc -c < "$www/ask.json") bytes; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
config "cache on"
stop
serve KHO_RESPONSE_CACHE_MB=0
config "cache off (0)"
# the same without the `suggest` questions, which walk every commune of every indicator
read -r _ s_rps s_p50 s_p99 < <(run kho -t2 -c64 -d"$DUR" -s "$OUT/ask-nosuggest.lua" "$B")
read -r _ t_rps t_p50 t_p99 < <(run kho-c1 -t1 -c1 -d5s -s "$OUT/ask-nosuggest.lua" "$B")
printf '%-14s | %41s | kho %8.0f req/s p50 %-8s p99 %-8s | %11s | 1 connection: %6.0f req/s p50 %-8s p99 %s\n' \
  "off, no suggest" "" "$s_rps" "$s_p50" "$s_p99" "" "$t_rps" "$t_p50" "$t_p99"

# Per intent, the cache still off and nothing else running: each question fetched 7 times in turn
# over one keep-alive connection; the median per question (client included, about 0.05 ms), then
# the median and the maximum of those per intent, and the slowest questions.
python3 - "$PORT" "$OUT/questions.txt" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
from collections import defaultdict
port, qfile = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
by, rows = defaultdict(list), []
for q in (l.rstrip("\n") for l in open(qfile, encoding="utf-8")):
    if not q:
        continue
    path = "/api/v1/ask?" + urllib.parse.urlencode({"q": q})
    ts = []
    for _ in range(7):
        t0 = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        ts.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(ts)
    intent = json.loads(body)["intent"]
    by[intent].append(ms)
    rows.append((ms, intent, q))
print("per intent, 1 connection, cache off (ms per question: median, max over the intent's questions):")
for intent, v in sorted(by.items(), key=lambda kv: -statistics.median(kv[1])):
    print(f"  {intent:10} {len(v):3} questions  median {statistics.median(v):6.2f}  max {max(v):6.2f}")
print("slowest:")
for ms, intent, q in sorted(rows, reverse=True)[:6]:
    print(f"  {ms:7.2f} ms  {intent:9} {q}")
PY
