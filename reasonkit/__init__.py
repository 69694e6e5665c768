"""The ground floor every stage stands on: parts shared by datacheck, train and reasoneval.

Nothing here imports a stage package, so each stage can import it without a cycle.
"""
