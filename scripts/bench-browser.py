#!/usr/bin/env python3
"""Runs www/bench.html in headless Chromium and prints its lines.

The Python twin of bench-browser.mjs, for machines that have Python and a
Chromium but no Node or WebDriver (a lent GPU machine): the page POSTs its
result to this script's own static server (`report=`), so nothing drives the
browser beyond starting it. One browser per query; each query may name the
wasm package to load (`pkg=../target/pkg-fused/vaelab.js`).

    python3 scripts/bench-browser.py --chromium /usr/bin/chromium \
        'latentSize=128&batchSize=16&steps=10&warmup=3' ...

`--firefox /usr/bin/firefox` runs Firefox instead, with the WebGPU prefs of
webdriver.json (here its WebGPU runs on Mesa's lavapipe, which native wgpu can
use too: one Vulkan driver for both sides).

Prints each run's lines; `--json FILE` also writes one JSON result per line.
`--trace DIR` has Chromium trace each run (categories toplevel and
devtools.timeline) into DIR/trace-N.json.gz, for `node scripts/trace-threads.mjs`
elsewhere: the host's thread time per step on the page's thread and on the GPU
process's main thread, over the steps www/bench.html times.
Exits 1 if a run reports an error or no result comes back in time.
"""

import argparse
import fcntl
import gzip
import http.server
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".wasm": "application/wasm",
}
results: "queue.Queue[dict]" = queue.Queue()


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def guess_type(self, path):
        return TYPES.get(os.path.splitext(str(path))[1], "application/octet-stream")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()
        try:
            results.put(json.loads(body))
        except ValueError as e:
            results.put({"error": f"unreadable report: {e}"})

    def log_message(self, *args):
        pass


def chromium_args(binary: str, profile: str, trace: str = "", seconds: float = 0) -> list:
    args = [
        binary,
        "--headless=new",
        "--enable-unsafe-webgpu",
        # Chromium's WebGPU on Linux runs on Vulkan; this asks for it even
        # where the GPU blocklist would not.
        "--enable-features=Vulkan",
        "--ignore-gpu-blocklist",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--enable-logging=stderr",
        f"--user-data-dir={profile}",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    if trace:
        # Chromium writes the trace when tracing ends: when the browser is
        # closed through DevTools (below), the duration being past the timeout.
        args += [
            "--trace-startup=toplevel,devtools.timeline",
            "--trace-startup-format=json",
            f"--trace-startup-file={trace}",
            f"--trace-startup-duration={int(seconds) + 60}",
        ]
    # Extra switches for a machine's GPU (space-separated).
    return args + os.environ.get("CHROMIUM_FLAGS", "").split()


class DevToolsPipe:
    """Chromium's --remote-debugging-pipe: DevTools messages on the child's
    file descriptors 3 (in) and 4 (out), NUL-terminated JSON; here only to
    close the browser as a user would, which lets it write its trace."""

    def __init__(self):
        to_child, self._send = os.pipe()
        self._recv, from_child = os.pipe()
        # Above 4, so that putting them at 3 and 4 in the child overwrites nothing.
        self._child = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_child, from_child)]
        for fd in (to_child, from_child):
            os.close(fd)

    def popen_args(self) -> dict:
        child = self._child

        def place():
            os.dup2(child[0], 3)
            os.dup2(child[1], 4)

        return {"preexec_fn": place, "pass_fds": (3, 4)}

    def close_browser(self):
        for fd in self._child:
            os.close(fd)
        try:
            os.write(self._send, json.dumps({"id": 1, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass  # already gone
        os.close(self._send)
        os.close(self._recv)


def firefox_args(binary: str, profile: str) -> list:
    prefs = json.load(open(os.path.join(ROOT, "webdriver.json")))["moz:firefoxOptions"]["prefs"]
    with open(os.path.join(profile, "user.js"), "w") as f:
        for k, v in prefs.items():
            f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
    return [binary, "--headless", "--no-remote", "--profile", profile]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    ap.add_argument("--firefox", help="run this Firefox instead of Chromium")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per query")
    ap.add_argument("--json", help="append one JSON result per query here")
    ap.add_argument("--trace", help="Chromium traces each query into this folder")
    ap.add_argument("queries", nargs="+")
    opts = ap.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    failed = False
    if opts.trace:
        os.makedirs(opts.trace, exist_ok=True)
    for n, query in enumerate(opts.queries):
        url = f"http://127.0.0.1:{port}/www/bench.html?{query}&report=/report"
        trace = os.path.join(opts.trace, f"trace-{n}.json") if opts.trace and not opts.firefox else ""
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
            log = open(os.path.join(profile, "chromium.log"), "w+")
            pipe = DevToolsPipe() if trace else None
            proc = subprocess.Popen(
                (
                    firefox_args(opts.firefox, profile)
                    if opts.firefox
                    else chromium_args(opts.chromium, profile, trace, opts.timeout)
                )
                + (["--remote-debugging-pipe"] if pipe else [])
                + [url],
                stdout=log,
                stderr=log,
                start_new_session=True,
                **(pipe.popen_args() if pipe else {}),
            )
            try:
                result = results.get(timeout=opts.timeout)
            except queue.Empty:
                result = {"error": f"no result within {opts.timeout:.0f} s"}
            if pipe:
                # Closed by DevTools, the browser writes its trace first (a signal
                # ends it without).
                pipe.close_browser()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    pass
            # The browser's GPU and content processes too: they still write the profile.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if trace and os.path.exists(trace):
                with open(trace, "rb") as f, gzip.open(trace + ".gz", "wb") as z:
                    shutil.copyfileobj(f, z)
                os.remove(trace)
                result["trace"] = trace + ".gz"
            elif trace:
                print(f"warning: Chromium wrote no trace for {query}", file=sys.stderr)
            if result.get("error"):
                log.seek(0)
                result["chromium"] = log.read()[-4000:]
        print(f"== {query}", flush=True)
        for line in result.get("log", []):
            print(line, flush=True)
        if result.get("error"):
            failed = True
            print(f"error: {result['error']}", file=sys.stderr)
            if result.get("chromium"):
                print(result["chromium"], file=sys.stderr)
        if opts.json:
            with open(opts.json, "a") as f:
                f.write(json.dumps({"query": query, **result}) + "\n")
    server.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
