"""An independent verifier of kho's transparency-log formats, written from the specs.

It knows nothing of kho's code: only

    RFC 6962 / RFC 9162 section 2.1   Merkle tree hashes, inclusion and consistency proofs
    C2SP signed-note                  verifier keys, signed notes (Ed25519, type 0x01)
    C2SP tlog-checkpoint              the checkpoint body: origin, size, root
    C2SP tlog-tiles                   tile paths, hash tiles, entry bundles

and uses only hashlib and, for Ed25519, PyNaCl (python3-nacl). When PyNaCl cannot be
imported a small RFC 8032 verifier written here is used instead (slow, but these are
only a handful of signatures); `ED25519_BACKEND` says which one is in use.

Every check raises VerifyError with a reason when it fails.
"""
import base64
import hashlib
import os
import sys


class VerifyError(Exception):
    pass


# ---- Ed25519 ------------------------------------------------------------------------------

def _load_nacl():
    try:
        import nacl.exceptions
        import nacl.signing
        return nacl
    except ImportError:
        pass
    deb = "/usr/lib/python3/dist-packages"  # python3-nacl from Debian, under another interpreter
    if os.path.isdir(os.path.join(deb, "nacl")) and deb not in sys.path:
        sys.path.append(deb)
        try:
            import nacl.exceptions
            import nacl.signing
            return nacl
        except ImportError:
            pass
    return None


_nacl = _load_nacl()
ED25519_BACKEND = "pynacl" if _nacl else "pure-python"

# RFC 8032 section 5.1 (verification only; public data, so no constant-time needs).
_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_I = pow(2, (_P - 1) // 4, _P)


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _I % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(b):
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % _P)


def _ed25519_verify_pure(pk, msg, sig):
    if len(sig) != 64:
        return False
    a = _decompress(pk)
    r = _decompress(sig[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pk + msg).digest(), "little") % _L
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


def ed25519_verify(pk, msg, sig, backend=None):
    """True when sig is a valid Ed25519 signature of msg under the 32-byte public key pk."""
    backend = backend or ED25519_BACKEND
    if backend == "pynacl":
        if not _nacl:
            raise VerifyError("PyNaCl is not available")
        try:
            _nacl.signing.VerifyKey(pk).verify(msg, sig)
            return True
        except (_nacl.exceptions.BadSignatureError, ValueError, TypeError):
            return False
    return _ed25519_verify_pure(pk, msg, sig)


# ---- RFC 6962 / 9162 hashes ---------------------------------------------------------------

def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(entry):
    """HASH(0x00 || entry)."""
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    """HASH(0x01 || left || right)."""
    return sha256(b"\x01" + left + right)


def _split(n):
    """The largest power of two smaller than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries):
    """MTH(D[n]) of RFC 9162 2.1.1 over a list of entries (bytes)."""
    return mth_of_leaves([leaf_hash(e) for e in entries])


def mth_of_leaves(leaves):
    """The Merkle tree hash of a list of leaf hashes (iterative, RFC 9162 2.1.1)."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(mth_of_leaves(leaves[:k]), mth_of_leaves(leaves[k:]))


class Tree:
    """Roots of every prefix of a list of entries, from its leaf hashes."""

    def __init__(self, entries):
        self.leaves = [leaf_hash(e) for e in entries]

    def root(self, size):
        if size > len(self.leaves):
            raise VerifyError(f"the tree has only {len(self.leaves)} leaves, not {size}")
        return mth_of_leaves(self.leaves[:size])


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 2.1.3.2: leaf (a leaf hash) is entry `index` of the tree of `size` with `root`."""
    if index >= size:
        raise VerifyError(f"inclusion: index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != 32:
            raise VerifyError("inclusion: a proof hash is not 32 bytes")
        if sn == 0:
            raise VerifyError("inclusion: the proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerifyError("inclusion: the proof is too short")
    if r != root:
        raise VerifyError("inclusion: the proof does not lead to the root")
    return True


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 2.1.4.2: the tree of size `first` is a prefix of the tree of size `second`."""
    if first == 0 or first > second:
        raise VerifyError(f"consistency: sizes {first} -> {second} are not 0 < first <= second")
    if first == second:
        if proof:
            raise VerifyError("consistency: a proof between equal sizes must be empty")
        if first_root != second_root:
            raise VerifyError("consistency: equal sizes with different roots")
        return True
    if not proof:
        raise VerifyError("consistency: the proof is empty")
    for c in proof:
        if len(c) != 32:
            raise VerifyError("consistency: a proof hash is not 32 bytes")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerifyError("consistency: the proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerifyError("consistency: the proof is too short")
    if fr != first_root:
        raise VerifyError("consistency: the proof does not lead to the first root")
    if sr != second_root:
        raise VerifyError("consistency: the proof does not lead to the second root")
    return True


# ---- C2SP signed-note -------------------------------------------------------------------------

def key_hash(name, typed_key):
    """SHA-256(name || "\\n" || type byte || key)[:4]."""
    return sha256(name.encode("utf-8") + b"\n" + typed_key)[:4]


class VerifierKey:
    def __init__(self, name, keyhash, pk):
        self.name, self.keyhash, self.pk = name, keyhash, pk

    def __repr__(self):
        return f"<VerifierKey {self.name} {self.keyhash.hex()}>"


def _valid_name(name):
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def parse_vkey(text):
    """Parse "<name>+<hex key hash>+<base64(0x01 || 32-byte Ed25519 key)>"."""
    text = text.strip("\n")
    parts = text.split("+", 2)  # the base64 key may itself contain '+'
    if len(parts) != 3:
        raise VerifyError(f"verifier key: want name+hash+key, got {len(parts)} parts")
    name, hexhash, b64 = parts
    if not _valid_name(name):
        raise VerifyError(f"verifier key: bad name {name!r}")
    if len(hexhash) != 8 or any(c not in "0123456789abcdef" for c in hexhash):
        raise VerifyError(f"verifier key: the key hash {hexhash!r} is not 8 lower-case hex digits")
    try:
        typed = base64.b64decode(b64, validate=True)
    except ValueError as e:
        raise VerifyError(f"verifier key: bad base64: {e}") from None
    if len(typed) != 33 or typed[0] != 0x01:
        raise VerifyError("verifier key: not an Ed25519 key (type 0x01 and 32 bytes)")
    kh = key_hash(name, typed)
    if kh.hex() != hexhash:
        raise VerifyError(f"verifier key: the key hash is {kh.hex()}, the key says {hexhash}")
    return VerifierKey(name, kh, typed[1:])


def split_note(note):
    """(body, [(name, sig bytes)]) of a signed note (text). The body ends with its last "\\n"."""
    if isinstance(note, bytes):
        note = note.decode("utf-8")
    if not note.endswith("\n"):
        raise VerifyError("note: does not end with a newline")
    i = note.rfind("\n\n")
    if i < 0:
        raise VerifyError("note: no blank line before the signatures")
    body, sigtext = note[:i + 1], note[i + 2:]
    if not body or body.startswith("\n"):
        raise VerifyError("note: empty body")
    sigs = []
    for line in sigtext[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise VerifyError(f"note: {line!r} is not a signature line")
        rest = line[2:].split(" ")
        if len(rest) != 2:
            raise VerifyError(f"note: malformed signature line {line!r}")
        try:
            raw = base64.b64decode(rest[1], validate=True)
        except ValueError:
            raise VerifyError(f"note: signature of {rest[0]} is not base64") from None
        if len(raw) < 5:
            raise VerifyError("note: signature too short")
        sigs.append((rest[0], raw))
    if not sigs:
        raise VerifyError("note: no signatures")
    return body, sigs


def verify_note(note, vkey, backend=None):
    """Check that `vkey` signed the note; returns its body (text)."""
    body, sigs = split_note(note)
    mine = [raw for name, raw in sigs if name == vkey.name and raw[:4] == vkey.keyhash]
    if not mine:
        raise VerifyError(f"note: no signature by {vkey.name} ({vkey.keyhash.hex()})")
    for raw in mine:
        if len(raw) == 68 and ed25519_verify(vkey.pk, body.encode("utf-8"), raw[4:], backend):
            return body
    raise VerifyError(f"note: the signature by {vkey.name} does not verify")


class Checkpoint:
    def __init__(self, origin, size, root, extensions, note):
        self.origin, self.size, self.root, self.extensions, self.note = origin, size, root, extensions, note

    def __repr__(self):
        return f"<Checkpoint {self.origin} {self.size} {base64.b64encode(self.root).decode()}>"


def parse_checkpoint_body(body):
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise VerifyError("checkpoint: want origin, size and root lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin:
        raise VerifyError("checkpoint: empty origin")
    if not size.isdigit() or (len(size) > 1 and size[0] == "0"):
        raise VerifyError(f"checkpoint: size {size!r} is not a decimal number")
    try:
        r = base64.b64decode(root, validate=True)
    except ValueError:
        raise VerifyError("checkpoint: the root is not base64") from None
    if len(r) != 32:
        raise VerifyError("checkpoint: the root is not 32 bytes")
    return origin, int(size), r, lines[3:-1]


def verify_checkpoint(note, vkey, origin=None, backend=None):
    """Verify a signed checkpoint with vkey; returns a Checkpoint."""
    if isinstance(note, bytes):
        note = note.decode("utf-8")
    body = verify_note(note, vkey, backend)
    o, size, root, ext = parse_checkpoint_body(body)
    if o != (origin or vkey.name):
        raise VerifyError(f"checkpoint: origin {o!r}, expected {origin or vkey.name!r}")
    return Checkpoint(o, size, root, ext, note)


# ---- C2SP tlog-tiles ----------------------------------------------------------------------------

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


def tile_index_path(n):
    """The N part of a tile path: 3-digit groups, all but the last with an x prefix."""
    groups = []
    while True:
        groups.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(("x%03d" if i < len(groups) - 1 else "%03d") % g for i, g in enumerate(groups))


def tile_path(level, n, width=TILE_WIDTH):
    """'tile/<L>/<N>[.p/<W>]', or for level 'entries' the entry bundle path."""
    p = f"tile/{level}/{tile_index_path(n)}"
    if width != TILE_WIDTH:
        if not 0 < width < TILE_WIDTH:
            raise ValueError("width")
        p += f".p/{width}"
    return p


def tile_width(level, n, size):
    """Width of tile n of tile level `level` in a tree of `size` (0: it does not exist)."""
    count = size >> (TILE_HEIGHT * level)  # hashes at tree level 8*level
    return max(0, min(TILE_WIDTH, count - n * TILE_WIDTH))


def parse_hash_tile(data, width):
    if len(data) != 32 * width:
        raise VerifyError(f"tile: {len(data)} bytes, want {32 * width}")
    return [data[i:i + 32] for i in range(0, len(data), 32)]


def parse_entry_bundle(data):
    """The entries of a bundle: each prefixed by its length as a big-endian uint16."""
    out, i = [], 0
    while i < len(data):
        if i + 2 > len(data):
            raise VerifyError("bundle: truncated length")
        n = int.from_bytes(data[i:i + 2], "big")
        if i + 2 + n > len(data):
            raise VerifyError("bundle: truncated entry")
        out.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return out


def root_from_tiles(size, fetch):
    """The root of the tree of `size` from hash tiles. fetch(level, n, width) -> bytes of
    that tile. Uses only what tlog-tiles publishes: each complete subtree of the size's
    decomposition is a node at tree level k; it is read from tile level k // 8 and
    hashed up k % 8 levels."""
    if size == 0:
        return sha256(b"")
    cache = {}

    def tile(level, n):
        w = tile_width(level, n, size)
        if w == 0:
            raise VerifyError(f"tile {level}/{n} does not exist at size {size}")
        if (level, n) not in cache:
            cache[(level, n)] = parse_hash_tile(fetch(level, n, w), w)
        return cache[(level, n)]

    def base_hash(tree_level, index):  # tree_level multiple of 8
        t = tile(tree_level // TILE_HEIGHT, index // TILE_WIDTH)
        return t[index % TILE_WIDTH]

    def node(k, index):  # complete subtree of 2^k leaves, the index-th at that level
        base, r = k - k % TILE_HEIGHT, k % TILE_HEIGHT
        hs = [base_hash(base, (index << r) + j) for j in range(1 << r)]
        while len(hs) > 1:
            hs = [node_hash(hs[j], hs[j + 1]) for j in range(0, len(hs), 2)]
        return hs[0]

    subtrees, start = [], 0
    for k in range(size.bit_length() - 1, -1, -1):
        if size >> k & 1:
            subtrees.append(node(k, start >> k))
            start += 1 << k
    r = subtrees[-1]
    for h in reversed(subtrees[:-1]):
        r = node_hash(h, r)
    return r


def b64hashes(lst):
    """Decode a JSON list of base64 hashes."""
    out = []
    for s in lst:
        try:
            h = base64.b64decode(s, validate=True)
        except ValueError:
            raise VerifyError(f"not base64: {s!r}") from None
        out.append(h)
    return out
