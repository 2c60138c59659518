"""A SageMaker training script whose last lines stage the model with smpack.

It trains a small regression network on synthetic data, saves it as TorchScript
(model.pt, what the PyTorch serving container loads), then uses the `smpack` Python
module to put the serving code next to it (code/inference.py and
code/requirements.txt from smpack's PyTorch template) and to lint the result, so a
broken artifact fails the training job instead of the endpoint. SageMaker then tars
/opt/ml/model as model.tar.gz; deploy it without entry_point (no repack).

Run locally:
    PYTHONPATH=build/python python3 examples/train_and_stage.py --model-dir /tmp/model \
        --archive /tmp/model.tar.gz
"""

import argparse
import os
import sys
import tempfile

import torch
from torch import nn

import smpack


def train(epochs, seed):
    """Fits y = x @ w + b on synthetic data; returns the trained network."""
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(512, 4, generator=generator)
    targets = features @ torch.tensor([[1.5], [-2.0], [0.5], [3.0]]) + 0.25
    net = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(net(features), targets)
        loss.backward()
        optimizer.step()
    print(f"final training loss {loss.item():.6f}")
    return net


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--archive", help="also write model.tar.gz here (outside SageMaker)")
    args = parser.parse_args()

    net = train(args.epochs, args.seed)
    os.makedirs(args.model_dir, exist_ok=True)
    torch.jit.save(torch.jit.script(net.eval()), os.path.join(args.model_dir, "model.pt"))

    # Stage: the serving code goes in at training time, checked, so the deploy never repacks.
    # (Here the code is smpack's checked template; a real project passes its own src/.)
    with tempfile.TemporaryDirectory() as serving_code:
        smpack.init(serving_code, profile="pytorch", force=True)
        smpack.stage(args.model_dir, code_dir=serving_code, force=True)
    report = smpack.lint(args.model_dir, profile="pytorch")
    for finding in report.findings:
        print(f"{finding.member}:{finding.line}: {finding.severity}: {finding.message} "
              f"[{finding.rule_id}]", file=sys.stderr)
    if not report.deploy_ready:
        sys.exit("smpack lint: the model directory would not serve; see the findings above")
    if args.archive:
        result = smpack.build(args.model_dir, args.archive)
        print(f"{result['archive']}: {result['members']} members, "
              f"sha256 {result['archive_sha256']}")


if __name__ == "__main__":
    main()
