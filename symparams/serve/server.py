"""`symparams serve`: the standard library's ThreadingHTTPServer serving one page and its JSON.

Routes (GET unless said):

    /                      the page (static/index.html)
    /static/NAME           the page's own files, by a fixed list of names: nothing else is served
    /api/sources           the model files served (one, or a folder's), each with a version token
    /api/model?source=I&model=NAME&convention=C&options=JSON
                           the document of one model (document.py), or the file's error
    /api/version?source=I  the file's version token: the page polls it and reloads on a change
    POST /api/solve        {source, model, convention, options, of, symbol, budget, direction,
                            multiple_of, given}: symparams solve's answer and its printed text

The model files are read with the language's parser (or the config.json and Keras JSON readers,
as data): nothing from a file or a request is run as code, and a Python file is refused.
"""
from __future__ import annotations

import json
import os
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..errors import ArgumentError, SymparamsError
from . import document

STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "app.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}
MAX_BODY = 64 * 1024


def static_file(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


# ---------------------------------------------------------------- what is served

def find_sources(path: str) -> list[Path]:
    """The model files a path names: a .sp file, a Keras file or JSON, a config.json or a folder
    holding one, or a folder of those (one level down: its .sp files and its config.json folders)."""
    from ..importers import huggingface
    p = Path(path)
    if p.suffix == ".py" or re.search(r"\.py:\w+$", p.name):
        raise ArgumentError(f"{path} is Python, which serve does not run",
                            hint="write it as a program first with `symparams import FILE.py:NAME > model.sp`, "
                                 "then serve model.sp")
    if not p.exists():
        raise ArgumentError(f"no such file or folder: {path}")
    if p.is_file() or huggingface.is_config_path(p):
        return [p]
    found = []
    for child in sorted(p.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_file() and child.suffix in (".sp", ".keras"):
            found.append(child)
        elif child.is_dir() and (child / "config.json").is_file():
            found.append(child)
    if not found:
        raise ArgumentError(f"{path} holds no model: no .sp file, no folder with a config.json")
    return found


def version_of(path: Path) -> str:
    """A token that changes when the file is saved (for a config folder: its config.json)."""
    target = path / "config.json" if path.is_dir() else path
    try:
        st = target.stat()
    except OSError:
        return "missing"
    return f"{st.st_mtime_ns}-{st.st_size}"


def error_json(e: Exception) -> dict:
    """An error as the CLI prints it (`text`), and its parts for the page to point with."""
    if isinstance(e, SymparamsError):
        out = {"kind": e.kind, "message": e.message, "hint": e.hint, "file": e.filename, "text": str(e),
               "line": e.pos.line if e.pos else None, "column": e.pos.column if e.pos else None}
        if e.pos and e.source is not None:
            lines = e.source.splitlines()
            if 0 < e.pos.line <= len(lines):
                out["source_line"] = lines[e.pos.line - 1]
        return out
    if isinstance(e, RecursionError):
        return {"kind": "error", "message": "the model nests too deeply to derive", "text":
                "symparams: error: the model nests too deeply to derive"}
    return {"kind": "internal error", "message": f"{type(e).__name__}: {e}",
            "text": f"symparams: internal error: {type(e).__name__}: {e}"}


class Library:
    """The served files, read again when saved; each model derived once per version and options."""

    def __init__(self, path: str):
        self.root = path
        self.sources = find_sources(path)
        self.lock = threading.RLock()
        self._programs: dict = {}     # index -> (version, Program or error)
        self._models: dict = {}       # (index, version, model, convention) -> (Model, base document)
        self._docs: dict = {}         # ... + options -> finished document

    def label(self, i: int) -> str:
        p = self.sources[i]
        return p.name if len(self.sources) > 1 or p.is_dir() else str(p)

    def listing(self) -> list:
        return [{"index": i, "label": self.label(i), "version": version_of(p)} for i, p in enumerate(self.sources)]

    def source(self, text) -> int:
        try:
            i = int(text or 0)
        except ValueError:
            raise ArgumentError(f"no source '{text}'") from None
        if not 0 <= i < len(self.sources):
            raise ArgumentError(f"no source {i}")
        return i

    def program(self, i: int):
        from ..interpreter import read
        version = version_of(self.sources[i])
        with self.lock:
            cached = self._programs.get(i)
            if cached is None or cached[0] != version:
                try:
                    cached = (version, read(str(self.sources[i])), None)
                except Exception as e:        # shown on the page, as the CLI shows it
                    cached = (version, None, e)
                self._programs[i] = cached
            if cached[2] is not None:
                raise cached[2]
            return version, cached[1]

    def model(self, i: int, name: str | None, convention: str | None):
        version, program = self.program(i)
        if convention not in (None, "", "keras", "torch"):
            raise ArgumentError(f"unknown convention '{convention}'")
        key = (i, version, name or None, convention or None)
        with self.lock:
            if key not in self._models:
                model = program.model(name or None, convention or None)
                self._models = {k: v for k, v in self._models.items() if k[1] == version or k[0] != i}
                self._models[key] = (model, document.base(model, program))
            return key, self._models[key]

    def document(self, i: int, name, convention, options: dict | None) -> dict:
        key, (model, base) = self.model(i, name, convention)
        opts = document.options_from(options)
        okey = key + (json.dumps(options or {}, sort_keys=True),)
        with self.lock:
            if okey not in self._docs:
                shown, offered = document.quantities(model, base["formulas"], opts)
                doc = document.finish(base)
                doc.update(quantities=shown, offered=offered, options=document.option_controls(),
                           source=i, version=key[1])
                if len(self._docs) > 64:
                    self._docs.clear()
                self._docs[okey] = doc
            return self._docs[okey]

    def solve(self, body: dict) -> dict:
        from ..commands.solve import _budget_text
        from ..solve import make_problem, solve_budget
        from ..commands.common import parse_number
        i = self.source(body.get("source"))
        _, (model, _) = self.model(i, body.get("model"), body.get("convention"))
        opts = document.options_from(body.get("options"))
        given = {}
        for k, v in (body.get("given") or {}).items():
            given[str(k)] = parse_number(str(v), f"the value of {k}")
        symbol = str(body.get("symbol") or "")
        if symbol in given:
            given.pop(symbol)
        budget = parse_number(str(body.get("budget", "")), "--budget")
        direction = "min" if body.get("direction") == "min" else "max"
        try:
            multiple = int(body.get("multiple_of") or 1)
        except ValueError:
            raise ArgumentError("--multiple-of must be a whole number") from None
        problem = make_problem(model, [symbol], str(body.get("of") or "params"), None, given, (), None, False, opts)
        r = solve_budget(problem, budget, direction, multiple)
        return {"symbol": symbol, "x": r.x, "value": r.value, "headroom": r.headroom, "budget": r.limit,
                "next": r.next_x, "next_value": r.next_value, "unbounded": r.unbounded,
                "skipped": [{"value": x, "why": why} for x, why in r.skipped], "text": _budget_text(r),
                "function": str(problem.function)}


# ---------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    server_version = "symparams-serve"
    sys_version = ""
    library: Library = None       # set on the subclass made by `make_server`
    allowed_hosts: frozenset = frozenset()
    quiet = True

    def log_message(self, format, *args):   # noqa: A002  (the base class's name)
        if not self.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, kind: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data, status: int = 200) -> None:
        self._send(status, json.dumps(data).encode(), "application/json; charset=utf-8")

    def _refuse(self, status: int, message: str) -> None:
        self._send(status, (message + "\n").encode(), "text/plain; charset=utf-8")

    def _host_ok(self) -> bool:
        """A page of another site cannot reach this server through a DNS name pointing at 127.0.0.1."""
        host = (self.headers.get("Host") or "").strip().lower()
        return not self.allowed_hosts or host in self.allowed_hosts

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if not self._host_ok():
            return self._refuse(HTTPStatus.FORBIDDEN, "forbidden: unexpected Host header")
        url = urlsplit(self.path)
        path, query = url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}
        if path in ("/", "/index.html"):
            return self._send(200, static_file("index.html"), STATIC["index.html"])
        if path.startswith("/static/"):
            name = path[len("/static/"):]
            if name in STATIC:        # a fixed list: no path is ever joined from the request
                return self._send(200, static_file(name), STATIC[name])
            return self._refuse(HTTPStatus.NOT_FOUND, "not found")
        try:
            if path == "/api/sources":
                return self._json({"root": self.library.root, "sources": self.library.listing()})
            if path == "/api/version":
                i = self.library.source(query.get("source"))
                return self._json({"version": version_of(self.library.sources[i])})
            if path == "/api/model":
                i = self.library.source(query.get("source"))
                options = json.loads(query["options"]) if query.get("options") else None
                if options is not None and not isinstance(options, dict):
                    raise ArgumentError("options must be an object")
                return self._json({"document": self.library.document(i, query.get("model"), query.get("convention"),
                                                                     options)})
        except (ValueError, SymparamsError, RecursionError) as e:
            return self._json({"error": error_json(e) if not isinstance(e, json.JSONDecodeError) else
                               {"kind": "error", "message": "options are not JSON", "text": "options are not JSON"}})
        except Exception as e:
            return self._json({"error": error_json(e)})
        return self._refuse(HTTPStatus.NOT_FOUND, "not found")

    def do_POST(self):
        if not self._host_ok():
            return self._refuse(HTTPStatus.FORBIDDEN, "forbidden: unexpected Host header")
        if urlsplit(self.path).path != "/api/solve":
            return self._refuse(HTTPStatus.NOT_FOUND, "not found")
        # JSON only: a form another site posts cannot send it without the browser asking first
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            return self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too large")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ArgumentError("the request must be a JSON object")
            return self._json({"answer": self.library.solve(body)})
        except json.JSONDecodeError:
            return self._json({"error": {"kind": "error", "message": "the request is not JSON",
                                         "text": "the request is not JSON"}})
        except Exception as e:
            return self._json({"error": error_json(e)})

    def do_PUT(self):
        self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")

    do_DELETE = do_PATCH = do_PUT


def make_server(path: str, host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> ThreadingHTTPServer:
    """The server, bound (port 0: a free one), not yet serving."""
    import socket
    library = Library(path)
    kind = ThreadingHTTPServer
    if ":" in host:
        kind = type("ThreadingHTTPServer6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
    server = kind((host, port), None)
    bound = server.server_address[1]
    names = {host, "localhost", "127.0.0.1", "[::1]"} if host in ("127.0.0.1", "localhost", "::1") else set()
    allowed = frozenset(f"{h}:{bound}" for h in names) if names else frozenset()
    server.RequestHandlerClass = type("BoundHandler", (Handler,), {"library": library, "allowed_hosts": allowed,
                                                                     "quiet": quiet})
    server.daemon_threads = True
    server.library = library
    return server


def url_of(server) -> str:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def browser_at_hand() -> bool:
    """A graphical browser to open: not on a headless Linux (a text browser would take the terminal)."""
    import sys
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True
