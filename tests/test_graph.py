"""Connected groups of pairwise links (:func:`twinsim.sim.graph.connected`): shared by the
engine's joint stories and the hybrid's bodies in touch."""

from __future__ import annotations

from twinsim.sim.graph import connected


def test_links_join_chains_and_leave_the_unlinked_alone():
    groups = connected("abcdef", [("a", "c"), ("d", "e"), ("c", "f"), ("x", "b")])
    assert groups == [["a", "c", "f"], ["b"], ["d", "e"]]  # "x" is no node: its link is ignored


def test_no_links_gives_one_group_per_node_in_order():
    assert connected([3, 1, 2], []) == [[3], [1], [2]]
    assert connected([], [(1, 2)]) == []
