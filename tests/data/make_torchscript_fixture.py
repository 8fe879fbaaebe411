#!/usr/bin/python3
"""Writes the small TorchScript fixtures for the model tests:

- tiny_mlp.pt: a small classifier for [N, 1, 28, 28] inputs with 10 outputs, and
  tiny_mlp_expected.txt with its logits for an all-ones [1, 1, 28, 28] input;
- five_outputs.pt: the same shape of network with 5 outputs (a model that does not fit
  10-class data);
- tiny_batchnorm.pt: a classifier with a BatchNorm layer, whose running mean/var are buffers
  (state outside the parameters), which FedLedger refuses to federate.

Run once with Debian's python3-torch (same libtorch as the C++ build):
    /usr/bin/python3 tests/data/make_torchscript_fixture.py
The outputs are checked in, so the tests themselves need no Python.
"""
import pathlib

import torch


class TinyMlp(torch.nn.Module):
    def __init__(self, outputs: int = 10) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 4)
        self.fc2 = torch.nn.Linear(4, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


class TinyBatchNorm(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 4)
        self.bn1 = torch.nn.BatchNorm1d(4)
        self.fc2 = torch.nn.Linear(4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.bn1(self.fc1(x.flatten(1)))))


def main() -> None:
    here = pathlib.Path(__file__).resolve().parent
    torch.manual_seed(0)
    module = torch.jit.script(TinyMlp())
    module.save(str(here / "tiny_mlp.pt"))
    with torch.no_grad():
        logits = module(torch.ones(1, 1, 28, 28))[0]
    (here / "tiny_mlp_expected.txt").write_text(
        " ".join(f"{v:.9g}" for v in logits.tolist()) + "\n")
    torch.jit.script(TinyMlp(outputs=5)).save(str(here / "five_outputs.pt"))
    torch.jit.script(TinyBatchNorm()).save(str(here / "tiny_batchnorm.pt"))


if __name__ == "__main__":
    main()
