"""Fixtures for tools/harness/gpu/run.sh, made by the GPU machine's own PyTorch:
TorchScript models (a small CNN, a transformer block, one that returns NaN), inputs and
CPU float32 expected outputs, a perturbed expectation, and a state dict.
Usage: python3 make_fixtures.py OUT_DIR"""

import math
import sys
from pathlib import Path

import torch
import torch.nn as nn


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


class TransformerBlock(nn.Module):
    def __init__(self, width: int = 512, heads: int = 8):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        batch, length, width = x.shape
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        def split(t):
            return t.reshape(batch, length, self.heads, width // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(width // self.heads), dim=-1)
        attended = (weights @ v).transpose(1, 2).reshape(batch, length, width)
        x = x + self.proj(attended)
        return x + self.mlp(self.norm2(x))


class Broken(nn.Module):
    def forward(self, x):
        return torch.log(x - 100.0)


def main():
    out = Path(sys.argv[1])
    torch.manual_seed(0)
    models = {"cnn": (SmallCnn(), torch.randn(4, 3, 64, 64)),
              "transformer": (TransformerBlock(), torch.randn(4, 128, 512))}
    for name, (model, x) in models.items():
        model.eval()
        directory = out / name
        directory.mkdir(parents=True, exist_ok=True)
        torch.jit.save(torch.jit.script(model), str(directory / "model.pt"))
        with torch.no_grad():
            y = model(x)
        torch.save([x], str(out / f"{name}-inputs.pt"))
        torch.save([y], str(out / f"{name}-expected.pt"))
        torch.save([y + 1e-2], str(out / f"{name}-perturbed.pt"))
    (out / "broken").mkdir(exist_ok=True)
    torch.jit.save(torch.jit.script(Broken()), str(out / "broken" / "model.pt"))
    (out / "weights").mkdir(exist_ok=True)
    torch.save(models["cnn"][0].state_dict(), str(out / "weights" / "weights.pth"))
    corrupt = bytearray((out / "cnn" / "model.pt").read_bytes())
    corrupt[len(corrupt) // 3:len(corrupt) // 3 + 4096] = b"\xff" * 4096
    (out / "corrupt").mkdir(exist_ok=True)
    (out / "corrupt" / "model.pt").write_bytes(bytes(corrupt))


if __name__ == "__main__":
    main()
