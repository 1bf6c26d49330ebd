"""The seed's models as the askers wrote them (/work/shared/seeds/), shared by the tests that paste
them, and the command runner those tests share."""
import contextlib
import io

from symparams.cli import main


def run(*argv) -> tuple[int, str]:
    """`symparams ARGV` in this process: its exit code, and what it printed (stdout, then stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue() + err.getvalue()

CNN = """\
model CNN(T = 35, V = 13649):
    inp = Input(shape=(T,), dtype='int32')
    embeddings = Embedding(V, 300)(inp)
    conv1 = Conv1D(filters=32, kernel_size=5, padding='same', activation='relu', name="CONV1")(embeddings)
    max1 = MaxPool1D(10, strides=1,name="MaxPool1D1")(conv1)
    flat = Flatten(name="FLATTEN")(max1)
    drop = Dropout(0.5)(flat)
    out = Dense(3, activation='softmax')(drop)
"""

MNIST_CNN = """\
model mnist_cnn(S = 28):
    input (S, S, 1)
    Conv2D(filters=24, kernel_size=(3,3), activation='relu')
    Conv2D(filters=36, kernel_size=(3,3), activation='relu')
    Flatten()
    Dense(128, activation=relu)
    Dense(10, activation='softmax')
"""
