"""The command line: every command's happy path, usage errors and exit codes,
settings (kho.conf, KHO_* variables), --data / $KHO_DATA / ./var, import from
standard input, export round trips (CSV, JSON, NDJSON, NFC) and an idempotent init.

Exit codes (src/cli/cli.h): 0 ok, 1 failure, 2 usage, 3 not found, 4 invalid
input, 5 refused by quality checks, 6 busy, 7 conflict.
"""
import csv
import http.client
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import unicodedata

from harness import check_sanitizer

HSDVC = "ho-so-dich-vu-cong"
TCXH = "doi-tuong-tro-cap-xa-hoi"
DNDK = "doanh-nghiep-dang-ky-moi"
CSKT = "chi-so-kinh-te-xa-hoi"


# ---- helpers ---------------------------------------------------------------------------


def run(env, *args, cwd=None, environ=None, input=None, timeout=120):
    """Run kho with exactly these arguments and environment (no --data added);
    KHO_* variables of the outer environment (but KHO_SHARE) are removed unless given."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("KHO_") or k == "KHO_SHARE"}
    e.update(environ or {})
    p = subprocess.run([env.bin, *args], cwd=cwd, env=e, input=input, capture_output=True, text=True,
                       timeout=timeout)
    check_sanitizer(p.stderr, "kho " + " ".join(args[:2]))
    return p


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}"
    return p


def fails(p, code, *needles):
    if isinstance(p.stderr, bytes):
        p.stderr = p.stderr.decode("utf-8", "replace")
    assert p.returncode == code, (f"expected exit {code}, got {p.returncode}\nstdout: {p.stdout[-1500:]}\n"
                                  f"stderr: {p.stderr[-1500:]}")
    for n in needles:
        assert n in p.stderr, f"{n!r} not in stderr: {p.stderr[-1500:]}"
    return p


def show(env, ds, data=None):
    p = ok(env.kho("show", ds, "--json", data=data))
    return json.loads(p.stdout)


def tables(data):
    con = sqlite3.connect(f"file:{os.path.join(data, 'kho.db')}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    finally:
        con.close()


# ---- help, version, unknown commands and options ----------------------------------------


def test_version_and_help(env):
    p = ok(env.kho("version", data=False))
    assert re.fullmatch(r"kho \d+\.\d+\.\d+\S*\n", p.stdout), p.stdout
    p2 = ok(env.kho("--version", data=False))
    assert p2.stdout == p.stdout
    p = ok(env.kho("help", data=False))
    for cmd in ("init", "serve", "import", "datasets", "show", "export", "units", "version", "help"):
        assert f"kho {cmd}" in p.stdout, (cmd, p.stdout)
    assert "Exit codes" in p.stdout
    p = ok(env.kho("help", "import", data=False))
    assert "--strict" in p.stdout and "--dataset ID" in p.stdout and "--type COL=TYPE" in p.stdout, p.stdout
    p = ok(env.kho("help", "config", data=False))
    for key in ("max_body_mb", "KHO_MAX_BODY_MB", "max_field_kb", "reject_threshold", "listen", "access_log"):
        assert key in p.stdout, (key, p.stdout)
    p = ok(env.kho("import", "--help", data=False))
    assert p.stdout.startswith("usage: kho import"), p.stdout
    p = ok(env.kho("--help", data=False))
    assert "Commands:" in p.stdout


def test_usage_errors(env):
    # no command at all: the overview on stderr, exit 2
    p = run(env)
    fails(p, 2, "Commands:")
    fails(env.kho("bogus", data=False), 2, "unknown command 'bogus'")
    fails(env.kho("help", "bogus", data=False), 2, "no command 'bogus'")
    fails(env.kho("datasets", "--bogus", data=False), 2, "unknown option '--bogus'", "usage: kho datasets")
    fails(env.kho("datasets", "--json", "--json", data=False), 2, "given twice")
    fails(env.kho("show", "--version", data=False), 2, "needs a value")
    fails(env.kho("version", "--json=1", data=False), 2, "unknown option")
    fails(env.kho("datasets", "--json=yes", data=False), 2, "takes no value")


def test_command_usage_errors(env):
    env.init()
    f = env.write("usage.csv", "a,b\n1,2\n")
    fails(env.kho("import", f), 2, "--dataset ID is required", "usage: kho import")
    fails(env.kho("import", "--dataset", "x1"), 2, "one FILE")
    fails(env.kho("import", f, f, "--dataset", "x1"), 2, "one FILE")
    fails(env.kho("import", f, "--dataset", "x1", "--format", "xml"), 2, "--format must be csv, json or ndjson")
    fails(env.kho("import", f, "--dataset", "x1", "--delimiter", "x"), 2, "--delimiter")
    fails(env.kho("import", f, "--dataset", "x1", "--reject-threshold", "2"), 2, "--reject-threshold")
    fails(env.kho("import", f, "--dataset", "x1", "--type", "a"), 2, "--type must be COL=TYPE")
    fails(env.kho("export", HSDVC), 2, "--format csv|json|ndjson is required")
    fails(env.kho("export", HSDVC, "--format", "xml"), 2, "--format must be csv, json or ndjson")
    fails(env.kho("export", "--format", "csv"), 2, "one dataset ID")
    fails(env.kho("export", HSDVC, "--format", "csv", "--version", "abc"), 2, "--version must be")
    fails(env.kho("export", HSDVC, "--format", "csv", "--version", "0"), 2, "--version must be")
    fails(env.kho("show"), 2, "one dataset ID")
    fails(env.kho("show", HSDVC, "--version", "-1"), 2, "--version must be")
    fails(env.kho("units", "show"), 2, "units show takes one CODE")
    fails(env.kho("units", "--limit", "0"), 2, "--limit")
    fails(env.kho("serve", "extra"), 2, "serve takes no arguments")
    fails(env.kho("serve", "--listen", "nonsense"), 2, "must be ADDRESS:PORT")
    fails(env.kho("serve", "--threads", "abc"), 2, "--threads")
    # nothing was created by any of these
    fails(env.kho("show", "x1"), 3, "no dataset has the id 'x1'")


def test_not_found_and_invalid(env):
    env.init()
    fails(env.kho("show", "no-such-dataset"), 3, "no dataset has the id 'no-such-dataset'")
    fails(env.kho("show", HSDVC, "--version", "99"), 3, "no version 99")
    fails(env.kho("export", "no-such-dataset", "--format", "csv"), 3, "no-such-dataset")
    p = fails(env.kho("export", HSDVC, "--version", "99", "--format", "csv"), 3, "has no version 99")
    assert p.stdout == "", p.stdout[:200]
    missing = os.path.join(env.tmp, "does-not-exist.csv")
    fails(env.kho("import", missing, "--dataset", "from-missing"), 3, "cannot open", "does-not-exist.csv")
    fails(env.kho("show", "from-missing"), 3)
    fails(env.kho("units", "show", "99999"), 3, "99999")
    f = env.write("bad-id.csv", "a\n1\n")
    fails(env.kho("import", f, "--dataset", "Bad Id!"), 4, "dataset id 'Bad Id!'")
    fails(env.kho("import", f, "--dataset", "t-bad-type", "--type", "a=money"), 4, "unknown type 'money'")
    fails(env.kho("import", f, "--dataset", "t-bad-col", "--type", "zz=integer"), 4,
          "--type names column 'zz'")
    fails(env.kho("import", f, "--dataset", "t-bad-sharing", "--sharing", "everyone"), 4)
    for ds in ("t-bad-type", "t-bad-col", "t-bad-sharing"):
        fails(env.kho("show", ds), 3)
    # a directory that was never initialised
    nowhere = os.path.join(env.tmp, "never-initialised")
    fails(env.kho("datasets", data=nowhere), 3, "not an initialised data directory")
    assert not os.path.exists(os.path.join(nowhere, "kho.db"))


def test_conflict_and_busy_exit_codes(env):
    data = os.path.join(env.tmp, "conflict")
    ok(env.kho("init", data=data))
    f = env.write("busy.csv", "a,b\n1,2\n")
    # another writer holds the database: exit 6 after busy_timeout_ms
    con = sqlite3.connect(os.path.join(data, "kho.db"), isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        p = env.kho("import", f, "--dataset", "busy-one", data=data, env={"KHO_BUSY_TIMEOUT_MS": "200"})
        fails(p, 6, "busy")
    finally:
        con.execute("ROLLBACK")
        con.close()
    fails(env.kho("show", "busy-one", data=data), 3)
    ok(env.kho("import", f, "--dataset", "busy-one", data=data))
    # a database from a newer kho: exit 7
    con = sqlite3.connect(os.path.join(data, "kho.db"), isolation_level=None)
    con.execute("PRAGMA user_version = 999")
    con.close()
    fails(env.kho("datasets", data=data), 7, "schema version 999")
    fails(env.kho("import", f, "--dataset", "busy-two", data=data), 7, "schema version 999")


# ---- the commands' happy paths -------------------------------------------------------------


def test_datasets_show_units(env):
    env.init()
    p = ok(env.kho("datasets"))
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["ID", "VERSION", "ROWS", "SHARING", "TITLE"], lines[0]
    assert lines[-1] == "4 datasets", p.stdout
    assert any(l.split()[:4] == [DNDK, "1", "624", "open"] for l in lines), p.stdout
    assert any(l.split()[:4] == [HSDVC, "1", "5200", "open"] for l in lines), p.stdout
    assert any(l.split()[:4] == [CSKT, "1", "43117", "open"] for l in lines), p.stdout
    lst = json.loads(ok(env.kho("datasets", "--json")).stdout)
    assert lst["total"] == 4 and sorted(d["id"] for d in lst["datasets"]) == [CSKT, DNDK, TCXH, HSDVC], lst
    for q in ("dich vu", "dịch vụ", "DICH VU"):
        lst = json.loads(ok(env.kho("datasets", "--q", q, "--json")).stdout)
        assert [d["id"] for d in lst["datasets"]] == [HSDVC], (q, lst)
    lst = json.loads(ok(env.kho("datasets", "--org", "so-tai-chinh", "--json")).stdout)
    assert sorted(d["id"] for d in lst["datasets"]) == [CSKT, DNDK], lst

    p = ok(env.kho("show", HSDVC))
    assert "current version: 1   rows: 5200" in p.stdout, p.stdout
    assert re.search(r"^ma_xa\s+text\s+commune_code\s+0\s+104", p.stdout, re.M), p.stdout
    assert "5200 rows read, 5200 loaded, 0 rejected" in p.stdout, p.stdout
    d = show(env, HSDVC)
    assert d["id"] == HSDVC and d["current_version"] == 1 and d["row_count"] == 5200, d
    assert [v["number"] for v in d["versions"]] == [1]
    v1 = json.loads(ok(env.kho("show", HSDVC, "--version", "1")).stdout)
    assert v1["number"] == 1 and v1["row_count"] == 5200 and v1["dataset"] == HSDVC, v1
    assert v1["columns"] == d["columns"], (v1["columns"], d["columns"])

    p = ok(env.kho("units", "nghia tru"))
    assert p.stdout.splitlines()[0].split()[:3] == ["12031", "commune", "current"], p.stdout
    u = json.loads(ok(env.kho("units", "Nghĩa Trụ", "--json")).stdout)
    assert u["units"][0]["code"] == "12031", u
    u = json.loads(ok(env.kho("units", "--province", "33", "--level", "commune", "--limit", "1000", "--json")).stdout)
    assert u["total"] == 104 and len(u["units"]) == 104, u["total"]
    assert all(x["province_code"] == "33" for x in u["units"])
    p = ok(env.kho("units", "show", "12031"))
    assert "Xã Nghĩa Trụ" in p.stdout and "12034  Xã Long Hưng" in p.stdout, p.stdout
    u = json.loads(ok(env.kho("units", "show", "12034", "--era", "old", "--json")).stdout)
    assert [s["code"] for s in u["successors"]] == ["12031"], u
    p = ok(env.kho("units", "gaps"))
    m = re.search(r"^(\d+) gaps in the source lists$", p.stdout, re.M)
    assert m and int(m.group(1)) > 0, p.stdout
    g = json.loads(ok(env.kho("units", "gaps", "--json")).stdout)
    assert len(g) == int(m.group(1)), len(g)


def test_options_in_any_order(env):
    env.init()
    f = env.write("order.csv", "ma,ten\n1,một\n2,hai\n")
    ok(env.kho("import", "--dataset", "order-a", "--title", "Thứ tự A", f))
    ok(env.kho("import", "--title=Thứ tự B", f, "--dataset=order-b", "--org", "so-tai-chinh"))
    ok(env.kho("import", "--org", "so-tai-chinh", "--strict", "--dataset", "order-c", "--format", "csv", f,
               "--type", "ma=integer"))
    a, b, c = show(env, "order-a"), show(env, "order-b"), show(env, "order-c")
    assert a["title"] == "Thứ tự A" and a["row_count"] == 2, a
    assert b["title"] == "Thứ tự B" and b["organisation"]["id"] == "so-tai-chinh", b
    assert c["columns"][0]["type"] == "integer" and c["row_count"] == 2, c
    # --data before the command's arguments, options before the positional
    p1 = ok(env.kho("export", "order-a", "--format", "csv"))
    p2 = ok(run(env, "export", "--data", env.data, "--format=csv", "order-a"))
    assert p1.stdout == p2.stdout == "ma,ten\n1,một\n2,hai\n", (p1.stdout, p2.stdout)
    # "--" ends the options: a file named like an option
    dash = env.write("--weird.csv", "x\n1\n")
    ok(run(env, "import", "--dataset", "order-d", "--data", env.data, "--", "--weird.csv", cwd=env.tmp))
    assert show(env, "order-d")["row_count"] == 1
    assert os.path.exists(dash)


def test_data_dir_selection(env):
    """--data DIR, else $KHO_DATA, else ./var; --data wins over $KHO_DATA."""
    a = os.path.join(env.tmp, "dir-a")
    b = os.path.join(env.tmp, "dir-b")
    cwd = os.path.join(env.tmp, "cwd")
    os.makedirs(cwd)
    f = env.write("sel.csv", "k\n1\n")
    ok(run(env, "init", environ={"KHO_DATA": a}))
    ok(run(env, "init", "--data", b, environ={"KHO_DATA": a}))
    ok(run(env, "init", cwd=cwd))
    assert os.path.exists(os.path.join(a, "kho.db")) and os.path.exists(os.path.join(a, "kho.conf"))
    assert os.path.exists(os.path.join(b, "kho.db"))
    assert os.path.exists(os.path.join(cwd, "var", "kho.db"))
    ok(run(env, "import", f, "--dataset", "only-in-a", environ={"KHO_DATA": a}))
    ok(run(env, "import", f, "--dataset", "only-in-b", "--data", b, environ={"KHO_DATA": a}))
    ok(run(env, "import", f, "--dataset", "only-in-var", cwd=cwd))

    def ids(*args, **kw):
        return sorted(d["id"] for d in json.loads(ok(run(env, "datasets", "--json", *args, **kw)).stdout)["datasets"])

    assert ids(environ={"KHO_DATA": a}) == ["only-in-a"]
    assert ids("--data", b, environ={"KHO_DATA": a}) == ["only-in-b"]
    assert ids(cwd=cwd) == ["only-in-var"]
    assert ids(cwd=cwd, environ={"KHO_DATA": ""}) == ["only-in-var"]  # empty means unset
    assert ids("--data", a, cwd=cwd) == ["only-in-a"]


def test_config_file_and_environment(env):
    data = os.path.join(env.tmp, "conf")
    ok(env.kho("init", data=data))
    conf = os.path.join(data, "kho.conf")
    template = open(conf, encoding="utf-8").read()
    assert "max_body_mb" in template and "reject_threshold" in template, template
    # 20 of 100 rows have the wrong number of fields
    rows = [f"{i},v{i}" if i % 5 else f"{i}" for i in range(100)]
    f = env.write("twenty.csv", "n,s\n" + "\n".join(rows) + "\n")
    fails(env.kho("import", f, "--dataset", "twenty", data=data), 5, "more than the threshold of 10.0%")
    # the file's setting raises the threshold ...
    with open(conf, "a", encoding="utf-8") as fh:
        fh.write("\n# tests\nreject_threshold = 0.5   # half\n")
    p = ok(env.kho("import", f, "--dataset", "twenty", data=data))
    assert "80 rows loaded, 20 rejected" in p.stdout, p.stdout
    # ... the environment overrides the file ...
    fails(env.kho("import", f, "--dataset", "twenty", data=data, env={"KHO_REJECT_THRESHOLD": "0.1"}), 5,
          "threshold of 10.0%")
    # ... and the command line overrides both
    ok(env.kho("import", f, "--dataset", "twenty", "--reject-threshold", "0.25", data=data,
               env={"KHO_REJECT_THRESHOLD": "0.1"}))
    assert show(env, "twenty", data=data)["current_version"] == 2
    # a bad value in the environment names the variable
    fails(env.kho("datasets", data=data, env={"KHO_MAX_BODY_MB": "lots"}), 4,
          "environment variable KHO_MAX_BODY_MB", "'lots'")
    fails(env.kho("datasets", data=data, env={"KHO_LOG_LEVEL": "chatty"}), 4, "log_level")
    # an unknown key names the file and the line
    lines = open(conf, encoding="utf-8").read().splitlines()
    lines.append("bogus_key = 1")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    fails(env.kho("datasets", data=data), 4, f"kho.conf line {len(lines)}: unknown key 'bogus_key'")
    fails(env.kho("import", f, "--dataset", "twenty", data=data), 4, f"line {len(lines)}")
    # a line that is not key = value
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write("# ok\nlisten 127.0.0.1:9\n")
    fails(env.kho("datasets", data=data), 4, "kho.conf line 2: expected 'key = value'")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write("max_body_mb = -3\n")
    fails(env.kho("datasets", data=data), 4, "kho.conf line 1", "max_body_mb")
    with open(conf, "w", encoding="utf-8") as fh:
        fh.write(template)
    assert show(env, "twenty", data=data)["current_version"] == 2


def test_help_works_with_a_broken_config(env):
    """The error for a bad kho.conf says "see 'kho help config'": that help (and
    `kho version`) must not need a valid kho.conf."""
    data = os.path.join(env.tmp, "broken-conf")
    ok(env.kho("init", data=data))
    with open(os.path.join(data, "kho.conf"), "a", encoding="utf-8") as fh:
        fh.write("bogus_key = 1\n")
    p = run(env, "help", "config", environ={"KHO_DATA": data})
    assert p.returncode == 0 and "max_body_mb" in p.stdout, (p.returncode, p.stderr)
    p = run(env, "version", "--data", data)
    assert p.returncode == 0 and p.stdout.startswith("kho "), (p.returncode, p.stderr)


# ---- import / export -------------------------------------------------------------------------


def test_import_from_stdin(env):
    env.init()
    body = "mã,tên\n1,Nghĩa Trụ\n2,Phố Hiến\n"
    p = ok(env.kho("import", "-", "--dataset", "from-stdin", "--title", "Từ stdin", input=body))
    assert "imported stdin into from-stdin version 1: 2 rows loaded, 0 rejected" in p.stdout, p.stdout
    d = show(env, "from-stdin")
    assert d["title"] == "Từ stdin" and d["row_count"] == 2 and d["versions"][0]["source"] == "stdin", d
    out = ok(env.kho("export", "from-stdin", "--format", "csv")).stdout
    assert out == "ma,ten\n1,Nghĩa Trụ\n2,Phố Hiến\n", out
    # JSON on standard input, detected
    p = ok(env.kho("import", "-", "--dataset", "from-stdin", input='[{"ma": 3, "tên": "Ba"}]'))
    assert "version 2: 1 rows loaded" in p.stdout, p.stdout
    # a damaged standard input: refused, the spool file is gone
    fails(env.kho("import", "-", "--dataset", "from-stdin", input=b"a,b\n1,\xff\n"), 4, "invalid UTF-8")
    fails(env.kho("import", "-", "--dataset", "from-stdin", input=""), 4, "empty")
    assert show(env, "from-stdin")["current_version"] == 2
    leftovers = [n for n in os.listdir(env.data) if n.startswith(".import-")]
    assert leftovers == [], leftovers


ROUNDTRIP_HEADER = ["Mã số", "Tên đơn vị", "Dân số", "Tỷ lệ", "Có hiệu lực", "Ngày", "Ghi chú"]
ROUNDTRIP_ROWS = [
    ["1", "Xã Nghĩa Trụ", "12000", "0.25", "true", "2025-07-01", "thường"],
    ["2", "Phường Phố Hiến", "45678", "3.5", "false", "2024-12-31", 'có "ngoặc kép", và dấu phẩy'],
    ["3", "Xã Long Hưng", "", "-0.5", "true", "2025-01-15", "hai\ndòng"],
    ["4", "Đặc khu Bạch Long Vĩ", "900", "", "false", "", "  khoảng trắng  "],
    ["5", "Xã Ải", "-7", "100.75", "true", "2000-02-29", ""],
]
ROUNDTRIP_NAMES = ["ma_so", "ten_don_vi", "dan_so", "ty_le", "co_hieu_luc", "ngay", "ghi_chu"]
ROUNDTRIP_TYPES = ["integer", "text", "integer", "real", "boolean", "date", "text"]


def typed(name, s):
    i = ROUNDTRIP_NAMES.index(name)
    if s == "":
        return None
    t = ROUNDTRIP_TYPES[i]
    if t == "integer":
        return int(s)
    if t == "real":
        return float(s)
    if t == "boolean":
        return s == "true"
    return s


def test_export_round_trip(env):
    env.init()
    buf = io.StringIO()
    # quote every text so that the value with surrounding spaces keeps them
    # (kho trims spaces around unquoted fields)
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(ROUNDTRIP_HEADER)
    for row in ROUNDTRIP_ROWS:
        w.writerow(row)
    text = buf.getvalue().replace(",  khoảng trắng  \n", ',"  khoảng trắng  "\n')
    assert '"  khoảng trắng  "' in text
    f = env.write("roundtrip.csv", text)
    p = ok(env.kho("import", f, "--dataset", "round-trip"))
    assert "5 rows loaded, 0 rejected" in p.stdout, p.stdout
    d = show(env, "round-trip")
    assert [c["name"] for c in d["columns"]] == ROUNDTRIP_NAMES, d["columns"]
    assert [c["label"] for c in d["columns"]] == ROUNDTRIP_HEADER, d["columns"]
    assert [c["type"] for c in d["columns"]] == ROUNDTRIP_TYPES, d["columns"]

    out = ok(env.kho("export", "round-trip", "--format", "csv")).stdout
    got = list(csv.reader(io.StringIO(out)))
    assert got[0] == ROUNDTRIP_NAMES, got[0]
    assert len(got) == 1 + len(ROUNDTRIP_ROWS), got
    for want, have in zip(ROUNDTRIP_ROWS, got[1:]):
        for name, a, b in zip(ROUNDTRIP_NAMES, want, have):
            assert typed(name, a) == typed(name, b), (name, a, b)

    expected = [{"_row": i + 1, **{n: typed(n, v) for n, v in zip(ROUNDTRIP_NAMES, row)}}
                for i, row in enumerate(ROUNDTRIP_ROWS)]
    js = json.loads(ok(env.kho("export", "round-trip", "--format", "json")).stdout)
    assert js == expected, (js, expected)
    nd = ok(env.kho("export", "round-trip", "--format", "ndjson")).stdout
    assert nd.endswith("\n") and [json.loads(l) for l in nd.splitlines()] == expected, nd
    # --output writes the same bytes as standard output
    outpath = os.path.join(env.tmp, "exported.csv")
    p = ok(env.kho("export", "round-trip", "--format", "csv", "--output", outpath))
    assert p.stdout == ""
    raw = ok(env.kho("export", "round-trip", "--format", "csv", input=b"")).stdout
    assert raw.startswith(b"ma_so,ten_don_vi,") and raw.endswith(b"\r\n"), raw[:100]
    assert '"hai\ndòng"'.encode() in raw, raw
    with open(outpath, "rb") as fh:
        assert fh.read() == raw
    fails(env.kho("export", "round-trip", "--format", "csv", "--output", os.path.join(env.tmp, "no", "dir.csv")),
          1, "cannot write")
    # the export is itself importable and gives the same data
    ok(env.kho("import", outpath, "--dataset", "round-trip-2"))
    js2 = json.loads(ok(env.kho("export", "round-trip-2", "--format", "json")).stdout)
    assert js2 == expected, js2
    # an older version stays exportable after a new one
    ok(env.kho("import", "-", "--dataset", "round-trip", input="Mã số\n9\n"))
    assert json.loads(ok(env.kho("export", "round-trip", "--format", "json")).stdout) == [{"_row": 1, "ma_so": 9}]
    old = json.loads(ok(env.kho("export", "round-trip", "--version", "1", "--format", "json")).stdout)
    assert old == expected


def test_nfc_normalisation(env):
    env.init()
    names = ["Nghĩa Trụ", "Phố Hiến", "Đức Hợp", "Thủy Nguyên"]
    header = "Tên xã,Số"
    text = header + "\n" + "".join(f"{n},{i}\n" for i, n in enumerate(names))
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    f = env.write("nfd.csv", nfd)
    ok(env.kho("import", f, "--dataset", "nfd-input"))
    d = show(env, "nfd-input")
    assert d["columns"][0]["label"] == "Tên xã" and d["columns"][0]["name"] == "ten_xa", d["columns"]
    out = ok(env.kho("export", "nfd-input", "--format", "csv")).stdout
    assert out == "ten_xa,so\n" + "".join(f"{n},{i}\n" for i, n in enumerate(names)), out
    assert unicodedata.is_normalized("NFC", out)
    js = json.loads(ok(env.kho("export", "nfd-input", "--format", "json")).stdout)
    assert [r["ten_xa"] for r in js] == names
    # the same text composed or decomposed is found by search
    lst = json.loads(ok(env.kho("datasets", "--q", unicodedata.normalize("NFD", "dịch vụ"), "--json")).stdout)
    assert [x["id"] for x in lst["datasets"]] == [HSDVC], lst


def test_init_is_idempotent(env):
    data = os.path.join(env.tmp, "idem")
    p1 = ok(env.kho("init", "--demo", data=data))
    assert "demo dataset doanh-nghiep-dang-ky-moi: 624 rows (version 1)" in p1.stdout, p1.stdout
    assert "demo dataset ho-so-dich-vu-cong: 5200 rows (version 1)" in p1.stdout, p1.stdout
    assert "demo dataset chi-so-kinh-te-xa-hoi: 43117 indicator reports (version 1)" in p1.stdout, p1.stdout
    before = {ds: show(env, ds, data=data) for ds in (DNDK, HSDVC, TCXH, CSKT)}
    t_before = tables(data)
    p2 = ok(env.kho("init", "--demo", data=data))
    assert "already" in p2.stdout, p2.stdout
    after = {ds: show(env, ds, data=data) for ds in (DNDK, HSDVC, TCXH, CSKT)}
    assert after == before, (after, before)
    assert tables(data) == t_before
    lst = json.loads(ok(env.kho("datasets", "--json", data=data)).stdout)
    assert lst["total"] == 4 and sorted(d["id"] for d in lst["datasets"]) == [CSKT, DNDK, TCXH, HSDVC], lst
    # a user's new version of a demo dataset survives another init --demo
    ok(env.kho("import", "-", "--dataset", DNDK, data=data, input="Mã xã,Năm\n11953,2026\n"))
    ok(env.kho("init", "--demo", data=data))
    d = show(env, DNDK, data=data)
    assert d["current_version"] == 2 and d["row_count"] == 1 and [v["number"] for v in d["versions"]] == [2, 1], d
    assert show(env, HSDVC, data=data) == before[HSDVC]
    assert show(env, CSKT, data=data) == before[CSKT]
    # init without --demo on the same directory changes nothing either
    ok(env.kho("init", data=data))
    assert show(env, DNDK, data=data)["current_version"] == 2
    # the settings file is kept, not rewritten
    conf = os.path.join(data, "kho.conf")
    with open(conf, "a", encoding="utf-8") as fh:
        fh.write("rows_default_limit = 7\n")
    ok(env.kho("init", "--demo", data=data))
    assert open(conf, encoding="utf-8").read().endswith("rows_default_limit = 7\n")


def test_serve_command(env):
    """`kho serve` takes --threads/--workers and its address from --listen, else
    KHO_LISTEN, else kho.conf."""
    env.init()
    srv = env.server(args=("--threads", "1", "--workers", "1"))
    assert srv.get("/healthz").json()["status"] == "ok"
    log = srv.stop()
    assert "(1 event loops, 1 workers, data directory" in log, log

    def serve(environ, conf_listen=None):
        data = os.path.join(env.tmp, f"serve-{len(environ)}-{conf_listen is not None}")
        if not os.path.exists(data):
            ok(env.kho("init", data=data))
        if conf_listen:
            with open(os.path.join(data, "kho.conf"), "a", encoding="utf-8") as fh:
                fh.write(f"listen = {conf_listen}\nthreads = 1\n")
        e = {k: v for k, v in os.environ.items() if not k.startswith("KHO_") or k == "KHO_SHARE"}
        e.update(environ)
        logpath = os.path.join(data, "serve.log")
        with open(logpath, "wb") as logf:
            p = subprocess.Popen([env.bin, "serve", "--data", data], stdout=logf, stderr=logf, env=e)
        try:
            deadline = time.monotonic() + env.slow(20)
            m = None
            while time.monotonic() < deadline and p.poll() is None:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+) \((\d+) event loops",
                              open(logpath, encoding="utf-8").read())
                if m:
                    break
                time.sleep(0.02)
            assert m, open(logpath, encoding="utf-8").read()
            c = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
            c.request("GET", "/healthz")
            assert c.getresponse().status == 200
            c.close()
            return int(m.group(2))
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                assert p.wait(timeout=env.slow(30)) == 0
            check_sanitizer(open(logpath, encoding="utf-8").read(), "kho serve")

    assert serve({"KHO_LISTEN": "127.0.0.1:0", "KHO_THREADS": "2"}) == 2
    assert serve({}, conf_listen="127.0.0.1:0") == 1
    assert serve({"KHO_THREADS": "3"}, conf_listen="127.0.0.1:0") == 3
