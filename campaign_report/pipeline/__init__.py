"""The thin layer around the engine: command line, one run (report), publishing, ledger, e-mail delivery."""
