"""The data of one training session, the untrained models it starts from, and their batches.

`TrainingData.prepare(settings)` reads a bundled task or a text file once. For each architecture it then
builds the seeded untrained model (`build_model`) and a feed (`make_feed`): where the run's batches come
from, its loss and its held-out accuracy.

    TaskFeed  a bundled task: equal-length batches of fresh examples (training.task_batches), the same
              batches, loss and model as the bundled demos' `fit` for the same settings
    TextFeed  a text file: windows of the text from parallel streams (seqviz.demos.tbptt); a recurrent
              model carries its state from window to window, a Transformer reads each window afresh
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from seqviz.core.seqmodel import ModelCard, RecurrentConfig, RecurrentNet, TokenModel
from seqviz.demos import specs
from seqviz.demos.tasks import all_tasks
from seqviz.demos.tasks_base import Example, Task
from seqviz.demos.tbptt import parallel_streams, recurrent_window_loss, windows
from seqviz.demos.text_corpus import TextCorpus, read_corpus
from seqviz.demos.training import FitConfig, evaluate, task_batches, task_loss
from seqviz.demos.training_settings import ArchSettings, TrainingInputError, TrainSettings, check_settings

HELD_OUT_EXAMPLES = 500  # a task's held-out examples (seed specs.HELD_OUT_SEED): evaluating costs little
WINDOWS = {  # tokens per window of a text: (recurrent, Transformer = its max_len)
    "char": (64, 128),
    "word": (32, 48),
}


def task_choices() -> list[tuple[str, str]]:
    """[(task name, title for a menu)] of the bundled tasks."""
    return [(name, task.title) for name, task in all_tasks().items()]


def _bundled_fit(task: str) -> FitConfig:
    """The bundled models' training of `task` (specs.SPECS): its pool size and scored weight carry over."""
    return next(s.fit for s in specs.SPECS if s.task == task)


class TrainingData:
    """The prepared data of one session: a bundled task, or a text file read once with its tokenizer."""

    def __init__(
        self, name: str, title: str, examples: list[str], task: Task | None, corpus: TextCorpus | None
    ) -> None:
        self.name = name  # for ids and file names: the task's name, or the text file's stem
        self.title = title  # e.g. "Sentiment" or "notes.txt (characters)"
        self.examples = examples  # texts to trace; the card's examples
        self.example_text = examples[0] if examples else ""
        self.task = task
        self.corpus = corpus
        self.held_out: list[Example] = (
            task.held_out(specs.HELD_OUT_SEED, HELD_OUT_EXAMPLES) if task is not None else []
        )

    @classmethod
    def prepare(cls, settings: TrainSettings) -> TrainingData:
        """Check the settings and read the task or text file; raises TrainingInputError."""
        check_settings(settings)
        tasks = all_tasks()
        if settings.task in tasks:
            task = tasks[settings.task]
            return cls(task.name, task.title, list(task.examples), task, None)
        if not settings.task.strip():
            raise TrainingInputError(f"choose a task ({', '.join(tasks)}) or a text file to train on")
        try:
            corpus = read_corpus(settings.task, settings.level)
        except TrainingInputError as exc:
            # a bare word (no folder, no suffix) that is no file was most likely meant as a task
            if "there is no file" in str(exc) and not any(c in settings.task for c in "/\\."):
                raise TrainingInputError(
                    f"{settings.task!r} is neither a bundled task ({', '.join(tasks)}) nor a text file here; "
                    "choose a task or the path of a text file"
                ) from None
            raise
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in corpus.name.rsplit(".", 1)[0])
        return cls(stem.strip("-") or "text", corpus.title, corpus.examples, None, corpus)

    @property
    def kind(self) -> str:
        """The model's task: "lm", "classify" or "tag"."""
        return self.task.kind if self.task is not None else "lm"

    def window(self, arch: str) -> int:
        """Tokens per training window of a text for `arch` (a Transformer's max_len); 0 for a task."""
        if self.corpus is None:
            return 0
        recurrent, transformer = WINDOWS[self.corpus.level]
        return transformer if arch == "transformer" else recurrent

    def longest(self, arch: str) -> int:
        """The longest sequence a batch holds (for the memory estimate)."""
        if self.corpus is not None:
            return self.window(arch)
        return max(len(ex.tokens) for ex in self.held_out)

    def outputs(self) -> int:
        """The size of the models' output head."""
        if self.corpus is not None:
            return len(self.corpus.tokenizer.vocab)
        labels = self.task.output_labels()
        return len(labels) if labels is not None else len(self.task.vocabulary()) + 1  # + <unk>


def fit_config(data: TrainingData, settings: TrainSettings) -> FitConfig:
    """The bundled demos' FitConfig for these settings (tasks only: pool size and scored weight)."""
    bundled = _bundled_fit(data.task.name)
    return FitConfig(
        steps=settings.steps,
        batch_size=settings.batch_size,
        pool_size=bundled.pool_size,
        lr=settings.lr,
        scored_weight=bundled.scored_weight,
        clip=settings.clip,
        seed=settings.seed,
    )


def model_spec(data: TrainingData, arch: ArchSettings, settings: TrainSettings) -> specs.ModelSpec:
    """The ModelSpec of a task's model: built as the bundled models are (specs.build_model)."""
    return specs.ModelSpec(
        id=f"{data.name}-{arch.arch}",
        task=data.task.name,
        arch=arch.arch,
        hidden=arch.hidden,
        embed=arch.embed,
        layers=arch.layers,
        heads=arch.heads,
        bidirectional=data.task.kind == "tag",  # taggers read both ways, as the bundled ones do
        fit=fit_config(data, settings),
    )


def build_model(data: TrainingData, arch: ArchSettings, settings: TrainSettings) -> TokenModel:
    """The seeded untrained model of `arch` for `data` (torch's random numbers from settings.seed)."""
    if data.task is not None:
        return specs.build_model(model_spec(data, arch, settings))
    corpus = data.corpus
    vocab = len(corpus.tokenizer.vocab)
    torch.manual_seed(settings.seed)
    if arch.arch == "transformer":
        from seqviz.core.transformer import DecoderOnlyTransformer, TransformerConfig

        cfg = TransformerConfig(
            vocab, vocab, arch.hidden, arch.heads, arch.layers, max_len=data.window("transformer")
        )
        backbone: torch.nn.Module = DecoderOnlyTransformer(cfg)
    else:
        backbone = RecurrentNet(
            RecurrentConfig(arch.arch, vocab, vocab, arch.embed, arch.hidden, arch.layers)
        )
    card = ModelCard(id=f"{data.name}-{arch.arch}", task=f"text:{data.name}", examples=list(data.examples))
    return TokenModel(backbone, corpus.tokenizer, "lm", card=card)


class TaskFeed:
    """A bundled task's batches: exactly those of the demos' `fit` for the same settings."""

    def __init__(self, data: TrainingData, settings: TrainSettings) -> None:
        cfg = fit_config(data, settings)
        self.scored_weight = cfg.scored_weight
        self.held_out = data.held_out
        self.stream = task_batches(data.task, random.Random(cfg.seed), cfg.pool_size, cfg.batch_size)

    def loss(self, model: TokenModel) -> torch.Tensor:
        return task_loss(model, next(self.stream), self.scored_weight)

    def accuracy(self, model: TokenModel) -> float:
        """Accuracy on the scored steps of the held-out examples (the class, the tags, the answer)."""
        return evaluate(model, self.held_out)["accuracy"]


@dataclass
class TextFeed:
    """A text's windows; a recurrent model's state is carried between them (truncated BPTT)."""

    corpus: TextCorpus
    window: int
    batch_size: int
    seed: int
    recurrent: bool

    def __post_init__(self) -> None:
        streams = parallel_streams(self.corpus.train_ids, self.batch_size)  # (B, N // B)
        self.stream = windows(streams, self.window, random.Random(self.seed))
        self.state: object = None

    def loss(self, model: TokenModel) -> torch.Tensor:
        if self.recurrent:
            loss, self.state = recurrent_window_loss(model.backbone, next(self.stream), self.state)
            return loss
        x, y, _ = next(self.stream)  # (B, window) each
        logits = model(x)  # (B, window, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    @torch.no_grad()
    def accuracy(self, model: TokenModel) -> float:
        """Next-token accuracy over the held-out ids: read in one go (recurrent, state carried, in
        chunks) or in consecutive windows of `window` tokens (a Transformer, each window afresh)."""
        model.eval()
        ids = self.corpus.held_out_ids
        if not self.recurrent:
            return _windowed_accuracy(model, ids, self.window)
        net = model.backbone
        state, right = None, 0
        for at in range(0, ids.numel() - 1, 4096):
            x = ids[at : at + 4097]  # (n + 1,)
            out, state = net.rnn(net.embedding(x[:-1])[None], state)  # (1, n, H)
            right += int((net.head(out[0]).argmax(-1) == x[1:]).sum())  # (n, V) -> n predictions
        return right / max(ids.numel() - 1, 1)


def _windowed_accuracy(model: TokenModel, ids: torch.Tensor, window: int, batch: int = 64) -> float:
    """A causal model's next-token accuracy over ids (N,) read in consecutive windows, `batch` windows
    at a time (the last, shorter window alone)."""
    full = (ids.numel() - 1) // window
    right = 0
    if full:
        rows = ids[: full * window + 1].unfold(0, window + 1, window)  # (full, window + 1): shared edges
    for at in range(0, full, batch):
        x = rows[at : at + batch]
        right += int((model(x[:, :-1]).argmax(-1) == x[:, 1:]).sum())  # (b, window, V) -> predictions
    rest = ids[full * window :]
    if rest.numel() > 1:
        right += int((model(rest[None, :-1])[0].argmax(-1) == rest[1:]).sum())
    return right / max(ids.numel() - 1, 1)


def make_feed(data: TrainingData, arch: ArchSettings, settings: TrainSettings) -> TaskFeed | TextFeed:
    if data.corpus is None:
        return TaskFeed(data, settings)
    window = data.window(arch.arch)
    return TextFeed(data.corpus, window, settings.batch_size, settings.seed, arch.arch != "transformer")
