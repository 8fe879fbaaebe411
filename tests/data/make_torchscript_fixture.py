#!/usr/bin/python3
"""Writes tests/data/tiny_mlp.pt, a small TorchScript classifier for the model tests, and
tiny_mlp_expected.txt with its logits for an all-ones [1, 1, 28, 28] input.

Run once with Debian's python3-torch (same libtorch as the C++ build):
    /usr/bin/python3 tests/data/make_torchscript_fixture.py
Both outputs are checked in, so the tests themselves need no Python.
"""
import pathlib

import torch


class TinyMlp(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 4)
        self.fc2 = torch.nn.Linear(4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def main() -> None:
    here = pathlib.Path(__file__).resolve().parent
    torch.manual_seed(0)
    module = torch.jit.script(TinyMlp())
    module.save(str(here / "tiny_mlp.pt"))
    with torch.no_grad():
        logits = module(torch.ones(1, 1, 28, 28))[0]
    (here / "tiny_mlp_expected.txt").write_text(
        " ".join(f"{v:.9g}" for v in logits.tolist()) + "\n")


if __name__ == "__main__":
    main()
