"""`python -m campaign_report` is the campaign-report command."""

import sys

from campaign_report.pipeline.cli import main

sys.exit(main())
