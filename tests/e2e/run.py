#!/usr/bin/env python3
"""Runs kho's end-to-end tests and prints TAP.

    python3 tests/e2e/run.py --bin build/release/kho [--variant release] [--jobs 3] [--only module] [module ...]

Each test module (tests/e2e/test_*.py) runs in its own process with its own
Env (temporary directory, data directory, servers); modules run in parallel.
A module that dies counts its unreported tests as failed.
"""
import argparse
import concurrent.futures
import importlib.util
import inspect
import os
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tests_of(mod):
    return [(n, f) for n, f in inspect.getmembers(mod, inspect.isfunction)
            if n.startswith("test_") and f.__module__ == mod.__name__]


def run_module(path, binary, variant):
    """Child mode: run one module, print 'ok - name' / 'not ok - name' lines."""
    import harness
    mod = load(path)
    env = harness.Env(binary, variant)
    mname = os.path.basename(path)[:-3]
    try:
        for name, fn in sorted(tests_of(mod), key=lambda t: t[1].__code__.co_firstlineno):
            try:
                fn(env)
                print(f"ok - {mname}::{name}", flush=True)
            except Exception as e:  # noqa: BLE001 - a test failure of any kind
                print(f"not ok - {mname}::{name}", flush=True)
                for line in traceback.format_exception(type(e), e, e.__traceback__)[-6:]:
                    for l in line.rstrip().splitlines():
                        print(f"# {l}", flush=True)
    finally:
        try:
            env.close()
        except AssertionError as e:
            print(f"not ok - {mname}::teardown", flush=True)
            print(f"# {e}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--variant", default="release")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("KHO_E2E_JOBS", "3")))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--only", action="append", default=[], metavar="MODULE",
                    help="run only this module (repeatable; the same as naming it as an argument)")
    ap.add_argument("modules", nargs="*")
    a = ap.parse_args()
    a.modules += a.only
    if a.child:
        run_module(a.child, a.bin, a.variant)
        return
    paths = sorted(os.path.join(HERE, f) for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    if a.modules:
        paths = [p for p in paths if any(m in os.path.basename(p) for m in a.modules)]
    counts = {p: len(tests_of(load(p))) for p in paths}
    print(f"1..{sum(counts.values())}", flush=True)

    def child(path):
        p = subprocess.run([sys.executable, __file__, "--bin", a.bin, "--variant", a.variant, "--child", path],
                           capture_output=True, text=True, timeout=1800)
        return path, p

    n = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        for path, p in ex.map(child, paths):
            reported = 0
            for line in p.stdout.splitlines():
                if line.startswith("ok - ") or line.startswith("not ok - "):
                    n += 1
                    reported += 1
                    ok, rest = line.split(" - ", 1)
                    print(f"{ok} {n} - {rest}", flush=True)
                else:
                    print(line, flush=True)
            for _ in range(counts[path] - reported):
                n += 1
                print(f"not ok {n} - {os.path.basename(path)}: not reported (exit {p.returncode})", flush=True)
            if p.returncode != 0:
                for l in p.stderr.splitlines()[-20:]:
                    print(f"# {l}", flush=True)


if __name__ == "__main__":
    main()
