"""The student's tokens, one at a time: the prompt read in chunks, then each token computed while
the one before it is handed out.

This is mlx-lm's `generate_step`, less what the student never uses (input embeddings, a quantized
KV cache, speculative drafts); mlx-lm's generator module imports transformers, which a query
otherwise does not need. The logits processors see what mlx-lm gives them: every token so far,
the prompt's included, the newest still being computed.

    for token, logprobs in generation.tokens(model, prompt, cache, sampler):
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

PREFILL_STEP = 2048  # prompt tokens read at once; a longer prompt is read in pieces of this many, as mlx-lm does


def tokens(
    model,
    prompt: Sequence[int],
    cache: list,
    sampler: Callable,
    processors: Sequence[Callable] = (),
    max_tokens: int = 256,
) -> Iterator[tuple[int, object]]:
    """(token id, log-probabilities over the vocabulary) for each generated token, until `max_tokens`;
    `cache` holds what came before `prompt` and is filled as the model reads. The caller stops early
    by leaving the loop."""
    import mlx.core as mx

    prompt = mx.array(list(prompt), dtype=mx.uint32)
    seen = None  # every token so far, for the processors

    def step(inputs):
        nonlocal seen
        logits = model(inputs[None], cache=cache)[:, -1, :]
        if processors:
            seen = inputs if seen is None else mx.concatenate([seen, inputs])
            for processor in processors:
                logits = processor(seen, logits)
        logprobs = logits - mx.logsumexp(logits, keepdims=True)
        return sampler(logprobs), logprobs.squeeze(0)

    while prompt.size > 1:  # all but the last prompt token, in pieces; the last one starts the answer
        piece = prompt[: min(PREFILL_STEP, prompt.size - 1)]
        model(piece[None], cache=cache)
        mx.eval([c.state for c in cache])
        if processors:
            seen = piece if seen is None else mx.concatenate([seen, piece])
        prompt = prompt[piece.size :]
        mx.clear_cache()

    y, logprobs = step(prompt)
    mx.async_eval(y, logprobs)
    n = 0
    while n < max_tokens:
        if n + 1 < max_tokens:  # the next token is computed while this one is handed out
            next_y, next_logprobs = step(y)
            mx.async_eval(next_y, next_logprobs)
        yield y.item(), logprobs
        if n % 256 == 0:
            mx.clear_cache()
        if n + 1 < max_tokens:
            y, logprobs = next_y, next_logprobs
        n += 1
