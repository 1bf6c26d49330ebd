"""A call spelled as the PyTorch class takes PyTorch's positional order, so pasted code counts right."""
import pytest
from torch import nn

import symparams
from reference import symparams_counts, torch_counts


@pytest.mark.parametrize("S", [8, 13, 32])
def test_pasted_pytorch_network(S):
    text = (f"model m(S = {S}):\n    input (3, S, S)\n    Conv2d(3, 16, 3, 2, 1)\n    ReLU\n"
            "    ConvTranspose2d(16, 8, 2, 2)\n    Flatten\n    Linear(8 * (2 * ((S + 1) // 2)) ** 2, 10, false)\n")
    model = symparams.parse(text, convention="torch")
    ref = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.ConvTranspose2d(16, 8, 2, 2), nn.Flatten(),
                        nn.Linear(8 * (2 * ((S + 1) // 2)) ** 2, 10, False))
    assert symparams_counts(model) == torch_counts(ref, (3, S, S))


def test_keras_spelling_keeps_keras_order():
    keras_style = symparams.parse("model m(n = 4):\n    input (8, 8, n)\n    Conv2D(16, 3, 2)\n")
    assert keras_style.evaluate().shape(keras_style.output_shape) == (3, 3, 16)  # strides 2


def test_pasted_in_channels_are_checked():
    with pytest.raises(symparams.SymparamsError) as info:
        symparams.parse("model m(S = 8):\n    input (3, S, S)\n    Conv2d(4, 16, 3)\n", convention="torch")
    assert "in_channels is 4" in info.value.message and "the input has 3" in info.value.message
