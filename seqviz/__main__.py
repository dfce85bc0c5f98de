"""`python -m seqviz`: the same as `python main.py` and the `seqviz` command."""

from seqviz.cli import main

raise SystemExit(main())
