from reasoneval.cli import main

raise SystemExit(main())
