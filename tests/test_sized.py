"""symparams.sized: a Size keeps its formula through the arithmetic frameworks do on sizes, and a
formula written as Python gives the model's own number wherever the model is valid."""
import random

import sympy as sp

from symparams.sized import Size, language, python

d, h, S = (sp.Symbol(n, integer=True, positive=True) for n in "dhS")
FORMULAS = [d / h, 4 * d, (S - 1) / 2 + 1, sp.floor((S - 3) / 2) + 1, 2 * sp.floor(d / h), sp.ceiling(S / 4),
            sp.Mod(d, h), sp.Max(d, 2 * h), d ** 2 / h, (d / h) ** 2, 3 * d / 2]


def test_python_text_computes_the_formula_where_it_is_whole():
    rng = random.Random(20261201)
    for formula in FORMULAS:
        text = python(formula)
        for _ in range(300):
            values = {d: 6 * rng.randint(1, 60), h: rng.choice([1, 2, 3, 6]), S: rng.randint(1, 99)}
            want = formula.subs(values)
            if want.is_integer:
                assert eval(text, {"max": max, "min": min}, {str(k): v for k, v in values.items()}) == want, text


def test_language_text_uses_the_languages_spelling():
    assert [language(f) for f in (sp.Mod(d, h), sp.ceiling(S / 4), sp.Max(d, 2 * h), d / h)] == \
        ["d % h", "ceil(S/4)", "max(d, 2*h)", "d/h"]


def test_a_size_keeps_its_formula_through_int_arithmetic():
    width, heads = Size(768, d), Size(12, h)
    assert (width // heads, 4 * width + 1, width % heads, -width) == (64, 3073, 0, -768)
    assert [x.formula for x in (width // heads, 4 * width + 1, width % heads)] == [sp.floor(d / h), 4 * d + 1, sp.Mod(d, h)]
    assert type(width * 2.0) is float and type(width > heads) is bool


def test_a_copied_size_is_still_a_size():
    import copy
    import pickle
    width = Size(768, d)
    assert copy.deepcopy(width).formula == d and pickle.loads(pickle.dumps(width)).formula == d
