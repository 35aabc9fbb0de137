"""The nation-heads map each checkpoint commits to (standard library only; part of the offline
verifier).

Every checkpoint note carries one extension line (C2SP tlog-checkpoint allows them)::

    coalition-ledger/nation-heads/v1 <count> <base64 root>

``root`` is the RFC 6962 Merkle tree hash over one leaf per title-holder nation with a chain,
sorted by nation code: ``"<nation> <counter> <hex leaf hash of its last event>"``. Witnesses
cosign the whole note, so where each donor's chain ends at that tree size is fixed before anyone
asks for a bundle, is the same for every recipient (a witness refuses a second note of one size),
and is recomputed from the events by every full verify. A donor bundle carries its own leaf and
the path to ``root``: the other nations' heads stay hidden (a path holds only hashes over 256-bit
leaf hashes, nothing guessable).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

from coalition.ledger.rfc6962 import leaf_hash, merkle_root

HEADS_KIND = "coalition-ledger/nation-heads/v1"

#: one nation's chain head: (counter, hash of its last event, seq of its last event)
ChainHead = tuple[int, bytes, int]


def head_leaf(nation: str, counter: int, last_hash: bytes) -> bytes:
    """The leaf data of one nation's head in the map."""
    return f"{nation} {counter:d} {last_hash.hex()}".encode("ascii")


def heads_leaves(heads: Mapping[str, ChainHead]) -> list[bytes]:
    """``heads``: nation -> (counter, last hash, last seq), as kept by the chain checkers."""
    return [leaf_hash(head_leaf(n, int(v[0]), bytes(v[1]))) for n, v in sorted(heads.items())]


def heads_commitment(heads: Mapping[str, ChainHead]) -> tuple[int, bytes]:
    """(count, Merkle root) of the map of these heads."""
    leaves = heads_leaves(heads)
    return len(leaves), merkle_root(leaves)


def heads_line(heads: Mapping[str, ChainHead]) -> str:
    """The checkpoint's extension line (without its newline) for these heads."""
    count, root = heads_commitment(heads)
    return f"{HEADS_KIND} {count} {base64.b64encode(root).decode()}"


def parse_heads_line(line: str) -> tuple[int, bytes] | None:
    """(count, root) of a heads extension line; None if the line is not one."""
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != HEADS_KIND or not parts[1].isascii() or not parts[1].isdigit():
        return None
    if parts[1] != "0" and parts[1].startswith("0"):
        return None
    try:
        root = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        return None
    return (int(parts[1]), root) if len(root) == 32 else None


def checkpoint_heads(extensions: Sequence[str]) -> tuple[int, bytes] | None | bool:
    """The heads commitment among a checkpoint's extension lines: (count, root); None if there
    is none; False if a heads line is malformed or repeated."""
    found = [ln for ln in extensions if ln.split(" ", 1)[0] == HEADS_KIND]
    if not found:
        return None
    if len(found) > 1:
        return False
    got = parse_heads_line(found[0])
    return got if got is not None else False
