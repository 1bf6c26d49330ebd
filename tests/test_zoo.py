"""The model zoo: each file gives the framework's published count exactly at its defaults, and
its blocks agree with the same blocks built from torch.nn modules (meta device)."""
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symparams

ZOO = Path(__file__).resolve().parent.parent / "examples" / "zoo"

PUBLISHED = [
    ("gpt2.sp", "gpt2_small", 124_439_808),
    ("gpt2.sp", "gpt2_medium", 354_823_168),
    ("gpt2.sp", "gpt2_large", 774_030_080),
    ("gpt2.sp", "gpt2_xl", 1_557_611_200),
    ("bert.sp", "bert_base", 109_482_240),
    ("bert.sp", "bert_large", 335_141_888),
    ("vit_b16.sp", None, 86_567_656),
    ("resnet.sp", "resnet18", 11_689_512),
    ("resnet.sp", "resnet50", 25_557_032),
    ("resnet50_keras.sp", None, 25_636_712),
    ("vgg16.sp", None, 138_357_544),
    ("mobilenet_v2.sp", None, 3_504_872),
    ("mobilenet_keras.sp", None, 4_253_864),            # keras.applications.MobileNet
    ("densenet121_keras.sp", None, 8_062_504),          # keras.applications.DenseNet121
    ("efficientnet_b0_keras.sp", None, 5_330_571),      # keras.applications.EfficientNetB0
    ("efficientnet_b0.sp", None, 5_288_548),            # torchvision's published counts
    ("resnext50.sp", None, 25_028_904),
    ("convnext_tiny.sp", None, 28_589_128),
    ("swin_t.sp", None, 28_288_354),
    ("llama2_7b.sp", None, 6_738_415_616),
    ("llama2_70b.sp", None, 68_976_648_192),
    ("mixtral_8x7b.sp", None, 46_702_792_704),
]


def load(file, model=None):
    return symparams.load(ZOO / file, model=model)


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def n_buffers(module) -> int:
    return sum(b.numel() for b in module.buffers())


@pytest.mark.parametrize("file,model,published", PUBLISHED)
def test_published_count(file, model, published):
    m = load(file, model)
    assert m.evaluate().params == published
    assert all(not s.is_number for s in [m.params]), "the count is a formula in the model's symbols"


def test_zoo_files_are_all_tested():
    tested = {f for f, _, _ in PUBLISHED} | {"lenet5.sp"}
    assert {p.name for p in ZOO.glob("*.sp")} == tested


# ---------------------------------------------------------------- per block, against torch.nn

def _set(m, **values):
    return m.evaluate(values)


@pytest.mark.parametrize("d,h", [(768, 12), (64, 4), (1024, 16)])
def test_bert_layer_matches_torch(d, h):
    from torch import nn
    layer = nn.ModuleList([nn.MultiheadAttention(d, h), nn.LayerNorm(d), nn.Linear(d, 4 * d),
                           nn.Linear(4 * d, d), nn.LayerNorm(d)]).to("meta")
    ev = _set(load("bert.sp", "bert_base"), d=d, h=h)
    assert ev.row("bert_layer_1")["params"] == n_params(layer)
    pooler = ev.row("pooler")
    assert pooler["params"] == d * d + d and pooler["output_shape"] == (d,)


def torch_vit_block(d, h, mlp):
    from torch import nn
    return nn.ModuleList([nn.LayerNorm(d), nn.MultiheadAttention(d, h), nn.LayerNorm(d),
                          nn.Linear(d, mlp), nn.Linear(mlp, d)])


@pytest.mark.parametrize("H,p,d,h,L", [(224, 16, 768, 12, 12), (32, 8, 64, 4, 2), (64, 16, 96, 6, 3)])
def test_vit_matches_torch_block_and_whole(H, p, d, h, L):
    import torch
    from torch import nn
    ev = _set(load("vit_b16.sp"), H=H, W=H, p=p, d=d, h=h, L=L, mlp=4 * d)
    assert ev.row("vit_layer_1")["params"] == n_params(torch_vit_block(d, h, 4 * d))
    n = (H // p) ** 2
    whole = nn.ModuleList([nn.Conv2d(3, d, p, stride=p), *[torch_vit_block(d, h, 4 * d) for _ in range(L)],
                           nn.LayerNorm(d), nn.Linear(d, 1000)]).to("meta")
    class_token, positions = torch.zeros(1, 1, d), torch.zeros(1, n + 1, d)   # torchvision's two Parameters
    assert ev.params == n_params(whole) + class_token.numel() + positions.numel()
    assert ev.shape(ev.model.rows[2].output_shape) == (n + 1, d)


def torch_bottleneck(cin, f, s, project):
    from torch import nn
    layers = [nn.Conv2d(cin, f, 1, bias=False), nn.BatchNorm2d(f),
              nn.Conv2d(f, f, 3, stride=s, padding=1, bias=False), nn.BatchNorm2d(f),
              nn.Conv2d(f, 4 * f, 1, bias=False), nn.BatchNorm2d(4 * f)]
    if project:
        layers += [nn.Conv2d(cin, 4 * f, 1, stride=s, bias=False), nn.BatchNorm2d(4 * f)]
    return nn.Sequential(*layers)


def torch_resnet50(classes=1000):
    """torchvision's resnet50, from torch.nn modules (torchvision itself is not installed)."""
    from torch import nn
    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64)]
    cin = 64
    for f, n, s in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        layers.append(torch_bottleneck(cin, f, s, True))
        layers += [torch_bottleneck(4 * f, f, 1, False) for _ in range(n - 1)]
        cin = 4 * f
    return nn.Sequential(*layers, nn.Linear(2048, classes)).to("meta")


def test_resnet50_blocks_and_whole_match_torch():
    m = load("resnet.sp", "resnet50")
    ev = m.evaluate()
    for name, (cin, f, s, project) in {"bottleneck_down_1": (64, 64, 1, True), "bottleneck_down_2": (256, 128, 2, True),
                                       "bottleneck_1": (256, 64, 1, False), "bottleneck_3": (1024, 256, 1, False),
                                       "bottleneck_4": (2048, 512, 1, False)}.items():
        block = torch_bottleneck(cin, f, s, project).to("meta")
        assert (ev.row(name)["params"], ev.row(name)["buffers"]) == (n_params(block), n_buffers(block)), name
    whole = torch_resnet50()
    assert (ev.params, ev.buffers) == (n_params(whole), n_buffers(whole))
    assert ev.shape(m.row("bottleneck_down_4").output_shape) == (2048, 7, 7)


def test_resnet50_depths_are_symbols():
    m = load("resnet.sp", "resnet50")
    n3 = m.symbols["n3"]
    per_block = sp.expand(sp.diff(m.params, n3))
    block = torch_bottleneck(1024, 256, 1, False).to("meta")
    assert per_block == n_params(block)
    assert m.evaluate({"n3": 23}).params == 44_549_160          # torchvision's resnet101


def test_keras_resnet50_matches_keras_applications():
    import keras
    ev = load("resnet50_keras.sp").evaluate()
    model = keras.applications.ResNet50(weights=None)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert (ev.params, ev.trainable, ev.non_trainable) == (model.count_params(), trainable, frozen)
    assert ev.shape(ev.model.output_shape) == tuple(model.output.shape[1:])


@pytest.mark.parametrize("d,h,ff", [(4096, 32, 11008), (64, 4, 172), (128, 8, 344)])
def test_llama_block_matches_torch(d, h, ff):
    from torch import nn
    block = nn.ModuleList([nn.RMSNorm(d), *[nn.Linear(d, d, bias=False) for _ in range(4)], nn.RMSNorm(d),
                           nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False),
                           nn.Linear(ff, d, bias=False)]).to("meta")
    ev = _set(load("llama2_7b.sp"), d=d, h=h, ff=ff)
    assert ev.row("llama_layer_1")["params"] == n_params(block)


def test_mixtral_active_parameters():
    m = load("mixtral_8x7b.sp")
    active = sp.Add(*[r.params if r.active is None else r.active for r in m.rows])
    assert m.evaluate().number(active) == 12_879_925_248      # "12.9B active parameters"


def torch_mobilenet_v2(classes=1000):
    """torchvision's mobilenet_v2, from torch.nn modules."""
    from torch import nn

    def conv_bn(cin, cout, k, s=1, groups=1):
        return [nn.Conv2d(cin, cout, k, s, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    layers, cin = conv_bn(3, 32, 3, 2), 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            hidden = cin * t
            layers += (conv_bn(cin, hidden, 1) if t != 1 else []) + conv_bn(hidden, hidden, 3, s if i == 0 else 1,
                                                                            hidden) + conv_bn(hidden, c, 1)
            cin = c
    layers += conv_bn(320, 1280, 1) + [nn.Linear(1280, classes)]
    return nn.Sequential(*layers).to("meta")


def test_mobilenet_v2_matches_torch():
    m = load("mobilenet_v2.sp")
    ev = m.evaluate()
    whole = torch_mobilenet_v2()
    assert (ev.params, ev.buffers) == (n_params(whole), n_buffers(whole))
    assert ev.row("inverted_6")["output_shape"] == (320, 7, 7)


def test_vgg16_matches_torch():
    from torch import nn
    convs, cin = [], 3
    for f in (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512):
        convs.append(nn.Conv2d(cin, f, 3, padding=1))
        cin = f
    whole = nn.ModuleList(convs + [nn.Linear(512 * 7 * 7, 4096), nn.Linear(4096, 4096), nn.Linear(4096, 1000)])
    m = load("vgg16.sp")
    assert m.evaluate().params == n_params(whole.to("meta"))
    assert m.evaluate().shape(m.row("stage_5").output_shape) == (512, 7, 7)


def test_lenet5_trainable_parameters_sum_to_60000():
    from torch import nn
    m = load("lenet5.sp")
    ev = m.evaluate()
    trained = [ev.row(n)["params"] for n in ("c1", "s2", "c3", "s4", "c5", "f6")]
    assert sum(trained) == ev.trainable == 60_000
    assert trained[0] == n_params(nn.Conv2d(1, 6, 5)) and trained[4] == n_params(nn.Conv2d(16, 120, 5))
    assert trained[5] == n_params(nn.Linear(120, 84)) and trained[2] == 1516
    assert ev.row("c5")["output_shape"] == (120, 1, 1)


# ---------------------------------------------------------------- keras.applications, built here

def keras_weights(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def before_pooling(m, ev) -> tuple:
    """The shape of the features the classifier pools (the row before the global pooling)."""
    rows = list(m.rows)
    at = next(i for i, r in enumerate(rows) if r.type.startswith(("GlobalAveragePooling", "AdaptiveAvgPool")))
    return ev.shape(rows[at - 1].output_shape)


@pytest.mark.parametrize("file, application, features, sizes", [
    ("mobilenet_keras.sp", "MobileNet", "conv_pw_13_relu", [(224, 224), (161, 193)]),
    ("densenet121_keras.sp", "DenseNet121", "relu", [(224, 224)]),
    ("efficientnet_b0_keras.sp", "EfficientNetB0", "top_activation", [(224, 224), (199, 173)]),
])
def test_keras_applications_match(file, application, features, sizes):
    """Params, trainable, non-trainable (BatchNorm's moving statistics, Normalization's mean,
    variance and count) and the feature map's shape, at odd sizes too (EfficientNet's padding)."""
    import keras
    m = load(file)
    for H, W in sizes:
        model = getattr(keras.applications, application)(weights=None, input_shape=(H, W, 3))
        ev = m.evaluate({"H": H, "W": W})
        assert (ev.params, ev.trainable, ev.non_trainable) == \
            (model.count_params(), keras_weights(model.trainable_weights), keras_weights(model.non_trainable_weights))
        assert before_pooling(m, ev) == tuple(model.get_layer(features).output.shape[1:])
        assert ev.shape(m.output_shape) == tuple(model.output.shape[1:])


def test_densenet_transition_reads_its_channels():
    ev = load("densenet121_keras.sp").evaluate()
    assert [ev.row(f"transition_{i}")["output_shape"] for i in (1, 2, 3)] == [(28, 28, 128), (14, 14, 256), (7, 7, 512)]


# ---------------------------------------------------------------- torchvision, rebuilt from torch.nn

@pytest.mark.parametrize("file, build", [("efficientnet_b0.sp", "efficientnet_b0"), ("resnext50.sp", "resnext50_32x4d"),
                                         ("convnext_tiny.sp", "convnext_tiny"), ("swin_t.sp", "swin_t")])
@pytest.mark.parametrize("H, W", [(224, 224), (193, 161)])
def test_torchvision_models_match_torch_nn_builds(file, build, H, W):
    """tests/torchvision_nn.py follows torchvision's code with torch.nn alone: params, buffers, the
    feature map's shape and MACs (FlopCounterMode) agree at two sizes."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    import torchvision_nn
    with torch.device("meta"):
        net = getattr(torchvision_nn, build)().eval()
        with FlopCounterMode(display=False) as counter:
            y = net(torch.zeros(1, 3, H, W))
    m = load(file)
    ev = m.evaluate({"H": H, "W": W})
    assert (ev.params, ev.buffers) == (n_params(net), n_buffers(net))
    assert ev.macs == counter.get_total_flops() // 2
    assert ev.shape(m.output_shape) == tuple(y.shape[1:])


def test_resnext_groups_and_width_are_symbols():
    m = load("resnext50.sp")
    assert m.evaluate({"G": 1, "wg": 64}).params == 25_557_032        # G = 1, 64 wide: ResNet-50
    assert m.evaluate({"wg": 8, "n3": 23}).params == 88_791_336       # torchvision's resnext101_32x8d
