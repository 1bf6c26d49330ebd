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
import sympy as sp

from ..errors import ArgumentError
from .registry import Anything, Bool, Choice, Dim, Out, Real, layer, lookup
from .shapes import join_channels, need_rank, split_channels, window_out


@layer("Rescaling", "Rescaling")
def rescaling(x, scale: Real, offset: Real = 0.0):
    """x * scale + offset (1/255 for pixels): no weights, shape unchanged."""
    return Out(shape=x)


def _image(x, name, c):
    return split_channels(x, 2, name, c)


def _to_size(x, name, height, width, c):
    _, channels = _image(x, name, c)
    return Out(shape=join_channels((height, width), channels, c))


@layer("Resizing", "Resizing")
def resizing(x, height: Dim, width: Dim, *, c):
    """(H, W, C) -> (height, width, C): resized; no weights."""
    return _to_size(x, "resizing", height, width, c)


@layer("CenterCrop", "CenterCrop")
def center_crop(x, height: Dim, width: Dim, *, c):
    """(H, W, C) -> (height, width, C): the centre cut out (resized first when smaller); no weights."""
    return _to_size(x, "center_crop", height, width, c)


@layer("RandomCrop", "RandomCrop")
def random_crop(x, height: Dim, width: Dim, *, c):
    """(H, W, C) -> (height, width, C): a random window cut out while training, the centre otherwise; no weights."""
    return _to_size(x, "random_crop", height, width, c)


# ---------------------------------------------------------------- augmentations

# Keras's augmentation layers take their constructor's arguments, by name or in its order (required
# ones without a default); `data_format` and `seed` are taken by every entry. None changes a count.

def _augmented(x, name, c):
    _image(x, name, c)
    return Out(shape=x)


@layer("AugMix", "AugMix")
def aug_mix(x, value_range: Anything = None, num_chains: Anything = None, chain_depth: Anything = None, factor:
            Anything = None, alpha: Anything = None, all_ops: Anything = None, interpolation: Anything = None, *,
            c):
    """Keras AugMix: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "aug_mix", c)


@layer("AutoContrast", "AutoContrast")
def auto_contrast(x, value_range: Anything = None, *, c):
    """Keras AutoContrast: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "auto_contrast", c)


@layer("ContrastLimitedAdaptiveHistogramEqualization", "ContrastLimitedAdaptiveHistogramEqualization")
def contrast_limited_adaptive_histogram_equalization(x, value_range: Anything = None, clip_limit: Anything = None,
                                                     tile_grid_size: Anything = None, *, c):
    """Keras ContrastLimitedAdaptiveHistogramEqualization: an image augmentation (H, W, C), no weights, shape
    unchanged."""
    return _augmented(x, "contrast_limited_adaptive_histogram_equalization", c)


@layer("CutMix", "CutMix")
def cut_mix(x, factor: Anything = None, *, c):
    """Keras CutMix: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "cut_mix", c)


@layer("Equalization", "Equalization")
def equalization(x, value_range: Anything = None, bins: Anything = None, *, c):
    """Keras Equalization: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "equalization", c)


@layer("MixUp", "MixUp")
def mix_up(x, alpha: Anything = None, *, c):
    """Keras MixUp: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "mix_up", c)


@layer("MaxNumBoundingBoxes", "MaxNumBoundingBoxes")
def max_num_bounding_boxes(x, max_number: Anything, fill_value: Anything = None, *, c):
    """Keras MaxNumBoundingBoxes: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "max_num_bounding_boxes", c)


@layer("RandAugment", "RandAugment")
def rand_augment(x, value_range: Anything = None, num_ops: Anything = None, factor: Anything = None, interpolation:
                 Anything = None, *, c):
    """Keras RandAugment: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "rand_augment", c)


@layer("RandomBrightness", "RandomBrightness")
def random_brightness(x, factor: Anything, value_range: Anything = None, *, c):
    """Keras RandomBrightness: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_brightness", c)


@layer("RandomColorDegeneration", "RandomColorDegeneration")
def random_color_degeneration(x, factor: Anything, value_range: Anything = None, *, c):
    """Keras RandomColorDegeneration: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_color_degeneration", c)


@layer("RandomColorJitter", "RandomColorJitter")
def random_color_jitter(x, value_range: Anything = None, brightness_factor: Anything = None, contrast_factor:
                        Anything = None, saturation_factor: Anything = None, hue_factor: Anything = None, *, c):
    """Keras RandomColorJitter: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_color_jitter", c)


@layer("RandomContrast", "RandomContrast")
def random_contrast(x, factor: Anything, value_range: Anything = None, *, c):
    """Keras RandomContrast: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_contrast", c)


@layer("RandomElasticTransform", "RandomElasticTransform")
def random_elastic_transform(x, factor: Anything = None, scale: Anything = None, interpolation: Anything = None,
                             fill_mode: Anything = None, fill_value: Anything = None, value_range: Anything = None,
                             *, c):
    """Keras RandomElasticTransform: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_elastic_transform", c)


@layer("RandomErasing", "RandomErasing")
def random_erasing(x, factor: Anything = None, scale: Anything = None, fill_value: Anything = None, value_range:
                   Anything = None, *, c):
    """Keras RandomErasing: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_erasing", c)


@layer("RandomFlip", "RandomFlip")
def random_flip(x, mode: Anything = None, *, c):
    """Keras RandomFlip: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_flip", c)


@layer("RandomGaussianBlur", "RandomGaussianBlur")
def random_gaussian_blur(x, factor: Anything = None, kernel_size: Anything = None, sigma: Anything = None,
                         value_range: Anything = None, *, c):
    """Keras RandomGaussianBlur: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_gaussian_blur", c)


@layer("RandomGrayscale", "RandomGrayscale")
def random_grayscale(x, factor: Anything = None, *, c):
    """Keras RandomGrayscale: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_grayscale", c)


@layer("RandomHue", "RandomHue")
def random_hue(x, factor: Anything, value_range: Anything = None, *, c):
    """Keras RandomHue: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_hue", c)


@layer("RandomInvert", "RandomInvert")
def random_invert(x, factor: Anything = None, value_range: Anything = None, *, c):
    """Keras RandomInvert: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_invert", c)


@layer("RandomPerspective", "RandomPerspective")
def random_perspective(x, factor: Anything = None, scale: Anything = None, interpolation: Anything = None,
                       fill_value: Anything = None, *, c):
    """Keras RandomPerspective: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_perspective", c)


@layer("RandomPosterization", "RandomPosterization")
def random_posterization(x, factor: Anything, value_range: Anything = None, *, c):
    """Keras RandomPosterization: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_posterization", c)


@layer("RandomRotation", "RandomRotation")
def random_rotation(x, factor: Anything, fill_mode: Anything = None, interpolation: Anything = None, seed: Anything
                    = None, fill_value: Anything = None, *, c):
    """Keras RandomRotation: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_rotation", c)


@layer("RandomSaturation", "RandomSaturation")
def random_saturation(x, factor: Anything, value_range: Anything = None, *, c):
    """Keras RandomSaturation: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_saturation", c)


@layer("RandomSharpness", "RandomSharpness")
def random_sharpness(x, factor: Anything, value_range: Anything = None, *, c):
    """Keras RandomSharpness: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_sharpness", c)


@layer("RandomShear", "RandomShear")
def random_shear(x, x_factor: Anything = None, y_factor: Anything = None, interpolation: Anything = None, fill_mode:
                 Anything = None, fill_value: Anything = None, *, c):
    """Keras RandomShear: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_shear", c)


@layer("RandomTranslation", "RandomTranslation")
def random_translation(x, height_factor: Anything, width_factor: Anything, fill_mode: Anything = None,
                       interpolation: Anything = None, seed: Anything = None, fill_value: Anything = None, *, c):
    """Keras RandomTranslation: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_translation", c)


@layer("RandomZoom", "RandomZoom")
def random_zoom(x, height_factor: Anything, width_factor: Anything = None, fill_mode: Anything = None,
                interpolation: Anything = None, seed: Anything = None, fill_value: Anything = None, *, c):
    """Keras RandomZoom: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "random_zoom", c)


@layer("Solarization", "Solarization")
def solarization(x, addition_factor: Anything = None, threshold_factor: Anything = None, value_range: Anything =
                 None, *, c):
    """Keras Solarization: an image augmentation (H, W, C), no weights, shape unchanged."""
    return _augmented(x, "solarization", c)


AUGMENTATION_NAMES = ("aug_mix", "auto_contrast", "contrast_limited_adaptive_histogram_equalization", "cut_mix",
                      "equalization", "mix_up", "max_num_bounding_boxes", "rand_augment", "random_brightness",
                      "random_color_degeneration", "random_color_jitter", "random_contrast",
                      "random_elastic_transform", "random_erasing", "random_flip", "random_gaussian_blur",
                      "random_grayscale", "random_hue", "random_invert", "random_perspective",
                      "random_posterization", "random_rotation", "random_saturation", "random_sharpness",
                      "random_shear", "random_translation", "random_zoom", "solarization")
AUGMENTATIONS = tuple(lookup(name).keras_name for name in AUGMENTATION_NAMES)   # their Keras classes


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

@layer("MelSpectrogram", "MelSpectrogram")
def mel_spectrogram(x, fft_length: Dim = 2048, sequence_stride: Dim = 512, sequence_length: Dim = None,
                    num_mel_bins: Dim = 128):
    """Keras MelSpectrogram: (T,) samples -> (num_mel_bins, frames); frames of sequence_length (by default
    fft_length) samples every sequence_stride, the signal padded by half a frame on each side."""
    need_rank(x, 1, "mel_spectrogram", "(samples)")
    frame = fft_length if sequence_length is None else sequence_length
    frames = 1 + sp.floor((x[0] + 2 * sp.floor(frame / 2) - frame) / sequence_stride)
    return Out(shape=(num_mel_bins, frames))


StftMode = Choice("log", "magnitude", "psd", "real", "imag", "stft")


@layer("STFTSpectrogram", "STFTSpectrogram")
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
