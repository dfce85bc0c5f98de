from seqviz.cli import main

raise SystemExit(main())
