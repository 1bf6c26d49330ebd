"""`symparams repl [FILE]`: build or load a model line by line and watch its formulas change."""
import shlex
import sys

from ..errors import SymparamsError


def add_arguments(p):
    p.add_argument("file", nargs="?", help="a .sp model file to start from")
    p.add_argument("--model", help="which model of the file (default: the first)")
    p.add_argument("--convention", choices=["keras", "torch"], help="count as Keras or PyTorch does")
    p.add_argument("--echo", action="store_true",
                   help="with piped input, print each line after a prompt (a recorded session)")


def run(args):
    from ..repl.piped import run_piped, show
    from ..repl.session import Session
    session = Session(args.convention)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if args.file:
        replies = session.feed(f":load {shlex.quote(args.file)}" + (f" {shlex.quote(args.model)}" if args.model else ""))
        if args.convention and not session.failures:
            replies += session.feed(f":convention {args.convention}")
        show(replies, sys.stdout, sys.stderr)
        if session.failures:
            return 2
    if not interactive:
        return run_piped(session, sys.stdin, echo=args.echo)
    try:
        from ..repl.terminal import history_file, run_terminal
    except ImportError:
        raise SymparamsError("the interactive REPL needs prompt_toolkit",
                             hint="pip install 'symparams[repl]', or pipe lines in: symparams repl < script.txt")
    print("symparams REPL: type model lines or :help; :quit or Ctrl-D to leave")
    return run_terminal(session, history=history_file())
