"""The transformer blocks a lesson does not adapt, run once per training row instead of at every step.

LoRA adapts the top `num_layers` blocks of the student (16 of SmolLM2-135M's 30); the blocks below
keep the base weights, and each position sees only its own row's earlier tokens, so what they hand
the first adapted block for a row is the same at every step of a lesson. `FrozenLayers` computes it
the first time a row is met, keeps it (about half a megabyte a row), and a step then runs the adapted
blocks alone: the frozen blocks were a third of a step's time on the default student.

The model's own forward pass does the work, so every architecture mlx-lm knows keeps its masks,
scaling and layer pattern: while a row's input is computed, the first adapted block is a stand-in
that stops the pass and hands back what reached it; while a step runs, the frozen blocks are stand-ins
too, the last of them giving what was kept. Greedy answers are unaffected (the model is only
changed for the length of one call); training is uncompiled (model/distill/training.py), so the
stand-ins are plain Python.
"""

from __future__ import annotations

import contextlib


class _Reached(Exception):
    """The first adapted block was reached: what it was handed."""

    def __init__(self, hidden):
        super().__init__("the first adapted block was reached")
        self.hidden = hidden


class _StandIn:
    """A block's place in the pass: `act` on what reaches it, the block's own attributes otherwise
    (a model reads some of its blocks' as it goes, as llama does `use_sliding`)."""

    def __init__(self, block, act):
        self._block = block
        self._act = act

    def __call__(self, hidden, *args, **kwargs):
        return self._act(hidden)

    def __getattr__(self, name):
        return getattr(self._block, name)


def _stop(hidden):
    raise _Reached(hidden)


def _through(hidden):
    return hidden


class FrozenLayers:
    """What the frozen blocks below the top `adapted` ones hand them, kept per row (by its tokens) in
    `kept`, which a lesson's runs (`--seeds`) share: each adapts the same blocks of the same base."""

    def __init__(self, adapted: int, kept: dict[bytes, object]):
        self.adapted = adapted
        self.kept = kept

    @classmethod
    def of(cls, model, adapted: int, kept: dict[bytes, object]) -> FrozenLayers | None:
        """The frozen blocks below the top `adapted` blocks of `model`, or None where there are none
        (every block adapted) or the model does not hold its blocks where mlx-lm's models do."""
        blocks = getattr(getattr(model, "model", None), "layers", None)
        if not isinstance(blocks, list) or not 0 < adapted < len(blocks):
            return None
        return cls(adapted, kept)

    def hidden(self, model, inputs, lengths):
        """`model.model(inputs)` (the final norm's output at every position), with the frozen
        blocks' part taken from what is kept. `lengths`: each row's (offset, length), as mlx-lm's
        batches give them; a row's tokens past its length are padding."""
        import mlx.core as mx
        import numpy as np

        tokens = np.array(inputs)
        width = tokens.shape[1]
        ends = np.minimum(np.array(lengths)[:, 1], width)
        keys = [tokens[row, :end].tobytes() for row, end in enumerate(ends)]
        missing = [row for row, key in enumerate(keys) if key not in self.kept]
        if missing:
            handed = self._handed(model, inputs[mx.array(missing)])
            mx.eval(handed)
            for at, row in enumerate(missing):
                self.kept[keys[row]] = handed[at, : ends[row]]
        rows = [mx.pad(self.kept[key], [(0, width - len(self.kept[key])), (0, 0)]) for key in keys]
        given = mx.stack(rows)
        first = self._first(model)
        stand_ins = {block: _through for block in range(first - 1)}
        stand_ins[first - 1] = lambda hidden: given
        with _replaced(model.model.layers, stand_ins):
            return model.model(inputs)

    def _first(self, model) -> int:
        """The index of `model`'s first adapted block."""
        return len(model.model.layers) - self.adapted

    def _handed(self, model, inputs):
        """What the first adapted block is handed for `inputs`, by the model's own pass up to it."""
        with _replaced(model.model.layers, {self._first(model): _stop}):
            try:
                model.model(inputs)
            except _Reached as reached:
                return reached.hidden
        raise RuntimeError("the model's forward pass never reached its first adapted block")


@contextlib.contextmanager
def _replaced(blocks: list, stand_ins: dict):
    """`blocks` with a `_StandIn` for each of `stand_ins` (index: what it does), put back after."""
    saved = {block: blocks[block] for block in stand_ins}
    try:
        for block, act in stand_ins.items():
            blocks[block] = _StandIn(saved[block], act)
        yield
    finally:
        for block, original in saved.items():
            blocks[block] = original
