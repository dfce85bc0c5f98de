"""Task (e), generation (one-to-many): a language model writes on from a prompt, one word at a time.

    python -m seqviz.demos.generation longrange-lstm "i was born in italy ." [--samples 3] [--temperature 1]

The long-range models are small language models: from "i was born in italy ." they write filler sentences
and end with "i speak fluent italian" (then the end token). `generate` works for any causal TokenModel
(recurrent or Transformer); it recomputes the prefix at each step, which is fast for these short texts.
"""

from __future__ import annotations

import argparse
import sys

import torch

from seqviz.core.inference import decode_tokens, eval_mode
from seqviz.core.seqmodel import TokenModel
from seqviz.demos.tasks_base import EOS


@torch.no_grad()
def generate(
    model: TokenModel, prompt: str, max_new: int = 60, temperature: float = 1.0, seed: int = 0
) -> list[str]:
    """The words the model adds after `prompt`, stopping after EOS (not included) or `max_new` words.

    temperature 0 is greedy (always the most likely word); otherwise sampling is seeded by `seed`.
    """
    if model.task != "lm" or not model.causal:
        raise ValueError("only causal language models generate (task 'lm')")
    ids = model.tokenizer.encode(prompt)
    if not ids:
        raise ValueError("the prompt is empty")
    eos = model.tokenizer.vocab.index(EOS) if EOS in model.tokenizer.vocab else None
    rng = torch.Generator().manual_seed(seed)

    def pick(logits: torch.Tensor) -> int:
        # torch's sampler with a torch.Generator, not seqviz.core.inference.pick_token: the bundled models'
        # cards hold texts sampled this way, and retraining reproduces them only with the same draws
        if temperature <= 0:
            return int(logits.argmax())
        return int(torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=rng))

    with eval_mode(model):  # the whole prefix again at every step: fast enough for these short texts
        added = decode_tokens(lambda new: model(torch.tensor([ids + new]))[0, -1], max_new, pick, stop=eos)
    if added and added[-1] == eos:
        added.pop()
    return [model.tokenizer.vocab[i] for i in added]


def ending_accuracy(model: TokenModel, seed: int, per_country: int = 3) -> tuple[float, list[str]]:
    """Generate from every opening ("i was born in X .", "naci en X ."), sampling at temperature 1;
    the share of texts that end (before EOS) with X's language, and two of the texts."""
    from seqviz.demos.tasks_longrange import COUNTRIES, OPENING

    hits, total, texts = 0, 0, []
    for lang, pairs in COUNTRIES.items():
        for index, (country, language) in enumerate(pairs):
            for k in range(per_country):
                prompt = OPENING[lang].format(country)
                words = generate(model, prompt, 60, 1.0, seed + 100 * index + k)
                hits += bool(words) and words[-1] == language
                total += 1
                if index == k == 0:
                    texts.append(" ".join([prompt, *words]))
    return hits / total, texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seqviz.demos.generation", description=__doc__.splitlines()[0]
    )
    parser.add_argument("model", help="a bundled model id (a language model, e.g. longrange-lstm) or a file")
    parser.add_argument("prompt", help='e.g. "i was born in italy ." or "naci en japon ."')
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=1.0, help="0 is greedy")
    parser.add_argument("--max-new", type=int, default=60)
    args = parser.parse_args(argv)
    from seqviz.demos.catalogue import load

    model = load(args.model)
    for seed in range(args.samples):
        words = generate(model, args.prompt, args.max_new, args.temperature, seed)
        print(args.prompt, "|", " ".join(words))
    return 0


if __name__ == "__main__":
    sys.exit(main())
