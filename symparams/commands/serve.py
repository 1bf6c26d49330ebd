"""`symparams serve`: a local page for a model — sliders for its symbols, the live table, solve and plot."""
from __future__ import annotations


def add_arguments(p):
    p.add_argument("file", help="a .sp model file, a Hugging Face config.json (or its folder), a Keras .keras file "
                                "or JSON, or a folder of models")
    p.add_argument("--port", type=int, default=0, help="the port to listen on (default: a free one, printed)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--no-open", action="store_true", help="do not open the page in a browser")


def run(args):
    import sys
    from ..errors import ArgumentError
    from ..serve.server import browser_at_hand, make_server, url_of
    if not 0 <= args.port <= 65535:
        raise ArgumentError(f"--port must be between 0 and 65535, found {args.port}")
    try:
        server = make_server(args.file, args.host, args.port)
    except OSError as e:
        raise ArgumentError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    url = url_of(server)
    names = ", ".join(server.library.label(i) for i in range(len(server.library.sources)))
    print(f"serving {names} at {url}  (Ctrl-C stops)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: other machines can reach the page", file=sys.stderr, flush=True)
    if not args.no_open and browser_at_hand():
        import webbrowser
        try:
            webbrowser.open(url)
        except Exception:
            pass
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
