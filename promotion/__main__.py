"""`python -m promotion ...`: see promotion/cli.py."""

from promotion.cli import main

raise SystemExit(main())
