"""Renderers: Results -> view model -> brief.pdf, deck.pptx, results.json, target_list.csv.

They format and arrange; they never compute statistics."""
