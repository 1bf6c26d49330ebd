import os

# Keras 3 is the second reference framework; it runs on the PyTorch backend here.
os.environ.setdefault("KERAS_BACKEND", "torch")
