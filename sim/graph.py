"""Connected groups of items linked in pairs (union-find), for the engine's joints and for
whatever else links things pairwise."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

__all__ = ["connected"]


def connected(nodes: Iterable[Hashable], links: Iterable[tuple[Hashable, Hashable]]) -> list[list]:
    """The groups of ``nodes`` joined by ``links`` (pairs of nodes; links naming anything else
    are ignored), each in the order of ``nodes``, the groups in the order of their first node.
    A node linked to nothing is a group of one."""
    order = list(dict.fromkeys(nodes))
    parent = {n: n for n in order}

    def find(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in links:
        if a in parent and b in parent:
            parent[find(a)] = find(b)
    groups: dict = {}
    for n in order:
        groups.setdefault(find(n), []).append(n)
    return list(groups.values())
