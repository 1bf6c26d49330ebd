"""torchvision's EfficientNet-B0, ResNeXt-50 32x4d, ConvNeXt-Tiny and Swin-T from torch.nn modules alone,
following torchvision/models/{efficientnet,resnet,convnext,swin_transformer}.py."""
import torch
from torch import nn


def conv_bn_act(cin, cout, k, s=1, groups=1, act=nn.SiLU):
    """torchvision.ops.Conv2dNormActivation: padding (k - 1) // 2, no bias before BatchNorm."""
    layers = [nn.Conv2d(cin, cout, k, s, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([act()] if act else []))


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeeze):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(channels, squeeze, 1), nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(nn.functional.silu(self.fc1(s))))


class MBConv(nn.Module):
    def __init__(self, t, k, s, cin, cout):
        super().__init__()
        hidden = cin * t
        layers = [conv_bn_act(cin, hidden, 1)] if hidden != cin else []
        layers += [conv_bn_act(hidden, hidden, k, s, hidden), SqueezeExcitation(hidden, max(1, cin // 4)),
                   conv_bn_act(hidden, cout, 1, act=None)]
        self.block, self.residual = nn.Sequential(*layers), s == 1 and cin == cout

    def forward(self, x):
        y = self.block(x)
        return y + x if self.residual else y


def efficientnet_b0(classes=1000):
    layers = [conv_bn_act(3, 32, 3, 2)]
    for t, k, s, cin, cout, n in ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                                  (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)):
        layers += [MBConv(t, k, s if i == 0 else 1, cin if i == 0 else cout, cout) for i in range(n)]
    layers.append(conv_bn_act(320, 1280, 1))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, classes))


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, s, groups=32, width_per_group=4):
        super().__init__()
        width = int(planes * (width_per_group / 64.0)) * groups
        self.body = nn.Sequential(conv_bn_act(cin, width, 1, act=nn.ReLU), conv_bn_act(width, width, 3, s, groups, nn.ReLU),
                                  conv_bn_act(width, planes * 4, 1, act=None))
        self.down = None if s == 1 and cin == planes * 4 else nn.Sequential(
            nn.Conv2d(cin, planes * 4, 1, s, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        return torch.relu(self.body(x) + (x if self.down is None else self.down(x)))


def resnext50_32x4d(classes=1000):
    layers, cin = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)], 64
    for planes, n, s in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(n):
            layers.append(Bottleneck(cin, planes, s if i == 0 else 1))
            cin = planes * 4
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, classes))


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.mlp = nn.Sequential(nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x):
        y = self.mlp(self.dw(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return x + self.layer_scale * y


def convnext_tiny(classes=1000):
    layers = [nn.Conv2d(3, 96, 4, 4), LayerNorm2d(96, eps=1e-6)]
    for cin, cout, n in ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)):
        layers += [CNBlock(cin) for _ in range(n)]
        if cout:
            layers += [LayerNorm2d(cin, eps=1e-6), nn.Conv2d(cin, cout, 2, 2)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), LayerNorm2d(768, eps=1e-6), nn.Flatten(), nn.Linear(768, classes))


class WindowAttention(nn.Module):
    """Multi-head self-attention inside w x w windows of a channels-last map padded to whole
    windows, with a learned bias per head for each relative offset (torchvision's
    ShiftedWindowAttention; the shift only rolls the map, so it is left out)."""

    def __init__(self, dim, heads, w):
        super().__init__()
        self.heads, self.w = heads, w
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * w - 1) ** 2, heads))
        ys, xs = torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")
        dy = ys.flatten()[:, None] - ys.flatten()[None, :] + w - 1
        dx = xs.flatten()[:, None] - xs.flatten()[None, :] + w - 1
        self.register_buffer("relative_position_index", (dy * (2 * w - 1) + dx).flatten())

    def forward(self, x):
        n, h, w_, c = x.shape
        w, heads = self.w, self.heads
        x = nn.functional.pad(x, (0, 0, 0, -w_ % w, 0, -h % w))
        hp, wp = x.shape[1:3]
        windows = x.view(n, hp // w, w, wp // w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c)
        q, k, v = self.qkv(windows).reshape(-1, w * w, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
        bias = self.relative_position_bias_table[self.relative_position_index].view(w * w, w * w, heads)
        attn = (q * (c // heads) ** -0.5) @ k.transpose(-2, -1) + bias.permute(2, 0, 1)
        out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(-1, w * w, c)
        out = self.proj(out).view(n, hp // w, wp // w, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(n, hp, wp, c)
        return out[:, :h, :w_]


class SwinBlock(nn.Module):
    def __init__(self, dim, heads, w):
        super().__init__()
        self.norm1, self.attn, self.norm2 = nn.LayerNorm(dim), WindowAttention(dim, heads, w), nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    """Each 2x2 neighbourhood side by side on the channels (odd sizes padded), LayerNorm, 4C -> 2C."""

    def __init__(self, dim):
        super().__init__()
        self.norm, self.reduction = nn.LayerNorm(4 * dim), nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        x = nn.functional.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class Permute(nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


def swin_t(classes=1000):
    layers = [nn.Conv2d(3, 96, 4, 4), Permute(0, 2, 3, 1), nn.LayerNorm(96)]
    for i, (depth, heads) in enumerate(((2, 3), (2, 6), (6, 12), (2, 24))):
        dim = 96 * 2 ** i
        layers += [SwinBlock(dim, heads, 7) for _ in range(depth)] + ([PatchMerging(dim)] if i < 3 else [])
    return nn.Sequential(*layers, nn.LayerNorm(768), Permute(0, 3, 1, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(768, classes))
