"""HTTPS: kho serve --tls-cert/--tls-key serves TLS 1.2+ only, with Secure cookies and HSTS;
a bad key or a missing half of the pair is refused at start-up with a clear message."""
import http.client
import json
import os
import socket
import ssl
import subprocess

_state = {}


def make_cert(env):
    if "cert" not in _state:
        key, cert = os.path.join(env.tmp, "key.pem"), os.path.join(env.tmp, "cert.pem")
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        _state["cert"] = (cert, key)
    return _state["cert"]


def tls_server(env):
    if "srv" not in _state:
        env.init()
        cert, key = make_cert(env)
        _state["srv"] = env.server(args=("--tls-cert", cert, "--tls-key", key))
    return _state["srv"]


def https(srv, method, path, body=None, headers=None, ctx=None):
    cert, _ = _state["cert"]
    if ctx is None:
        ctx = ssl.create_default_context(cafile=cert)
    conn = http.client.HTTPSConnection(srv.host, srv.port, context=ctx, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_https_serves_with_hsts_over_tls12_and_13(env):
    srv = tls_server(env)
    assert srv.url.startswith("https://"), srv.url
    status, h, body = https(srv, "GET", "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok", (status, body)
    assert h.get("strict-transport-security", "").startswith("max-age="), h
    assert h.get("x-content-type-options") == "nosniff" and "frame-ancestors 'none'" in h.get(
        "content-security-policy", ""), h
    # TLS 1.3 by default, TLS 1.2 when the client can do no better
    cert, _ = _state["cert"]
    for top, want in ((None, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")):
        ctx = ssl.create_default_context(cafile=cert)
        if top:
            ctx.maximum_version = top
        with socket.create_connection((srv.host, srv.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                assert s.version() == want, (s.version(), want)


def test_plain_http_to_the_tls_port_gets_no_answer(env):
    srv = tls_server(env)
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(4096)
    except (ConnectionError, socket.timeout):
        data = b""
    finally:
        s.close()
    assert b"200 OK" not in data and b'"status"' not in data, data[:200]
    status, _, _ = https(srv, "GET", "/healthz")  # and the server is still fine
    assert status == 200


def test_session_cookie_is_secure_under_tls(env):
    srv = tls_server(env)
    p = env.kho("user", "add", "tls-user", "--role", "analyst", input=env.PASSWORD + "\n")
    assert p.returncode == 0, p.stderr
    status, h, body = https(srv, "POST", "/api/v1/auth/login",
                            json.dumps({"name": "tls-user", "password": env.PASSWORD}).encode(),
                            {"Content-Type": "application/json"})
    assert status == 200, body
    cookie = h.get("set-cookie", "")
    for attr in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
        assert attr in cookie, cookie


def test_bad_tls_settings_are_refused_at_start(env):
    env.init()
    cert, key = make_cert(env)
    cases = [(["--tls-cert", cert], "tls_key"),
             (["--tls-cert", cert, "--tls-key", os.path.join(env.tmp, "nope.pem")], "nope.pem"),
             (["--tls-cert", key, "--tls-key", key], "TLS")]
    for args, words in cases:
        p = env.kho("serve", "--listen", "127.0.0.1:0", *args, timeout=60)
        assert p.returncode != 0 and words in p.stderr, (args, p.returncode, p.stderr)
