"""The audit log as a transparency log, checked from outside with tlogverify.py (an
independent verifier written from RFC 6962/9162 and the C2SP signed-note,
tlog-checkpoint and tlog-tiles specs): checkpoints, inclusion and consistency proofs
and tiles served by a running server; `kho audit verify` on an untouched log and on
copies tampered with in every way (changed, re-hashed, deleted, inserted, swapped
entries, damaged hashes and checkpoint notes); backup and restore.

The server signs a checkpoint after every batch (KHO_AUDIT_CHECKPOINT_ENTRIES=1) and
the log is grown past one full tile (256 entries) by audited reads.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time

import tlogverify as tv

TCXH = "doi-tuong-tro-cap-xa-hoi"
ORIGIN = "kho/audit"
GROW = 300

_state = {}


# ---- helpers -----------------------------------------------------------------------------


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout[-1500:]}\nstderr: {p.stderr[-1500:]}"
    return p


def get(srv, path, status=200, auth=False):
    r = srv.get(path, auth=auth)
    assert r.status == status, (path, r)
    return r


def checkpoint(srv):
    return tv.verify_checkpoint(get(srv, "/audit/checkpoint").body, _state["vkey"], ORIGIN)


def settle(srv, at_least, timeout=30):
    """The checkpoint once the log has at least `at_least` entries and is quiet
    (checkpoint reads leave no audit entry, so polling does not grow the log)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        cp = checkpoint(srv)
        if cp.size >= at_least and last is not None and cp.size == last.size:
            return cp
        last = cp
        time.sleep(0.1)
    raise AssertionError(f"the checkpoint did not reach {at_least} entries: {last}")


def fetch_tile(srv, level, n, width):
    r = get(srv, "/audit/" + tv.tile_path(level, n, width))
    assert r.header("Content-Type") == "application/octet-stream", r.headers
    return r.body


def bundle_entries(srv, size):
    """The first `size` entries, exactly as stored, from the entry bundles (audit:read)."""
    out = []
    for n in range((size + 255) // 256):
        w = min(256, size - 256 * n)
        r = get(srv, "/audit/" + tv.tile_path("entries", n, w), auth=True)
        assert "no-store" in (r.header("Cache-Control") or ""), r.headers
        es = tv.parse_entry_bundle(r.body)
        assert len(es) == w, (n, w, len(es))
        out += es
    return out


def setup(env):
    if "srv" in _state:
        return _state
    env.init()
    srv = env.server(extra_env={"KHO_AUDIT_CHECKPOINT_ENTRIES": "1"})
    _state["srv"] = srv
    vk_text = get(srv, "/api/v1/audit/key").text
    _state["vkey"] = tv.parse_vkey(vk_text)
    _state["vkey_text"] = vk_text
    _state["cp0"] = settle(srv, 1)
    for i in range(GROW):
        r = srv.get(f"/api/v1/datasets/{TCXH}/rows?_limit=1&_offset={i}", auth=True,
                    headers={"X-Purpose": f"tlog test {i}"})
        assert r.status == 200, r
        if i == 40:
            _state["cp_mid"] = checkpoint(srv)
    cp = settle(srv, _state["cp0"].size + GROW)
    _state["cp"] = cp
    _state["entries"] = bundle_entries(srv, cp.size)
    _state["tree"] = tv.Tree(_state["entries"])
    return _state


# ---- the verifier itself ----------------------------------------------------------------------

# RFC 6962 Merkle tree hashes of the first n of these leaves (the test vectors of the
# Certificate Transparency reference implementations).
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             b"\x50\x51\x52\x53\x54\x55\x56\x57", bytes(range(0x60, 0x70))]
CT_ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
# RFC 8032 section 7.1, tests 1 and 2.
ED_VECTORS = [("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
               "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
               "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
              ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
               "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
               "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")]


def rfc_path(m, leaves):
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, straight from the definition (for the self-check)."""
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return rfc_path(m, leaves[:k]) + [tv.mth_of_leaves(leaves[k:])]
    return rfc_path(m - k, leaves[k:]) + [tv.mth_of_leaves(leaves[:k])]


def rfc_subproof(m, leaves, b):
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if b else [tv.mth_of_leaves(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return rfc_subproof(m, leaves[:k], b) + [tv.mth_of_leaves(leaves[k:])]
    return rfc_subproof(m - k, leaves[k:], False) + [tv.mth_of_leaves(leaves[:k])]


def test_verifier_known_answers(env):
    """tlogverify against published test vectors and the RFC's own proof definitions."""
    assert tv.mth([]).hex() == hashlib.sha256(b"").hexdigest()
    for n, want in enumerate(CT_ROOTS, 1):
        assert tv.mth(CT_LEAVES[:n]).hex() == want, n
    for pk, msg, sig in ED_VECTORS:
        pk, msg, sig = bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig)
        backends = ["pure-python"] + (["pynacl"] if tv.ED25519_BACKEND == "pynacl" else [])
        for b in backends:
            assert tv.ed25519_verify(pk, msg, sig, b), b
            assert not tv.ed25519_verify(pk, msg + b"x", sig, b), b
            assert not tv.ed25519_verify(pk, msg, sig[:63] + bytes([sig[63] ^ 1]), b), b
    leaves = [tv.leaf_hash(bytes([i]) * (i % 5)) for i in range(40)]
    for n in range(1, 41):
        root = tv.mth_of_leaves(leaves[:n])
        for m in range(n):
            tv.verify_inclusion(leaves[m], m, n, rfc_path(m, leaves[:n]), root)
        for m in range(1, n + 1):
            proof = rfc_subproof(m, leaves[:n], True) if m < n else []
            tv.verify_consistency(m, n, tv.mth_of_leaves(leaves[:m]), root, proof)
    # tiles: a tree of 70,000 leaves built level by level, cut into tiles
    levels = [[tv.leaf_hash(i.to_bytes(4, "big")) for i in range(70000)]]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([tv.node_hash(prev[i], prev[i + 1]) for i in range(0, len(prev) - 1, 2)])

    def fetch(level, n, w):
        hs = levels[8 * level][n * 256:n * 256 + w]
        assert len(hs) == w
        return b"".join(hs)

    for size in (1, 255, 256, 257, 65535, 65536, 65537, 70000):
        assert tv.root_from_tiles(size, fetch) == tv.mth_of_leaves(levels[0][:size]), size
    assert tv.tile_path(0, 1234067) == "tile/0/x001/x234/067" and tv.tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert tv.tile_path("entries", 0) == "tile/entries/000"


# ---- checkpoints ---------------------------------------------------------------------------


def test_checkpoint_is_signed_by_the_published_key(env):
    st = setup(env)
    srv, vk, cp = st["srv"], st["vkey"], st["cp"]
    assert vk.name == ORIGIN and len(vk.pk) == 32, vk
    assert re.fullmatch(r"kho/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n", st["vkey_text"]), st["vkey_text"]
    assert ok(env.kho("audit", "key")).stdout == st["vkey_text"]
    r = get(srv, "/audit/checkpoint")
    assert r.header("Content-Type").startswith("text/plain"), r.headers
    note = r.text
    assert note == get(srv, "/api/v1/audit/checkpoint").text, "the two checkpoint paths differ"
    body, sigs = tv.split_note(note)
    assert body == f"{ORIGIN}\n{cp.size}\n{base64.b64encode(cp.root).decode()}\n", body
    assert [n for n, _ in sigs] == [ORIGIN] and sigs[0][1][:4] == vk.keyhash and len(sigs[0][1]) == 68, sigs
    assert cp.size >= st["cp0"].size + GROW and cp.extensions == [], cp
    # both Ed25519 implementations agree that it verifies
    tv.verify_checkpoint(note, vk, ORIGIN, backend="pure-python")
    if tv.ED25519_BACKEND == "pynacl":
        tv.verify_checkpoint(note, vk, ORIGIN, backend="pynacl")
    # ... and that altered notes do not
    lines = note.split("\n")
    altered_root = base64.b64encode(bytes([cp.root[0] ^ 1]) + cp.root[1:]).decode()
    sig = base64.b64decode(lines[-2].split(" ")[2])
    bad_sig = base64.b64encode(sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]).decode()
    for what, text in [("size", note.replace(f"\n{cp.size}\n", f"\n{cp.size + 1}\n", 1)),
                       ("root", note.replace(lines[2], altered_root, 1)),
                       ("signature", note.replace(lines[-2].split(" ")[2], bad_sig)),
                       ("origin", note.replace(ORIGIN + "\n", "kho/other\n", 1))]:
        for backend in ("pure-python", None):
            try:
                tv.verify_checkpoint(text, vk, ORIGIN, backend=backend)
            except tv.VerifyError:
                continue
            raise AssertionError(f"a checkpoint with an altered {what} verified")
    name, kh, key64 = st["vkey_text"].strip().split("+", 2)
    wrong = kh[:-1] + ("0" if kh[-1] != "0" else "1")
    try:
        tv.parse_vkey(f"{name}+{wrong}+{key64}")
    except tv.VerifyError as e:
        assert "key hash" in str(e), e
    else:
        raise AssertionError("a verifier key with a wrong key hash was accepted")
    other = tv.parse_vkey(f"{name}+{tv.key_hash(name, bytes([1]) + bytes(range(32))).hex()}+"
                          + base64.b64encode(bytes([1]) + bytes(range(32))).decode())
    try:
        tv.verify_checkpoint(note, other, ORIGIN)
    except tv.VerifyError:
        pass
    else:
        raise AssertionError("the checkpoint verified with another key")
    # the checkpoint after the growth is consistent with the one before
    cp0, cpm = st["cp0"], st["cp_mid"]
    for a, b in ((cp0, cp), (cpm, cp), (cp0, cpm)):
        if a.size == b.size:
            assert a.root == b.root
            continue
        j = get(srv, f"/api/v1/audit/proof/consistency?from={a.size}&to={b.size}").json()
        tv.verify_consistency(a.size, b.size, a.root, b.root, tv.b64hashes(j["hashes"]))


def test_root_from_entries(env):
    """The entries the API lists, and the entry bundles, hash to the checkpoint's root."""
    st = setup(env)
    srv, cp, entries = st["srv"], st["cp"], st["entries"]
    assert tv.mth(entries) == cp.root, "the entry bundles do not give the checkpoint's root"
    listed, frm = [], 0
    while len(listed) < cp.size:
        j = get(srv, f"/api/v1/audit/entries?from={frm}&limit=1000", auth=True).json()
        assert [e["index"] for e in j["entries"]] == list(range(frm, frm + len(j["entries"]))), "gaps in the listing"
        listed += [e["entry"] for e in j["entries"]]
        frm = j["next"]
    listed = listed[:cp.size]
    as_bytes = [json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode("utf-8") for e in listed]
    assert as_bytes == entries, "the listed entries are not the stored ones"
    assert tv.mth(as_bytes) == cp.root
    # the entries say what happened: GROW audited reads with their purposes
    reads = [e for e in listed if e["action"] == "read" and e["details"].get("purpose", "").startswith("tlog test ")]
    assert len(reads) == GROW, len(reads)
    assert [int(e["details"]["query"]["_offset"]) for e in reads] == list(range(GROW))
    assert all(e["target"] == TCXH and e["actor"] == "e2e-admin" and e["details"]["rows"] == 1 for e in reads)
    # a changed entry changes the root (the verifier is not vacuous)
    changed = list(entries)
    changed[7] = changed[7].replace(b'"read"', b'"reed"', 1)
    assert changed[7] != entries[7] and tv.mth(changed) != cp.root


# ---- proofs ---------------------------------------------------------------------------------


def test_inclusion_proofs(env):
    st = setup(env)
    srv, cp, tree, entries = st["srv"], st["cp"], st["tree"], st["entries"]
    n = cp.size
    sizes = sorted({1, 2, 3, 5, 8, 13, 64, 255, 256, 257, n - 1, n})
    checked = 0
    for size in sizes:
        root = tree.root(size) if size < n else cp.root
        for index in sorted({0, 1 % size, size // 2, size - 2 if size > 1 else 0, size - 1}):
            j = get(srv, f"/api/v1/audit/proof/inclusion?index={index}&size={size}").json()
            assert (j["index"], j["size"]) == (index, size), j
            proof = tv.b64hashes(j["hashes"])
            tv.verify_inclusion(tv.leaf_hash(entries[index]), index, size, proof, root)
            checked += 1
            if size > 1:  # the same proof does not prove another entry, nor another position
                other = (index + 1) % size
                for leaf, idx in ((tv.leaf_hash(entries[other]), index), (tv.leaf_hash(entries[index]), other)):
                    if leaf == tv.leaf_hash(entries[index]) and idx == index:
                        continue
                    try:
                        tv.verify_inclusion(leaf, idx, size, proof, root)
                    except tv.VerifyError:
                        continue
                    raise AssertionError(f"a proof for {index} in {size} verified for {idx}")
            if proof:
                bad = [proof[0][:5] + bytes([proof[0][5] ^ 0x80]) + proof[0][6:]] + proof[1:]
                try:
                    tv.verify_inclusion(tv.leaf_hash(entries[index]), index, size, bad, root)
                except tv.VerifyError:
                    pass
                else:
                    raise AssertionError("an altered inclusion proof verified")
    assert checked >= 40, checked
    for q, code in [("index=5&size=5", 400), (f"index=0&size={n + 1000}", 400), ("index=0", 400), ("size=3", 400),
                    ("index=-1&size=3", 400), ("index=a&size=3", 400), ("index=0&size=3&x=1", 400)]:
        r = srv.get("/api/v1/audit/proof/inclusion?" + q)
        assert r.status == code, (q, r)


def test_consistency_proofs(env):
    st = setup(env)
    srv, cp, tree = st["srv"], st["cp"], st["tree"]
    n = cp.size
    pairs = [(1, 1), (1, 2), (1, n), (2, 3), (3, 7), (4, 8), (7, 8), (8, 9), (6, 255), (255, 256), (256, 257),
             (100, 256), (129, n), (256, n), (n - 1, n), (n, n)]
    for a, b in pairs:
        j = get(srv, f"/api/v1/audit/proof/consistency?from={a}&to={b}").json()
        assert (j["from"], j["to"]) == (a, b), j
        proof = tv.b64hashes(j["hashes"])
        ra, rb = tree.root(a), (tree.root(b) if b < n else cp.root)
        tv.verify_consistency(a, b, ra, rb, proof)
        if a < b:
            for bad_a, bad_b in ((tree.root(a - 1) if a > 1 else bytes(32), rb), (ra, tree.root(b - 1))):
                try:
                    tv.verify_consistency(a, b, bad_a, bad_b, proof)
                except tv.VerifyError:
                    continue
                raise AssertionError(f"a consistency proof {a}->{b} verified against the wrong roots")
            if proof:
                try:
                    tv.verify_consistency(a, b, ra, rb, proof[:-1])
                except tv.VerifyError:
                    pass
                else:
                    raise AssertionError(f"a truncated consistency proof {a}->{b} verified")
    for q in ("from=0&to=3", f"from=3&to={n + 1000}", "from=5&to=4", "from=3", "to=3", "from=x&to=3"):
        r = srv.get("/api/v1/audit/proof/consistency?" + q)
        assert r.status == 400, (q, r)


# ---- tiles ----------------------------------------------------------------------------------


def test_tiles_rebuild_the_root(env):
    st = setup(env)
    srv, cp, entries = st["srv"], st["cp"], st["entries"]
    n = cp.size
    assert n > 256, n
    fetched = []

    def fetch(level, idx, width):
        fetched.append((level, idx, width))
        return fetch_tile(srv, level, idx, width)

    assert tv.root_from_tiles(n, fetch) == cp.root, "the tiles do not give the checkpoint's root"
    assert (1, 0, n // 256) in fetched and (0, 1, n % 256) in fetched, fetched
    # roots of smaller trees from the tiles too (partial tiles of every kind)
    for size in (1, 2, 100, 255, 256, 257, n - 1):
        assert tv.root_from_tiles(size, fetch) == st["tree"].root(size), size
    # level 0 holds the leaf hashes, level 1 the 256-leaf subtree hashes
    t0 = tv.parse_hash_tile(fetch_tile(srv, 0, 0, 256), 256)
    assert t0 == [tv.leaf_hash(e) for e in entries[:256]]
    assert tv.parse_hash_tile(fetch_tile(srv, 1, 0, 1), 1) == [tv.mth(entries[:256])]
    w = n - 256
    t1 = tv.parse_hash_tile(fetch_tile(srv, 0, 1, w), w)
    assert t1 == [tv.leaf_hash(e) for e in entries[256:n]]
    assert fetch_tile(srv, 0, 0, 17) == fetch_tile(srv, 0, 0, 256)[:17 * 32]
    r = get(srv, "/audit/tile/0/000")
    assert "immutable" in (r.header("Cache-Control") or ""), r.headers
    # entry bundles: length-prefixed entries, public hashes but not public entries
    b = tv.parse_entry_bundle(get(srv, "/audit/tile/entries/000", auth=True).body)
    assert b == entries[:256]
    assert srv.get("/audit/tile/entries/000").status == 401
    # what does not exist (yet), or is not a canonical tile path
    for path in ("/audit/tile/0/001", "/audit/tile/0/001.p/255", "/audit/tile/1/000", "/audit/tile/0/0",
                 "/audit/tile/0/000.p/256", "/audit/tile/0/000.p/0", "/audit/tile/0/000.p/07", "/audit/tile/0/x000/000",
                 "/audit/tile/0/1000", "/audit/tile/x/000", "/audit/tile/0"):
        r = srv.get(path, auth=True)
        assert r.status in (400, 404), (path, r)
    # the bundle of an incomplete tile is only served partial
    assert srv.get("/audit/tile/entries/001", auth=True).status == 404
    assert tv.parse_entry_bundle(get(srv, f"/audit/tile/entries/001.p/{w}", auth=True).body) == entries[256:n]


# ---- backup and restore ----------------------------------------------------------------------


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def log_entries(data):
    con = sqlite3.connect(f"file:{os.path.join(data, 'audit.db')}?mode=ro", uri=True)
    try:
        return [bytes(d) for (d,) in con.execute("SELECT data FROM entries ORDER BY idx")]
    finally:
        con.close()


def test_backup_and_restore(env):
    st = setup(env)
    srv = st["srv"]
    assert srv.proc.poll() is None, "the server should be running during the backup"
    dest = os.path.join(env.tmp, "backup")
    p = ok(env.kho("backup", dest, "--with-keys"))
    assert dest in p.stdout, p.stdout
    m = json.load(open(os.path.join(dest, "MANIFEST.json")))
    names = {f["name"] for f in m["files"]}
    assert names == {"kho.db", "audit.db", "trace.db", "kho.conf", "keys/master.key", "keys/audit.key",
                     "keys/trace.key"}, names
    for f in m["files"]:
        path = os.path.join(dest, f["name"])
        assert sha256_file(path) == f["sha256"] and os.path.getsize(path) == f["bytes"], f
    assert m["with_keys"] is True
    # the server keeps working during and after the backup
    assert srv.get(f"/api/v1/datasets/{TCXH}/rows?_limit=1", auth=True).status == 200
    # restore into a new directory
    new = os.path.join(env.tmp, "restored")
    ok(env.kho("restore", dest, data=new))
    snapshot, restored = log_entries(dest), log_entries(new)
    p = ok(env.kho("audit", "verify", data=new))
    assert "verified" in p.stdout, p.stdout
    assert json.loads(ok(env.kho("datasets", "--json", data=new)).stdout) == \
        json.loads(ok(env.kho("datasets", "--json")).stdout)
    for pii in ([], ["--pii"]):  # the encrypted columns decrypt with the restored keys
        a = ok(env.kho("export", TCXH, "--format", "csv", *pii)).stdout
        b = ok(env.kho("export", TCXH, "--format", "csv", *pii, data=new)).stdout
        assert a == b and len(a.splitlines()) == 1717, (pii, len(a), len(b))
    assert "Đặng Đức Hải" in b
    # the backed-up log is a prefix of the live one; the restored one is it plus the restore's own
    # entry, and its checkpoints verify with the published key
    live = log_entries(env.data)
    assert len(snapshot) > st["cp"].size and live[:len(snapshot)] == snapshot, (len(live), len(snapshot))
    assert json.loads(snapshot[-1])["action"] == "backup", snapshot[-1]
    assert restored[:-1] == snapshot, (len(restored), len(snapshot))
    con = sqlite3.connect(f"file:{os.path.join(new, 'audit.db')}?mode=ro", uri=True)
    try:
        notes = [n for (n,) in con.execute("SELECT note FROM checkpoints ORDER BY size")]
    finally:
        con.close()
    assert notes, "no checkpoints in the restored log"
    tree = tv.Tree(log_entries(new))
    for note in notes:
        c = tv.verify_checkpoint(note, st["vkey"], ORIGIN)
        assert tree.root(c.size) == c.root, c
    assert json.loads(restored[-1])["action"] == "restore", restored[-1]
    # without --force, a directory that holds a database is not overwritten
    p = env.kho("restore", dest, data=new)
    assert p.returncode == 7, (p.returncode, p.stderr)
    # a tampered backup is refused before anything is written
    for victim, offset in (("kho.db", 4096 + 100), ("audit.db", 200), ("keys/audit.key", 3)):
        bad = os.path.join(env.tmp, "bad-" + victim.replace("/", "-"))
        shutil.copytree(dest, bad)
        with open(os.path.join(bad, victim), "r+b") as f:
            f.seek(offset)
            c = f.read(1)
            f.seek(offset)
            f.write(bytes([c[0] ^ 0x01]))
        target = os.path.join(env.tmp, "never-" + victim.replace("/", "-"))
        p = env.kho("restore", bad, data=target)
        assert p.returncode == 9, (victim, p.returncode, p.stdout, p.stderr)
        assert victim in p.stderr and "manifest" in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(target, "kho.db")), os.listdir(target)


def test_restore_of_a_backup_without_keys(env):
    """A backup without key files restores into a new directory, says the keys are
    missing, and does not fail: the files are in place."""
    setup(env)
    dest = os.path.join(env.tmp, "backup-nokeys")
    ok(env.kho("backup", dest))
    names = {f["name"] for f in json.load(open(os.path.join(dest, "MANIFEST.json")))["files"]}
    assert names == {"kho.db", "audit.db", "trace.db", "kho.conf"}, names
    new = os.path.join(env.tmp, "restored-nokeys")
    p = env.kho("restore", dest, data=new)
    assert os.path.exists(os.path.join(new, "kho.db")) and "key files are missing" in p.stdout, (p.stdout, p.stderr)
    assert p.returncode == 0, f"exit {p.returncode} after a restore that took place: {p.stderr}"


# ---- kho audit verify on tampered copies --------------------------------------------------------


def copy_log(env, name):
    """A copy of what kho audit verify reads: audit.db, kho.conf and the keys."""
    d = os.path.join(env.tmp, "tamper", name)
    os.makedirs(d)
    shutil.copy2(os.path.join(env.data, "audit.db"), d)
    shutil.copy2(os.path.join(env.data, "kho.conf"), d)
    shutil.copytree(os.path.join(env.data, "keys"), os.path.join(d, "keys"))
    return d


def all_hashes(entries):
    """Every complete subtree hash (level, index, hash) of a list of entries."""
    out, level, cur = [], 0, [tv.leaf_hash(e) for e in entries]
    while cur:
        out += [(level, i, h) for i, h in enumerate(cur)]
        cur = [tv.node_hash(cur[i], cur[i + 1]) for i in range(0, len(cur) - 1, 2)]
        level += 1
    return out


def verify(env, d):
    p = env.kho("audit", "verify", data=d)
    return p.returncode, p.stdout + p.stderr


K = 150  # the entry under attack: inside the first full tile, covered by many checkpoints


def log_at_rest(env):
    """Stop the server (once) and check the untouched log; (entries, checkpoint sizes)."""
    st = setup(env)
    if st["srv"].proc.poll() is None:
        st["srv"].stop()
    p = ok(env.kho("audit", "verify"))
    assert "verified" in p.stdout, p.stdout
    con = sqlite3.connect(f"file:{os.path.join(env.data, 'audit.db')}?mode=ro", uri=True)
    try:
        n = con.execute("SELECT count(*) FROM entries").fetchone()[0]
        cps = [s for (s,) in con.execute("SELECT size FROM checkpoints ORDER BY size")]
    finally:
        con.close()
    assert n >= GROW and len(cps) >= 5 and K + 2 < n, (n, cps)
    return n, cps


def tampered(env, name, sql_edit):
    """Apply sql_edit to a copy of the log; (exit code, output) of kho audit verify on it."""
    d = copy_log(env, name)
    con = sqlite3.connect(os.path.join(d, "audit.db"))
    try:
        with con:
            sql_edit(con)
    finally:
        con.close()
    return verify(env, d)


def test_verify_detects_tampering(env):
    n, cps = log_at_rest(env)
    k, case = K, lambda name, edit: tampered(env, name, edit)

    def flip_entry(con):
        (data,) = con.execute("SELECT data FROM entries WHERE idx = ?", (k,)).fetchone()
        data = bytearray(data)
        data[20] ^= 0x01
        con.execute("UPDATE entries SET data = ? WHERE idx = ?", (bytes(data), k))

    def flip_hash(level, idx):
        def edit(con):
            (h,) = con.execute("SELECT hash FROM hashes WHERE level = ? AND idx = ?", (level, idx)).fetchone()
            con.execute("UPDATE hashes SET hash = ? WHERE level = ? AND idx = ?",
                        (bytes([h[0] ^ 0x01]) + bytes(h[1:]), level, idx))
        return edit

    def flip_checkpoint(size, where):
        def edit(con):
            (note,) = con.execute("SELECT note FROM checkpoints WHERE size = ?", (size,)).fetchone()
            i = where(note)
            ch = "A" if note[i] != "A" else "B"
            con.execute("UPDATE checkpoints SET note = ? WHERE size = ?", (note[:i] + ch + note[i + 1:], size))
        return edit

    def delete_entry(con):
        con.execute("DELETE FROM entries WHERE idx = ?", (k,))

    def swap_entries(con):
        a = con.execute("SELECT data FROM entries WHERE idx = ?", (k,)).fetchone()[0]
        b = con.execute("SELECT data FROM entries WHERE idx = ?", (k + 1,)).fetchone()[0]
        assert a != b
        con.execute("UPDATE entries SET data = ? WHERE idx = ?", (b, k))
        con.execute("UPDATE entries SET data = ? WHERE idx = ?", (a, k + 1))

    def rewrite_consistently(con):
        """Change an entry and recompute every stored hash: only the checkpoints can tell."""
        es = [bytes(d) for (d,) in con.execute("SELECT data FROM entries ORDER BY idx")]
        before = es[k]
        es[k] = es[k].replace(b"tlog test", b"tlog TEST", 1)
        assert es[k] != before, before
        con.execute("UPDATE entries SET data = ? WHERE idx = ?", (es[k], k))
        con.execute("DELETE FROM hashes")
        con.executemany("INSERT INTO hashes(level, idx, hash) VALUES (?, ?, ?)", all_hashes(es))

    results = {}
    results["entry data"] = case("data", flip_entry)
    results["leaf hash"] = case("leafhash", flip_hash(0, k))
    results["node hash"] = case("nodehash", flip_hash(1, k // 2))
    cp_size = cps[len(cps) // 2]
    results["checkpoint signature"] = case("cpsig", flip_checkpoint(cp_size, lambda s: len(s) - 10))
    results["checkpoint root"] = case("cproot", flip_checkpoint(cp_size, lambda s: s.index("\n\n") - 5))
    results["deleted entry"] = case("delete", delete_entry)
    results["swapped entries"] = case("swap", swap_entries)
    results["consistent rewrite"] = case("rewrite", rewrite_consistently)
    bad = []
    want = {"entry data": [f"entry {k}"], "leaf hash": [f"entry {k}"],
            "node hash": [f"tree node 1/{k // 2} (entries {k & ~1}-{k | 1})"],
            "checkpoint signature": [f"checkpoint of size {cp_size}"],
            "checkpoint root": [f"checkpoint of size {cp_size}"],
            "deleted entry": [f"entry {k}"], "swapped entries": [f"entry {k}", f"entry {k + 1}"],
            "consistent rewrite": [f"checkpoint of size {min(s for s in cps if s > k)}"]}
    for what, (code, out) in results.items():
        if code != 9:
            bad.append(f"{what}: exit {code}, expected 9: {out[-600:]}")
        for needle in want[what]:
            if not re.search(re.escape(needle) + r"(?!\d)", out):
                bad.append(f"{what}: the report does not name {needle!r}: {out[-600:]}")
    # a consistent rewrite leaves the tree itself intact: the checkpoints before entry k still hold
    out = results["consistent rewrite"][1]
    for s in cps:
        if s <= k and f"checkpoint of size {s}:" in out:
            bad.append(f"consistent rewrite: checkpoint {s} (before the change) was reported")
    # the untouched copy still verifies (the copies are sound)
    code, out = verify(env, copy_log(env, "untouched"))
    if code != 0:
        bad.append(f"an untouched copy: exit {code}: {out[-600:]}")
    assert not bad, "\n".join(bad)


def test_verify_detects_inserted_entries(env):
    """An extra entry, inserted in the middle (the later ones moved up) or added at the end
    without its hashes, is reported as tampering (exit 9) naming the entry."""
    n, _ = log_at_rest(env)
    k, bad = K, []

    def insert_middle(con):
        for (i,) in con.execute("SELECT idx FROM entries WHERE idx >= ? ORDER BY idx DESC", (k,)).fetchall():
            con.execute("UPDATE entries SET idx = ? WHERE idx = ?", (i + 1, i))
        con.execute("INSERT INTO entries(idx, data) VALUES (?, ?)", (k, b'{"action":"forged"}'))

    def append_end(con):
        con.execute("INSERT INTO entries(idx, data) VALUES (?, ?)", (n, b'{"action":"forged"}'))

    for what, edit, needle in (("inserted entry", insert_middle, f"entry {k}"),
                               ("appended entry", append_end, f"entry {n}")):
        code, out = tampered(env, what.replace(" ", "-"), edit)
        if code != 9 or not re.search(re.escape(needle) + r"(?!\d)", out):
            bad.append(f"{what}: exit {code}, expected 9 naming {needle!r}: {out[-600:]}")
    assert not bad, "\n".join(bad)
