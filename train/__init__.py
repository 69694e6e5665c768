"""The training stage: QLoRA SFT and GRPO on datacheck's kept rows.

Public entry points: ``train.sft`` (``SFTRunConfig``, ``main``, ``prepare``, ``finish``),
``train.grpo`` (``GRPORunConfig``, ``main``, ``prepare``, ``finish``), ``train.config.parse_config``
and ``train.provenance.read_meta``. Nothing is imported here, so that ``python -m train.sft`` runs
its module once, as ``__main__``.
"""
