"""Small PyTorch look-alikes of the edge models people download as .onnx, built from what the
published ones are made of (their layers and the way their heads and states are wired), with
seeded weights. Each entry says its input shapes, the dynamic axes a real export declares,
and its input and output names. Used by edge_onnx.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin: int, cout: int, stride: int = 1, groups: int = 1, act: str = "relu", kernel: int = 3) -> nn.Sequential:
    layers: List[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    layers.append({"relu": nn.ReLU(), "relu6": nn.ReLU6(), "prelu": nn.PReLU(cout), "leaky": nn.LeakyReLU(0.1),
                   "none": nn.Identity()}[act])
    return nn.Sequential(*layers)


def depthwise_separable(cin: int, cout: int, stride: int = 1, act: str = "relu") -> nn.Sequential:
    return nn.Sequential(conv_bn(cin, cin, stride, groups=cin, act=act), conv_bn(cin, cout, 1, act=act, kernel=1))


class FaceDetector(nn.Module):
    """Ultra-Light-Fast-Generic-Face-Detector / RetinaFace-mobile: depthwise backbone, an FPN whose
    coarser level is upsampled (nearest) and added, per-level class / box / landmark heads
    permuted to NHWC and reshaped to [B, anchors, k], concatenated; Softmax over the 2 classes."""

    def __init__(self, anchors: int = 2, size=(128, 160)):
        super().__init__()
        self.register_buffer("priors", _priors(size, anchors))
        self.stem = conv_bn(3, 8, 2)
        self.stage1 = nn.Sequential(depthwise_separable(8, 16, 2), depthwise_separable(16, 16))
        self.stage2 = depthwise_separable(16, 32, 2)
        self.stage3 = depthwise_separable(32, 32, 2)
        self.lateral = nn.ModuleList([conv_bn(c, 16, kernel=1, act="leaky") for c in (16, 32, 32)])
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.smooth = nn.ModuleList([conv_bn(16, 16, act="leaky") for _ in range(2)])
        self.cls = nn.ModuleList([nn.Conv2d(16, anchors * 2, 1) for _ in range(3)])
        self.box = nn.ModuleList([nn.Conv2d(16, anchors * 4, 1) for _ in range(3)])
        self.landmark = nn.ModuleList([nn.Conv2d(16, anchors * 10, 1) for _ in range(3)])

    def forward(self, x):
        c1 = self.stage1(self.stem(x))
        c2 = self.stage2(c1)
        c3 = self.stage3(c2)
        p3 = self.lateral[2](c3)
        p2 = self.smooth[1](self.lateral[1](c2) + self.up(p3))
        p1 = self.smooth[0](self.lateral[0](c1) + F.interpolate(p2, size=[c1.shape[2], c1.shape[3]], mode="nearest"))
        features = (p1, p2, p3)
        batch = x.shape[0]
        scores = torch.cat([h(f).permute(0, 2, 3, 1).reshape(batch, -1, 2) for h, f in zip(self.cls, features)], 1)
        locations = torch.cat([h(f).permute(0, 2, 3, 1).contiguous().view(batch, -1, 4) for h, f in zip(self.box, features)], 1)
        marks = torch.cat([h(f).permute(0, 2, 3, 1).reshape(batch, -1, 10) for h, f in zip(self.landmark, features)], 1)
        # ULFD's exported decoding: centre offsets and log sizes against the priors, to corner form
        centers = locations[..., :2] * 0.1 * self.priors[..., 2:] + self.priors[..., :2]
        sizes = torch.exp(locations[..., 2:] * 0.2) * self.priors[..., 2:]
        boxes = torch.cat([centers - sizes / 2, centers + sizes / 2], dim=2)
        return F.softmax(scores, dim=-1), boxes, marks


def _priors(size, anchors: int) -> torch.Tensor:
    """[1, prior boxes, 4] (cx, cy, w, h) in the order of the heads: levels of stride 4, 8 and 16."""
    rows = []
    for stride in (4, 8, 16):
        h, w = size[0] // stride, size[1] // stride
        for y in range(h):
            for x in range(w):
                for a in range(anchors):
                    side = stride * (2 + a) / size[1]
                    rows.append([(x + 0.5) / w, (y + 0.5) / h, side, side * size[1] / size[0]])
    return torch.tensor(rows, dtype=torch.float32)[None]


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.body = nn.Sequential(conv_bn(cin, hidden, kernel=1, act="relu6"), conv_bn(hidden, hidden, stride, hidden, "relu6"),
                                  conv_bn(hidden, cout, kernel=1, act="none"))

    def forward(self, x):
        return x + self.body(x) if self.use_residual else self.body(x)


class PFLD(nn.Module):
    """PFLD face landmarks: MobileNetV2 blocks, multi-scale features (two average pools and a conv,
    flattened with x.view(x.size(0), -1)) concatenated into a fully connected layer of 98 x 2."""

    def __init__(self, points: int = 98):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 16, 2), conv_bn(16, 16, groups=16))
        self.blocks = nn.Sequential(InvertedResidual(16, 16, 2, 2), InvertedResidual(16, 16, 1, 2),
                                    InvertedResidual(16, 32, 2, 2), InvertedResidual(32, 32, 1, 2))
        self.s1 = conv_bn(32, 16, 2)
        self.s2 = nn.Conv2d(16, 32, 7, 1, 0)
        self.bn = nn.BatchNorm2d(32)
        self.avg1 = nn.AvgPool2d(14)
        self.avg2 = nn.AvgPool2d(7)
        self.fc = nn.Linear(32 + 16 + 32, points * 2)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        a = self.avg1(x).view(x.size(0), -1)
        y = self.s1(x)
        b = self.avg2(y).view(y.size(0), -1)
        z = F.relu(self.bn(self.s2(y)))
        c = z.view(z.size(0), -1)
        return self.fc(torch.cat([a, b, c], 1))


class BlazeBlock(nn.Module):
    """MediaPipe's BlazeBlock: a 5x5 depthwise and a pointwise conv; a stride-2 block max-pools its
    shortcut and pads its channels with zeros (F.pad on the channel axis)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.stride, self.extra = stride, cout - cin
        self.depthwise = nn.Conv2d(cin, cin, 5, stride, 2 if stride == 1 else 0, groups=cin)
        self.pointwise = nn.Conv2d(cin, cout, 1)
        self.act = nn.PReLU(cout)

    def forward(self, x):
        shortcut = x
        if self.stride == 2:
            x = F.pad(x, (1, 2, 1, 2))
            shortcut = F.max_pool2d(shortcut, 2, 2)
        if self.extra:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.extra))
        return self.act(self.pointwise(self.depthwise(x)) + shortcut)


class HandLandmark(nn.Module):
    """MediaPipe hand landmarks: BlazeBlocks with PReLU, three heads: 21 x 3 landmarks (reordered with
    torch.gather, as for a mirrored hand), a hand presence score and handedness (sigmoids)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.PReLU(16))
        self.blocks = nn.Sequential(BlazeBlock(16, 16), BlazeBlock(16, 24, 2), BlazeBlock(24, 24), BlazeBlock(24, 32, 2),
                                    BlazeBlock(32, 32, 2))
        self.landmarks = nn.Conv2d(32, 63, 8)
        self.presence = nn.Conv2d(32, 1, 8)
        self.handedness = nn.Conv2d(32, 1, 8)
        # the 21 points reordered (x, y, z each) as a mirrored hand's: torch.gather with a constant index
        order = torch.tensor([0, 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13, 20, 19, 18, 17])
        self.register_buffer("mirror", (order[:, None] * 3 + torch.arange(3)).reshape(1, 63))

    def forward(self, x):
        x = self.blocks(self.stem(x))
        points = torch.gather(self.landmarks(x).flatten(1), 1, self.mirror.expand(x.shape[0], -1))
        return (points, torch.sigmoid(self.presence(x).flatten(1)),
                torch.sigmoid(self.handedness(x).reshape(-1, 1)))


class UNetSegmenter(nn.Module):
    """A small U-Net with a DeepLab-style pooled branch: ConvTranspose2d and bilinear resizes with
    align_corners both ways, replicate padding, LeakyReLU, skip concatenations; per-pixel class
    probabilities (softmax over the channel axis)."""

    def __init__(self, classes: int = 3):
        super().__init__()
        self.enc1 = nn.Sequential(nn.ReplicationPad2d(1), nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
                                  conv_bn(8, 8, act="leaky"))
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), conv_bn(8, 16, act="leaky"))
        self.enc3 = nn.Sequential(nn.MaxPool2d(2), conv_bn(16, 32, act="relu6"))
        self.pool_branch = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(32, 32, 1), nn.ReLU())
        self.up2 = nn.ConvTranspose2d(64, 16, 2, 2)
        self.dec2 = conv_bn(32, 16, act="leaky")
        self.dec1 = conv_bn(24, 8, act="leaky")
        self.head = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        pooled = F.interpolate(self.pool_branch(e3), size=e3.shape[2:], mode="bilinear", align_corners=False)
        d2 = self.dec2(torch.cat([self.up2(torch.cat([e3, pooled], 1)), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2.0, mode="bilinear", align_corners=True), e1], 1))
        return F.softmax(self.head(d1), dim=1)


class LRASPPSegmenter(nn.Module):
    """MobileNetV3 + LR-ASPP (torchvision's lraspp / MediaPipe-style selfie segmentation): inverted residuals
    with HardSwish, a dilated depthwise stage, a branch gated by a sigmoid of a pooled feature, a low-level
    skip, and bilinear resizes with align_corners=False (the only kind opsets 7-10 can write)."""

    def __init__(self, classes: int = 2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.low = InvertedResidual(16, 16, 2, 2)
        self.high = nn.Sequential(InvertedResidual(16, 24, 2, 3), nn.Conv2d(24, 24, 3, 1, 2, dilation=2, groups=24),
                                  nn.BatchNorm2d(24), nn.Hardswish(), nn.Conv2d(24, 32, 1), nn.Hardswish())
        self.cbr = nn.Sequential(nn.Conv2d(32, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(32, 16, 1, bias=False), nn.Sigmoid())
        self.low_classifier = nn.Conv2d(16, classes, 1)
        self.high_classifier = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        low = self.low(self.stem(x))
        high = self.high(low)
        gated = self.cbr(high) * self.scale(high)
        up = F.interpolate(gated, scale_factor=2.0, mode="bilinear", align_corners=False)
        logits = self.low_classifier(low) + self.high_classifier(up)
        return F.interpolate(logits, scale_factor=4.0, mode="bilinear", align_corners=False)


class DBTextDetector(nn.Module):
    """PaddleOCR's DB text detector: a depthwise backbone, an FPN (nearest upsampling, additions,
    then every level upsampled to the finest and concatenated), a head of conv, BN, ReLU and two
    ConvTranspose2d (stride 2) ending in a Sigmoid probability map at the input's size."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(conv_bn(3, 8, 2, act="relu"), depthwise_separable(8, 16, 2, "relu"))
        self.c2 = depthwise_separable(16, 24, 2, "relu")
        self.c3 = depthwise_separable(24, 32, 2, "relu")
        self.inner = nn.ModuleList([nn.Conv2d(c, 16, 1, bias=False) for c in (16, 24, 32)])
        self.outer = nn.ModuleList([nn.Conv2d(16, 4, 3, padding=1, bias=False) for _ in range(3)])
        self.head = nn.Sequential(nn.Conv2d(12, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.ConvTranspose2d(4, 4, 2, 2), nn.BatchNorm2d(4), nn.ReLU(), nn.ConvTranspose2d(4, 1, 2, 2))

    def forward(self, x):
        f1 = self.c1(x)
        f2 = self.c2(f1)
        f3 = self.c3(f2)
        i3 = self.inner[2](f3)
        i2 = self.inner[1](f2) + F.interpolate(i3, scale_factor=2, mode="nearest")
        i1 = self.inner[0](f1) + F.interpolate(i2, scale_factor=2, mode="nearest")
        p3 = F.interpolate(self.outer[2](i3), scale_factor=4, mode="nearest")
        p2 = F.interpolate(self.outer[1](i2), scale_factor=2, mode="nearest")
        fused = torch.cat([p3, p2, self.outer[0](i1)], 1)
        return torch.sigmoid(self.head(fused))


class CRNN(nn.Module):
    """A CRNN text recognizer: convs that pool the height to 1, squeeze and permute to a [T, B, C]
    sequence, a two-layer bidirectional LSTM, a Linear over the characters, log-softmax."""

    def __init__(self, characters: int = 37, hidden: int = 16):
        super().__init__()
        self.cnn = nn.Sequential(conv_bn(1, 8), nn.MaxPool2d(2, 2), conv_bn(8, 16), nn.MaxPool2d(2, 2), conv_bn(16, 32),
                                 nn.MaxPool2d((2, 1), (2, 1)), conv_bn(32, 32), nn.MaxPool2d((4, 1), (4, 1)))
        self.rnn = nn.LSTM(32, hidden, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, characters)

    def forward(self, x):
        features = self.cnn(x).squeeze(2).permute(2, 0, 1)
        sequence, _ = self.rnn(features)
        return F.log_softmax(self.fc(sequence), dim=2)


class SileroLikeVAD(nn.Module):
    """Silero VAD's shape: 512 audio samples, reflect-padded, a conv1d with a fixed "STFT" basis (real
    and imaginary halves, magnitude), a conv1d encoder, an LSTM whose h and c are extra inputs and
    outputs (the stream's state), a sigmoid speech probability averaged over frames."""

    def __init__(self, fft: int = 64, hop: int = 32, hidden: int = 32):
        super().__init__()
        self.pad = fft // 2
        bins = fft // 2 + 1
        n = torch.arange(fft, dtype=torch.float32)
        k = torch.arange(bins, dtype=torch.float32)[:, None]
        window = torch.hann_window(fft, periodic=True)
        basis = torch.cat([torch.cos(2 * torch.pi * k * n / fft) * window, -torch.sin(2 * torch.pi * k * n / fft) * window])
        self.register_buffer("basis", basis[:, None, :])
        self.hop, self.bins = hop, bins
        self.encoder = nn.Sequential(nn.Conv1d(bins, 32, 3, padding=1), nn.ReLU(), nn.Conv1d(32, 32, 3, stride=2, padding=1), nn.ReLU())
        self.lstm = nn.LSTM(32, hidden, batch_first=True)
        self.decoder = nn.Sequential(nn.ReLU(), nn.Conv1d(hidden, 1, 1), nn.Sigmoid())

    def forward(self, x, h, c):
        x = F.pad(x.unsqueeze(1), (self.pad, self.pad), mode="reflect")
        spectrum = F.conv1d(x, self.basis, stride=self.hop)
        real, imag = spectrum.chunk(2, dim=1)
        magnitude = torch.sqrt(real * real + imag * imag + 1e-9)
        features = self.encoder(magnitude).permute(0, 2, 1)
        out, (h, c) = self.lstm(features, (h, c))
        probability = self.decoder(out.permute(0, 2, 1)).mean(dim=2)
        return probability, h, c


class _StftFront(nn.Module):
    """Reflect pad, a conv1d with a fixed "STFT" basis (real and imaginary halves), magnitude, a strided conv."""

    def __init__(self, fft: int, hop: int, channels: int = 32):
        super().__init__()
        self.pad = fft // 2
        bins = fft // 2 + 1
        n = torch.arange(fft, dtype=torch.float32)
        k = torch.arange(bins, dtype=torch.float32)[:, None]
        window = torch.hann_window(fft, periodic=True)
        basis = torch.cat([torch.cos(2 * torch.pi * k * n / fft) * window, -torch.sin(2 * torch.pi * k * n / fft) * window])
        self.register_buffer("basis", basis[:, None, :])
        self.hop = hop
        self.conv = nn.Conv1d(bins, channels, 3, stride=2, padding=1)

    def forward(self, x):
        x = F.pad(x.unsqueeze(1), (self.pad, self.pad), mode="reflect")
        spectrum = F.conv1d(x, self.basis, stride=self.hop)
        real, imag = spectrum.chunk(2, dim=1)
        return torch.relu(self.conv(torch.sqrt(real * real + imag * imag + 1e-9)))


class SileroV5LikeVAD(nn.Module):
    """The real Silero VAD v5's interface: audio, one `state` input [2, B, H] (h and c stacked), and a rank-0
    int64 sample rate `sr` that the model branches on (`if sr == 16000`: one front end per rate). Scripted,
    so the TorchScript exporter writes the branch as an ONNX If on Equal(sr, 16000), as the real file has."""

    def __init__(self, hidden: int = 16):
        super().__init__()
        self.front_16k = _StftFront(64, 32)
        self.front_8k = _StftFront(32, 16)
        self.lstm = nn.LSTM(32, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x, state, sr):
        if sr == 16000:
            features = self.front_16k(x)
        else:
            features = self.front_8k(x[:, ::2])
        out, (h, c) = self.lstm(features.permute(0, 2, 1), (state[0:1], state[1:2]))
        return torch.sigmoid(self.head(out)).mean(dim=1), torch.cat([h, c], 0)


def silero_v5_like_vad() -> nn.Module:
    return torch.jit.script(SileroV5LikeVAD())


class WakeWordGRU(nn.Module):
    """A wake-word model over MFCC frames [B, T, 40]: 1-D convs across time (channels first), a GRU
    with batch_first, the last step's state into a Linear and a softmax over the keywords."""

    def __init__(self, mfcc: int = 40, keywords: int = 4):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv1d(mfcc, 32, 5, padding=2), nn.BatchNorm1d(32), nn.ReLU(),
                                   nn.Conv1d(32, 32, 3, stride=2, padding=1, groups=4), nn.BatchNorm1d(32), nn.ReLU(),
                                   nn.MaxPool1d(2))
        self.gru = nn.GRU(32, 24, batch_first=True)
        self.fc = nn.Linear(24, keywords)

    def forward(self, frames):
        x = self.convs(frames.transpose(1, 2)).transpose(1, 2)
        _, last = self.gru(x)
        return F.softmax(self.fc(last[-1]), dim=-1)


class OpenWakeWordHead(nn.Module):
    """openWakeWord's classifier: [B, 16, 96] speech embeddings flattened, Linear, LayerNorm, ReLU,
    Linear, Sigmoid; exported in float64 here, as some pipelines keep it."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(16 * 96, 32), nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 32),
                                 nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x)


class _ConvDP(nn.Module):
    """YuNet's ConvDPUnit: a pointwise conv then a 3x3 depthwise conv, batch norm, optional ReLU."""

    def __init__(self, cin: int, cout: int, relu: bool = True):
        super().__init__()
        self.pw = nn.Conv2d(cin, cout, 1)
        self.dw = nn.Conv2d(cout, cout, 3, 1, 1, groups=cout, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x):
        x = self.bn(self.dw(self.pw(x)))
        return F.relu(x) if self.relu else x


class YuNetLike(nn.Module):
    """OpenCV zoo's YuNet face detector: a stem conv, ConvDPUnit stages separated by 2x2 max pools, a
    top-down neck (nearest 2x upsampling added to the finer level), per-level heads at strides 8, 16
    and 32 for class and objectness (Sigmoid), box and five landmarks, each permuted to NHWC and
    reshaped to [1, anchors, k]: twelve outputs, as the real file has."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(), _ConvDP(width, width))
        self.stage1 = nn.Sequential(nn.MaxPool2d(2), _ConvDP(width, width), _ConvDP(width, 2 * width))
        self.stage2 = nn.Sequential(nn.MaxPool2d(2), _ConvDP(2 * width, 2 * width), _ConvDP(2 * width, 2 * width))  # stride 8
        self.stage3 = nn.Sequential(nn.MaxPool2d(2), _ConvDP(2 * width, 2 * width))  # stride 16
        self.stage4 = nn.Sequential(nn.MaxPool2d(2), _ConvDP(2 * width, 2 * width))  # stride 32
        self.neck = nn.ModuleList([_ConvDP(2 * width, 2 * width) for _ in range(3)])
        self.shared = nn.ModuleList([_ConvDP(2 * width, 2 * width) for _ in range(3)])
        self.cls = nn.ModuleList([_ConvDP(2 * width, 1, relu=False) for _ in range(3)])
        self.obj = nn.ModuleList([_ConvDP(2 * width, 1, relu=False) for _ in range(3)])
        self.bbox = nn.ModuleList([_ConvDP(2 * width, 4, relu=False) for _ in range(3)])
        self.kps = nn.ModuleList([_ConvDP(2 * width, 10, relu=False) for _ in range(3)])

    def forward(self, x):
        c8 = self.stage2(self.stage1(self.stem(x)))
        c16 = self.stage3(c8)
        c32 = self.stage4(c16)
        p32 = self.neck[2](c32)
        p16 = self.neck[1](c16 + F.interpolate(p32, scale_factor=2.0, mode="nearest"))
        p8 = self.neck[0](c8 + F.interpolate(p16, scale_factor=2.0, mode="nearest"))
        feats = [s(p) for s, p in zip(self.shared, (p8, p16, p32))]

        def flat(t, k):
            return t.permute(0, 2, 3, 1).reshape(1, -1, k)

        return (tuple(torch.sigmoid(flat(h(f), 1)) for h, f in zip(self.cls, feats))
                + tuple(torch.sigmoid(flat(h(f), 1)) for h, f in zip(self.obj, feats))
                + tuple(flat(h(f), 4) for h, f in zip(self.bbox, feats))
                + tuple(flat(h(f), 10) for h, f in zip(self.kps, feats)))


class UltraLightSlim(nn.Module):
    """Ultra-Light-Fast-Generic-Face-Detector's version-slim / RFB at its published opsets: the
    model as exported in 2019, with nn.Upsample(scale_factor=2) (a constant scale, which ONNX wrote as
    Upsample with a `scales` attribute at opset 7), a depthwise backbone, per-level heads, softmax
    scores and raw box regressions concatenated."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8, 2)
        self.s4 = nn.Sequential(depthwise_separable(8, 16, 2), depthwise_separable(16, 16))
        self.s8 = depthwise_separable(16, 32, 2)
        self.s16 = depthwise_separable(32, 32, 2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.cls = nn.ModuleList([nn.Conv2d(c, 6, 3, padding=1) for c in (16, 32, 32)])
        self.box = nn.ModuleList([nn.Conv2d(c, 12, 3, padding=1) for c in (16, 32, 32)])

    def forward(self, x):
        f4 = self.s4(self.stem(x))
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        f8 = f8 + self.up(f16)
        scores = torch.cat([h(f).permute(0, 2, 3, 1).reshape(1, -1, 2) for h, f in zip(self.cls, (f4, f8, f16))], 1)
        boxes = torch.cat([h(f).permute(0, 2, 3, 1).reshape(1, -1, 4) for h, f in zip(self.box, (f4, f8, f16))], 1)
        return F.softmax(scores, dim=2), boxes


class _SqueezeExcite(nn.Module):
    """PaddleOCR's MobileNetV3 SE: global average pool, 1x1 conv, ReLU, 1x1 conv, hard sigmoid (slope 0.2)."""

    def __init__(self, channels: int):
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x):
        s = F.relu(self.reduce(F.adaptive_avg_pool2d(x, 1)))
        return x * torch.clamp(0.2 * self.expand(s) + 0.5, 0.0, 1.0)  # Paddle's hardsigmoid, as exported


class _MBV3Block(nn.Module):
    def __init__(self, cin: int, hidden: int, cout: int, kernel: int, stride: int, se: bool, act: str):
        super().__init__()
        make_act = nn.Hardswish if act == "hardswish" else nn.ReLU
        self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), make_act())
        self.dw = nn.Sequential(nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False),
                                nn.BatchNorm2d(hidden), make_act())
        self.se = _SqueezeExcite(hidden) if se else nn.Identity()
        self.project = nn.Sequential(nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.se(self.dw(self.expand(x))))
        return x + y if self.residual else y


class DBMobileNetV3(nn.Module):
    """PaddleOCR's PP-OCR text detector (DBNet, MobileNetV3-small-ish backbone): HardSwish, squeeze-excite with
    a hard sigmoid, 5x5 depthwise; a DB-FPN with nearest upsampling; a head of conv, BN, ReLU, two
    ConvTranspose2d (stride 2) and a Sigmoid probability map at the input's size."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
        self.c2 = nn.Sequential(_MBV3Block(8, 16, 8, 3, 1, False, "relu"), _MBV3Block(8, 24, 12, 3, 2, False, "relu"))  # /4
        self.c3 = _MBV3Block(12, 36, 16, 5, 2, True, "relu")  # /8
        self.c4 = nn.Sequential(_MBV3Block(16, 48, 24, 3, 2, False, "hardswish"), _MBV3Block(24, 48, 24, 3, 1, True, "hardswish"))
        self.c5 = _MBV3Block(24, 72, 32, 5, 2, True, "hardswish")  # /32
        self.inner = nn.ModuleList([nn.Conv2d(c, 16, 1, bias=False) for c in (12, 16, 24, 32)])
        self.outer = nn.ModuleList([nn.Conv2d(16, 4, 3, padding=1, bias=False) for _ in range(4)])
        self.head = nn.Sequential(nn.Conv2d(16, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.ConvTranspose2d(4, 4, 2, 2), nn.BatchNorm2d(4), nn.ReLU(), nn.ConvTranspose2d(4, 1, 2, 2))

    def forward(self, x):
        c2 = self.c2(self.stem(x))
        c3 = self.c3(c2)
        c4 = self.c4(c3)
        c5 = self.c5(c4)
        in5 = self.inner[3](c5)
        out4 = self.inner[2](c4) + F.interpolate(in5, scale_factor=2, mode="nearest")
        out3 = self.inner[1](c3) + F.interpolate(out4, scale_factor=2, mode="nearest")
        out2 = self.inner[0](c2) + F.interpolate(out3, scale_factor=2, mode="nearest")
        p5 = F.interpolate(self.outer[3](in5), scale_factor=8, mode="nearest")
        p4 = F.interpolate(self.outer[2](out4), scale_factor=4, mode="nearest")
        p3 = F.interpolate(self.outer[1](out3), scale_factor=2, mode="nearest")
        fused = torch.cat([p5, p4, p3, self.outer[0](out2)], 1)
        return torch.sigmoid(self.head(fused))


class _SVTRAttention(nn.Module):
    """PaddleOCR's SVTR global mixing: one Linear to q, k, v, reshaped [B, N, 3, heads, d] and permuted,
    q scaled, q @ k^T, softmax, @ v, back to [B, N, C], a projection."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, c = x.shape[1], x.shape[2]
        qkv = self.qkv(x).reshape(-1, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attention = F.softmax(q.matmul(k.permute(0, 1, 3, 2)), dim=-1)
        return self.proj(attention.matmul(v).permute(0, 2, 1, 3).reshape(-1, n, c))


class _SVTRBlock(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.mixer = _SVTRAttention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.mixer(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class SVTRTinyLike(nn.Module):
    """PP-OCRv3's recognizer (SVTR-LCNet neck): a conv stem with HardSwish down to height 1 (average pooled),
    the 1 x W map as a sequence [B, W, C], two transformer blocks (LayerNorm, multi-head attention,
    GELU MLP), back to a map, a 1x1 conv with HardSwish, a CTC head (Linear over characters, softmax)."""

    def __init__(self, dim: int = 32, characters: int = 40):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish(),
                                  nn.Conv2d(16, dim, 3, (2, 1), 1, bias=False), nn.BatchNorm2d(dim), nn.Hardswish(),
                                  nn.Conv2d(dim, dim, 3, (2, 1), 1, groups=dim, bias=False), nn.BatchNorm2d(dim), nn.Hardswish())
        self.pool = nn.AvgPool2d((4, 2))
        self.blocks = nn.Sequential(_SVTRBlock(dim, 4), _SVTRBlock(dim, 4))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.fuse = nn.Sequential(nn.Conv2d(dim, dim, 1, bias=False), nn.BatchNorm2d(dim), nn.Hardswish())
        self.ctc = nn.Linear(dim, characters)

    def forward(self, x):
        f = self.pool(self.stem(x))  # [B, C, 1, W]
        b, c, h, w = f.shape
        seq = self.norm(self.blocks(f.flatten(2).permute(0, 2, 1)))
        f = self.fuse(seq.permute(0, 2, 1).reshape(-1, c, h, w))
        return F.softmax(self.ctc(f.squeeze(2).permute(0, 2, 1)), dim=2)


class MelSpectrogramFront(nn.Module):
    """openWakeWord's melspectrogram.onnx (a torchlibrosa export): framing and the DFT as Conv1d with fixed
    Hann-windowed cosine and sine kernels, power (real^2 + imag^2, written with Pow), a MatMul with a
    mel filterbank, 10 * log10 of the power clamped from below (Clip, Log, Div), reshaped to [1, 1, frames, mels]."""

    def __init__(self, fft: int = 128, hop: int = 64, mels: int = 16):
        super().__init__()
        bins = fft // 2 + 1
        n = torch.arange(fft, dtype=torch.float32)
        k = torch.arange(bins, dtype=torch.float32)[:, None]
        window = torch.hann_window(fft, periodic=True)
        self.real = nn.Conv1d(1, bins, fft, hop, bias=False)
        self.imag = nn.Conv1d(1, bins, fft, hop, bias=False)
        self.real.weight.data = (torch.cos(2 * torch.pi * k * n / fft) * window)[:, None, :]
        self.imag.weight.data = (-torch.sin(2 * torch.pi * k * n / fft) * window)[:, None, :]
        # triangular filters over the bins, evenly spaced (a stand-in for librosa's mel scale)
        centers = torch.linspace(0, bins - 1, mels + 2)
        ramp = torch.arange(bins, dtype=torch.float32)[:, None]
        left, mid, right = centers[:-2], centers[1:-1], centers[2:]
        bank = torch.clamp(torch.minimum((ramp - left) / (mid - left), (right - ramp) / (right - mid)), min=0.0)
        self.register_buffer("melbank", bank)
        self.fft = fft

    def forward(self, samples):
        x = samples[:, None, :]
        power = torch.pow(self.real(x), 2.0) + torch.pow(self.imag(x), 2.0)  # [B, bins, frames]
        mel = torch.matmul(power.transpose(1, 2), self.melbank)
        db = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        return (db / 10.0 + 2.0)[:, None]  # openWakeWord's scaling, as the model of its v0.5 exports


class SpeechEmbeddingLike(nn.Module):
    """openWakeWord's embedding model (Google's speech_embedding, converted by tf2onnx): a [1, 76, 32, 1] NHWC
    input transposed to NCHW, convs of 3x1 and 1x3 with LeakyReLU(0.2), max pools, a last conv to 96
    channels over what is left, reshaped to [1, 1, 1, 96]."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 24, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(24, 24, (3, 1), 1, (1, 0)), nn.LeakyReLU(0.2), nn.Conv2d(24, 24, (1, 3), 1, (0, 1)), nn.LeakyReLU(0.2),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(24, 32, (3, 1), 1, (1, 0)), nn.LeakyReLU(0.2), nn.Conv2d(32, 32, (1, 3), 1, (0, 1)), nn.LeakyReLU(0.2),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 32, (3, 1), 1, (1, 0)), nn.LeakyReLU(0.2), nn.Conv2d(32, 32, (1, 3), 1, (0, 1)), nn.LeakyReLU(0.2),
            nn.MaxPool2d((2, 2), (2, 2)),
            nn.Conv2d(32, 96, (9, 4)))

    def forward(self, x):
        return self.net(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


@dataclass
class EdgeModel:
    name: str
    factory: Callable[[], nn.Module]
    shapes: List[List[int]]
    input_names: List[str]
    output_names: List[str]
    dynamic_axes: Dict[str, Dict[int, str]] = field(default_factory=dict)
    dtype: torch.dtype = torch.float32
    kind: str = ""
    # inputs after those of `shapes`, bound to a value at capture (--input-value NAME=VALUE): rank-0 int64 switches
    values: Dict[str, int] = field(default_factory=dict)


def _batch(names: Sequence[str], axis: int = 0) -> Dict[str, Dict[int, str]]:
    return {n: {axis: "batch"} for n in names}


MODELS: List[EdgeModel] = [
    EdgeModel("face_detector", FaceDetector, [[1, 3, 128, 160]], ["input"], ["scores", "boxes", "landmarks"],
              {"input": {0: "batch", 2: "height", 3: "width"}, **_batch(["scores", "boxes", "landmarks"])},
              kind="face detection (Ultra-Light / RetinaFace-mobile)"),
    EdgeModel("pfld_landmarks", PFLD, [[1, 3, 112, 112]], ["input"], ["landmarks"], _batch(["input", "landmarks"]),
              kind="face landmarks (PFLD)"),
    EdgeModel("hand_landmarks", HandLandmark, [[1, 3, 128, 128]], ["input"], ["landmarks", "presence", "handedness"],
              _batch(["input", "landmarks", "presence", "handedness"]), kind="hand landmarks (BlazeBlock, PReLU, torch.gather)"),
    EdgeModel("unet_segmenter", UNetSegmenter, [[1, 3, 64, 64]], ["image"], ["probabilities"],
              {"image": {0: "batch", 2: "height", 3: "width"}, "probabilities": {0: "batch", 2: "height", 3: "width"}},
              kind="segmentation (U-Net, DeepLab pool, ConvTranspose, class softmax)"),
    EdgeModel("lraspp_segmenter", LRASPPSegmenter, [[1, 3, 96, 96]], ["input"], ["mask"],
              {"input": {0: "batch"}, "mask": {0: "batch"}}, kind="segmentation (MobileNetV3 LR-ASPP, bilinear, dilated)"),
    EdgeModel("db_text_detector", DBTextDetector, [[1, 3, 64, 96]], ["x"], ["probability"],
              {"x": {0: "batch", 2: "h", 3: "w"}, "probability": {0: "batch", 2: "h", 3: "w"}}, kind="OCR detection (PaddleOCR DB)"),
    EdgeModel("crnn_recognizer", CRNN, [[1, 1, 32, 64]], ["image"], ["log_probs"],
              {"image": {0: "batch", 3: "width"}, "log_probs": {0: "steps", 1: "batch"}}, kind="OCR recognition (CRNN, BiLSTM)"),
    EdgeModel("silero_like_vad", SileroLikeVAD, [[1, 512], [1, 1, 32], [1, 1, 32]], ["input", "h", "c"], ["output", "hn", "cn"],
              {"input": {0: "batch", 1: "samples"}, "h": {1: "batch"}, "c": {1: "batch"}, "output": {0: "batch"}},
              kind="voice activity (Silero-like, LSTM state in and out)"),
    EdgeModel("silero_v5_like_vad", silero_v5_like_vad, [[1, 512], [2, 1, 16]], ["input", "state", "sr"], ["output", "stateN"],
              {"input": {0: "batch", 1: "samples"}, "state": {1: "batch"}, "output": {0: "batch"}, "stateN": {1: "batch"}},
              kind="voice activity (Silero v5's interface: If on a rank-0 sample rate, bound with --input-value sr=16000)",
              values={"sr": 16000}),
    EdgeModel("wakeword_gru", WakeWordGRU, [[1, 49, 40]], ["mfcc"], ["probabilities"], _batch(["mfcc", "probabilities"]),
              kind="wake word (conv1d + GRU over MFCC)"),
    EdgeModel("openwakeword_head_f64", OpenWakeWordHead, [[1, 16, 96]], ["x"], ["score"], _batch(["x", "score"]),
              dtype=torch.float64, kind="wake word (openWakeWord head, float64)"),
    EdgeModel("yunet_like", YuNetLike, [[1, 3, 96, 96]], ["input"],
              [f"{k}_{s}" for k in ("cls", "obj", "bbox", "kps") for s in (8, 16, 32)],
              kind="face detection (OpenCV zoo YuNet: ConvDPUnit, twelve Sigmoid / Reshape heads)"),
    EdgeModel("ultralight_slim", UltraLightSlim, [[1, 3, 96, 128]], ["input"], ["scores", "boxes"],
              kind="face detection (Ultra-Light slim, constant-scale Upsample)"),
    EdgeModel("db_mobilenetv3", DBMobileNetV3, [[1, 3, 64, 64]], ["x"], ["sigmoid_0.tmp_0"],
              {"x": {0: "batch", 2: "h", 3: "w"}, "sigmoid_0.tmp_0": {0: "batch", 2: "h", 3: "w"}},
              kind="OCR detection (PP-OCR DB, MobileNetV3: HardSwish, SE hard sigmoid, ConvTranspose)"),
    EdgeModel("svtr_tiny_like", SVTRTinyLike, [[1, 3, 32, 64]], ["x"], ["softmax_0.tmp_0"],
              {"x": {0: "batch", 3: "w"}, "softmax_0.tmp_0": {0: "batch", 1: "steps"}},
              kind="OCR recognition (PP-OCRv3 SVTR: LayerNorm, attention, GELU, CTC softmax)"),
    EdgeModel("melspectrogram_front", MelSpectrogramFront, [[1, 1280]], ["input"], ["output"],
              {"input": {0: "batch", 1: "samples"}, "output": {0: "batch", 2: "time"}},
              kind="wake word front end (openWakeWord melspectrogram: DFT conv, Pow, mel MatMul, Clip, log10)"),
    EdgeModel("speech_embedding_like", SpeechEmbeddingLike, [[1, 76, 32, 1]], ["input_1"], ["conv2d_19"],
              _batch(["input_1", "conv2d_19"]), kind="wake word embedding (openWakeWord: 3x1 / 1x3 convs, LeakyReLU)"),
]


def build(model: EdgeModel, seed: int = 0) -> nn.Module:
    """The model with seeded weights and batch-norm statistics, in eval mode, in its dtype."""
    torch.manual_seed(seed)
    module = model.factory()
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.7, 1.3)
                m.bias.uniform_(-0.1, 0.1)
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(0.05, 0.4)
    return module.eval().to(model.dtype)


def example_inputs(model: EdgeModel, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*shape, generator=generator).to(model.dtype) for shape in model.shapes) \
        + tuple(torch.tensor(value) for value in model.values.values())
