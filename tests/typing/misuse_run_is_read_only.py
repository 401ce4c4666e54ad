# expect: Property "total_steps" defined in "Run" is read-only
"""Runs are immutable: assigning an attribute is a type error (and an AttributeError)."""
from ckptsched import Run

run = Run(max_steps=100)
run.total_steps = 200
