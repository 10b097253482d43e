"""The thin layer that runs analyses, renders and delivers: cli, run, delivery."""
