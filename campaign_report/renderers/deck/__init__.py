"""The deck's building blocks: the slide frame (frame), native charts (charts) and slide kinds (slides).
The storyline that puts them together is renderers/pptx.py."""
