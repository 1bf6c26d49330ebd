"""`symparams formula`: one closed form of a model or layer, for a paper or a script."""
from dataclasses import replace

import sympy as sp

from ..errors import ArgumentError
from .common import (accounting_settings, add_accounting_options, add_count_options, add_model_arguments, load_model,
                     parse_assignments, reports_as)


def add_arguments(p):
    from ..formulas import QUANTITIES
    add_model_arguments(p)
    p.add_argument("--of", default="params", metavar="QUANTITY",
                   help="what to give the formula of: " + ", ".join(QUANTITIES) + " (default: params)")
    p.add_argument("--layer", help="one layer (by its name in the summary) instead of the whole model")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--expand", action="store_const", const="expand", dest="how", help="multiply out")
    how.add_argument("--factor", action="store_const", const="factor", dest="how", help="factor")
    how.add_argument("--collect", metavar="SYMBOL", help="collect the powers of one symbol")
    add_count_options(p)
    add_accounting_options(p)
    p.add_argument("--minus", metavar="EXPR",
                   help="subtract a closed form (a paper's, say) to see how it differs, e.g. --minus '12*L*d**2'")
    p.add_argument("--approx", action="store_true",
                   help="training_flops: also the approximations 6N and PaLM's 6N + 12LHQT, and their gaps")
    p.add_argument("--tokens", metavar="N",
                   help="training_flops or flops for N tokens: the batch B is N over one example's tokens")
    p.add_argument("--throughput", metavar="FLOPS",
                   help="with --tokens: FLOP/s one device sustains, to give the days the FLOPs take")
    p.add_argument("--devices", default="1", metavar="N", help="with --throughput: how many devices (default 1)")
    p.add_argument("--tokens-per-second", metavar="RATE",
                   help="training_flops, prefill_flops or decode_flops: a measured throughput (tokens/s over "
                        "all --devices); with --peak-flops, the model FLOPs utilisation (MFU) it means")
    p.add_argument("--scientific", action="store_true", help="numbers in LaTeX as 1.24 \\times 10^{8}")
    p.add_argument("--format", choices=["text", "latex", "markdown", "json"], default="text")


@reports_as("symparams formula")
def run(args):
    from .. import formulas
    model = load_model(args)
    of = formulas.check_quantity(args.of)
    how = "collect" if args.collect else args.how
    sets = parse_assignments(args.set)
    per_batch = args.per_batch
    if args.tokens is not None:
        per_batch = True
        sets[model.batch.name] = _batch_for_tokens(model, args, sets)
    values = formulas.evaluation_values(model, sets)
    if of == "memory" and args.layer is None and args.format == "text":
        print(_memory_breakdown(model, args, how, values))
        return 0
    from ..quantities import figure
    settings = accounting_settings(args, model)
    if args.dtype is not None:
        settings = replace(settings, dtype=args.dtype)
    fig = figure(model, of, args.layer, settings, per_batch)
    expr = fig.total
    if args.minus is not None:
        from ..solve import read_expression
        expr = sp.expand(expr - sp.sympify(read_expression(args.minus, _names(model, settings), "--minus")))
    expr = formulas.rearrange(expr, how, model, args.collect)
    res = formulas.result(model, expr, of, args.layer, values, {"dtype": fig.dtype, "rule": fig.rule}, figure=fig)
    if args.minus is not None:
        res["minus"] = args.minus
    if args.approx:
        if of != "training_flops":
            raise ArgumentError("--approx gives the approximations of training_flops; add --of training_flops")
        res["approximations"] = _approximations(model, per_batch, values, res["value"])
    if args.throughput is not None:
        res.update(_duration(args, res["value"]))
    if args.tokens_per_second is not None:
        res["mfu"] = _mfu(model, of, args, settings, values)
    elif settings.bandwidth is not None or settings.peak_flops is not None:
        res["roofline"] = _roofline(model, of, settings, per_batch, values)
    if fig.parts:
        res["parts"] = _parts(model, fig, values, how, args.collect)
    sum_text = _arithmetic(model, of, args, expr, sets)
    if sum_text:
        res["arithmetic"] = sum_text
    if args.format == "text" and sum_text:   # a layer of literal sizes: the sum that makes its count
        print(formulas.as_text(model, {**res, "expr": sum_text}) + f"\n  = {res['value']:,}" + _extra_text(res))
    elif args.format == "text":
        print(formulas.as_text(model, res) + _extra_text(res))
    elif args.format == "latex":
        print(formulas.as_latex(model, res, args.scientific))
    elif args.format == "markdown":
        print(formulas.as_markdown(model, res, args.scientific))
    else:
        print(formulas.as_json(model, res))
    return 0


def _arithmetic(model, of, args, expr, sets) -> str | None:
    """`24*36*3*3 + 36` for a layer whose params are a plain number (conv2d_2's 7,812): the sum the
    summary table shows beneath it (table.arithmetic), or None."""
    if of != "params" or args.layer is None or args.minus is not None or not sp.sympify(expr).is_number:
        return None
    from ..table import arithmetic
    ev = model.evaluate({k: v for k, v in sets.items() if k != model.batch.name})
    return arithmetic(model.row(args.layer), ev)


def _memory_breakdown(model, args, how, values) -> str:
    """torchsummary's four lines, each as a closed form in bytes and its MB at the given values."""
    import sympy as sp
    from .. import bounds, formulas, memory
    from ..printing import megabytes
    dtype = args.dtype or "float32"
    est = memory.estimate(model, dtype)
    at = ", ".join(f"{k}={v}" for k, v in values.items())
    lines = [f"memory of model {model.name}, torchsummary's estimate with {dtype} "
             f"numbers and a batch of {est.batch} (bytes; MB = 1024**2 bytes), at {at}:"]
    for label, expr in est.parts():
        expr = formulas.rearrange(sp.expand(expr), how, model, args.collect)
        value = bounds.whole(expr, values, f"the memory estimate's {label.removesuffix(' (MB)')}")
        lines.append(f"  {label}: {megabytes(value)}   = {expr} bytes")
    return "\n".join(lines)



def _names(model, settings) -> dict:
    """The symbols an expression may use: the model's, the batch, and device counts given by name."""
    devices = [n for n in (settings.dp, settings.tp, settings.pp) if isinstance(n, sp.Symbol)]
    return {**model.symbols, model.batch.name: model.batch, **{d.name: d for d in devices}}


def _batch_for_tokens(model, args, sets) -> int:
    """--tokens N: the whole number of examples that holds N tokens."""
    from ..accounting import tokens_per_example
    from .common import parse_number
    if args.of not in ("flops", "macs", "training_flops"):
        raise ArgumentError("--tokens counts the FLOPs of that many tokens: use it with --of training_flops or flops")
    tokens = parse_number(args.tokens, "--tokens")
    per_example = int(sp.sympify(tokens_per_example(model)).xreplace(model.evaluate(sets).values))
    if tokens % per_example:
        raise ArgumentError(f"--tokens {tokens:,} is not a whole number of examples of {per_example:,} tokens",
                            hint=f"the nearest whole number is {round(tokens / per_example) * per_example:,}")
    return tokens // per_example


def _approximations(model, per_batch, values, exact) -> dict:
    from ..accounting import approximations
    from ..formulas import rearrange
    out = {}
    for name, expr in approximations(model, model.batch if per_batch else 1).items():
        value = sp.sympify(expr).xreplace(values)
        value = int(value) if value.is_Integer else None
        gap = None if value is None or not exact else round((value - exact) / exact * 100, 2)
        out[name] = {"expr": str(rearrange(expr)), "value": value, "gap_percent": gap}
    return out


def _duration(args, flops) -> dict:
    from .common import parse_number
    if args.tokens is None:
        raise ArgumentError("--throughput gives the time --tokens take; add --tokens N")
    throughput, devices = parse_number(args.throughput, "--throughput"), parse_number(args.devices, "--devices")
    if throughput < 1 or devices < 1:
        raise ArgumentError("--throughput and --devices must be positive")
    seconds = sp.Rational(flops, throughput * devices)
    return {"tokens": parse_number(args.tokens, "--tokens"), "throughput": throughput, "devices": devices,
            "seconds": float(seconds), "days": float(seconds / 86400)}


STEPS = {"training_flops": "training", "prefill_flops": "prefill", "decode_flops": "decode"}


def _mfu(model, of, args, settings, values) -> dict:
    """--tokens-per-second with --peak-flops: the model FLOPs a measured throughput does, over the
    devices' peak (inference.mfu), at the model's values."""
    from .common import parse_number
    from ..quantities.inference import mfu
    if of not in STEPS:
        raise ArgumentError(f"--tokens-per-second gives the MFU of a step: use it with --of {', '.join(STEPS)}")
    if settings.peak_flops is None:
        raise ArgumentError("--tokens-per-second needs --peak-flops, the FLOP/s one device can do at most")
    devices = parse_number(args.devices, "--devices")
    value = sp.sympify(mfu(model, args.tokens_per_second, settings.peak_flops, STEPS[of], devices)).xreplace(values)
    if not value.is_number:
        raise ArgumentError(f"the MFU depends on {', '.join(sorted(map(str, value.free_symbols)))}, which "
                            "have no value: give them one with --set")
    return {"tokens_per_second": args.tokens_per_second, "peak_flops": settings.peak_flops, "devices": devices,
            "step": STEPS[of], "value": float(value)}


def _roofline(model, of, settings, per_batch, values) -> dict:
    """--bandwidth / --peak-flops: the device's roofline bounds on decoding and the first token."""
    from ..quantities import check
    from ..quantities.inference import roofline
    if "bandwidth" not in check(of).options and "peak_flops" not in check(of).options:
        raise ArgumentError("--bandwidth and --peak-flops bound decoding: use them with --of decode_flops, "
                            "prefill_flops or inference_memory")
    given = {k: getattr(settings, k) for k in ("weights_dtype", "kv_dtype", "bandwidth", "peak_flops")
             if getattr(settings, k) is not None}
    out = {}
    for name, expr in roofline(model, per_batch, **given).items():
        v = sp.sympify(expr).xreplace(values)
        out[name] = float(v) if v.is_number else None
    return out


def _parts(model, fig, values, how, collect) -> dict:
    """A figure's named parts (training_memory's weights, gradients, ...), each a closed form."""
    from ..formulas import rearrange
    out = {}
    for name, expr in fig.parts:
        v = sp.sympify(expr).xreplace(values)
        out[name] = {"expr": str(rearrange(expr, how, model, collect)), "value": int(v) if v.is_Integer else None}
    return out


def _extra_text(res) -> str:
    from ..printing import readable_size
    lines = []
    for name, part in res.get("parts", {}).items():
        v = "?" if part["value"] is None else f"{part['value']:,} bytes ({readable_size(part['value'])})"
        lines.append(f"  {name}: {part['expr']} = {v}")
    for name, a in res.get("approximations", {}).items():
        value = "?" if a["value"] is None else f"{a['value']:,}"
        gap = "" if a["gap_percent"] is None else f" ({a['gap_percent']:+.2f}% against the exact count)"
        lines.append(f"  approximately {name}: {a['expr']} = {value}{gap}")
    if "mfu" in res:
        m = res["mfu"]
        lines.append(f"  MFU at {m['tokens_per_second']} tokens/s on {m['devices']:,} device"
                     f"{'s' if m['devices'] != 1 else ''} of {m['peak_flops']:,} FLOP/s ({m['step']}): "
                     f"{m['value']:.4g} ({100 * m['value']:.4g}%)")
    bounds = res.get("roofline", {})
    labels = {"memory_bound_tokens_per_s": ("memory-bound (every weight and the cache read once a step)", "tokens/s"),
              "compute_bound_tokens_per_s": ("compute-bound", "tokens/s"),
              "tokens_per_s": ("roofline, the lower of the two", "tokens/s"),
              "time_to_first_token_s": ("time to first token, compute-bound", "s")}
    for key, (label, unit) in labels.items():
        if bounds.get(key) is not None:
            lines.append(f"  {label}: {bounds[key]:,.2f} {unit}")
    if "days" in res:
        lines.append(f"  {res['tokens']:,} tokens take {res['days']:,.1f} days on {res['devices']:,} devices "
                     f"at {res['throughput']:,} FLOP/s each")
    return "".join("\n" + line for line in lines)
