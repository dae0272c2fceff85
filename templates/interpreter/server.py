"""runtools code interpreter: the server inside a `code` sandbox.

The runtools daemon reaches it on 127.0.0.1:49999 through the sandbox's
agent (never from the network) and speaks the CodeEvent wire of
api/openapi.yaml: it writes those events as they come, one JSON object a
line, and the daemon checks and forwards them.

Each context is one kernel that lives as long as the sandbox: a Jupyter
kernel (ipykernel) for python, a persistent Node.js vm context for
javascript. A cell's timeout interrupts the cell, not the kernel; a kernel
that died is started again, with a notice that its state is lost.
"""

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = 49999
HERE = os.path.dirname(os.path.abspath(__file__))
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MIME = {
    "text/plain": "text", "text/html": "html", "text/markdown": "markdown",
    "image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpeg",
    "text/latex": "latex", "application/json": "json",
    "application/javascript": "javascript",
}
GRACE = 10.0  # seconds an interrupted cell has to end before a restart
RESTARTED = "the kernel had died and was started again: its state (variables, imports) is lost"


def result(data, is_main):
    """A CodeResult from a Jupyter MIME bundle."""
    out = {"is_main": is_main} if is_main else {}
    for mime, field in MIME.items():
        if mime in data:
            v = data[mime]
            out[field] = "".join(v) if isinstance(v, list) and field != "json" else v
    if isinstance(out.get("svg"), bytes):
        out["svg"] = out["svg"].decode()
    return out


class PythonKernel:
    """A Jupyter kernel and its client."""

    language = "python"

    def __init__(self, cwd):
        self.cwd = cwd
        self.start()

    def start(self):
        from jupyter_client.manager import KernelManager

        env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline")
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=self.cwd, env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        self.silent("from matplotlib_inline.backend_inline import set_matplotlib_formats as _rt_f\n"
                    "_rt_f('png', 'svg'); del _rt_f")

    def alive(self):
        return self.km.is_alive()

    def restart(self):
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
        except Exception:
            pass
        self.start()

    def shutdown(self):
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
        except Exception:
            pass

    def silent(self, code):
        msg_id = self.kc.execute(code, silent=True, store_history=False)
        self.kc.get_shell_msg(timeout=60)
        return msg_id

    def run(self, code, timeout, emit):
        """Runs a cell, emitting events; returns (execution_count, timed_out)."""
        msg_id = self.kc.execute(code, store_history=True, allow_stdin=False)
        deadline = time.monotonic() + timeout if timeout else None
        timed_out, count = False, 0
        while True:
            wait = 1.0
            if deadline is not None:
                wait = max(0.05, min(wait, deadline - time.monotonic()))
            try:
                msg = self.kc.get_iopub_msg(timeout=wait)
            except queue.Empty:
                if not self.alive():
                    emit({"type": "error", "error": {"name": "KernelDied", "value": "the kernel died while the cell ran",
                                                     "traceback": ""}})
                    self.restart()
                    emit({"type": "notice", "text": RESTARTED})
                    return count, timed_out
                if deadline is not None and time.monotonic() >= deadline:
                    if timed_out:  # interrupted and still running: start again
                        self.restart()
                        emit({"type": "notice", "text": "the cell did not stop when interrupted: " + RESTARTED})
                        return count, True
                    timed_out = True
                    self.km.interrupt_kernel()
                    deadline = time.monotonic() + GRACE
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            t, c = msg["msg_type"], msg["content"]
            if t == "stream":
                emit({"type": "stderr" if c["name"] == "stderr" else "stdout", "text": c["text"]})
            elif t == "execute_result":
                count = c.get("execution_count") or count
                emit({"type": "result", "result": result(c["data"], True)})
            elif t == "display_data":
                emit({"type": "result", "result": result(c["data"], False)})
            elif t == "error":
                tb = ANSI.sub("", "\n".join(c.get("traceback", [])))
                emit({"type": "error", "error": {"name": c["ename"], "value": c["evalue"], "traceback": tb}})
            elif t == "execute_input":
                count = c.get("execution_count") or count
            elif t == "status" and c["execution_state"] == "idle":
                return count, timed_out

    def set_env(self, env):
        """Sets env for one cell and returns the code that puts it back."""
        self.silent("import os as _rt_os\n_rt_saved = {k: _rt_os.environ.get(k) for k in %r}\n"
                    "_rt_os.environ.update(%r)" % (list(env), env))
        return ("[_rt_os.environ.pop(k, None) if v is None else _rt_os.environ.__setitem__(k, v) "
                "for k, v in _rt_saved.items()]; del _rt_saved")


class NodeKernel:
    """A Node.js process holding one vm context (jsrepl.js)."""

    language = "javascript"

    def __init__(self, cwd):
        self.cwd = cwd
        self.count = 0
        self.start()

    def start(self):
        self.p = subprocess.Popen(["node", os.path.join(HERE, "jsrepl.js")], cwd=self.cwd, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, bufsize=0)
        self.lines = queue.Queue()
        threading.Thread(target=self.pump, args=(self.p, self.lines), daemon=True).start()

    @staticmethod
    def pump(p, lines):
        for line in p.stdout:
            lines.put(line)
        lines.put(None)

    def alive(self):
        return self.p.poll() is None

    def restart(self):
        self.shutdown()
        self.start()

    def shutdown(self):
        if self.alive():
            self.p.kill()
        self.p.wait()

    def run(self, code, timeout, emit):
        self.count += 1
        self.p.stdin.write((json.dumps({"code": code, "timeout_ms": int(timeout * 1000)}) + "\n").encode())
        while True:
            try:
                line = self.lines.get(timeout=(timeout or 3600) + GRACE)
            except queue.Empty:
                line = None
            if line is None:
                self.restart()
                emit({"type": "error", "error": {"name": "KernelDied", "value": "the Node.js context ended while the cell ran", "traceback": ""}})
                emit({"type": "notice", "text": RESTARTED})
                return self.count, False
            ev = json.loads(line)
            if ev["type"] == "end":
                return self.count, ev.get("timed_out", False)
            emit(ev)

    def set_env(self, env):
        self.run("Object.assign(process.env, %s)" % json.dumps(env), 60, lambda ev: None)
        return None


KERNELS = {"python": PythonKernel, "javascript": NodeKernel}


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
            undo = c.kernel.set_env(req["env"]) if req.get("env") else None
            count, timed_out = c.kernel.run(req.get("code", ""), (req.get("timeout_ms") or 300000) / 1000.0, emit)
            if undo:
                c.kernel.silent(undo)
        emit({"type": "end", "execution_count": count, "timed_out": timed_out})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    server.daemon_threads = True
    threading.Thread(target=CONTEXTS.default, args=("python",), daemon=True).start()  # warm
    print("runtools code interpreter on 127.0.0.1:%d" % PORT, file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
