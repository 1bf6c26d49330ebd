"""A command imports what it uses (issue 23): one command's parser builds only that command, the
package imports the interpreter on use, the prelude's declared layers are read on first use, and a
piped summary is laid out without rich, in rich's very text. Checked with sys.modules in a fresh
process, never with timings (benchmarks/cold_start.py measures those)."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import symparams
from symparams import cli, render
from symparams import table as tables

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.sp"))
HEAVY = ("rich", "numpy", "torch", "keras", "transformers", "prompt_toolkit")


def modules_after(code: str, env=None) -> set:
    """The modules a fresh interpreter holds after running `code`."""
    run = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout.splitlines()[-1]))


def commands_in(modules: set) -> set:
    return {m.rsplit(".", 1)[1] for m in modules if m.startswith("symparams.commands.") and m != "symparams.commands.common"}


def test_importing_the_cli_imports_no_command_framework_or_interpreter():
    loaded = modules_after("import symparams.cli")
    assert not commands_in(loaded)
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert "symparams.interpreter" not in loaded and "symparams.catalog" not in loaded


def test_importing_the_package_is_light_and_its_names_still_there():
    assert "symparams.interpreter" not in modules_after("import symparams")
    assert "symparams.interpreter" in modules_after("import symparams; symparams.load")
    assert symparams.Model.__module__ == "symparams.model" and "parse" in dir(symparams)
    with pytest.raises(AttributeError):
        symparams.no_such_name


def run_main(argv: list) -> set:
    """The modules a fresh process holds after `symparams ARGV` (output to a pipe)."""
    return modules_after(f"import sys\nfrom symparams.cli import main\ntry:\n    main({argv!r})\n"
                         "except SystemExit:\n    pass")


def test_a_piped_summary_imports_only_its_command_and_no_rich_numpy_or_framework():
    loaded = run_main(["summary", "examples/conv_stack.sp"])
    assert commands_in(loaded) == {"summary"}
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert "symparams.catalog.prelude" not in loaded       # conv_stack uses no declared layer
    assert "symparams.formulas" not in loaded and "symparams.quantities" not in loaded


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_one_commands_help_imports_that_command_alone(command):
    loaded = run_main([command, "--help"])
    assert commands_in(loaded) == {cli.MODULES.get(command, command)}
    assert not {m for m in loaded if m.split(".")[0] in ("torch", "keras", "transformers")}


def test_the_top_help_imports_no_command():
    assert not commands_in(run_main(["--help"]))


def parser_help(parser, command=None) -> str:
    if command is not None:
        parser = parser._subparsers._group_actions[0].choices[command]
    return parser.format_help()


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_one_commands_parser_is_the_whole_parsers(command):
    """The help, and so the options, of a command built alone are the ones the whole parser has."""
    assert parser_help(cli.build_parser([command]), command) == parser_help(cli.build_parser(), command)
    assert parser_help(cli.build_parser([command])) == parser_help(cli.build_parser())


@pytest.mark.parametrize("argv", [["--version", "summary"], ["-h"], ["nosuch", "x"], [], ["--", "check", "examples/conv_stack.sp"]])
def test_odd_command_lines_are_read_as_before(argv, capsys):
    """Whatever the first word, the built parser reads argv as the whole parser does."""
    outcomes = []
    for parser in (cli.build_parser(argv), cli.build_parser()):
        try:
            outcomes.append(vars(parser.parse_args(argv)))
        except SystemExit as e:
            outcomes.append(e.code)
        outcomes.append(capsys.readouterr())
    assert outcomes[:2] == outcomes[2:]


def test_the_prelude_is_read_when_a_file_uses_it():
    loaded = run_main(["check", "examples/zoo/bert.sp"])
    assert "symparams.catalog.prelude" in loaded
    from symparams import catalog
    declared = {s.name for s in catalog.specs() if s.fn.__module__ == "symparams.catalog.declared"}
    assert {"class_token", "first_token", "layer_scale"} <= declared
    assert catalog.lookup("ClassToken").name == "class_token" and catalog.lookup("no_such_layer") is None


# ---------------------------------------------------------------- the plain layout is rich's

def rich_text(t, width: int) -> str:
    from rich.console import Console, Group
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None, highlight=False,
                      soft_wrap=False)
    console.print(Group(*render.rich_renderables(t, console.width)))
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())


OPTIONS = [dict(), dict(expand=True), dict(columns=tables.parse_columns("output_shape,params,macs")),
           dict(depth=1, columns=tables.parse_columns("output_shape,params,trainable,memory,macs,formula"))]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_the_plain_layout_is_rich_text_for_every_example(path):
    """Every model of every example and zoo file, at 50, 80 and 120 columns and a few column choices:
    the text is rich's, byte for byte, and the plain layout is chosen for the default summary."""
    from symparams.interpreter import read
    program = read(path)
    chosen = 0
    for name in program.models:
        model = program.model(name, None)
        ev = model.evaluate({})
        for width in (50, 80, 120):
            for options in OPTIONS:
                t = render._table(model, ev, **options)
                if render._plain_is_rich(t, width):
                    chosen += options == {} and width >= 80
                    assert render._plain_text(t, width) == rich_text(t, width), (name, width, options)
                assert render.render_text(t, width) == rich_text(t, width), (name, width, options)
    assert chosen == 2 * len(program.models)


@pytest.mark.parametrize("width", [10, 20, 33, 47])
def test_folding_is_rich_folding(width):
    from rich.text import Text
    for text in ["Total MACs: 4,499,370,368 = 32*(9*C*H*W - 18*C*H - 18*C*W + 36*C + 4*H*W*classes)",
                 "a_very_long_name_that_does_not_fit_on_one_line_at_all and then some words  spaced",
                 "", "x", "  leading spaces and a " + "y" * 60]:
        ours = list(render._folded(text, width))
        theirs = [line.plain.rstrip() for line in Text(text).wrap(_console(width), width, overflow="fold")]
        assert ours == theirs, text


def _console(width):
    from rich.console import Console
    return Console(file=io.StringIO(), width=width, color_system=None)


def test_a_terminal_still_gets_rich(monkeypatch):
    model = symparams.load(ROOT / "examples" / "conv_stack.sp")
    shown = render.text_table(model, model.evaluate(), width=80, color=True)
    assert "\x1b[" in shown            # rich's styles: bold headers, dim formulas


def test_one_cell_characters_are_one_cell_for_rich():
    from rich.cells import cell_len
    chars = [chr(c) for c in range(0x1100) if render.one_cell_each(chr(c))]
    assert "×" in chars and "é" in chars and "\t" not in chars and "\u0301" not in chars
    assert [ch for ch in chars if cell_len(ch) != 1] == []
