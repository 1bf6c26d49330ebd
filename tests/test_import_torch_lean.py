"""`symparams import FILE.py:NAME` runs PyTorch's meta kernels without importing torch._dynamo (issue 23),
and writes the same program as with it; a module that does not run on the input says where, no traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# torch.cat (the ViT's class token), batch norm's decomposition (the ResNet) and init.normal_ (nanoGPT)
# run on meta as Python references whose first call imports torch._dynamo, unless imported() stands in
CHECK = """
import sys, runpy
from symparams.importers.torch_fx import imported
cases = [("tests/torch_forms/vit.py", "ViT", [(3, 16, 16)], False),
         ("tests/torch_forms/resnet_mean.py", "ResNet", [(3, 16, 16)], False),
         ("tests/torch_forms/nanogpt.py", "gpt", [(16,)], True)]
lean = [imported(runpy.run_path(f)[n], s, i) for f, n, s, i in cases]
assert "torch._dynamo" not in sys.modules, "the import loaded torch._dynamo"
import torch, torch._dynamo
fn, chain = torch._refs.cat, []
while fn is not None:
    chain.append(fn)
    fn = getattr(fn, "__wrapped__", None)
assert len(chain) > 2 and not any("__dynamo_disable" in vars(f) for f in chain), "a stand-in's mark was left"
full = [imported(runpy.run_path(f)[n], s, i) for f, n, s, i in cases]
assert lean == full, "the program differs with torch._dynamo loaded"
print("ok")
"""


def test_the_import_writes_the_same_program_without_torch_dynamo():
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", CHECK], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_module_that_does_not_run_on_the_input_says_where(capsys):
    from symparams.cli import main
    assert main(["import", "tests/torch_forms/vit.py:ViT", "--input", "3,15,16"]) == 2
    err = capsys.readouterr().err
    assert "ViT does not run on inputs of shapes (3, 15, 16) at vit.py:21: x = torch.cat([cls, x], dim=1) + self.pos" \
        in err and "hint: --input gives each input's sizes" in err
    assert "Traceback" not in err and "While executing" not in err


USER = """
import torch
from torch import nn
class Net(nn.Module):
    def __init__(self, d: int = 8):
        super().__init__()
        import torch._dynamo.config     # the user's own use of torch._dynamo gets the real one
        assert torch._dynamo.config.recompile_limit > 0 and torch._dynamo.disable is not None
        self.emb, self.fc = nn.Embedding(10, d), nn.Linear(d, 2)
    def forward(self, x):
        return self.fc(torch.cat([self.emb(x), self.emb(x)], dim=1))
"""


def test_a_module_using_torch_dynamo_itself_gets_the_real_one(tmp_path):
    (tmp_path / "net.py").write_text(USER)
    done = subprocess.run([sys.executable, "-W", "ignore", "-m", "symparams", "import", f"{tmp_path / 'net.py'}:Net",
                           "--input", "4", "--dtype", "int64"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "cat_op()(emb_out, emb_1)" in done.stdout and "dense(2)(cat_out)" in done.stdout
