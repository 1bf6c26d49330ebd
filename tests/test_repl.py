"""`symparams repl`: driven through prompt_toolkit's pipe input and through piped stdin.

The figures are the conv_stack example's Keras counts from DESIGN.md (896 / 18,496 / 73,856 /
1,290; valid 3x3 convolutions shrink each side by 2).
"""
import subprocess
import sys
from pathlib import Path

from symparams.repl.session import Session

ROOT = Path(__file__).resolve().parent.parent
CONV_STACK = """\
model conv_stack(H = 224, W = 224, C = 3, classes = 10):
input (H, W, C)
conv2d(32, 3, activation=relu)
conv2d(64, 3, activation=relu)
conv2d(128, 3, activation=relu)
dense(classes, activation=softmax)
"""
FIGURES = ["896", "18,496", "73,856", "1,290"]


def repl(script: str, *args, cwd=ROOT):
    """`symparams repl` with the script on a pipe (no terminal): stdout, stderr, exit status."""
    return subprocess.run([sys.executable, "-m", "symparams", "repl", *args], input=script, capture_output=True,
                          text=True, cwd=cwd)


def feed(session: Session, script: str) -> list:
    replies = []
    for line in script.splitlines():
        replies += session.feed(line)
    if session.continuing:
        replies.append(session.finish())
    return replies


# ---------------------------------------------------------------- prompt_toolkit pipe input

def test_terminal_builds_conv_stack_line_by_line(tmp_path):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from symparams.repl.terminal import run_terminal

    session, shown = Session(), []
    history = tmp_path / "symparams" / "history"
    with create_pipe_input() as pipe:
        pipe.send_text(CONV_STACK.replace("\n", "\r") + ":set H=512 W=512\r:quit\r")
        status = run_terminal(session, input=pipe, output=DummyOutput(), write=shown.append, history=history)
    assert status == 0 and shown[-1].quit
    texts = [r.text for r in shown]
    layer_replies = texts[2:6]          # after the header and the input line: one reply per layer
    for reply, figure in zip(layer_replies, FIGURES):
        assert f"= {figure}" in reply or f"params {figure}" in reply
    assert "(None, H - 2, W - 2, 32) = (None, 222, 222, 32)" in texts[2]
    assert "(None, 506, 506, 10)" in texts[6]           # :set re-evaluates at H = W = 512
    assert "conv2d(64, 3, activation=relu)" in history.read_text()   # the history file persists


def test_terminal_survives_ctrl_d_in_a_pending_block(tmp_path):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from symparams.repl.terminal import run_terminal

    session, shown = Session(), []
    with create_pipe_input() as pipe:
        pipe.send_text(CONV_STACK.splitlines()[0] + "\rinput (H, W, C)\rblock head(n)(x):\r    return x\r")
        pipe.close()      # end of input while the block is still open: it is entered, then the REPL ends
        assert run_terminal(session, input=pipe, output=DummyOutput(), write=shown.append) == 0
    assert shown[-1].ok and "block head(n)(x):" in session.source.text() and not session.continuing


def test_completion_offers_commands_layers_keywords_choices_and_symbols():
    from symparams.repl.terminal import suggestions
    session = Session()
    feed(session, CONV_STACK)
    word, options = suggestions(":so", session)
    assert word == ":so" and ":solve" in options and ":source" in options
    word, options = suggestions("conv2", session)
    assert word == "conv2" and "conv2d" in options and "Conv2D" in options
    word, options = suggestions("conv2d(32, 3, pad", session)
    assert word == "pad" and "padding=" in options and "activation=" in options
    word, options = suggestions("conv2d(32, 3, padding=s", session)
    assert "same" in options and "H" in options
    word, options = suggestions("dense(cl", session)
    assert word == "cl" and "classes" in options
    assert suggestions(":set ", session)[1][:2] == ["H=", "W="]


def test_highlighting_tells_keywords_layers_symbols_and_numbers_apart():
    from symparams.repl.terminal import highlight
    session = Session()
    feed(session, CONV_STACK)
    styles = dict((text, style) for style, text in highlight("x = conv2d(32, H)  # note", session))
    assert styles["conv2d"] == "class:layer" and styles["32"] == "class:number"
    assert styles["H"] == "class:symbol" and styles["# note"] == "class:comment"
    assert dict((t, s) for s, t in highlight("model m(d = 8):", session))["model"] == "class:keyword"


# ---------------------------------------------------------------- the session's behaviour

def test_a_bad_line_leaves_the_state_untouched_and_the_caret_under_the_typed_text():
    session = Session()
    feed(session, CONV_STACK)
    before = session.source.text()
    [reply] = session.feed("conv2d(16, 3, padding=sme)")
    assert not reply.ok and session.source.text() == before and session.failures == 1
    lines = reply.text.splitlines()
    typed = lines.index("    conv2d(16, 3, padding=sme)")
    # the caret is under the bad value as typed (the body's indentation in the model text is not counted)
    assert lines[typed + 1] == "    " + " " * len("conv2d(16, 3, padding=") + "^^^"
    assert "'same'" in reply.text
    [reply] = session.feed("dense(classes)")
    assert reply.ok and "dense_2" in reply.text      # the next line goes on from the intact state


def test_an_unclosed_parenthesis_continues_and_a_blank_line_names_it():
    session = Session()
    feed(session, CONV_STACK)
    assert session.feed("conv2d(8, (3, 3)") == [] and session.continuing      # goes on, as in Python
    [reply] = session.feed("")
    assert not reply.ok and "this '(' is not closed" in reply.text and not session.continuing
    assert reply.text.splitlines()[1:3] == ["    conv2d(8, (3, 3)", "          ^"]


def test_an_undeclared_symbol_says_how_to_declare_it():
    session = Session()
    [reply] = session.feed("input (T, E)")
    assert not reply.ok and "'T' is not a symbol" in reply.text and ":symbols T=" in reply.text
    [reply] = session.feed(":symbols T=35 E=300")
    assert reply.ok and "T = 35, E = 300" in reply.text
    [reply] = session.feed("input (T, E)")
    assert reply.ok and "(None, T, E) = (None, 35, 300)" in reply.text
    [reply] = session.feed(":set t=5")
    assert not reply.ok and "did you mean 'T'?" in reply.text


def test_set_unset_and_undo():
    session = Session()
    feed(session, CONV_STACK)
    [reply] = session.feed(":set classes=100")      # the dense layer: (128 + 1) * 100 = 12,900
    assert reply.ok and "(None, 218, 218, 100)" in reply.text and "total: 106,148 params" in reply.text
    assert session.status() == "model conv_stack (keras): 106,148 params   H=224 W=224 C=3 classes=100"  # toolbar
    [reply] = session.feed(":unset classes")
    assert "total: 94,538 params" in reply.text
    [reply] = session.feed(":undo")
    assert "undid: dense(classes, activation=softmax)" in reply.text and "total: 93,248 params" in reply.text
    assert [r.name for r in session.model.rows] == ["conv2d_1", "conv2d_2", "conv2d_3"]


def test_convention_switch_recounts_the_lstm():
    session = Session()
    [reply] = session.feed(":load examples/har_lstm.sp")
    assert reply.ok and "59,910 params" in reply.text
    [reply] = session.feed(":convention torch")
    assert reply.ok and session.evaluation.row("lstm_1")["params"] == 18432     # two bias vectors
    session.feed(":undo")
    assert session.evaluation.row("lstm_1")["params"] == 18176


def test_multi_line_entry_ends_at_a_blank_line():
    session = Session()
    feed(session, CONV_STACK)
    assert session.feed("block head(n)(x):") == [] and session.continuing
    assert session.feed("    y = dense(n)(x)") == []
    assert session.feed("    return y") == []
    [reply] = session.feed("")
    assert reply.ok and not session.continuing
    text = session.source.text()
    # a block definition goes before the model, indented as typed
    assert text.index("block head(n)(x):\n    y = dense(n)(x)\n    return y\n") < text.index("model conv_stack")


def test_formula_runs_the_formula_command_on_the_session():
    session = Session()
    feed(session, CONV_STACK)
    [reply] = session.feed(":formula")
    assert "288*C + 129*classes + 92384" in reply.text and "94,538" in reply.text
    [reply] = session.feed(":formula params --latex")
    assert reply.text.startswith("288 C + 129")
    [reply] = session.feed(":formula mcas")
    assert not reply.ok and "'macs'" in reply.text


# ---------------------------------------------------------------- piped stdin

def test_piped_session_save_load_round_trip_and_exit_status(tmp_path):
    saved = tmp_path / "saved.sp"
    script = CONV_STACK + f"""\
:set H=512 W=512
:save {saved}
conv2d(8, 3, paddin=same)
:undo
:load {saved}
:summary
"""
    run = repl(script)
    assert run.returncode == 2                          # one line failed
    for figure in FIGURES:
        assert figure in run.stdout
    assert "(None, H - 6, W - 6, classes) = (None, 506, 506, 10)" in run.stdout
    assert "conv2d has no argument 'paddin'" in run.stderr and "did you mean 'padding'" in run.stderr
    # the bad line changed nothing: :undo drops the dense layer, the last line that worked
    assert "undid: dense(classes, activation=softmax)" in run.stdout
    assert ">>>" not in run.stdout and "\x1b[" not in run.stdout        # no prompts, no colours
    # the saved file is a model file that the summary command reads as the original example
    assert saved.read_text().splitlines()[1:] == ["    " + line for line in CONV_STACK.splitlines()[1:]]
    summary = subprocess.run([sys.executable, "-m", "symparams", "summary", str(saved)], capture_output=True,
                             text=True)
    assert "Total params: 94,538" in summary.stdout
    # :load brought back the full model (the :set values stay), which :summary tabulates
    assert "Total params: 94,538" in run.stdout and "(None, 506, 506, 10)" in run.stdout


def test_piped_session_with_a_file_and_echo_exits_zero():
    run = repl(":summary\n", "examples/conv_stack.sp", "--echo")
    assert run.returncode == 0, run.stderr
    assert ">>> :summary" in run.stdout and "Total params: 94,538" in run.stdout


def test_solve_runs_the_solve_command_at_the_session_values():
    session = Session()
    feed(session, CONV_STACK)
    # params = 93,248 + 129 * classes at C = 3: at most 100,000 for classes <= 52
    [reply] = session.feed(":solve --for classes --budget 100K")
    assert reply.ok and reply.text.startswith("classes = 52")
    session.feed(":set C=1")        # the first convolution loses 2 * 9 * 32 = 576 weights
    [reply] = session.feed(":solve --for classes --budget 100K")
    assert reply.text.startswith("classes = 56") and "C=1" in reply.text
    [reply] = session.feed(":solve --for clases --budget 100K")
    assert not reply.ok and "'classes'" in reply.text


def test_gpt2_typed_with_its_block_reaches_the_design_total():
    """DESIGN.md's gpt2 example, typed: the block as one multi-line entry, then the model's lines."""
    example = (ROOT / "examples" / "gpt2.sp").read_text().splitlines()
    header = next(line for line in example if line.startswith("model "))
    block = example[example.index(next(line for line in example if line.startswith("block "))):]
    block = block[:block.index("")]
    body = [line for line in example[example.index(header) + 1:] if line.strip()]
    session = Session()
    replies = feed(session, "\n".join([header, *block, "", *body]))
    assert all(r.ok for r in replies), [r.text for r in replies if not r.ok]
    assert "total: 124,439,808 params" in replies[-1].text
    [reply] = session.feed(":set h=5")         # 768 is not a multiple of 5: refused, state unchanged
    assert not reply.ok and "where d % h == 0" in reply.text and session.values == {}


def test_a_symbol_without_default_stays_a_formula_until_set():
    session = Session()
    feed(session, ":symbols d\ninput (d)")
    [reply] = session.feed("dense(d)")
    assert reply.ok and "params d**2 + d" in reply.text and " = " not in reply.text.splitlines()[1]
    [reply] = session.feed(":set d=512")
    assert reply.ok and "total: 262,656 params" in reply.text          # 512 * 512 weights + 512 biases


def test_history_lives_in_the_user_data_directory(monkeypatch, tmp_path):
    from symparams.repl.terminal import history_file
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert history_file() == tmp_path / "symparams" / "history"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert history_file() == tmp_path / ".local" / "share" / "symparams" / "history"


def test_sweep_tabulates_at_the_session_values():
    session = Session()
    feed(session, CONV_STACK)
    # conv2d_1 has 9*C*32 + 32 weights; the dense layer 129 * classes
    [reply] = session.feed(":sweep classes=10,100 C=1,3")
    assert reply.ok and [line.split() for line in reply.text.splitlines()] == [
        ["classes", "C", "params"], ["10", "1", "93,962"], ["10", "3", "94,538"],
        ["100", "1", "105,572"], ["100", "3", "106,148"]]
    session.feed(":set C=1")
    [reply] = session.feed(":sweep classes=1:2 --format csv")
    assert reply.text.splitlines()[1:] == ["1,92801", "2,92930"]


def test_every_example_loads_and_saves_as_the_same_model(tmp_path):
    """:load splits a file into entries (definitions, header, statements); :save writes them back."""
    import symparams
    for path in sorted((ROOT / "examples").rglob("*.sp")):
        session = Session()
        [reply] = session.feed(f":load {path}")
        assert reply.ok, reply.text
        session.feed(f":save {tmp_path / path.name}")
        original, saved = symparams.load(path), symparams.load(tmp_path / path.name)
        assert (saved.params, saved.convention, saved.name) == (original.params, original.convention, original.name)


def test_a_declared_layer_is_typed_as_one_entry():
    session = Session()
    feed(session, "model m(S = 32):\ninput (6, S, S)")
    replies = feed(session, "layer subsampling(k)(x: (c, h, w)) -> (c, h / k, w / k):\n"
                            "    where h % k == 0, w % k == 0\n    params = 2 * c\n\nsubsampling(2)")
    assert [r.ok for r in replies] == [True, True]
    from symparams.repl.terminal import highlight, suggestions
    assert "subsampling" in suggestions("subs", session)[1]
    assert ("class:layer", "subsampling") in highlight("subsampling(2)", session)
    assert "(None, 6, S/2, S/2) = (None, 6, 16, 16)" in replies[1].text and "params 2*6 = 12" in replies[1].text


# The figures by hand: sub-sampling keeps one weight and one bias per channel (2 * 6 = 12); the dense
# layer acts on the last axis, 28 / 2 = 14 wide: 14 * 10 + 10 = 150.
OWN_LAYER = """\
model part(S = 28):
    input (6, S, S)
    subsampling(2)
    dense(10)

# declared after the model that uses it, as a file may
layer subsampling(k)(x: (c, h, w)) -> (c, h / k, w / k):
    where h % k == 0, w % k == 0
    params = 2 * c
"""


def test_load_keeps_the_files_own_layer_for_new_lines_and_save(tmp_path):
    import symparams
    path, saved = tmp_path / "part.sp", tmp_path / "saved.sp"
    path.write_text(OWN_LAYER)
    session = Session()
    [reply] = session.feed(f":load {path}")
    assert reply.ok and "total: 162 params" in reply.text
    [reply] = session.feed("subsampling(2)")          # typed after :load: (6, 14, 10) halved, 12 more weights
    assert reply.ok and "(None, 6, 7, 5)" in reply.text and "total: 174 params" in reply.text
    session.feed(f":save {saved}")
    assert "layer subsampling(k)" in saved.read_text()
    assert symparams.load(saved).evaluate().params == 174
    [reply] = session.feed(":undo")
    assert reply.ok and "total: 162 params" in reply.text


def test_typed_layer_is_saved_and_loaded_back(tmp_path):
    import symparams
    saved = tmp_path / "typed.sp"
    session = Session()
    body = [line.strip() for line in OWN_LAYER.splitlines()[1:4]]
    layer = OWN_LAYER.splitlines()[6:]
    replies = feed(session, "\n".join([OWN_LAYER.splitlines()[0], *layer, "", *body]))
    assert all(r.ok for r in replies), [r.text for r in replies if not r.ok]
    assert "total: 162 params" in replies[-1].text
    [reply] = session.feed(f":save {saved}")
    assert reply.ok and symparams.load(saved).evaluate().params == 162
    again = Session()
    [reply] = again.feed(f":load {saved}")
    assert reply.ok and again.source == session.source


def test_piped_load_of_a_file_with_its_own_layer(tmp_path):
    path, saved = tmp_path / "part.sp", tmp_path / "saved.sp"
    path.write_text(OWN_LAYER)
    run = repl(f":load {path}\nsubsampling(2)\n:save {saved}\n:summary\n")
    assert run.returncode == 0, run.stderr
    assert "Total params: 174" in run.stdout
    summary = subprocess.run([sys.executable, "-m", "symparams", "summary", str(saved)], capture_output=True,
                             text=True)
    assert summary.returncode == 0 and "Total params: 174" in summary.stdout


def test_terminal_indents_a_block_body_and_a_blank_line_ends_it():
    """As IPython: after a line ending in ':' the next line starts indented; Enter on it alone ends the block."""
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from symparams.repl.terminal import run_terminal

    session, shown = Session(), []
    with create_pipe_input() as pipe:
        pipe.send_text(CONV_STACK.splitlines()[0] + "\rimage = input (H, W, C)\rblock twice(n)(x):\r"
                       "x = dense(n)(x)\rreturn dense(n)(x)\r\rtwice(8)(image)\r:quit\r")
        assert run_terminal(session, input=pipe, output=DummyOutput(), write=shown.append) == 0
    assert all(r.ok for r in shown), [r.text for r in shown if not r.ok]
    assert "block twice(n)(x):\n    x = dense(n)(x)\n    return dense(n)(x)" in session.source.text()
    assert "twice(8)(image)" in session.source.text()


def test_indent_follows_the_open_blocks():
    session = Session()
    assert session.indent == ""
    session.feed("block f(n)(x):")
    assert session.indent == "    "
    session.feed("    repeat 2:")
    assert session.indent == "        "


def test_an_unindented_line_after_a_block_header_is_refused_with_the_header():
    session = Session()
    feed(session, CONV_STACK)
    before = session.source.text()
    replies = session.feed("block f(n)(x):") + session.feed("dense(4)")
    assert [r.ok for r in replies] == [False]
    assert "`block f(n)(x):` opens a block" in replies[0].text and "`dense(4)` was not taken" in replies[0].text
    assert session.source.text() == before


def test_redo_brings_back_what_undo_dropped():
    session = Session()
    feed(session, CONV_STACK)
    [undone] = session.feed(":undo")
    assert undone.text.startswith("undid: dense(classes") and "dense" not in session.source.text()
    [redone] = session.feed(":redo")
    assert redone.text.startswith("redid: dense(classes") and "total: 94,538 params" in redone.text
    assert session.feed(":redo")[0].text == "nothing to redo"
    session.feed(":undo")
    session.feed("dense(5)")                # a new change: what was undone cannot come back
    assert session.feed(":redo")[0].text == "nothing to redo"


def test_undoing_a_load_says_so(tmp_path):
    path = tmp_path / "m.sp"
    path.write_text(CONV_STACK.replace("\ninput", "\n    input").replace("\nconv", "\n    conv")
                    .replace("\ndense", "\n    dense"))
    session = Session()
    session.feed(f":load {path}")
    session.feed("dense(3)")
    assert session.feed(":undo")[0].text.startswith("undid: dense(3)")
    [reply] = session.feed(":undo")
    assert reply.text.startswith(f"undid: :load {path} -- back to the session before it")
    assert ":redo loads it again" in reply.text
    assert "total: 94,538 params" in session.feed(":redo")[0].text


def test_summary_takes_the_summary_commands_options():
    session = Session()
    feed(session, CONV_STACK)
    session.feed(":set H=64 W=64")
    [reply] = session.feed(":summary --columns params,macs")
    assert reply.ok and reply.text.splitlines()[1].split() == ["Layer", "(type)", "Param", "#", "MACs"]
    assert "(None, 58, 58, 10)" not in reply.text and "at H=64, W=64" in reply.text
