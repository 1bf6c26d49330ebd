"""Formula sheet: Keras's preprocessing and augmentation layers. No trainable weights, no MACs.

    rescaling, augmentation (random_flip, random_rotation, ... mix_up)   shape unchanged
    resizing, center_crop, random_crop       (H, W, C) -> (height, width, C)
    category_encoding(num_tokens)            one_hot adds an axis of num_tokens (replaces a last axis of 1);
                                             multi_hot and count replace the last axis by num_tokens
    discretization                           int: shape unchanged; the other modes as category_encoding
                                             with one token per bin
    mel_spectrogram                          (T,) audio -> (num_mel_bins, 1 + floor(T / sequence_stride))
                                             for an even frame length
    stft_spectrogram                         (T, C) -> (frames, bins * C): fixed Fourier kernels, which
                                             Keras counts as weights (frame_length * bins each)

The augmentation layers take their Keras constructor's arguments, by name or in its order: none
changes a count or a shape. Keras's own Normalization (adapted statistics) is in normalization.py.
"""
import inspect

import sympy as sp

from ..errors import ArgumentError
from .registry import Anything, Bool, Choice, Dim, Out, Real, layer
from .shapes import join_channels, need_rank, split_channels, window_out


@layer("Rescaling", "Rescaling")
def rescaling(x, scale: Real, offset: Real = 0.0):
    """x * scale + offset (1/255 for pixels): no weights, shape unchanged."""
    return Out(shape=x)


def _image(x, name, c):
    return split_channels(x, 2, name, c)


def _to_size(name, what):
    def fn(x, height: Dim, width: Dim, *, c):
        _, channels = _image(x, name, c)
        return Out(shape=join_channels((height, width), channels, c))
    fn.__doc__ = f"(H, W, C) -> (height, width, C): {what}; no weights."
    return fn


_RESIZE_OPTIONS = ("interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode", "fill_value",
                   "antialias")
layer("Resizing", "Resizing", name="resizing", ignores=_RESIZE_OPTIONS)(_to_size("resizing", "resized"))
layer("CenterCrop", "CenterCrop", name="center_crop")(_to_size("center_crop", "the centre cut out (resized "
                                                                            "first when smaller)"))
layer("RandomCrop", "RandomCrop", name="random_crop")(_to_size("random_crop", "a random window cut out while "
                                                                            "training, the centre otherwise"))


# Keras's augmentation layers and their constructor's arguments in order (required ones first, marked
# with a trailing '!'); `data_format` and `seed` are taken by every entry.
AUGMENTATIONS = {
    "AugMix": "value_range num_chains chain_depth factor alpha all_ops interpolation",
    "AutoContrast": "value_range",
    "ContrastLimitedAdaptiveHistogramEqualization": "value_range clip_limit tile_grid_size",
    "CutMix": "factor", "Equalization": "value_range bins", "MixUp": "alpha",
    "MaxNumBoundingBoxes": "max_number! fill_value",
    "RandAugment": "value_range num_ops factor interpolation",
    "RandomBrightness": "factor! value_range", "RandomColorDegeneration": "factor! value_range",
    "RandomColorJitter": "value_range brightness_factor contrast_factor saturation_factor hue_factor",
    "RandomContrast": "factor! value_range",
    "RandomElasticTransform": "factor scale interpolation fill_mode fill_value value_range",
    "RandomErasing": "factor scale fill_value value_range", "RandomFlip": "mode",
    "RandomGaussianBlur": "factor kernel_size sigma value_range", "RandomGrayscale": "factor",
    "RandomHue": "factor! value_range", "RandomInvert": "factor value_range",
    "RandomPerspective": "factor scale interpolation fill_value", "RandomPosterization": "factor! value_range",
    "RandomRotation": "factor! fill_mode interpolation seed fill_value",
    "RandomSaturation": "factor! value_range", "RandomSharpness": "factor! value_range",
    "RandomShear": "x_factor y_factor interpolation fill_mode fill_value",
    "RandomTranslation": "height_factor! width_factor! fill_mode interpolation seed fill_value",
    "RandomZoom": "height_factor! width_factor fill_mode interpolation seed fill_value",
    "Solarization": "addition_factor threshold_factor value_range",
}


def _snake(name: str) -> str:
    out = name[0].lower()
    for prev, ch in zip(name, name[1:]):
        out += ("_" + ch.lower()) if ch.isupper() and prev.islower() else ch.lower()
    return out


def _register_augmentation(keras_name, arguments):
    name = _snake(keras_name)

    def fn(x, *, c, **arguments):      # the signature below names the arguments
        _image(x, name, c)
        return Out(shape=x)
    parameters = [inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for arg in arguments.split():
        required = arg.endswith("!")
        parameters.append(inspect.Parameter(arg.rstrip("!"), inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                            annotation=Anything,
                                            default=inspect.Parameter.empty if required else None))
    parameters.append(inspect.Parameter("c", inspect.Parameter.KEYWORD_ONLY))
    fn.__signature__ = inspect.Signature(parameters)
    fn.__doc__ = f"Keras {keras_name}: an image augmentation (H, W, C), no weights, shape unchanged."
    layer(keras_name, keras_name, name=name)(fn)


for _keras_name, _arguments in AUGMENTATIONS.items():
    _register_augmentation(_keras_name, _arguments)
AUGMENTATION_NAMES = tuple(_snake(n) for n in AUGMENTATIONS)


# ---------------------------------------------------------------- encodings

OutputMode = Choice("one_hot", "multi_hot", "count", "int")


def _encoded(x, tokens, mode):
    """category_encoding's rule: one_hot adds an axis (or fills a last axis of 1), the others replace the last."""
    if mode == "int":
        return tuple(x)
    if mode == "one_hot":
        return tuple(x[:-1]) + (tokens,) if sp.sympify(x[-1]) == 1 else tuple(x) + (tokens,)
    return tuple(x[:-1]) + (tokens,)


@layer("CategoryEncoding", "CategoryEncoding")
def category_encoding(x, num_tokens: Dim, output_mode: OutputMode = "multi_hot"):
    """Token ids to vectors of num_tokens: one_hot adds that axis, multi_hot and count replace the last one."""
    if output_mode == "int":
        raise ArgumentError("category_encoding's output_mode is 'one_hot', 'multi_hot' or 'count'")
    return Out(shape=_encoded(x, num_tokens, output_mode))


@layer("Discretization", "Discretization")
def discretization(x, bin_boundaries: Anything = None, num_bins: Dim = None, output_mode: OutputMode = "int"):
    """Values to bin indices: shape unchanged (int), or encoded as category_encoding with one token per bin."""
    if (bin_boundaries is None) == (num_bins is None):
        raise ArgumentError("discretization takes bin_boundaries or num_bins (one of them)")
    bins = num_bins if num_bins is not None else len(bin_boundaries if isinstance(bin_boundaries, tuple)
                                                         else (bin_boundaries,)) + 1
    return Out(shape=_encoded(x, bins, output_mode))


# ---------------------------------------------------------------- audio

@layer("MelSpectrogram", "MelSpectrogram", ignores=("window", "sampling_rate", "min_freq", "max_freq",
                                                    "power_to_db", "top_db", "mag_exp", "min_power", "ref_power"))
def mel_spectrogram(x, fft_length: Dim = 2048, sequence_stride: Dim = 512, sequence_length: Dim = None,
                    num_mel_bins: Dim = 128):
    """Keras MelSpectrogram: (T,) samples -> (num_mel_bins, frames); frames of sequence_length (by default
    fft_length) samples every sequence_stride, the signal padded by half a frame on each side."""
    need_rank(x, 1, "mel_spectrogram", "(samples)")
    frame = fft_length if sequence_length is None else sequence_length
    frames = 1 + sp.floor((x[0] + 2 * sp.floor(frame / 2) - frame) / sequence_stride)
    return Out(shape=(num_mel_bins, frames))


StftMode = Choice("log", "magnitude", "psd", "real", "imag", "stft")


@layer("STFTSpectrogram", "STFTSpectrogram", ignores=("window", "periodic", "scaling"))
def stft_spectrogram(x, mode: StftMode = "log", frame_length: Dim = 256, frame_step: Dim = None,
                     fft_length: Dim = None, padding: Choice("valid", "same") = "valid", expand_dims: Bool = False,
                     *, c):
    """Keras STFTSpectrogram on (T, C): a convolution over time with fixed Fourier kernels of frame_length taps
    to fft_length // 2 + 1 frequency bins (fft_length: frame_length up to a power of 2), one kernel for mode 'real' or 'imag', two (real and imaginary)
    otherwise; Keras counts those weights as trainable. Frames move by frame_step (frame_length // 2);
    the output is (frames, bins * C), twice the bins for mode 'stft', or (frames, bins, C) with expand_dims."""
    if not c.channels_last:
        raise ArgumentError("stft_spectrogram is checked channels last only: use the keras convention")
    (T,), channels = split_channels(x, 1, "stft_spectrogram", c)
    step = sp.floor(sp.sympify(frame_length) / 2) if frame_step is None else frame_step
    fft = 2 ** sp.ceiling(sp.log(frame_length, 2)) if fft_length is None else fft_length   # Keras's default
    bins = sp.floor(sp.sympify(fft) / 2) + 1
    frames = window_out(T, frame_length, step, padding)
    kernels = 1 if mode in ("real", "imag") else 2
    width = bins * (2 if mode == "stft" else 1)
    weights = kernels * frame_length * bins
    return Out(shape=(frames, width, channels) if expand_dims else (frames, width * channels), params=weights,
               macs=frames * channels * weights)
