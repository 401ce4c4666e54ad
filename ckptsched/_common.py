"""What both backends share: int64 limits, rule kinds, and how statuses become errors.

The C core reports failures as status codes; the reference backend detects the
same conditions with exact integers.  Both turn them into exceptions here, so a
given bad input raises the same exception with the same message on either backend.
"""
from __future__ import annotations

import numbers

INT64_MAX = 2**63 - 1

# Rule kinds, as ckpt_rule in src_c/ckpt.h.  A rule is a tuple of four ints, in the
# order of the C struct's fields:
#   (RULE_EVERY, start, interval, stop): start, start + interval, ... <= stop
#   (RULE_EVEN, span, parts, stop):      ceil(i * span / parts) <= stop, i = 1, 2, ...
#                                        (`parts` boundaries in every `span` steps)
RULE_EVERY = 1
RULE_EVEN = 2
MAX_RULES = 64  # CKPT_MAX_RULES: the most rules one schedule may combine

# Status codes: ckpt_status in src_c/ckpt.h.
STATUS_OK = 0
STATUS_OVERFLOW = 1
STATUS_DOMAIN = 2
STATUS_CAPACITY = 3


def status_error(status: int, what: str) -> Exception:
    """The exception for a non-OK status; `what` names the computation and its inputs."""
    if status == STATUS_OVERFLOW:
        return OverflowError(f"{what} exceeds the int64 range (2**63 - 1)")
    if status == STATUS_CAPACITY:
        return ValueError(f"{what}: more steps than the limit allows")
    return ValueError(f"{what}: an argument is outside its domain")


def check_step(value, name: str = "step") -> int:
    """`value` as a non-negative Python int (may exceed int64: callers treat that as past the run).

    Raises TypeError for bool, float, str and other non-integers, ValueError for negatives.
    """
    if type(value) is int and value >= 0:
        return value  # the usual case, without the (slow) numbers.Integral check
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        # numpy.bool_ is not Integral; numpy integers are
        raise TypeError(f"{name} must be an integer step count, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < 0:
        from ._numbers import show  # abbreviates ints too long to print
        raise ValueError(f"{name} must be >= 0, got {show(value)}")
    return value


def check_rules(rules) -> tuple:
    """Validate a sequence of rule tuples (at most MAX_RULES) and return them as int tuples."""
    rules = tuple(check_rule(r) for r in rules)
    if len(rules) > MAX_RULES:
        raise ValueError(f"a schedule combines at most {MAX_RULES} rules, got {len(rules)}")
    return rules


def check_rule(rule) -> tuple[int, int, int, int]:
    """Validate a rule tuple (kind, start|span, interval|parts, stop) and return it as Python ints."""
    kind, a, b, stop = (int(v) for v in rule)
    if kind not in (RULE_EVERY, RULE_EVEN) or a < 1 or b < 1 or stop < 0:
        raise ValueError(f"invalid rule {rule!r}")
    if max(a, b, stop) > INT64_MAX:
        raise OverflowError(f"rule {rule!r} exceeds the int64 range (2**63 - 1)")
    return kind, a, b, stop
