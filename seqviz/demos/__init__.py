"""The lecture demos: seeded synthetic tasks, the bundled models trained on them, and their catalogue.

tasks*.py        task generators (long-range memory, sentiment, POS tagging; English and Spanish)
specs.py         one spec per bundled model: task, architecture, sizes, training
train.py         `python -m seqviz.demos.train` retrains every bundled model from scratch, seeded
figure.py        `python -m seqviz.demos.figure`: the long-range lesson, resources/figures/long_range.png
generation.py    `python -m seqviz.demos.generation longrange-lstm "naci en japon ."`: one-to-many
catalogue.py     what the app offers: bundled models (read from file headers) and untrained ones
charlm_*.py      code-lstm, a character LSTM of Python trained on the standard library: corpus, labels of
                 code, training (run by train.py), and the interpretable cells it finds for the card
"""
