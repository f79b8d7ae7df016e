"""Graph algorithms on edge lists, by SciPy's compiled ``csgraph``: the one place landkit finds components."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return the connected-component label (0 … k − 1) of each of ``n`` nodes given the edges.

    Edges are undirected (a directed graph's weakly connected components are those of its
    edges taken both ways). Components are numbered by their smallest node, as
    :func:`scipy.sparse.csgraph.connected_components` numbers them: node 0 is in component 0,
    the smallest node outside it starts component 1, and so on.

    Parameters
    ----------
    n : int
        Number of nodes (``0 … n − 1``); a node without edges is a component of its own.
    left, right : array of int
        The edges' two ends.
    """
    left = np.asarray(left, dtype=np.intp)
    right = np.asarray(right, dtype=np.intp)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    labels: np.ndarray = connected_components(graph, directed=False)[1]
    return labels.astype(np.intp, copy=False)


def components_by_size(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return component labels numbered largest first (ties: the component with the smaller node first)."""
    labels = components(n, left, right)
    sizes = np.bincount(labels)
    order = np.lexsort((np.arange(len(sizes)), -sizes))  # by size, descending; then by smallest node
    rank = np.empty(len(sizes), dtype=np.intp)
    rank[order] = np.arange(len(sizes))
    ranked: np.ndarray = rank[labels]
    return ranked
