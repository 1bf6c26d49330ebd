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

import math
from fractions import Fraction
from functools import lru_cache

import sympy as sp
from sympy.core.mul import _keep_coeff   # how factor_terms and factor put a coefficient on a product

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
        terms = _integer_terms(expr)
        if terms is not None:     # the common case, a count: a polynomial with integer coefficients
            return _canonical_polynomial(terms)
        expr = sp.expand(expr)
    if not _at_most(expr, SIMPLIFY_NODES) or sp.count_ops(expr) > CANONICAL_OPS:
        return expr
    return _shortest(expr, sp.factor_terms(expr), sp.factor)


def _shortest(expanded, factored, factor) -> sp.Expr:
    best = factored if factored == expanded or len(text(factored)) <= len(text(expanded)) else expanded
    grouped = _grouped(factored, factor)
    return grouped if grouped != best and len(text(grouped)) < len(text(best)) else best


# ---------------------------------------------------------------- sympy's str, for sizes and counts

@lru_cache(maxsize=4096)
def text(expr) -> str:
    """str(expr), the same characters. Sizes and counts (sums of products of rationals, symbols,
    their powers, floors and ceilings of such) are printed here as sympy's StrPrinter prints them
    (sympy 1.14's _print_Add, _print_Mul, _print_Pow and the order of as_ordered_terms and
    as_ordered_factors), without its per-term work: a cold start's tables print a few dozen
    (issue 23; tests/test_first_call.py compares the two over every example). Anything else is
    sympy's own str."""
    try:
        return _fast(expr) if isinstance(expr, sp.Basic) else str(expr)
    except _Unprinted:
        return str(expr)


class _Unprinted(Exception):
    """An expression outside what `_fast` prints as sympy does."""


_ROUNDINGS = {sp.ceiling: "ceiling", sp.floor: "floor"}


def _fast(e) -> str:
    if e.is_Rational:
        return str(e.p) if e.q == 1 else f"{e.p}/{e.q}"
    if type(e) is sp.Symbol:
        return e.name
    name = _ROUNDINGS.get(type(e))
    if name is not None:
        return f"{name}({_fast(e.args[0])})"
    if e.is_Add:
        return _fast_add(e)
    if e.is_Mul:
        return _fast_mul(e)
    if e.is_Pow:
        return _fast_power(e)
    raise _Unprinted


def _fast_power(e) -> str:
    """x**2 (a power of a symbol, a floor or a sum, by a whole exponent of 2 and more)."""
    base, exp = e.args
    if not (exp.is_Integer and exp > 1):
        raise _Unprinted
    key = _factor_key(base)          # a base that orders as a factor, so that its Mul is printed too
    return f"({_fast(base)})**{exp.p}" if key[0] == 1 else f"{_fast(base)}**{exp.p}"


def _factor_key(e) -> tuple:
    """Where sympy's sort_key places a factor, or a generator of a sum's terms, among the others
    (Symbol, then Add, then ceiling, then floor, as their class_key says; symbols by name). Two
    sums or two roundings of a kind order by their arguments: not done here."""
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        e = e.base
    if type(e) is sp.Symbol:
        return (0, e.name)
    if e.is_Add:
        return (1, "")
    if type(e) is sp.ceiling:
        return (2, "")
    if type(e) is sp.floor:
        return (3, "")
    raise _Unprinted


def _fast_mul(e) -> str:
    args = e.args
    coeff = args[0] if args[0].is_Rational else sp.S.One
    factors = args[1:] if args[0].is_Rational else args
    if args[0] is sp.S.One or any(f.is_Number or f.is_Pow and f.exp.is_negative is not False for f in factors):
        raise _Unprinted       # an unevaluated product, or a division: sympy's own
    keys = [_factor_key(f) for f in factors]
    if len(set(keys)) != len(keys):
        raise _Unprinted
    sign = "-" if coeff < 0 else ""
    p, q = abs(coeff.p), coeff.q
    parts = [] if p == 1 else [str(p)]
    for _, f in sorted(zip(keys, factors), key=lambda kf: kf[0]):
        parts.append(f"({_fast(f)})" if f.is_Add else _fast(f))
    return sign + "*".join(parts or ["1"]) + (f"/{q}" if q != 1 else "")


def _fast_add(e) -> str:
    args = e.args
    numbers = [a for a in args if a.is_Number]
    if len(args) == 2 and len(numbers) == 1 and numbers[0] > 0:
        other = args[1] if args[0] is numbers[0] else args[0]
        if other.is_Mul and len(other.args) == 2 and other.args[0].is_Number and other.args[0] < 0:
            terms = [numbers[0], other]      # as_ordered_terms' one exception: 1 - 2*x
            return _joined(terms)
    monomials, gens = [], {}
    for term in args:
        powers = {}
        factors = term.args[1:] if term.is_Mul and term.args[0].is_Number else \
            term.args if term.is_Mul else () if term.is_Number else (term,)
        for f in factors:
            base, exp = (f.base, f.exp) if f.is_Pow else (f, sp.S.One)
            if not (exp.is_Integer and exp > 0):
                raise _Unprinted
            gens[base] = _factor_key(base)
            powers[base] = int(exp)
        monomials.append(powers)
    order = sorted(gens, key=gens.__getitem__)
    if len({gens[g] for g in order}) != len(order):
        raise _Unprinted
    # lex order of the exponents over the generators, the largest first (as_terms' monomials)
    ranked = sorted(zip(args, monomials), key=lambda tm: tuple(-tm[1].get(g, 0) for g in order))
    return _joined([t for t, _ in ranked])


def _joined(terms) -> str:
    out = ""
    for i, term in enumerate(terms):
        t = _fast(term)
        negative = t.startswith("-")
        if negative:
            t = t[1:]
        out += ("-" if negative else "") + t if i == 0 else (" - " if negative else " + ") + t
    return out


def _grouped(expr, factor) -> sp.Expr:
    """A sum's terms in its symbols factored apart from its constant, inside a product too: the
    flatten size `f2*(H - 4)*(W - 4)` stays visible in `hidden*(f2*(H - 4)*(W - 4) + 1)`."""
    if expr.is_Mul:
        return sp.Mul(*[_grouped(f, factor) for f in expr.args])
    if not expr.is_Add or not expr.is_polynomial():
        return expr
    constant, rest = expr.as_coeff_Add()
    factored = factor(rest)
    return constant + factored if factored.is_Mul else expr


# A count summed over a model's layers is nearly always a polynomial with integer coefficients
# (`2049*classes + 71552*n1 + ...`). For those, canonical builds what sympy's expand, factor_terms
# and factor would return from the polynomial's terms directly: the same expressions, at a
# fraction of the cost of the general routines on a first call (tests/test_canonical.py checks
# the two agree over every example and zoo model and random polynomials). Where a factorisation
# is not known to be trivial, sympy's factor still decides.

MAX_TERMS = 400     # past this a product is expanded by sympy, as before


def _integer_terms(expr) -> dict | None:
    """expr as {monomial: int}, a monomial a frozenset of (symbol, exponent); None if expr is not
    a polynomial with integer coefficients in its symbols."""
    return _terms(expr, _integer_atom)


def _integer_atom(expr) -> dict | None:
    if expr.is_Integer:
        return {_ONE: int(expr)} if expr != 0 else {}
    if expr.is_Symbol:
        return {frozenset({(expr, 1)}): 1}
    return None


def _terms(expr, atom) -> dict | None:
    """expr's sums and products multiplied out to {monomial: coefficient}, what `atom` makes of
    everything else (None: expr is no such polynomial)."""
    if expr.is_Add:
        out: dict = {}
        for a in expr.args:
            part = _terms(a, atom)
            if part is None:
                return None
            for m, c in part.items():
                out[m] = out.get(m, 0) + c
        return {m: c for m, c in out.items() if c}
    if expr.is_Mul or (expr.is_Pow and expr.exp.is_Integer and expr.exp > 0):
        factors = expr.args if expr.is_Mul else [expr.base] * int(expr.exp)
        out = {_ONE: 1}
        for a in factors:
            part = _terms(a, atom)
            if part is None:
                return None
            out = polynomial_product(out, part)
            if len(out) > MAX_TERMS:
                return None
        return out
    return atom(expr)


_ONE = frozenset()


def polynomial_product(a: dict, b: dict) -> dict:
    """The product of two polynomials given as {monomial: coefficient}, a monomial a frozenset of
    (generator, exponent): what canonical and grid_code's NumPy code both build from."""
    out: dict = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            powers = dict(ma)
            for x, e in mb:
                powers[x] = powers.get(x, 0) + e
            m = frozenset(powers.items())
            out[m] = out.get(m, 0) + ca * cb
    return {m: c for m, c in out.items() if c}


def _monomial(m) -> sp.Expr:
    return sp.Mul(*[x if e == 1 else sp.Pow(x, e) for x, e in m])


def _expression(terms: dict) -> sp.Expr:
    return sp.Add(*[sp.Integer(c) * _monomial(m) for m, c in terms.items()])


def _content(terms: dict) -> tuple[int, dict, dict]:
    """(the integer gcd of the coefficients, the monomial common to every term, the rest's terms)."""
    g = math.gcd(*terms.values())
    common = dict(next(iter(terms)))
    for m in terms:
        powers = dict(m)
        common = {x: min(e, powers[x]) for x, e in common.items() if x in powers}
    rest = {}
    for m, c in terms.items():
        powers = dict(m)
        rest[frozenset((x, e - common.get(x, 0)) for x, e in powers.items() if e > common.get(x, 0))] = c // g
    return g, common, rest


def _canonical_polynomial(terms: dict) -> sp.Expr:
    expanded = _expression(terms)
    if len(terms) < 2:
        return expanded      # a single term: nothing to pull out
    if not _at_most(expanded, SIMPLIFY_NODES):
        return expanded
    # count_ops never exceeds the number of nodes (an Add of k terms is k - 1 operations over k + 1 nodes)
    if not _at_most(expanded, CANONICAL_OPS + 1) and sp.count_ops(expanded) > CANONICAL_OPS:
        return expanded
    # factor_terms: the coefficients' gcd (negated if every coefficient is negative) and the
    # common monomial, kept apart from the sum they divide
    g, common, rest = _content(terms)
    if all(c < 0 for c in terms.values()):
        g, rest = -g, {m: -c for m, c in rest.items()}
    inner = sp.Mul(*[x if e == 1 else sp.Pow(x, e) for x, e in common.items()], _expression(rest))
    factored = _keep_coeff(sp.Integer(g), inner, clear=False, sign=True)
    return _shortest(expanded, factored, _factor)


def _factor(expr) -> sp.Expr:
    """sympy.factor(expr) where the answer is known without factoring: a term, or a sum with positive
    coefficients whose primitive part Q has a symbol x in one term only, as c*x. Then Q is
    irreducible (Q = c*x + b: a factor free of x divides c and every coefficient, so it is a unit),
    and factor returns the gcd times the common monomial times Q."""
    terms = _integer_terms(expr)
    if terms is None or any(c < 0 for c in terms.values()):
        return sp.factor(expr)
    if len(terms) == 1:   # a term: its own factorisation
        return expr
    g, common, rest = _content(terms)
    alone = {}
    for m in rest:
        for x, e in m:
            alone[x] = None if x in alone else (e == 1 and len(m) == 1)
    if not any(alone.values()):
        return sp.factor(expr)
    inner = sp.Mul(*[x if e == 1 else sp.Pow(x, e) for x, e in common.items()], _expression(rest))
    return _keep_coeff(sp.Integer(g), inner)


@lru_cache(maxsize=4096)
def term_count(expr) -> int:
    """How many terms sympy.expand(expr) has, counted without expanding where that is safe: a
    long total's pointer says it (`a closed form of 18 terms`), and expanding a sum of products
    of floors is a sizeable part of a cold start's table (issue 23)."""
    expr = sp.sympify(expr)
    terms = _expanded_terms(expr)
    if terms is None:
        return len(sp.Add.make_args(sp.expand(expr)))
    return max(len(terms), 1)      # 0 is one term


def _expanded_terms(expr) -> dict | None:
    """expr as {monomial: rational coefficient} over its symbols and its floors and ceilings,
    the polynomial sympy's expand multiplies out; None where expand would do more than that
    (an argument of a floor it would expand and evaluate again, a negative power of a sum)."""
    return _terms(expr, _expanded_atom)


def _expanded_atom(expr) -> dict | None:
    if expr.is_Rational:
        return {_ONE: Fraction(expr.p, expr.q)} if expr != 0 else {}
    if expr.is_Symbol or isinstance(expr, (sp.floor, sp.ceiling)):
        if not expr.is_Symbol and not _expanded_argument(expr.args[0]):
            return None
        return {frozenset({(expr, 1)}): 1}
    return None


def _expanded_argument(e) -> bool:
    """Whether expand leaves `e` as it is: a sum of products of rationals, symbols, their
    integer powers and floors and ceilings of such, no sum inside a product or a power."""
    if e.is_Rational or e.is_Symbol:
        return True
    if isinstance(e, (sp.floor, sp.ceiling)):
        return _expanded_argument(e.args[0])
    if e.is_Pow:
        return e.exp.is_Integer and e.base.is_Symbol
    if e.is_Mul:
        return all(not a.is_Add and _expanded_argument(a) for a in e.args)
    return e.is_Add and all(not a.is_Add and _expanded_argument(a) for a in e.args)


@lru_cache(maxsize=4096)
def printed_longer_than(expr, limit: int) -> bool:
    """Whether printed(expr) is longer than `limit` characters, where that shows without printing
    it (False where it does not): the printed form holds each of its symbols' names and its floors'
    and ceilings' `name(...)`, and a long closed form is pointed at rather than printed."""
    length = 0
    for node in sp.preorder_traversal(canonical(expr)):
        if node.is_Symbol:
            length += len(node.name)
        elif isinstance(node, (sp.floor, sp.ceiling)):
            length += len(type(node).__name__) + 2
        if length > limit:
            return True
    return False


@lru_cache(maxsize=4096)
def printed(expr) -> str:
    """canonical(expr) as text; printing costs as much as rearranging, so it is cached too."""
    return text(canonical(expr))


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
