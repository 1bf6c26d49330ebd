"""The REPL without a terminal: `symparams repl < script.txt` reads line by line, answers without
prompts or colours, and exits non-zero if any line failed, so sessions can be scripted and tested."""
from __future__ import annotations

import sys

from .session import Reply, Session

PROMPT, CONTINUATION = ">>> ", "... "


def run_piped(session: Session, lines, out=None, err=None, echo: bool = False) -> int:
    """Feed `lines` to the session; answers go to `out`, errors to `err`. With `echo`, each input
    line is printed after the prompt, so the output reads as a recorded session.
    Exit status 2 if any line failed, as the other commands exit on a user's mistake."""
    out, err = out or sys.stdout, err or sys.stderr
    for line in lines:
        if echo:
            out.write((CONTINUATION if session.continuing else PROMPT) + line.rstrip("\r\n") + "\n")
            out.flush()
        if show(session.feed(line), out, err):
            break
    else:
        if session.continuing:
            show([session.finish()], out, err)
    return 2 if session.failures else 0


def show(replies: list[Reply], out, err) -> bool:
    """Print replies; True when one of them asks to quit."""
    for reply in replies:
        if reply.text:
            stream = out if reply.ok else err
            stream.write(reply.text + "\n")
            stream.flush()
        if reply.quit:
            return True
    return False
