#!/usr/bin/env python3
"""kho serve start-up time and idle memory, with nginx measured the same way in the same run.

    python3 bench/serve_startup.py [--runs 10]

Start-up time: from spawning the server to the first successful HTTP response
(GET /healthz for kho, a 5 KB static file for nginx), polled every millisecond.
Idle RSS: the resident memory of all the server's processes after 20 requests.
kho runs on an initialised data directory with the demo data (bench/out/sdata).
"""
import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KHO = os.path.join(ROOT, "build", "release", "kho")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
    return data.startswith(b"HTTP/1.1 200")


def wait_ready(port, path, deadline):
    while time.monotonic() < deadline:
        try:
            if get(port, path):
                return True
        except OSError:
            pass
        time.sleep(0.001)
    return False


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def measure(start_cmd, port, path, runs):
    times, rss = [], []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(start_cmd(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        ok = wait_ready(port, path, t0 + 10)
        t1 = time.monotonic()
        if not ok:
            os.killpg(p.pid, 9)
            raise SystemExit(f"server did not start: {start_cmd(port)}")
        for _ in range(20):
            get(port, path)
        time.sleep(0.2)
        rss.append(rss_kb([p.pid] + children(p.pid)))
        times.append(t1 - t0)
        os.killpg(p.pid, 15)
        p.wait()
        time.sleep(0.1)
    return statistics.median(times), statistics.median(rss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    out = os.path.join(ROOT, "bench", "out")
    data = os.path.join(out, "sdata")
    subprocess.run(["rm", "-rf", data])
    subprocess.run([KHO, "init", "--demo", "--data", data], check=True, capture_output=True)
    www = tempfile.mkdtemp(prefix="kho-www-")
    os.chmod(www, 0o755)  # nginx workers run as an unprivileged user
    with open(os.path.join(www, "f.json"), "w") as f:
        f.write("[" + ",".join(['{"a":1}'] * 640)[:5000] + "]")
    os.chmod(os.path.join(www, "f.json"), 0o644)
    conf = os.path.join(www, "nginx.conf")

    def nginx_cmd(port):
        with open(conf, "w") as f:
            f.write(f"""worker_processes {os.cpu_count()}; daemon off; pid {www}/nginx.pid; error_log /dev/null;
events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen 127.0.0.1:{port}; root {www}; }} }}
""")
        return ["nginx", "-c", conf]

    port = free_port()
    kt, kr = measure(lambda p: [KHO, "serve", "--data", data, "--listen", f"127.0.0.1:{p}"], port, "/healthz", a.runs)
    port = free_port()
    nt, nr = measure(nginx_cmd, port, "/f.json", a.runs)
    print(f"kho serve : start-up {kt * 1000:.1f} ms, idle RSS {kr / 1024:.1f} MB (median of {a.runs})")
    print(f"nginx     : start-up {nt * 1000:.1f} ms, idle RSS {nr / 1024:.1f} MB (master + workers)")
    print(f"ratio kho/nginx: start-up {kt / nt:.2f}, idle RSS {kr / nr:.2f}")


if __name__ == "__main__":
    main()
