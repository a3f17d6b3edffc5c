#!/usr/bin/env python3
"""Generates tests/assistant/questions.jsonl: the evaluation set of the virtual assistant
(docs/assistant.md), one JSON object per line.

    python3 tests/assistant/gen_questions.py [--out FILE] [--check]

Each line states the question and the STRUCTURED query a correct engine must understand, never
the numeric answer (tests/assistant/eval.py computes that at test time from the structured
indicators API):

    {"id": "value-001", "q": "...", "intent": "value", "indicator": "dan_so" | null,
     "units": ["12031"] | null, "periods": ["2024"] | null, "tag": "...", ...}

Fields:
  units    unit codes the answer's `units` must hold (a set; null: not checked). For `rank` and
           `filter` it is the scope ["33"]: eval.py computes the ranked / matching communes.
  periods  the periods the answer must state (a set; null: not checked). Tokens resolved by
           eval.py: THIS_YEAR, LAST_YEAR, YEAR_BEFORE_LAST (the server's clock), LATEST (the
           latest period with data for the indicator and unit: "no period given"), PREV_LATEST
           (LATEST - 1), LASTN_START:N (the first of the N latest years with data up to this
           year), TARGET (the period of the indicator's target for the unit).
  n, order rank: how many and which way ("desc"/"asc").
  op, threshold   filter: "gt" (strictly above) or "lt" (strictly below) and the number.
  candidates_min  clarify: how many candidates the answer must list at least.
  tag      what the question exercises (old-name, no-diacritics, abbrev, upper, code, ...).

The last blocks are paraphrases written after the engine first ran (a held-out check of how the
parser generalises) and more questions of the smaller intents (at least 20 per intent, so that the
e2e threshold of 0.95 allows one failure). New questions go at the end of the file's generation
so that the ids of the earlier ones stay stable.

Everything is computed from data/units/*.csv and data/indicators/catalogue.json; the only
randomness (which commune goes into which template) comes from random.Random(SEED), so the
output is byte-identical from run to run. --check regenerates and compares with the file.
"""
import argparse
import collections
import csv
import json
import os
import random
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
UNITS = os.path.join(ROOT, "data", "units")
CATALOGUE = os.path.join(ROOT, "data", "indicators", "catalogue.json")
OUT = os.path.join(HERE, "questions.jsonl")
SEED = 20250701
PROVINCE = "33"
TYPE_WORDS = ("Đặc khu ", "Thị trấn ", "Thành phố ", "Thị xã ", "Phường ", "Xã ", "Quận ", "Huyện ", "Tỉnh ")


# ---- text ----------------------------------------------------------------------------------------


def fold(s):
    """Lower case, tone marks removed, đ -> d (as docs/assistant.md folds questions)."""
    s = unicodedata.normalize("NFD", s.lower()).replace("đ", "d").replace("\u0111", "d")
    return unicodedata.normalize("NFC", "".join(c for c in s if unicodedata.category(c) != "Mn"))


def strip_marks(s):
    """The question as typed without tone marks (keeps the case)."""
    out = []
    for ch in s:
        if ch in "đĐ":
            out.append("d" if ch == "đ" else "D")
            continue
        out.append("".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn"))
    return unicodedata.normalize("NFC", "".join(out))


def short(name):
    for t in TYPE_WORDS:
        if name.startswith(t):
            return name[len(t):]
    return name


def type_word(name):
    for t in TYPE_WORDS:
        if name.startswith(t):
            return t.strip().lower()
    return ""


# ---- data ----------------------------------------------------------------------------------------


def read_csv(name):
    with open(os.path.join(UNITS, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Data:
    def __init__(self):
        self.new = read_csv("communes.csv")
        self.old = read_csv("communes-before-2025-07.csv")
        self.conv = read_csv("conversion-2025-07.csv")
        self.provinces = read_csv("provinces.csv")
        with open(CATALOGUE, encoding="utf-8") as f:
            self.cat = json.load(f)
        self.ind = {d["code"]: d for d in self.cat["indicators"]}
        self.p33 = [r for r in self.new if r["province_code"] == PROVINCE]
        self.by_code = {r["code"]: r for r in self.new}
        assert len(self.p33) == 104, len(self.p33)
        # today's communes by exact and folded short name (nationwide)
        self.exact = collections.defaultdict(list)
        self.folded = collections.defaultdict(list)
        for r in self.new:
            self.exact[short(r["name"])].append(r)
            self.folded[fold(short(r["name"]))].append(r)
        self.prov_folded = {fold(p["name"]) for p in self.provinces}
        # before 2025
        self.old_by_code = {r["code"]: r for r in self.old}
        self.old_folded = collections.Counter(fold(short(r["name"])) for r in self.old)
        self.districts = {}
        for r in self.old:
            self.districts[r["district_code"]] = (r["district_name"], r["province_code"])
        self.district_folded = collections.Counter(fold(short(n)) for n, _ in self.districts.values())
        self.k = collections.Counter(r["old_code"] for r in self.conv)
        self.succ = collections.defaultdict(list)
        for r in self.conv:
            self.succ[r["old_code"]].append(r)

    def candidates(self, name, typ=None, marks=True):
        """Today's units a commune name matches (docs/assistant.md, 'Units: which one is meant'):
        with tone marks the exact spelling wins when it exists; a type word keeps its type."""
        rows = self.exact.get(name, []) if marks else []
        if not rows:
            rows = self.folded.get(fold(name), [])
        if typ:
            rows = [r for r in rows if r["type"] == typ]
        return rows

    def unambiguous_33(self):
        """Communes of province 33 whose short name names only them, with or without marks."""
        out = []
        for r in self.p33:
            s = short(r["name"])
            if len(self.folded[fold(s)]) == 1 and fold(s) not in self.prov_folded:
                out.append(r)
        return out

    def ambiguous_33(self):
        """Communes of province 33 whose short name is shared with units of other provinces:
        (row, exact, folded) with the lists of today's units that have the same name."""
        out = []
        for r in self.p33:
            s = short(r["name"])
            ex, fo = self.exact[s], self.folded[fold(s)]
            if len({x["province_code"] for x in fo}) > 1:
                out.append((r, ex, fo))
        return out

    def old_whole(self):
        """Old communes of old provinces 33/34 merged whole into one new commune, whose name is
        not any current unit's name, nor an old district's or province's, and unique among
        old communes nationwide: resolved by rule 2 without ambiguity."""
        out = []
        for code, rows in sorted(self.succ.items()):
            r = rows[0]
            if r["old_province_code"] not in ("33", "34") or len(rows) != 1 or r["relation"] != "whole":
                continue
            f = fold(short(r["old_name"]))
            if self.folded.get(f) or f in self.prov_folded or self.district_folded[f] or self.old_folded[f] != 1:
                continue
            out.append(r)
        return out

    def old_split(self):
        """Old communes of old provinces 33/34 split between several new ones, whose name is not
        a current unit's name."""
        out = []
        for code, rows in sorted(self.succ.items()):
            r = rows[0]
            if r["old_province_code"] not in ("33", "34") or len(rows) < 2:
                continue
            if self.folded.get(fold(short(r["old_name"]))):
                continue
            out.append((r, [x["new_code"] for x in rows]))
        return out

    def district(self, name):
        """The old district of provinces 33/34 with this full name ("Huyện Kim Động")."""
        hits = [c for c, (n, p) in self.districts.items() if p in ("33", "34") and fold(n) == fold(name)]
        assert len(hits) == 1, (name, hits)
        return hits[0]

    def code_of(self, short_name, shared=False):
        """The code of a commune of 33; unless shared, its name must name only it (else the
        question would be a clarify)."""
        hits = [r["code"] for r in self.p33 if short(r["name"]) == short_name]
        assert len(hits) == 1, (short_name, hits)
        if not shared:
            assert len(self.folded[fold(short_name)]) == 1, ("ambiguous name", short_name)
        return hits[0]


# ---- the set -------------------------------------------------------------------------------------


class Gen:
    def __init__(self, data):
        self.d = data
        self.rows = []
        self.counts = collections.Counter()
        self.rng = random.Random(SEED)
        good = data.unambiguous_33()
        self.good = good
        self._pool = []

    def commune(self):
        """The next commune of the rotation (each of the unambiguous ones before any repeats)."""
        if not self._pool:
            self._pool = list(self.good)
            self.rng.shuffle(self._pool)
        return self._pool.pop()

    def add(self, q, intent, indicator=None, units=None, periods=None, tag=None, **extra):
        assert intent in INTENTS, intent
        if indicator is not None:
            assert indicator in self.d.ind, indicator
        self.counts[intent] += 1
        row = {"id": f"{intent}-{self.counts[intent]:03d}", "q": q, "intent": intent, "indicator": indicator,
               "units": units, "periods": periods}
        row.update(extra)
        if tag:
            row["tag"] = tag
        self.rows.append(row)
        return row

    def variants(self, q, intent, indicator=None, units=None, periods=None, tag=None, how=("plain",), **extra):
        """The question as typed several ways: plain, without tone marks, in upper case."""
        for h in how:
            if h == "plain":
                self.add(q, intent, indicator, units, periods, tag, **extra)
            elif h == "nomarks":
                self.add(strip_marks(q).lower(), intent, indicator, units, periods,
                         ((tag + "|") if tag else "") + "no-diacritics", **extra)
            elif h == "upper":
                self.add(q.upper(), intent, indicator, units, periods, ((tag + "|") if tag else "") + "upper", **extra)
            elif h == "upper-nomarks":
                self.add(strip_marks(q).upper(), intent, indicator, units, periods,
                         ((tag + "|") if tag else "") + "upper|no-diacritics", **extra)


INTENTS = ("value", "compare", "rank", "filter", "change", "share", "forecast", "target", "definition", "source",
           "suggest", "clarify", "help")


def uname(r, form):
    """A commune of today as a leader would type it."""
    s, t = short(r["name"]), r["type"]
    if form == "type":
        return f"{t} {s}"
    if form == "Type":
        return r["name"]
    if form == "bare":
        return s
    if form == "abbr":
        return ("P. " if t == "phường" else "X. ") + s
    if form == "abbr-lower":
        return ("p. " if t == "phường" else "x. ") + s
    raise ValueError(form)


def build(d):
    g = Gen(d)
    C = d.code_of
    P = PROVINCE
    FORMS = ["type", "bare", "Type", "type", "abbr", "bare", "type", "abbr-lower"]

    # ---------------------------------------------------------------- value
    # the province: every indicator, several phrasings
    prov = [
        ("dân số toàn tỉnh năm 2024", "dan_so", ["2024"], None),
        ("Dân số tỉnh Hưng Yên năm 2025 là bao nhiêu?", "dan_so", ["2025"], None),
        ("dân số HY năm 2023", "dan_so", ["2023"], "abbrev"),
        ("tổng số doanh nghiệp toàn tỉnh", "so_doanh_nghiep", ["LATEST"], "no-period"),
        ("số DN đang hoạt động của tỉnh năm 2022", "so_doanh_nghiep", ["2022"], "abbrev"),
        ("GRDP của tỉnh năm 2024 là bao nhiêu", "grdp", ["2024"], "abbrev"),
        ("tổng sản phẩm trên địa bàn tỉnh năm 2020", "grdp", ["2020"], None),
        ("GRDP Hưng Yên năm ngoái", "grdp", ["LAST_YEAR"], "relative-period"),
        ("thu ngân sách nhà nước năm 2023", "thu_ngan_sach", ["2023"], None),
        ("thu NSNN năm kia", "thu_ngan_sach", ["YEAR_BEFORE_LAST"], "abbrev|relative-period"),
        ("GRDP bình quân đầu người năm 2025", "grdp_binh_quan", ["2025"], None),
        ("thu nhập bình quân đầu người của tỉnh năm 2021", "grdp_binh_quan", ["2021"], "synonym"),
        ("giá trị tăng thêm kinh tế số năm 2024", "gia_tri_kinh_te_so", ["2024"], None),
        ("tỷ trọng kinh tế số trong GRDP năm 2023", "ty_trong_kinh_te_so", ["2023"], None),
        ("tỷ lệ hộ nghèo toàn tỉnh năm 2024", "ty_le_ho_ngheo", ["2024"], None),
        ("tỷ lệ hồ sơ nộp trực tuyến của tỉnh năm nay", "ty_le_dvc_truc_tuyen", ["THIS_YEAR"], "relative-period|no-data"),
        ("diện tích tự nhiên của tỉnh Hưng Yên", "dien_tich", ["LATEST"], "no-period"),
        ("mật độ dân số tỉnh HY năm 2025", "mat_do_dan_so", ["2025"], "abbrev"),
        ("sản lượng lúa toàn tỉnh năm 2019", "san_luong_lua", ["2019"], None),
        ("tổng số hộ của tỉnh năm trước", "tong_so_ho", ["LAST_YEAR"], "relative-period"),
        ("số hộ nghèo toàn tỉnh năm 2018", "so_ho_ngheo", ["2018"], None),
        ("đàn gà của tỉnh năm 2022 có bao nhiêu con", "dan_ga", ["2022"], None),
        ("gdp tỉnh năm 2017", "grdp", ["2017"], "synonym"),
        ("tổng số hồ sơ dịch vụ công của toàn tỉnh năm 2024", "tong_ho_so", ["2024"], None),
    ]
    for q, ind, per, tag in prov:
        g.add(q, "value", ind, [P], per, tag)
    g.variants("dân số toàn tỉnh năm 2020", "value", "dan_so", [P], ["2020"], how=("upper-nomarks",))
    g.variants("số doanh nghiệp tỉnh Hưng Yên năm 2024", "value", "so_doanh_nghiep", [P], ["2024"], how=("nomarks",))

    # communes of today, with and without type word, abbreviations, no marks, upper case
    ctempl = [
        ("dân số {u} năm {y}", "dan_so"),
        ("{U} có bao nhiêu doanh nghiệp năm {y}?", "so_doanh_nghiep"),
        ("sản lượng nhãn của {u} năm {y}", "san_luong_nhan"),
        ("tỷ lệ hộ nghèo {u} năm {y}", "ty_le_ho_ngheo"),
        ("sản lượng lúa ở {u} năm {y}", "san_luong_lua"),
        ("số DN {u} năm {y}", "so_doanh_nghiep"),
        ("diện tích {u}", "dien_tich"),
        ("mật độ dân số của {u} năm {y} là bao nhiêu", "mat_do_dan_so"),
        ("tỷ lệ hồ sơ nộp trực tuyến tại {u} năm {y}", "ty_le_dvc_truc_tuyen"),
        ("sản lượng chuối {u} năm {y}", "san_luong_chuoi"),
        ("Năm {y} {u} có bao nhiêu hộ gia đình?", "tong_so_ho"),
        ("đàn gà của {u} năm {y}", "dan_ga"),
        ("số hộ nghèo của {u} năm {y}", "so_ho_ngheo"),
        ("hồ sơ trực tuyến của {u} năm {y}", "ho_so_truc_tuyen"),
        ("số dân {u} năm {y}", "dan_so"),
        ("tổng số hồ sơ dịch vụ công {u} năm {y}", "tong_ho_so"),
        ("nhân khẩu {u} năm {y}", "dan_so"),
        ("số doanh nghiệp đang hoạt động ở {u}", "so_doanh_nghiep"),
    ]
    years = ["2024", "2020", "2025", "2022", "2018", "2023", "2016", "2021", "2019", "2015", "2017"]
    i = 0
    for rep in range(2):
        for t, ind in ctempl:
            r = g.commune()
            form = FORMS[i % len(FORMS)]
            y = years[i % len(years)]
            i += 1
            u = uname(r, form)
            q = t.format(u=u, U=u[0].upper() + u[1:], y=y)
            per = [y] if "{y}" in t else ["LATEST"]
            tag = {"type": None, "Type": None, "bare": "no-type-word", "abbr": "abbrev", "abbr-lower": "abbrev"}[form]
            if per == ["LATEST"]:
                tag = (tag + "|" if tag else "") + "no-period"
            how = ("plain",)
            if rep == 1 and i % 3 == 0:
                how = ("nomarks",)
            elif rep == 1 and i % 5 == 0:
                how = ("upper",)
            g.variants(q, "value", ind, [r["code"]], per, tag, how=how)
    # the doc's own examples, and the same question typed every way
    for how in (("plain", "nomarks", "upper", "upper-nomarks"),):
        g.variants("dân số xã Nghĩa Trụ năm 2024", "value", "dan_so", [C("Nghĩa Trụ")], ["2024"], how=how)
    g.add("DAN SO XA NGHIA TRU 2024", "value", "dan_so", [C("Nghĩa Trụ")], ["2024"], "upper|no-diacritics")
    g.add("dân số P. Phố Hiến năm 2023", "value", "dan_so", [C("Phố Hiến")], ["2023"], "abbrev")
    g.add("x. Nghĩa Trụ có bao nhiêu dân năm 2022", "value", "dan_so", [C("Nghĩa Trụ")], ["2022"], "abbrev|synonym")
    g.add("Phố Hiến năm ngoái có bao nhiêu doanh nghiệp", "value", "so_doanh_nghiep", [C("Phố Hiến")], ["LAST_YEAR"],
          "relative-period|no-type-word")
    g.add("dân số phường Phố Hiến năm kia", "value", "dan_so", [C("Phố Hiến")], ["YEAR_BEFORE_LAST"], "relative-period")
    g.add("dân số xã Nghĩa Trụ năm nay", "value", "dan_so", [C("Nghĩa Trụ")], ["THIS_YEAR"], "relative-period|no-data")
    # codes
    g.add("dân số đơn vị 12031 năm 2024", "value", "dan_so", ["12031"], ["2024"], "code")
    g.add("số doanh nghiệp mã 11953 năm 2025", "value", "so_doanh_nghiep", ["11953"], ["2025"], "code")
    g.add("GRDP mã 33 năm 2022", "value", "grdp", [P], ["2022"], "code")
    # names that contain another unit's or an indicator's name
    g.add("dân số xã Bắc Đông Hưng năm 2024", "value", "dan_so", [C("Bắc Đông Hưng")], ["2024"], "substring-name")
    g.add("số doanh nghiệp xã Đông Tiền Hải năm 2023", "value", "so_doanh_nghiep", [C("Đông Tiền Hải")], ["2023"],
          "substring-name")
    g.add("dân số xã Nghĩa Dân năm 2024", "value", "dan_so", [C("Nghĩa Dân", True)], ["2024"], "name-with-indicator-word")
    # tone marks decide between names that differ only by them
    for s in ("Quỳnh Phụ", "Bình Thanh", "Tiền Hải"):
        if len(d.exact[s]) == 1 and len(d.folded[fold(s)]) > 1:
            g.add(f"sản lượng lúa xã {s} năm 2024", "value", "san_luong_lua", [C(s, True)], ["2024"], "exact-marks-win")
    # a current commune of 33 whose name exists elsewhere, narrowed by the province
    g.add("dân số xã Long Hưng, tỉnh Hưng Yên năm 2024", "value", "dan_so", [C("Long Hưng", True)], ["2024"],
          "province-qualified")
    g.add("số doanh nghiệp xã Tân Tiến HY năm 2025", "value", "so_doanh_nghiep", [C("Tân Tiến", True)], ["2025"],
          "province-qualified|abbrev")
    # pre-2025 communes merged whole: answered for their successor
    ow = d.old_whole()
    byname = {short(r["old_name"]): r for r in ow}
    olds = ["Vĩnh Khúc", "Hiến Nam", "An Tảo", "Bảo Khê", "Hoàng Hanh", "Cẩm Xá", "Xuân Dục"]
    more = [short(r["old_name"]) for r in ow if short(r["old_name"]) not in olds]
    rng = random.Random(SEED + 1)
    olds += rng.sample(more, 5)
    otempl = [("dân số xã {s} năm {y}", "dan_so", "2020"), ("số doanh nghiệp của {t} {s} cũ năm {y}", "so_doanh_nghiep", "2024"),
              ("sản lượng lúa {t} {s} năm {y}", "san_luong_lua", "2019"), ("dân số {s} năm {y}", "dan_so", "2025"),
              ("tỷ lệ hộ nghèo {t} {s} năm {y}", "ty_le_ho_ngheo", "2021"), ("sản lượng nhãn {t} {s} năm {y}", "san_luong_nhan", "2023")]
    for j, s in enumerate(olds):
        r = byname[s]
        t, ind, y = otempl[j % len(otempl)]
        q = t.format(s=s, t=type_word(r["old_name"]), y=y)
        how = ("nomarks",) if j == 4 else ("plain",)
        g.variants(q, "value", ind, [r["new_code"]], [y], "old-name", how=how)
    # pre-2025 districts: their own history (periods up to 2024)
    dist = [
        ("dân số huyện Kim Động năm 2020", "dan_so", "Huyện Kim Động", ["2020"], None),
        ("số doanh nghiệp huyện Khoái Châu năm 2023", "so_doanh_nghiep", "Huyện Khoái Châu", ["2023"], None),
        ("sản lượng nhãn huyện Kim Động năm 2024", "san_luong_nhan", "Huyện Kim Động", ["2024"], None),
        ("sản lượng lúa của huyện Vũ Thư năm 2018", "san_luong_lua", "Huyện Vũ Thư", ["2018"], None),
        ("dân số TP Hưng Yên năm 2022", "dan_so", "Thành phố Hưng Yên", ["2022"], "abbrev"),
        ("tỷ lệ hộ nghèo huyện Tiền Hải năm 2019", "ty_le_ho_ngheo", "Huyện Tiền Hải", ["2019"], None),
        ("dân số huyện Văn Giang năm 2021", "dan_so", "Huyện Văn Giang", ["2021"], "district-vs-commune"),
        ("số hộ nghèo thị xã Mỹ Hào năm 2017", "so_ho_ngheo", "Thị xã Mỹ Hào", ["2017"], "district-vs-commune"),
        ("dân số huyện Kiến Xương", "dan_so", "Huyện Kiến Xương", ["LATEST"], "district-vs-commune|no-period"),
        ("dien tich huyen phu cu", "dien_tich", "Huyện Phù Cừ", ["LATEST"], "no-diacritics|no-period"),
        ("sản lượng chuối H. Văn Lâm năm 2016", "san_luong_chuoi", "Huyện Văn Lâm", ["2016"], "abbrev"),
        ("số doanh nghiệp tp. Thái Bình năm 2024", "so_doanh_nghiep", "Thành phố Thái Bình", ["2024"], "abbrev"),
    ]
    for q, ind, dn, per, tag in dist:
        g.add(q, "value", ind, [d.district(dn)], per, ((tag + "|") if tag else "") + "old-district")
    # pre-2025 provinces: answered for the province they were merged into
    g.add("GRDP tỉnh Thái Bình năm 2020", "value", "grdp", [P], ["2020"], "old-province")
    g.add("thu ngân sách tỉnh Thái Bình cũ năm 2019", "value", "thu_ngan_sach", [P], ["2019"], "old-province")
    g.add("GRDP tỉnh TB năm 2021", "value", "grdp", [P], ["2021"], "old-province|abbrev")
    # more abbreviations and pre-2025 towns (thị trấn: no unit of today has that type)
    g.add("dân số TX Mỹ Hào năm 2020", "value", "dan_so", [d.district("Thị xã Mỹ Hào")], ["2020"],
          "abbrev|old-district")
    g.add("dân số TT Như Quỳnh năm 2020", "value", "dan_so", ["12004"], ["2020"], "abbrev|old-name")
    g.add("số doanh nghiệp thị trấn Diêm Điền năm 2023", "value", "so_doanh_nghiep", [C("Thái Thụy")], ["2023"],
          "old-name")
    g.add("tỷ lệ DVC trực tuyến của tỉnh năm 2024", "value", "ty_le_dvc_truc_tuyen", [P], ["2024"], "abbrev")
    g.add("thu ngân sách năm 2025 của tỉnh là bao nhiêu tỷ đồng", "value", "thu_ngan_sach", [P], ["2025"])

    # ---------------------------------------------------------------- compare
    pairs = [
        ("so sánh dân số Phố Hiến và Nghĩa Trụ năm 2024", "dan_so", ["Phố Hiến", "Nghĩa Trụ"], ["2024"], None),
        ("so sánh số doanh nghiệp của phường Mỹ Hào với xã Như Quỳnh năm 2025", "so_doanh_nghiep",
         ["Mỹ Hào", "Như Quỳnh"], ["2025"], None),
        ("sản lượng nhãn Phố Hiến so với Sơn Nam năm 2023", "san_luong_nhan", ["Phố Hiến", "Sơn Nam"], ["2023"],
         "no-type-word"),
        ("so sánh tỷ lệ hộ nghèo xã Hưng Hà và xã Vũ Thư năm 2024", "ty_le_ho_ngheo", ["Hưng Hà", "Vũ Thư"], ["2024"], None),
        ("so sanh san luong lua xa kien xuong va xa thai thuy nam 2022", "san_luong_lua", ["Kiến Xương", "Thái Thụy"],
         ["2022"], "no-diacritics"),
        ("SO SÁNH DÂN SỐ P. TRÀ LÝ VỚI X. VŨ THƯ NĂM 2025", "dan_so", ["Trà Lý", "Vũ Thư"], ["2025"], "upper|abbrev"),
        ("so sánh mật độ dân số xã Văn Giang và xã Yên Mỹ", "mat_do_dan_so", ["Văn Giang", "Yên Mỹ"], ["LATEST"],
         "no-period"),
        ("tỷ lệ hồ sơ nộp trực tuyến của Khoái Châu so với Ân Thi năm 2024", "ty_le_dvc_truc_tuyen",
         ["Khoái Châu", "Ân Thi"], ["2024"], "no-type-word"),
    ]
    for q, ind, names, per, tag in pairs:
        g.add(q, "compare", ind, [C(n) for n in names], per, tag)
    # two communes from the rotation
    cmpt = ["so sánh {i} {a} và {b} năm {y}", "{i} của {a} so với {b} năm {y}", "so sánh {i} giữa {a} và {b} năm {y}"]
    cinds = [("dân số", "dan_so"), ("số doanh nghiệp", "so_doanh_nghiep"), ("sản lượng chuối", "san_luong_chuoi"),
             ("tổng số hộ", "tong_so_ho"), ("đàn gà", "dan_ga"), ("tỷ lệ hộ nghèo", "ty_le_ho_ngheo")]
    for j, (iname, ind) in enumerate(cinds):
        a, b = g.commune(), g.commune()
        y = years[j]
        q = cmpt[j % 3].format(i=iname, a=uname(a, FORMS[j % 8]), b=uname(b, FORMS[(j + 3) % 8]), y=y)
        g.add(q, "compare", ind, [a["code"], b["code"]], [y])
    # one unit, two periods
    g.add("dân số Phố Hiến 2024 so với 2020", "compare", "dan_so", [C("Phố Hiến")], ["2020", "2024"], "two-periods")
    g.add("so sánh GRDP năm 2025 với năm 2020", "compare", "grdp", [P], ["2020", "2025"], "two-periods")
    g.add("số doanh nghiệp toàn tỉnh năm 2024 so với năm 2019", "compare", "so_doanh_nghiep", [P], ["2019", "2024"],
          "two-periods")
    g.add("so sánh sản lượng lúa xã Hưng Hà năm 2023 và năm 2018", "compare", "san_luong_lua", [C("Hưng Hà")],
          ["2018", "2023"], "two-periods")
    g.add("so sanh thu ngan sach nam 2022 voi nam 2016", "compare", "thu_ngan_sach", [P], ["2016", "2022"],
          "two-periods|no-diacritics")
    g.add("so sánh dân số huyện Kim Động năm 2024 với năm 2015", "compare", "dan_so", [d.district("Huyện Kim Động")],
          ["2015", "2024"], "two-periods|old-district")
    g.add("so sánh số doanh nghiệp phường Phố Hiến với toàn tỉnh năm 2025", "compare", "so_doanh_nghiep",
          [C("Phố Hiến"), P], ["2025"], "commune-vs-province")

    # ---------------------------------------------------------------- rank
    ranks = [
        ("top 5 xã có sản lượng nhãn cao nhất 2024", "san_luong_nhan", 5, "desc", ["2024"], None),
        ("3 xã có tỷ lệ hộ nghèo thấp nhất", "ty_le_ho_ngheo", 3, "asc", ["LATEST"], "no-period"),
        ("10 xã dẫn đầu về số doanh nghiệp năm 2025", "so_doanh_nghiep", 10, "desc", ["2025"], None),
        ("top 3 xã, phường có dân số lớn nhất năm 2024", "dan_so", 3, "desc", ["2024"], None),
        ("5 xã có sản lượng lúa nhiều nhất năm 2023", "san_luong_lua", 5, "desc", ["2023"], None),
        ("xã nào có dân số cao nhất năm 2022", "dan_so", 5, "desc", ["2022"], "default-n"),
        ("những xã có ít doanh nghiệp nhất", "so_doanh_nghiep", 5, "asc", ["LATEST"], "default-n|no-period"),
        ("4 xã có tỷ lệ hồ sơ nộp trực tuyến thấp nhất năm 2024", "ty_le_dvc_truc_tuyen", 4, "asc", ["2024"], None),
        ("top 7 xã có mật độ dân số cao nhất", "mat_do_dan_so", 7, "desc", ["LATEST"], "no-period"),
        ("TOP 10 XÃ CÓ SẢN LƯỢNG LÚA CAO NHẤT NĂM 2022", "san_luong_lua", 10, "desc", ["2022"], "upper"),
        ("top 5 xa co san luong chuoi cao nhat nam 2021", "san_luong_chuoi", 5, "desc", ["2021"], "no-diacritics"),
        ("6 xã cuối bảng về tỷ lệ hồ sơ nộp trực tuyến năm 2025", "ty_le_dvc_truc_tuyen", 6, "asc", ["2025"], None),
        ("top 30 xã có dân số cao nhất năm 2024", "dan_so", 20, "desc", ["2024"], "cap-20"),
        ("2 xã có diện tích nhỏ nhất", "dien_tich", 2, "asc", ["LATEST"], "no-period"),
        ("3 xã có đàn gà lớn nhất năm 2020", "dan_ga", 3, "desc", ["2020"], None),
        ("top 5 xã có số hộ nghèo nhiều nhất năm 2019", "so_ho_ngheo", 5, "desc", ["2019"], None),
        ("8 xã có tỷ lệ hộ nghèo cao nhất năm 2024", "ty_le_ho_ngheo", 8, "desc", ["2024"], None),
        ("3 xã có sản lượng nhãn thấp nhất năm 2018", "san_luong_nhan", 3, "asc", ["2018"], None),
        ("top 5 xã có số DN nhiều nhất năm ngoái", "so_doanh_nghiep", 5, "desc", ["LAST_YEAR"],
         "abbrev|relative-period"),
        ("5 xã có tổng số hồ sơ dịch vụ công nhiều nhất năm 2023", "tong_ho_so", 5, "desc", ["2023"], None),
        ("Top 4 xã có số hộ gia đình ít nhất năm 2025?", "tong_so_ho", 4, "asc", ["2025"], None),
        ("xã nào dẫn đầu về hồ sơ trực tuyến năm 2024", "ho_so_truc_tuyen", 5, "desc", ["2024"], "default-n"),
        ("top 3 xa co ty le ho ngheo thap nhat nam 2020", "ty_le_ho_ngheo", 3, "asc", ["2020"], "no-diacritics"),
        ("TOP 5 XÃ CÓ DÂN SỐ THẤP NHẤT", "dan_so", 5, "asc", ["LATEST"], "upper|no-period"),
        ("12 xã có sản lượng chuối lớn nhất năm 2025", "san_luong_chuoi", 12, "desc", ["2025"], None),
    ]
    for q, ind, n, order, per, tag in ranks:
        g.add(q, "rank", ind, [P], per, tag, n=n, order=order)

    # ---------------------------------------------------------------- filter
    filters = [
        ("những xã có tỷ lệ hộ nghèo trên 2%", "ty_le_ho_ngheo", "gt", 2, ["LATEST"], "no-period"),
        ("các xã có dân số trên 50.000 người năm 2024", "dan_so", "gt", 50000, ["2024"], "vn-number"),
        ("xã nào có tỷ lệ hộ nghèo dưới 2,5% năm 2020", "ty_le_ho_ngheo", "lt", 2.5, ["2020"], "vn-number"),
        ("có bao nhiêu xã có số doanh nghiệp hơn 500", "so_doanh_nghiep", "gt", 500, ["LATEST"], "no-period"),
        ("những xã có sản lượng nhãn vượt 1.000 tấn năm 2024", "san_luong_nhan", "gt", 1000, ["2024"], "vn-number"),
        ("các xã có dân số ít hơn 20 nghìn người năm 2025", "dan_so", "lt", 20000, ["2025"], "nghin"),
        ("phường, xã nào có tỷ lệ hồ sơ nộp trực tuyến thấp hơn 70% năm 2024", "ty_le_dvc_truc_tuyen", "lt", 70,
         ["2024"], None),
        ("các xã có mật độ dân số lớn hơn 2.000 người/km² năm 2025", "mat_do_dan_so", "gt", 2000, ["2025"], "vn-number"),
        ("những xã có sản lượng lúa trên 15.000 tấn năm 2023", "san_luong_lua", "gt", 15000, ["2023"], "vn-number"),
        ("cac xa co dan so tren 40.000 nguoi nam 2025", "dan_so", "gt", 40000, ["2025"], "no-diacritics|vn-number"),
        ("xã có diện tích chưa đến 15 km2", "dien_tich", "lt", 15, ["LATEST"], "no-period"),
        ("các xã có tổng số hộ cao hơn 15.000 hộ năm 2024", "tong_so_ho", "gt", 15000, ["2024"], "vn-number"),
        ("những xã có sản lượng chuối trên 2.500,5 tấn năm 2022", "san_luong_chuoi", "gt", 2500.5, ["2022"],
         "vn-number|decimal"),
        ("xã nào có hồ sơ trực tuyến trên 10 nghìn năm 2025", "ho_so_truc_tuyen", "gt", 10000, ["2025"], "nghin"),
        ("những xã có tỷ lệ hộ nghèo trên 3,2% năm 2020", "ty_le_ho_ngheo", "gt", 3.2, ["2020"], "vn-number"),
        ("các xã có số hộ nghèo dưới 50 hộ năm 2025", "so_ho_ngheo", "lt", 50, ["2025"], None),
        ("CÁC XÃ CÓ SỐ DOANH NGHIỆP DƯỚI 50 NĂM 2025", "so_doanh_nghiep", "lt", 50, ["2025"], "upper"),
        ("xã nào có tỷ lệ hộ nghèo trên 1,5% năm 2024", "ty_le_ho_ngheo", "gt", 1.5, ["2024"], "vn-number"),
        ("các xã có tỷ lệ hồ sơ nộp trực tuyến vượt 82,5% năm 2025", "ty_le_dvc_truc_tuyen", "gt", 82.5, ["2025"],
         "vn-number"),
        ("có bao nhiêu xã có dân số dưới 25.000 người năm 2020", "dan_so", "lt", 25000, ["2020"], "vn-number"),
        ("những xã có sản lượng lúa nhỏ hơn 3000 tấn năm 2024", "san_luong_lua", "lt", 3000, ["2024"], None),
        ("xa co so doanh nghiep tren 1.000 nam 2024", "so_doanh_nghiep", "gt", 1000, ["2024"], "no-diacritics|vn-number"),
        ("các xã có sản lượng chuối trên 1234.5 tấn năm 2023", "san_luong_chuoi", "gt", 1234.5, ["2023"], "dot-decimal"),
    ]
    for q, ind, op, thr, per, tag in filters:
        g.add(q, "filter", ind, [P], per, tag, op=op, threshold=thr)

    # ---------------------------------------------------------------- change
    changes = [
        ("dân số Phố Hiến tăng bao nhiêu % so với năm trước", "dan_so", ["Phố Hiến"], ["PREV_LATEST", "LATEST"], "no-period"),
        ("tăng trưởng bình quân GRDP giai đoạn 2020–2024", "grdp", None, ["2020", "2024"], "span-dash"),
        ("số doanh nghiệp toàn tỉnh năm 2024 tăng bao nhiêu phần trăm so với năm trước", "so_doanh_nghiep", None,
         ["2023", "2024"], None),
        ("tỷ lệ hộ nghèo của tỉnh giảm bao nhiêu điểm phần trăm từ 2020 đến 2024", "ty_le_ho_ngheo", None,
         ["2020", "2024"], "rate-pp|span-tu-den"),
        ("tốc độ tăng dân số bình quân của xã Nghĩa Trụ 5 năm qua", "dan_so", ["Nghĩa Trụ"], ["LASTN_START:5", "LATEST"],
         "last-n"),
        ("thu ngân sách tăng trưởng bình quân bao nhiêu trong 3 năm gần đây", "thu_ngan_sach", None,
         ["LASTN_START:3", "LATEST"], "last-n"),
        ("GRDP năm ngoái tăng bao nhiêu % so với năm trước", "grdp", None, ["YEAR_BEFORE_LAST", "LAST_YEAR"],
         "relative-period"),
        ("tỷ trọng kinh tế số thay đổi bao nhiêu giai đoạn 2015-2025", "ty_trong_kinh_te_so", None, ["2015", "2025"],
         "rate-pp|span-hyphen"),
        ("sản lượng lúa huyện Vũ Thư giảm bao nhiêu % từ 2015 đến 2024", "san_luong_lua", "D:Huyện Vũ Thư",
         ["2015", "2024"], "old-district"),
        ("tăng trưởng số doanh nghiệp phường Mỹ Hào năm 2025", "so_doanh_nghiep", ["Mỹ Hào"], ["2024", "2025"], None),
        ("tỷ lệ hồ sơ nộp trực tuyến toàn tỉnh tăng bao nhiêu điểm phần trăm so với năm trước", "ty_le_dvc_truc_tuyen",
         None, ["PREV_LATEST", "LATEST"], "rate-pp|no-period"),
        ("tăng trưởng bình quân sản lượng nhãn của Phố Hiến giai đoạn 2018–2023", "san_luong_nhan", ["Phố Hiến"],
         ["2018", "2023"], None),
        ("dân số huyện Kim Động tăng bình quân bao nhiêu % giai đoạn 2015 - 2020", "dan_so", "D:Huyện Kim Động",
         ["2015", "2020"], "old-district"),
        ("số hộ nghèo toàn tỉnh giảm bao nhiêu % so với năm trước", "so_ho_ngheo", None, ["PREV_LATEST", "LATEST"],
         "no-period"),
        ("tang truong binh quan GRDP 5 nam qua", "grdp", None, ["LASTN_START:5", "LATEST"], "no-diacritics|last-n"),
        ("TĂNG TRƯỞNG THU NGÂN SÁCH NĂM 2023 SO VỚI NĂM TRƯỚC", "thu_ngan_sach", None, ["2022", "2023"], "upper"),
        ("tỷ lệ hộ nghèo xã Thái Thụy năm 2024 tăng bao nhiêu điểm % so với năm trước", "ty_le_ho_ngheo",
         ["Thái Thụy"], ["2023", "2024"], "rate-pp|planted"),
        ("số doanh nghiệp xã Đông Tiền Hải thay đổi bao nhiêu % từ 2021 đến 2024", "so_doanh_nghiep",
         ["Đông Tiền Hải"], ["2021", "2024"], "planted"),
        ("mật độ dân số toàn tỉnh tăng bình quân bao nhiêu % giai đoạn 2016–2025", "mat_do_dan_so", None,
         ["2016", "2025"], "ratio"),
        ("GRDP bình quân đầu người tăng trưởng bình quân bao nhiêu từ năm 2020 đến năm 2025", "grdp_binh_quan", None,
         ["2020", "2025"], None),
        ("đàn gà xã Khoái Châu tăng bao nhiêu phần trăm năm 2022 so với năm trước", "dan_ga", ["Khoái Châu"],
         ["2021", "2022"], None),
        ("tổng số hồ sơ dịch vụ công của tỉnh tăng bao nhiêu % trong 3 năm qua", "tong_ho_so", None,
         ["LASTN_START:3", "LATEST"], "last-n"),
        ("giá trị tăng thêm kinh tế số tăng trưởng bình quân giai đoạn 2019-2024", "gia_tri_kinh_te_so", None,
         ["2019", "2024"], "span-hyphen"),
        ("dân số xã Vĩnh Khúc cũ tăng bao nhiêu % từ 2020 đến 2024", "dan_so", ["Nghĩa Trụ"], ["2020", "2024"], "old-name"),
        ("sản lượng lúa toàn tỉnh tăng hay giảm bao nhiêu % năm 2024 so với năm 2023", "san_luong_lua", None,
         ["2023", "2024"], None),
        ("dân số toàn tỉnh giai đoạn 2020 – 2025 tăng bình quân bao nhiêu phần trăm mỗi năm", "dan_so", None,
         ["2020", "2025"], "span-spaced-dash"),
    ]
    for q, ind, names, per, tag in changes:
        if names is None:
            units = [P]
        elif isinstance(names, str):
            units = [d.district(names[2:])]
        else:
            units = [C(n) for n in names]
        g.add(q, "change", ind, units, per, tag)

    # ---------------------------------------------------------------- share
    shares = [
        ("Phố Hiến chiếm bao nhiêu % dân số tỉnh", "dan_so", "Phố Hiến", ["LATEST"], "no-period"),
        ("sản lượng nhãn của Phố Hiến chiếm bao nhiêu phần trăm toàn tỉnh năm 2024", "san_luong_nhan", "Phố Hiến",
         ["2024"], None),
        ("số doanh nghiệp của phường Mỹ Hào chiếm bao nhiêu % của tỉnh năm 2025", "so_doanh_nghiep", "Mỹ Hào", ["2025"],
         None),
        ("diện tích xã Thái Thụy chiếm bao nhiêu phần trăm diện tích toàn tỉnh", "dien_tich", "Thái Thụy", ["LATEST"],
         "no-period"),
        ("xa kien xuong chiem bao nhieu % san luong lua toan tinh nam 2023", "san_luong_lua", "Kiến Xương", ["2023"],
         "no-diacritics"),
        ("sản lượng chuối xã Văn Giang chiếm bao nhiêu % so với cả tỉnh năm 2022", "san_luong_chuoi", "Văn Giang",
         ["2022"], None),
        ("Nghĩa Trụ chiếm bao nhiêu phần trăm số hộ nghèo của tỉnh năm 2020", "so_ho_ngheo", "Nghĩa Trụ", ["2020"], None),
        ("DÂN SỐ P. TRÀ LÝ CHIẾM BAO NHIÊU % DÂN SỐ TOÀN TỈNH NĂM 2024", "dan_so", "Trà Lý", ["2024"], "upper|abbrev"),
        ("đàn gà xã Ân Thi chiếm bao nhiêu % toàn tỉnh", "dan_ga", "Ân Thi", ["LATEST"], "no-period"),
        ("số hồ sơ dịch vụ công của xã Yên Mỹ chiếm bao nhiêu phần trăm tổng số hồ sơ của tỉnh năm 2024", "tong_ho_so",
         "Yên Mỹ", ["2024"], None),
    ]
    for q, ind, n, per, tag in shares:
        g.add(q, "share", ind, [C(n)], per, tag)
    for j in range(4):
        r = g.commune()
        ind, iname = [("dan_so", "dân số"), ("so_doanh_nghiep", "số doanh nghiệp"), ("tong_so_ho", "tổng số hộ"),
                      ("ho_so_truc_tuyen", "hồ sơ trực tuyến")][j]
        y = ["2021", "2024", "2019", "2025"][j]
        g.add(f"{uname(r, FORMS[j])} chiếm bao nhiêu % {iname} toàn tỉnh năm {y}", "share", ind, [r["code"]], [y])
    g.add("sản lượng lúa của xã Vĩnh Khúc cũ chiếm bao nhiêu % toàn tỉnh năm 2020", "share", "san_luong_lua",
          [C("Nghĩa Trụ")], ["2020"], "old-name")

    # ---------------------------------------------------------------- forecast
    fc = [
        ("dự báo dân số Nghĩa Trụ năm 2027", "dan_so", "Nghĩa Trụ", ["2027"], None),
        ("dự báo GRDP năm 2030", "grdp", None, ["2030"], None),
        ("dự báo số doanh nghiệp toàn tỉnh năm 2028", "so_doanh_nghiep", None, ["2028"], None),
        ("dự đoán thu ngân sách năm 2027", "thu_ngan_sach", None, ["2027"], None),
        ("dự báo tỷ lệ hộ nghèo năm nay", "ty_le_ho_ngheo", None, ["THIS_YEAR"], "relative-period"),
        ("du bao san luong nhan phuong pho hien nam 2028", "san_luong_nhan", "Phố Hiến", ["2028"], "no-diacritics"),
        ("dự báo tỷ trọng kinh tế số đến năm 2030", "ty_trong_kinh_te_so", None, ["2030"], None),
        ("năm 2029 dân số toàn tỉnh dự báo là bao nhiêu", "dan_so", None, ["2029"], None),
        ("DỰ BÁO SỐ DOANH NGHIỆP PHƯỜNG MỸ HÀO NĂM 2027", "so_doanh_nghiep", "Mỹ Hào", ["2027"], "upper"),
        ("dự báo sản lượng lúa xã Hưng Hà năm 2026", "san_luong_lua", "Hưng Hà", ["2026"], None),
        ("dự báo GRDP bình quân đầu người năm 2028", "grdp_binh_quan", None, ["2028"], None),
        ("dự báo tỷ lệ hồ sơ nộp trực tuyến của tỉnh năm 2027", "ty_le_dvc_truc_tuyen", None, ["2027"], None),
        ("dự báo dân số xã Vĩnh Khúc năm 2030", "dan_so", "Nghĩa Trụ", ["2030"], "old-name"),
        ("dự báo đàn gà toàn tỉnh năm 2035", "dan_ga", None, ["2035"], "far"),
        ("dự báo giá trị tăng thêm kinh tế số năm 2027", "gia_tri_kinh_te_so", None, ["2027"], None),
        ("dự báo số hộ nghèo x. Nghĩa Trụ năm 2027", "so_ho_ngheo", "Nghĩa Trụ", ["2027"], "abbrev"),
        # a year that already has data is answered as a value
        ("dự báo dân số toàn tỉnh năm 2024", "dan_so", None, ["2024"], "forecast-past"),
        ("dự báo số doanh nghiệp của Phố Hiến năm 2025", "so_doanh_nghiep", "Phố Hiến", ["2025"], "forecast-past"),
    ]
    for q, ind, n, per, tag in fc:
        intent = "value" if tag == "forecast-past" else "forecast"
        g.add(q, intent, ind, [C(n) if n else P], per, tag)

    # ---------------------------------------------------------------- target
    tg = [
        ("tỷ trọng kinh tế số có đạt mục tiêu 2030 không", "ty_trong_kinh_te_so", ["2030"], None),
        ("mục tiêu tỷ lệ hộ nghèo năm 2026 có đạt được không", "ty_le_ho_ngheo", ["2026"], None),
        ("tỉnh có đạt mục tiêu 40.000 doanh nghiệp vào năm 2030 không", "so_doanh_nghiep", ["2030"], "vn-number"),
        ("tiến độ thực hiện mục tiêu GRDP bình quân đầu người", "grdp_binh_quan", ["TARGET"], "no-period"),
        ("tỷ lệ hồ sơ nộp trực tuyến có hoàn thành chỉ tiêu năm 2026 không", "ty_le_dvc_truc_tuyen", ["2026"], None),
        ("ty trong kinh te so co dat muc tieu 30% nam 2030 khong", "ty_trong_kinh_te_so", ["2030"], "no-diacritics"),
        ("Mục tiêu giảm tỷ lệ hộ nghèo có khả thi không?", "ty_le_ho_ngheo", ["TARGET"], "no-period"),
        ("số doanh nghiệp có đạt chỉ tiêu năm 2030 không", "so_doanh_nghiep", ["2030"], None),
        ("GRDP bình quân đầu người có đạt mục tiêu 160 triệu đồng năm 2030 không", "grdp_binh_quan", ["2030"], None),
        ("MỤC TIÊU TỶ LỆ HỒ SƠ NỘP TRỰC TUYẾN 85% CÓ ĐẠT KHÔNG", "ty_le_dvc_truc_tuyen", ["TARGET"], "upper"),
        ("tỷ trọng kinh tế số so với mục tiêu 30% thế nào", "ty_trong_kinh_te_so", ["TARGET"], None),
        ("tỉnh Hưng Yên có hoàn thành mục tiêu tỷ lệ hộ nghèo không", "ty_le_ho_ngheo", ["TARGET"], None),
        ("khả năng đạt mục tiêu số DN năm 2030", "so_doanh_nghiep", ["2030"], "abbrev"),
        ("tiến độ mục tiêu tỷ trọng kinh tế số trong GRDP", "ty_trong_kinh_te_so", ["TARGET"], None),
    ]
    for q, ind, per, tag in tg:
        g.add(q, "target", ind, [P], per, tag)

    # ---------------------------------------------------------------- definition
    df = [
        ("mật độ dân số là gì", "mat_do_dan_so", None),
        ("GRDP bình quân đầu người là gì?", "grdp_binh_quan", None),
        ("tỷ lệ hộ nghèo được tính như thế nào", "ty_le_ho_ngheo", None),
        ("thế nào là tỷ trọng kinh tế số", "ty_trong_kinh_te_so", None),
        ("định nghĩa tỷ lệ hồ sơ nộp trực tuyến", "ty_le_dvc_truc_tuyen", None),
        ("giải thích chỉ số GRDP", "grdp", None),
        ("khái niệm số doanh nghiệp đang hoạt động", "so_doanh_nghiep", None),
        ("mat do dan so la gi", "mat_do_dan_so", "no-diacritics"),
        ("DIỆN TÍCH TỰ NHIÊN LÀ GÌ", "dien_tich", "upper"),
        ("chỉ số tổng số hồ sơ dịch vụ công nghĩa là gì", "tong_ho_so", None),
        ("giá trị tăng thêm kinh tế số là gì", "gia_tri_kinh_te_so", None),
        ("thu ngân sách nhà nước trên địa bàn là gì", "thu_ngan_sach", None),
        ("sản lượng nhãn được hiểu là gì", "san_luong_nhan", None),
        ("cách tính GRDP bình quân đầu người", "grdp_binh_quan", None),
    ]
    for q, ind, tag in df:
        g.add(q, "definition", ind, None, None, tag)

    # ---------------------------------------------------------------- source
    src = [
        ("số liệu dân số lấy từ đâu", "dan_so", None),
        ("nguồn số liệu GRDP", "grdp", None),
        ("dữ liệu về sản lượng lúa lấy ở đâu", "san_luong_lua", None),
        ("nguồn dữ liệu tỷ lệ hộ nghèo", "ty_le_ho_ngheo", None),
        ("số liệu doanh nghiệp lấy từ nguồn nào", "so_doanh_nghiep", None),
        ("so lieu thu ngan sach lay tu dau", "thu_ngan_sach", "no-diacritics"),
        ("NGUỒN SỐ LIỆU TỶ TRỌNG KINH TẾ SỐ", "ty_trong_kinh_te_so", "upper"),
        ("số liệu mật độ dân số lấy từ đâu?", "mat_do_dan_so", None),
        ("dữ liệu hồ sơ trực tuyến có nguồn từ đâu", "ho_so_truc_tuyen", None),
        ("nguồn số liệu đàn gà", "dan_ga", None),
        ("số liệu diện tích tự nhiên lấy ở đâu", "dien_tich", None),
        ("nguồn của số liệu GRDP bình quân đầu người", "grdp_binh_quan", None),
    ]
    for q, ind, tag in src:
        g.add(q, "source", ind, None, None, tag)

    # ---------------------------------------------------------------- suggest
    sg = [
        ("xã nào cần chú ý về doanh nghiệp", "so_doanh_nghiep", None),
        ("đề xuất", None, "bare"),
        ("có xã nào bất thường về sản lượng lúa không", "san_luong_lua", None),
        ("gợi ý những xã cần quan tâm về tỷ lệ hộ nghèo", "ty_le_ho_ngheo", None),
        ("cần lưu ý gì về tỷ lệ hồ sơ nộp trực tuyến", "ty_le_dvc_truc_tuyen", None),
        ("đề xuất những vấn đề cần chú ý", None, None),
        ("xa nao can chu y ve dan so", "dan_so", "no-diacritics"),
        ("ĐỀ XUẤT CÁC XÃ CẦN QUAN TÂM VỀ SỐ DOANH NGHIỆP", "so_doanh_nghiep", "upper"),
        ("có gì cần chú ý không", None, None),
        ("gợi ý", None, "bare"),
        ("xã nào cần chú ý về sản lượng nhãn", "san_luong_nhan", None),
        ("đề xuất các xã cần quan tâm về mật độ dân số", "mat_do_dan_so", None),
        ("có số liệu nào bất thường về số hộ nghèo không", "so_ho_ngheo", None),
    ]
    for q, ind, tag in sg:
        g.add(q, "suggest", ind, None, None, tag)

    # ---------------------------------------------------------------- clarify
    # communes of 33 whose name is shared with other provinces: with the type word when it does not
    # narrow the name to one province, without it otherwise
    ctempls = ["dân số {u} năm 2024", "số doanh nghiệp {u}", "sản lượng lúa {u} năm 2023", "tỷ lệ hộ nghèo {u}",
               "dân số của {u}"]
    for j, (r, ex, fo) in enumerate(d.ambiguous_33()):
        s = short(r["name"])
        marks = len(ex) > 1 and len({x["province_code"] for x in ex}) > 1
        cands = d.candidates(s, r["type"], marks)
        if len({x["province_code"] for x in cands}) > 1:
            u = f"{r['type']} {s}"
        else:
            u, cands = s, d.candidates(s, None, marks)
        q = ctempls[j % len(ctempls)].format(u=u)
        tag = "shared-name"
        if not marks:
            q = strip_marks(q).lower()
            tag += "|no-diacritics"
        assert len({x["province_code"] for x in cands}) > 1, (q, cands)
        g.add(q, "clarify", None, None, None, tag, candidates_min=len(cands))
    # the doc's example
    g.add("dân số xã Tân Tiến", "clarify", None, None, None, "shared-name",
          candidates_min=len(d.candidates("Tân Tiến", "xã")))
    # old communes split between several successors
    for r, news in d.old_split():
        s = short(r["old_name"])
        if d.old_folded[fold(s)] == 1:
            g.add(f"dân số xã {s} năm 2020", "clarify", None, None, None, "old-split", candidates_min=len(news))
            g.add(f"so doanh nghiep xa {strip_marks(s).lower()} nam 2022", "clarify", None, None, None,
                  "old-split|no-diacritics", candidates_min=len(news))
        else:
            dn = d.districts[d.old_by_code[r["old_code"]]["district_code"]][0]
            g.add(f"dân số xã {s} {dn[0].lower() + dn[1:]} năm 2020", "clarify", None, None, None, "old-split|district-qualified",
                  candidates_min=len(news))
            g.add(f"dân số xã {s} năm 2019", "clarify", None, None, None, "old-split|shared-old-name",
                  candidates_min=2)
    # no crop
    g.add("sản lượng xã Phố Hiến", "clarify", None, None, None, "no-crop", candidates_min=3)
    g.add("sản lượng toàn tỉnh năm 2024 là bao nhiêu", "clarify", None, None, None, "no-crop", candidates_min=3)
    g.add("san luong huyen kim dong nam 2020", "clarify", None, None, None, "no-crop|no-diacritics", candidates_min=3)
    g.add("top 5 xã có sản lượng cao nhất", "clarify", None, None, None, "no-crop", candidates_min=3)
    # kinh tế số: value added or share of GRDP
    g.add("kinh tế số năm 2024", "clarify", None, None, None, "kinh-te-so", candidates_min=2)
    g.add("kinh tế số của tỉnh là bao nhiêu", "clarify", None, None, None, "kinh-te-so", candidates_min=2)
    g.add("dự báo kinh tế số năm 2030", "clarify", None, None, None, "kinh-te-so", candidates_min=2)
    g.add("KT số tỉnh HY năm 2023", "clarify", None, None, None, "kinh-te-so|abbrev", candidates_min=2)

    # ---------------------------------------------------------------- help
    for q, tag in [("xin chào", None), ("thời tiết Hưng Yên ngày mai thế nào", "weather"),
                   ("kết quả bóng đá Việt Nam tối qua", "football"), ("asdfgh qwerty zxcv", "gibberish"),
                   ("bạn là ai", None), ("hôm nay là thứ mấy", None), ("cảm ơn bạn nhiều", None),
                   ("bạn có thể giúp gì cho tôi", None), ("giá vàng SJC hôm nay", None),
                   ("đội tuyển nào vô địch World Cup 2022", "football"), ("trời có mưa không", "weather"),
                   ("XIN CHÀO", "upper"), ("chao ban", "no-diacritics"), ("???", "gibberish"),
                   ("lkjh poiu mnbv", "gibberish"), ("hướng dẫn sử dụng trợ lý", None)]:
        g.add(q, "help", None, None, None, tag)

    # ---------------------------------------------------------------- paraphrases
    # written after the rest, as a held-out check of how the parser generalises: other cue words
    # and word orders a leader uses for the same intents
    T = "paraphrase"
    g.add("Cho tôi biết dân số phường Phố Hiến năm 2023", "value", "dan_so", [C("Phố Hiến")], ["2023"], T)
    g.add("xã Nghĩa Trụ hiện có bao nhiêu người?", "value", "dan_so", [C("Nghĩa Trụ")], ["LATEST"],
          T + "|unit-of-measure")
    g.add("năm 2021 toàn tỉnh có bao nhiêu doanh nghiệp đang hoạt động", "value", "so_doanh_nghiep", [P], ["2021"], T)
    g.add("sản lượng nhãn lồng Phố Hiến 2022", "value", "san_luong_nhan", [C("Phố Hiến")], ["2022"], T + "|synonym")
    g.add("tỷ lệ nghèo xã Vũ Thư năm 2023", "value", "ty_le_ho_ngheo", [C("Vũ Thư")], ["2023"], T + "|synonym")
    g.add("Mật độ dân số phường Trà Lý hiện nay", "value", "mat_do_dan_so", [C("Trà Lý")], ["LATEST"], T)
    g.add("số hộ gia đình của xã Yên Mỹ năm 2019 là bao nhiêu?", "value", "tong_so_ho", [C("Yên Mỹ")], ["2019"], T)
    g.add("thóc xã Hưng Hà năm 2021", "value", "san_luong_lua", [C("Hưng Hà")], ["2021"], T + "|synonym")
    g.add("GRDP tỉnh năm 2018 đạt bao nhiêu", "value", "grdp", [P], ["2018"], T)
    g.add("bình quân đầu người của tỉnh năm 2023", "value", "grdp_binh_quan", [P], ["2023"], T + "|synonym")
    g.add("số dn ở phường Mỹ Hào năm ngoái", "value", "so_doanh_nghiep", [C("Mỹ Hào")], ["LAST_YEAR"], T + "|abbrev")
    g.add("dân số tỉnh HY năm 2022 là bao nhiêu người", "value", "dan_so", [P], ["2022"], T + "|abbrev")
    g.add("so dan phuong tra ly nam 2025", "value", "dan_so", [C("Trà Lý")], ["2025"], T + "|no-diacritics")
    g.add("DÂN SỐ HUYỆN ÂN THI NĂM 2018", "value", "dan_so", [d.district("Huyện Ân Thi")], ["2018"],
          T + "|upper|old-district")
    g.add("dân số xã Hoàng Hanh cũ năm 2022", "value", "dan_so", ["11980"], ["2022"], T + "|old-name")
    g.add("dân số xã Như Quỳnh và xã Văn Giang năm 2024, xã nào đông hơn", "compare", "dan_so",
          [C("Như Quỳnh"), C("Văn Giang")], ["2024"], T)
    g.add("so sánh GRDP bình quân đầu người năm 2024 và năm 2015", "compare", "grdp_binh_quan", [P], ["2015", "2024"],
          T + "|two-periods")
    g.add("5 phường, xã đông dân nhất năm 2024", "rank", "dan_so", [P], ["2024"], T, n=5, order="desc")
    g.add("top 10 xã nghèo nhất năm 2024 theo tỷ lệ hộ nghèo", "rank", "ty_le_ho_ngheo", [P], ["2024"], T, n=10,
          order="desc")
    g.add("xếp hạng 5 xã có nhiều doanh nghiệp nhất", "rank", "so_doanh_nghiep", [P], ["LATEST"], T + "|no-period",
          n=5, order="desc")
    g.add("3 xã có sản lượng lúa ít nhất năm 2025", "rank", "san_luong_lua", [P], ["2025"], T, n=3, order="asc")
    g.add("có bao nhiêu xã có trên 300 doanh nghiệp năm 2025", "filter", "so_doanh_nghiep", [P], ["2025"], T,
          op="gt", threshold=300)
    g.add("những xã có dân số hơn 45 nghìn người", "filter", "dan_so", [P], ["LATEST"], T + "|nghin|no-period",
          op="gt", threshold=45000)
    g.add("xã nào có tỷ lệ hồ sơ nộp trực tuyến dưới 75% năm 2025", "filter", "ty_le_dvc_truc_tuyen", [P], ["2025"],
          T, op="lt", threshold=75)
    g.add("dân số tỉnh tăng bao nhiêu phần trăm so với năm trước", "change", "dan_so", [P], ["PREV_LATEST", "LATEST"],
          T + "|no-period")
    g.add("GRDP tăng trưởng bình quân giai đoạn 2015-2020 là bao nhiêu", "change", "grdp", [P], ["2015", "2020"], T)
    g.add("tỷ lệ hộ nghèo xã Nghĩa Trụ giảm bao nhiêu điểm phần trăm giai đoạn 2015–2025", "change", "ty_le_ho_ngheo",
          [C("Nghĩa Trụ")], ["2015", "2025"], T + "|rate-pp")
    g.add("số doanh nghiệp tăng trưởng thế nào trong 5 năm qua", "change", "so_doanh_nghiep", [P],
          ["LASTN_START:5", "LATEST"], T + "|last-n")
    g.add("xã Nghĩa Trụ chiếm bao nhiêu phần trăm dân số toàn tỉnh năm 2023", "share", "dan_so", [C("Nghĩa Trụ")],
          ["2023"], T)
    g.add("sản lượng lúa xã Thái Thụy chiếm bao nhiêu % của tỉnh", "share", "san_luong_lua", [C("Thái Thụy")],
          ["LATEST"], T + "|no-period")
    g.add("dự báo dân số tỉnh năm 2030", "forecast", "dan_so", [P], ["2030"], T)
    g.add("ước tính số doanh nghiệp năm 2027 theo dự báo", "forecast", "so_doanh_nghiep", [P], ["2027"], T)
    g.add("dự báo tỷ lệ hộ nghèo xã Vũ Thư năm 2028", "forecast", "ty_le_ho_ngheo", [C("Vũ Thư")], ["2028"], T)
    g.add("tỉnh có đạt mục tiêu tỷ lệ hộ nghèo 0,8% năm 2026 không", "target", "ty_le_ho_ngheo", [P], ["2026"], T)
    g.add("liệu tỷ trọng kinh tế số có đạt 30% vào 2030", "target", "ty_trong_kinh_te_so", [P], ["2030"], T)
    g.add("chỉ số GRDP bình quân đầu người có ý nghĩa gì", "definition", "grdp_binh_quan", None, None, T)
    g.add("tỷ lệ hồ sơ nộp trực tuyến là gì vậy", "definition", "ty_le_dvc_truc_tuyen", None, None, T)
    g.add("số liệu tỷ lệ hộ nghèo do đâu mà có", "source", "ty_le_ho_ngheo", None, None, T)
    g.add("nguồn dữ liệu số doanh nghiệp", "source", "so_doanh_nghiep", None, None, T)
    g.add("xã nào cần quan tâm về tỷ lệ hồ sơ nộp trực tuyến", "suggest", "ty_le_dvc_truc_tuyen", None, None, T)
    g.add("dân số xã Tân Hưng năm 2023", "clarify", None, None, None, T + "|shared-name",
          candidates_min=len(d.candidates("Tân Hưng", "xã")))
    g.add("sản lượng năm 2023", "clarify", None, None, None, T + "|no-crop", candidates_min=3)
    g.add("giá xăng hôm nay bao nhiêu", "help", None, None, None, T)
    g.add("chào buổi sáng", "help", None, None, None, T)
    g.add("ai là chủ tịch tỉnh", "help", None, None, None, T)

    # ---------------------------------------------------------------- more of the smaller intents
    # (at least 20 questions each, so that an accuracy of 0.95 allows one failure, not none)
    g.add("tỷ trọng số doanh nghiệp của Phường Phố Hiến trong tổng số doanh nghiệp toàn tỉnh năm 2023", "share",
          "so_doanh_nghiep", [C("Phố Hiến")], ["2023"])
    g.add("sản lượng nhãn xã Triệu Việt Vương chiếm bao nhiêu % toàn tỉnh năm 2025", "share", "san_luong_nhan",
          [C("Triệu Việt Vương")], ["2025"])
    g.add("P. Trần Lãm chiếm bao nhiêu phần trăm số hộ của tỉnh năm 2022", "share", "tong_so_ho", [C("Trần Lãm")],
          ["2022"], "abbrev")
    g.add("dự báo sản lượng chuối toàn tỉnh năm 2028", "forecast", "san_luong_chuoi", [P], ["2028"])
    g.add("mục tiêu 40 nghìn doanh nghiệp năm 2030 có đạt được không", "target", "so_doanh_nghiep", [P], ["2030"],
          "nghin")
    g.add("tỷ lệ DVC trực tuyến có đạt mục tiêu năm 2026 không", "target", "ty_le_dvc_truc_tuyen", [P], ["2026"],
          "abbrev")
    g.add("đánh giá khả năng hoàn thành mục tiêu tỷ trọng kinh tế số năm 2030", "target", "ty_trong_kinh_te_so", [P],
          ["2030"])
    g.add("muc tieu ty le ho ngheo nam 2026 co dat khong", "target", "ty_le_ho_ngheo", [P], ["2026"], "no-diacritics")
    g.add("số hộ nghèo là gì", "definition", "so_ho_ngheo")
    g.add("đàn gà là chỉ số gì", "definition", "dan_ga")
    g.add("giải thích giúp tôi tỷ lệ hộ nghèo", "definition", "ty_le_ho_ngheo")
    g.add("mật độ dân số tính như thế nào", "definition", "mat_do_dan_so")
    g.add("số liệu GRDP lấy từ đâu", "source", "grdp")
    g.add("nguồn số liệu dân số", "source", "dan_so")
    g.add("dữ liệu sản lượng nhãn lấy ở đâu", "source", "san_luong_nhan")
    g.add("số liệu tổng số hộ lấy từ nguồn nào", "source", "tong_so_ho")
    g.add("NGUỒN DỮ LIỆU TỶ LỆ HỒ SƠ NỘP TRỰC TUYẾN", "source", "ty_le_dvc_truc_tuyen", tag="upper")
    g.add("nguon so lieu san luong chuoi", "source", "san_luong_chuoi", tag="no-diacritics")
    g.add("xã nào cần chú ý về tỷ lệ hộ nghèo", "suggest", "ty_le_ho_ngheo")
    g.add("có điều gì bất thường về số liệu dân số không", "suggest", "dan_so")
    g.add("gợi ý các xã cần quan tâm về sản lượng chuối", "suggest", "san_luong_chuoi")
    g.add("có gì cần lưu ý về GRDP bình quân đầu người không", "suggest", "grdp_binh_quan", tag="province-level")
    g.add("xa nao can chu y ve so ho ngheo", "suggest", "so_ho_ngheo", tag="no-diacritics")
    g.add("CẦN CHÚ Ý GÌ VỀ TỶ TRỌNG KINH TẾ SỐ", "suggest", "ty_trong_kinh_te_so", tag="upper|province-level")
    g.add("bây giờ là mấy giờ", "help")
    return g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the existing file instead of writing")
    a = ap.parse_args()
    g = build(Data())
    seen = set()
    for r in g.rows:
        assert r["q"] not in seen, ("duplicate question", r["q"])
        seen.add(r["q"])
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in g.rows)
    if a.check:
        with open(a.out, encoding="utf-8") as f:
            same = f.read() == text
        print("questions.jsonl is up to date" if same else "questions.jsonl differs from the generator's output")
        sys.exit(0 if same else 1)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(text)
    by = collections.Counter(r["intent"] for r in g.rows)
    print(f"{len(g.rows)} questions -> {os.path.relpath(a.out, ROOT)}")
    for i in INTENTS:
        print(f"  {i:<11}{by[i]:>4}")


if __name__ == "__main__":
    main()
