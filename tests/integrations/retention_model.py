"""The brute-force model of DESIGN.md's retention policy the integration tests compare with."""
from __future__ import annotations


def kept_by_policy(saves, keep_last, keep_steps=(), keep_best=None, metrics=None):
    """On disk after the last save, replaying DESIGN.md's policy one save at a time: the
    newest, the keep_last most recent, the first save at or after each keep step, and the
    keep_best lowest metrics among the saves so far (ties: the earlier step)."""
    permanent = {min(s for s in saves if s >= k) for k in keep_steps if k <= saves[-1]}
    disk = set()
    for i, step in enumerate(saves):
        disk.add(step)
        seen = saves[:i + 1]
        kept = {step} | (permanent & disk) | set(seen[-keep_last:])
        if keep_best:
            kept |= set(sorted(seen, key=lambda s: (metrics[s], s))[:keep_best])
        disk &= kept
    return sorted(disk)
