"""The printed forms of numbers and closed forms that every output shares.

A floor module: it imports nothing of symparams but errors.py, so memory.py, table.py and
formulas.py all print through it without importing one another.

* `readable_size`: Keras 3's spelling of a byte count, '30.66 KB'.
* `two_decimals`: '%.2f' of an exact number, exact however large.
* `megabytes`: a byte count in a memory rule's megabyte (torchsummary's 1024**2, torchinfo's 10**6).
* `canonical`, `printed`: the one printed form of a closed form, used by every output.
* `latex_name`, `latex`, `latex_number`: the same in LaTeX, symbol names kept as written.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

MB = 1024 ** 2
RULES = {"torchsummary": MB, "torchinfo": 10 ** 6}     # each memory rule's megabyte


def readable_size(nbytes) -> str:
    """Keras's spelling of a byte count: '30.66 KB' (powers of 1024, two decimals)."""
    size = sp.Rational(nbytes)   # exact: a count beyond a float's range is still spelled
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{two_decimals(size)} {unit}"
        size /= 1024
    return f"{two_decimals(size)} PB"


def two_decimals(value) -> str:
    """'%.2f' of an exact number: through a float while a float holds it exactly enough, else by
    integer arithmetic (rounding half up), which never overflows."""
    if abs(value) < 10 ** 15:
        return f"{float(value):.2f}"
    cents = int(sp.floor(value * 100 + sp.Rational(1, 2)))
    return f"{cents // 100}.{cents % 100:02d}"


def megabytes(nbytes, rule: str = "torchsummary") -> str:
    """The rule's '%0.2f' of a byte count in its MB (1024**2 bytes for torchsummary, 10**6 for torchinfo)."""
    return two_decimals(sp.Rational(nbytes) / RULES[rule])


# ---------------------------------------------------------------- closed forms

# Past CANONICAL_OPS operations a closed form is printed as sympy keeps it: pulling factors out
# of a huge expression costs more than it helps a reader. Counting operations and expanding cost
# more than linear time too, so past EXPAND_NODES nodes (counted cheaply, stopping at the cap) an
# expression is not expanded, and past SIMPLIFY_NODES not counted.
CANONICAL_OPS = 60
EXPAND_NODES = 2000
SIMPLIFY_NODES = 200


def _at_most(expr, nodes: int) -> bool:
    for n, _ in enumerate(sp.preorder_traversal(expr)):
        if n >= nodes:
            return False
    return True


@lru_cache(maxsize=4096)
def canonical(expr) -> sp.Expr:
    """The one printed form of a closed form, used by every output: expanded (so equal totals
    print alike), then its common factors pulled out where that reads shorter
    (`classes*(H*W + 1)`). factor_terms extracts common content only, which is what a reader wants
    from a count, and is several times cheaper than a full factorisation. The rows of a long model
    repeat a few formulas, hence the cache."""
    expr = sp.sympify(expr)
    if expr.is_number or not isinstance(expr, sp.Expr) or not _at_most(expr, EXPAND_NODES):
        return expr
    if not expr.has(sp.floor, sp.ceiling, sp.Piecewise, sp.Min, sp.Max):
        expr = sp.expand(expr)
    if not _at_most(expr, SIMPLIFY_NODES) or sp.count_ops(expr) > CANONICAL_OPS:
        return expr
    factored = sp.factor_terms(expr)
    best = factored if len(str(factored)) <= len(str(expr)) else expr
    grouped = _grouped(factored)
    return grouped if len(str(grouped)) < len(str(best)) else best


def _grouped(expr) -> sp.Expr:
    """A sum's terms in its symbols factored apart from its constant, inside a product too: the
    flatten size `f2*(H - 4)*(W - 4)` stays visible in `hidden*(f2*(H - 4)*(W - 4) + 1)`."""
    if expr.is_Mul:
        return sp.Mul(*[_grouped(f) for f in expr.args])
    if not expr.is_Add or not expr.is_polynomial():
        return expr
    constant, rest = expr.as_coeff_Add()
    factored = sp.factor(rest)
    return constant + factored if factored.is_Mul else expr


@lru_cache(maxsize=4096)
def printed(expr) -> str:
    """canonical(expr) as text; printing costs as much as rearranging, so it is cached too."""
    return str(canonical(expr))


# ---------------------------------------------------------------- LaTeX

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
          "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"}


def latex_name(name: str) -> str:
    """A symbol as the user named it: one letter or a Greek name as sympy prints it, `d_model` with a
    subscript, and any other word upright-italic as one unit (\\mathit{classes}, not c·l·a·s·s·e·s)."""
    head, _, sub = name.partition("_")
    if len(head) == 1 or head.lower() in _GREEK:
        return sp.latex(sp.Symbol(name))
    body = r"\mathit{" + head + "}"
    return body + ("_{" + sub.replace("_", r"\_") + "}" if sub else "")


def latex(expr) -> str:
    """sympy.latex with the model's symbol names kept as written."""
    if isinstance(expr, tuple):
        return r"\left(" + ", ".join(latex(e) for e in expr) + r"\right)"
    expr = sp.sympify(expr)
    names = {s: latex_name(s.name) for s in expr.free_symbols}
    return sp.latex(expr, symbol_names=names, mul_symbol=None)


def latex_number(value: int, scientific: bool = False, digits: int = 3) -> str:
    """124{,}439{,}808, or 1.24 \\times 10^{8} when `scientific`."""
    value = int(value)
    if not scientific or abs(value) < 1000:
        return f"{value:,}".replace(",", "{,}")
    exponent = len(str(abs(value))) - 1
    mantissa = sp.Rational(value, 10 ** exponent)
    text = f"{float(mantissa):.{digits - 1}f}".rstrip("0").rstrip(".")
    exact = sp.Rational(text) == mantissa
    return ("" if exact else r"\approx ") + f"{text} \\times 10^{{{exponent}}}"
