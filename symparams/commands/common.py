"""Options shared by the subcommands that read a model file."""
from __future__ import annotations

import functools

from ..errors import ArgumentError, SymparamsError


def add_model_arguments(parser, sets: bool = True) -> None:
    parser.add_argument("file", help="a .sp model file, a Hugging Face config.json (or its folder), or a Keras .keras file or JSON")
    parser.add_argument("--model", help="which model of the file (default: the first)")
    parser.add_argument("--convention", choices=["keras", "torch"],
                        help="count as Keras or PyTorch does (default: the file's, else keras)")
    if sets:
        parser.add_argument("--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                            help="symbol values, e.g. --set H=512 W=512 (default: the model's defaults)")


def add_count_options(parser) -> None:
    """--per-batch and --dtype, for the commands that compute MACs, FLOPs and bytes."""
    from ..memory import DTYPE_BYTES
    parser.add_argument("--per-batch", action="store_true",
                        help="MACs and FLOPs for a batch of B examples instead of one")
    parser.add_argument("--dtype", choices=list(DTYPE_BYTES), default="float32",
                        help="bytes per number for param_bytes and memory (default float32)")


def add_accounting_options(parser) -> None:
    """The large-model accounting's choices (symparams/accounting.py), for the commands that compute them."""
    from ..accounting import OPTIMIZERS, PRECISIONS, RECOMPUTE
    group = parser.add_argument_group("training and inference accounting (docs/llm.md)")
    group.add_argument("--recompute", choices=RECOMPUTE, default="none",
                       help="activation recomputation for training_flops and activations (default none)")
    group.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="for training_memory (default adam)")
    group.add_argument("--precision", choices=PRECISIONS, default="mixed",
                       help="for training_memory: fp32, bf16, or mixed (16-bit weights, fp32 master copy; default)")
    group.add_argument("--dp", default="1", metavar="N",
                       help="data-parallel devices for training_memory: a number or a symbol name (default 1)")
    group.add_argument("--zero", type=int, choices=(0, 1, 2, 3), default=0,
                       help="ZeRO stage for training_memory: 1 partitions optimizer states, 2 also gradients, "
                            "3 also weights (default 0)")
    group.add_argument("--with-activations", action="store_true",
                       help="training_memory includes the activations (with --per-batch: B examples per device)")
    group.add_argument("--tp", default="1", metavar="N",
                       help="tensor-parallel devices (Megatron-LM's split of attention and MLP matrices): "
                            "training_memory, activations, training_flops and kv_cache per device (default 1)")
    group.add_argument("--pp", default="1", metavar="N",
                       help="pipeline stages for training_memory: the repeated layers split evenly (default 1)")
    group.add_argument("--sequence-parallel", action="store_true",
                       help="with --tp: the activations tensor parallelism keeps whole are split too")


def accounting_settings(args, model):
    """The accounting options as symparams.accounting.Settings; --dp may name a symbol."""
    from ..accounting import Settings
    from ..dims import symbol
    def devices(option):
        text = getattr(args, option).strip()
        if text.isidentifier():
            return model.symbols.get(text) or symbol(text)
        n = parse_number(text, f"--{option}")
        if n < 1:
            raise ArgumentError(f"--{option} must be 1 or more, found {n}")
        return n
    dp = devices("dp")
    if args.zero and dp == 1:
        raise ArgumentError(f"--zero {args.zero} partitions over data-parallel devices: give their number with --dp")
    return Settings(args.recompute, args.optimizer, args.precision, dp, args.zero, args.with_activations,
                    devices("tp"), devices("pp"), args.sequence_parallel)


def reports_as(command: str):
    """Decorates a command's run(args): an error that points into no file is a mistake in the request
    (an option's value), so it is reported as the command's, e.g. `symparams solve: ...`."""
    def decorate(run):
        @functools.wraps(run)
        def run_reporting(args):
            try:
                return run(args)
            except SymparamsError as e:
                raise e.attach(None, command)
        return run_reporting
    return decorate


def parse_number(text: str, what: str) -> int:
    from ..bounds import option_value
    return option_value(text, what)


def parse_assignments(items) -> dict:
    """['H=512', 'W=512'] -> {'H': 512, 'W': 512}."""
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ArgumentError(f"--set takes NAME=VALUE, found '{item}'")
        out[name.strip()] = parse_number(value, f"the value of {name.strip()}")
    return out


def load_model(args):
    """The model the options name: from the file, or from a program already in memory (the REPL's)."""
    from ..interpreter import read
    program = getattr(args, "program", None) or read(args.file)
    return program.model(args.model, args.convention)
