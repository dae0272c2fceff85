"""runtools code interpreter: one persistent Python kernel.

server.py runs this and writes one request a line on its stdin:
{"code": "...", "env": {...}}. It answers with CodeEvent lines (stdout,
stderr, result, error) on the stdout it was started with, and last
{"type": "end", "execution_count": N}. Cells run in an IPython shell, as
in a Jupyter kernel, but in process: no ZeroMQ between the cell and its
caller. Output of the process's own file descriptors (subprocesses, C
code) is streamed too. SIGINT interrupts the running cell.
"""

import io
import json
import os
import signal
import sys
import threading
import time

LOCK = threading.Lock()
OUT = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="replace")
MIME = {
    "text/plain": "text", "text/html": "html", "text/markdown": "markdown",
    "image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpeg",
    "text/latex": "latex", "application/json": "json",
    "application/javascript": "javascript",
}


def emit(ev):
    if ev["type"] in ("result", "error") and isinstance(sys.stdout, Stream):
        sys.stdout.flush()
        sys.stderr.flush()
    with LOCK:
        OUT.write(json.dumps(ev) + "\n")
        OUT.flush()


def result(data, is_main):
    """A CodeResult from a MIME bundle."""
    out = {"is_main": True} if is_main else {}
    for mime, field in MIME.items():
        if mime in data:
            v = data[mime]
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            out[field] = v
    return out


class Binary:
    """sys.stdout.buffer: bytes become text, undecodable ones replaced."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, b):
        self.stream.flush()  # what was written before comes first
        emit({"type": self.stream.name, "text": bytes(b).decode("utf-8", "replace")})
        return len(b)

    def flush(self):
        pass


class Stream(io.TextIOBase):
    """sys.stdout and sys.stderr: whole lines become events as they are
    written; a partial line waits for its end, for FLUSH_EVERY, or for
    the end of the cell."""

    def __init__(self, name):
        self.name = name
        self.buffer = Binary(self)
        self.lock = threading.Lock()
        self.pending = []

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        if not s:
            return 0
        with self.lock:
            self.pending.append(s)
            if "\n" not in s:
                return len(s)
            text = "".join(self.pending)
            cut = text.rfind("\n") + 1
            self.pending = [text[cut:]] if cut < len(text) else []
        emit({"type": self.name, "text": text[:cut]})
        return len(s)

    def flush(self):
        with self.lock:
            text, self.pending = "".join(self.pending), []
        if text:
            emit({"type": self.name, "text": text})

    def isatty(self):
        return False


FLUSH_EVERY = 0.1  # seconds a partial line (a progress bar) may wait


def flusher():
    while True:
        time.sleep(FLUSH_EVERY)
        sys.stdout.flush()
        sys.stderr.flush()


def capture_fd(fd, name):
    """Streams what is written to file descriptor fd (C code, subprocesses)."""
    r, w = os.pipe()
    os.dup2(w, fd)
    os.close(w)

    def pump():
        with os.fdopen(r, "rb", buffering=0) as f:
            while True:
                b = f.read(65536)
                if not b:
                    return
                emit({"type": name, "text": b.decode("utf-8", "replace")})

    threading.Thread(target=pump, daemon=True).start()


def make_shell():
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Hook(DisplayHook):
        """The value of a cell's last expression: the main result."""

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            emit({"type": "result", "result": result(format_dict, True)})

    class Publisher(DisplayPublisher):
        """display(): a result that is not the main one."""

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            emit({"type": "result", "result": result(data, False)})

        def clear_output(self, wait=False):
            pass

    class Shell(InteractiveShell):
        def _showtraceback(self, etype, evalue, stb):
            emit({"type": "error", "error": {"name": etype.__name__ if etype else "Error", "value": str(evalue),
                                             "traceback": "\n".join(stb)}})

    cfg = Config()
    cfg.InlineBackend.figure_formats = {"png", "svg"}
    cfg.InteractiveShell.colors = "NoColor"
    return Shell.instance(config=cfg, displayhook_class=Hook, display_pub_class=Publisher)


def run(shell, req):
    env = req.get("env") or {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # SIGINT interrupts the cell
    try:
        shell.run_cell(req.get("code", ""), store_history=True)
    except KeyboardInterrupt:  # between the cell's lines and its end
        emit({"type": "error", "error": {"name": "KeyboardInterrupt", "value": "", "traceback": ""}})
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # and nothing else
        sys.stdout.flush()
        sys.stderr.flush()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    emit({"type": "end", "execution_count": shell.execution_count - 1})


def main():
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a cell that reads stdin gets its end, not the protocol
    capture_fd(1, "stdout")
    capture_fd(2, "stderr")
    sys.stdout, sys.stderr = Stream("stdout"), Stream("stderr")
    threading.Thread(target=flusher, daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    shell = make_shell()
    emit({"type": "ready"})
    for line in requests:
        run(shell, json.loads(line))


if __name__ == "__main__":
    main()
