"""Every README verb on the README's install, `pip install .`, in a fresh venv with nothing else:
no torch, keras, prompt_toolkit or matplotlib. Skipped where no venv can be made or pip cannot
reach a package index."""
import os
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The `symparams` command of a venv holding only `pip install .` and what it brings."""
    where = tmp_path_factory.mktemp("plain")
    try:
        venv.create(where / "venv", with_pip=True)
    except Exception as e:  # no ensurepip on this Python
        pytest.skip(f"cannot make a venv: {e}")
    bin_dir = where / "venv" / ("Scripts" if os.name == "nt" else "bin")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(ROOT)], capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f"pip install . failed here (no package index?): {done.stderr[-500:]}")
    return bin_dir


def run(bin_dir, *args, stdin=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    return subprocess.run([str(bin_dir / "symparams"), *map(str, args)], capture_output=True, text=True, env=env,
                          input=stdin, cwd=ROOT, timeout=300)


def test_nothing_optional_is_installed(plain):
    done = subprocess.run([str(plain / "python"), "-c", "import importlib.util as u; print([m for m in "
                           "('torch', 'keras', 'prompt_toolkit', 'matplotlib') if u.find_spec(m)])"],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("args, shown", [
    (("summary", EXAMPLES / "conv_stack.sp"), "Total params: 94,538"),
    (("summary", EXAMPLES / "bn_cnn_torch.sp", "--convention", "torch", "--format", "json"), '"convention": "torch"'),
    (("check", EXAMPLES / "conv_stack.sp"), "well-formed"),
    (("formula", EXAMPLES / "gpt2.sp", "--of", "params", "--format", "latex"), "L"),
    (("solve", EXAMPLES / "gpt2.sp", "--budget", "350M", "--for", "d", "--multiple-of", "64"), "d = 1344"),
    (("sweep", EXAMPLES / "gpt2.sp", "--vary", "d=256:1024:256", "--vary", "L=12,24"), "768,12,124439808"),
    (("layers", "conv2d"), "Conv2D / Conv2d"),
    (("repl", EXAMPLES / "mnist_dense.sp"), "7,850"),
    (("export", EXAMPLES / "gpt2.sp", "--to", "torch"), "nn.ModuleList([GptLayer(d, h) for _ in range(L)])"),
    (("export", EXAMPLES / "mnist_dense.sp", "--to", "keras"), "return keras.Model("),
])
def test_readme_verbs_work(plain, args, shown):
    done = run(plain, *args, stdin="")
    assert done.returncode == 0, done.stderr
    assert shown in done.stdout


@pytest.mark.parametrize("args", [("verify", EXAMPLES / "mnist_dense.sp")])
def test_framework_verbs_name_the_extra(plain, args):
    done = run(plain, *args)
    assert done.returncode == 2 and "pip install 'symparams[verify]'" in done.stderr
    assert "Traceback" not in done.stderr
