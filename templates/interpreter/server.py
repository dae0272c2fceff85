"""runtools code interpreter: the server inside a `code` sandbox.

The runtools daemon reaches it on 127.0.0.1:49999 through the sandbox's
agent (never from the network) and speaks the CodeEvent wire of
api/openapi.yaml: it writes those events as they come, one JSON object a
line, and the daemon checks and forwards them.

Each context is one kernel process that lives as long as the sandbox: an
IPython shell for python (pykernel.py: the core of a Jupyter kernel,
without ZeroMQ between it and its caller), a persistent Node.js vm context
for javascript (jsrepl.js). A cell's timeout interrupts the cell, not the kernel; a kernel
that died is started again, with a notice that its state is lost.
"""

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = 49999
HERE = os.path.dirname(os.path.abspath(__file__))
GRACE = 10.0  # seconds an interrupted cell has to end before a restart
RESTARTED = "the kernel had died and was started again: its state (variables, imports) is lost"
READY_WAIT = 120.0  # seconds a new kernel has to say it is ready


class Kernel:
    """A kernel process that takes one request a line on its stdin and
    answers with event lines on its stdout, the last one "end"."""

    def __init__(self, argv, cwd):
        self.argv, self.cwd = argv, cwd
        self.start()

    def start(self):
        # Buffered: an unbuffered pipe reads a line a byte at a time.
        self.p = subprocess.Popen(self.argv, cwd=self.cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lines = queue.Queue()
        threading.Thread(target=self.pump, args=(self.p, self.lines), daemon=True).start()
        self.next_event(READY_WAIT)  # its first line says it is ready

    @staticmethod
    def pump(p, lines):
        for line in p.stdout:
            lines.put(line)
        lines.put(None)

    def next_event(self, wait):
        """The kernel's next event, or None if it ended or said nothing for wait."""
        try:
            line = self.lines.get(timeout=wait)
        except queue.Empty:
            return None
        return None if line is None else json.loads(line)

    def alive(self):
        return self.p.poll() is None

    def restart(self):
        self.shutdown()
        self.start()

    def shutdown(self):
        if self.alive():
            self.p.kill()
        self.p.wait()

    def run(self, code, env, timeout, emit):
        """Runs a cell, emitting its events; returns (execution_count, timed_out)."""
        req = {"code": code, "env": env or {}, "timeout_ms": int(timeout * 1000)}
        self.p.stdin.write((json.dumps(req) + "\n").encode())
        self.p.stdin.flush()
        deadline, timed_out = time.monotonic() + timeout, False
        while True:
            ev = self.next_event(max(0.01, deadline - time.monotonic()))
            if ev is None and self.alive() and not timed_out:
                timed_out = True  # interrupt the cell, and give it GRACE to end
                self.p.send_signal(signal.SIGINT)
                deadline = time.monotonic() + GRACE
                continue
            if ev is None:
                died = not self.alive()
                self.restart()
                if died:
                    emit({"type": "error", "error": {"name": "KernelDied", "value": "the kernel died while the cell ran",
                                                     "traceback": ""}})
                    emit({"type": "notice", "text": RESTARTED})
                else:
                    emit({"type": "notice", "text": "the cell did not stop when interrupted: " + RESTARTED})
                return 0, timed_out
            if ev["type"] == "end":
                return ev.get("execution_count", 0), timed_out or ev.get("timed_out", False)
            emit(ev)


def python_kernel(cwd):
    return Kernel([sys.executable, os.path.join(HERE, "pykernel.py")], cwd)


def node_kernel(cwd):
    return Kernel(["node", os.path.join(HERE, "jsrepl.js")], cwd)


KERNELS = {"python": python_kernel, "javascript": node_kernel}


class Context:
    def __init__(self, cid, language, cwd):
        self.id, self.language, self.cwd = cid, language, cwd
        self.lock = threading.Lock()
        self.kernel = KERNELS[language](cwd)

    def describe(self):
        return {"id": self.id, "language": self.language, "cwd": self.cwd}


class Contexts:
    def __init__(self):
        self.lock = threading.Lock()
        self.all = {}

    def default(self, language):
        return self.get(language, language)

    def get(self, cid, language=None):
        with self.lock:
            c = self.all.get(cid)
            if c is None and language is not None and cid == language:
                c = self.all[cid] = Context(cid, language, "/root")
            return c

    def create(self, language, cwd):
        c = Context("ctx-" + uuid.uuid4().hex[:12], language, cwd)
        with self.lock:
            self.all[c.id] = c
        return c

    def remove(self, cid):
        with self.lock:
            c = self.all.pop(cid, None)
        if c:
            c.kernel.shutdown()
        return c


CONTEXTS = Contexts()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"ok": True})
        if self.path == "/contexts":
            with CONTEXTS.lock:
                return self.reply(200, {"contexts": [c.describe() for c in CONTEXTS.all.values()]})
        self.reply(404, {"message": "no such route"})

    def do_DELETE(self):
        m = re.fullmatch(r"/contexts/([\w-]+)", self.path)
        if m and CONTEXTS.remove(m.group(1)):
            return self.reply(204)
        self.reply(404, {"message": "no such context"})

    def do_POST(self):
        try:
            req = self.body()
            if self.path == "/execute":
                return self.execute(req)
            if self.path == "/contexts":
                lang = req.get("language") or "python"
                if lang not in KERNELS:
                    return self.reply(400, {"message": "language must be python or javascript, got %r" % lang})
                return self.reply(201, CONTEXTS.create(lang, req.get("cwd") or "/root").describe())
            m = re.fullmatch(r"/contexts/([\w-]+)/restart", self.path)
            if m:
                c = CONTEXTS.get(m.group(1))
                if not c:
                    return self.reply(404, {"message": "no such context"})
                with c.lock:
                    c.kernel.restart()
                return self.reply(200, c.describe())
            self.reply(404, {"message": "no such route"})
        except Exception as e:  # a bad request, or a kernel that will not start
            self.reply(500, {"message": "%s: %s" % (type(e).__name__, e)})

    def execute(self, req):
        lang = req.get("language") or "python"
        cid = req.get("context") or lang
        if lang not in KERNELS:
            return self.reply(400, {"message": "language must be python or javascript, got %r" % lang})
        c = CONTEXTS.get(cid, lang if cid == lang else None)
        if c is None:
            return self.reply(404, {"message": "no such context: %s" % cid})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()

        def emit(ev):
            self.wfile.write((json.dumps(ev) + "\n").encode())
            self.wfile.flush()

        with c.lock:
            if not c.kernel.alive():
                c.kernel.restart()
                emit({"type": "notice", "text": RESTARTED})
            timeout = (req.get("timeout_ms") or 300000) / 1000.0
            count, timed_out = c.kernel.run(req.get("code", ""), req.get("env"), timeout, emit)
        emit({"type": "end", "execution_count": count, "timed_out": timed_out})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    server.daemon_threads = True
    threading.Thread(target=CONTEXTS.default, args=("python",), daemon=True).start()  # warm
    print("runtools code interpreter on 127.0.0.1:%d" % PORT, file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
