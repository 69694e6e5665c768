"""reasoneval: layered evaluation of small math-reasoning models.

The light public surface lives here; importing it never imports torch.
"""
