"""The embedded arithmetic task: its templates, its computations and its held-out split.

``arithmetic`` renders and parses problems; ``split`` decides which computations are held out
and draws each split; ``prose`` is the base model's pretraining corpus in another style.
"""
