"""Search trees over reasoning steps: growing one, valuing it from its leaves, and finding the
states where the choice of the next step mattered (for ``rot``; any tree-search strategy can
share them).

- :func:`grow_tree`: ``iterations`` rollouts from the root. Each descends through fully
  expanded states (``width`` children) to the least-visited unfinished child, adds one new
  child where there is room, and rolls out from it one step at a time to a terminal state or
  the depth limit. Selection uses visit counts only, no reward: the tree is label-free while
  it grows.
- :func:`back_up`: leaf rewards backed up as the mean over the terminal leaves below each
  state (the authors' ``Analysis.backprop_rewards``: Q = sum of leaf rewards / number of
  leaves); subtrees with no terminal leaf are pruned (their ``remove_empty_nodes``).
- :func:`important_states`: states where some child's value exceeds the state's value — the
  mean of its children's values — by at least ``threshold`` (their ``get_improving_nodes``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from reflectlab.errors import BudgetExceeded

S = TypeVar("S")


@dataclass
class TreeNode(Generic[S]):
    """A state: ``step`` is what led to it from its parent (``None`` at the root)."""

    step: S | None
    depth: int
    parent: TreeNode[S] | None = None
    terminal: bool = False
    children: list[TreeNode[S]] = field(default_factory=list)
    visits: int = 0
    #: The gold reward of a terminal state; ``value`` the backed-up Q of any state.
    reward: float | None = None
    value: float | None = None

    def ancestry(self) -> list[TreeNode[S]]:
        """The states from the root's first step down to this one (the root excluded)."""
        chain: list[TreeNode[S]] = []
        node: TreeNode[S] | None = self
        while node is not None and node.step is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def path(self) -> list[S]:
        """The steps from the root to this state."""
        return [n.step for n in self.ancestry() if n.step is not None]

    def walk(self) -> Iterator[TreeNode[S]]:
        """This state and every state below it, breadth first."""
        queue: list[TreeNode[S]] = [self]
        while queue:
            node = queue.pop(0)
            yield node
            queue.extend(node.children)

    def leaves(self) -> list[TreeNode[S]]:
        return [n for n in self.walk() if n.terminal]


#: ``expand(state)``: the next step from ``state`` and whether it ends the solution.
Expand = Callable[[TreeNode[S]], Awaitable[tuple[S, bool]]]


async def grow_tree(
    root: TreeNode[S], expand: Expand[S], *, width: int, iterations: int, max_depth: int
) -> bool:
    """Grow ``root`` by ``iterations`` rollouts (see the module docstring). A step at depth
    ``max_depth`` is terminal whatever ``expand`` says. Returns False when a budget stopped
    the growth (the tree is kept as it is)."""
    try:
        for _ in range(iterations):
            if _finished(root, width):
                break
            node = root
            while len(node.children) >= width:
                node.visits += 1
                open_children = [c for c in node.children if not _finished(c, width)]
                node = min(open_children, key=lambda c: c.visits)  # first on ties
            while not node.terminal:
                node.visits += 1
                step, terminal = await expand(node)
                child = TreeNode(step=step, depth=node.depth + 1, parent=node)
                child.terminal = terminal or child.depth >= max_depth
                node.children.append(child)
                node = child
            node.visits += 1
    except BudgetExceeded:
        return False
    return True


def _finished(node: TreeNode[S], width: int) -> bool:
    """Terminal, or full with every child finished: nothing left to grow below it."""
    return node.terminal or (
        len(node.children) >= width and all(_finished(c, width) for c in node.children)
    )


def back_up(root: TreeNode[S]) -> None:
    """Values from the leaves' rewards (unrewarded leaves count as 0); prune subtrees with
    no terminal leaf."""

    def visit(node: TreeNode[S]) -> tuple[float, int]:
        if node.terminal:
            node.value = node.reward or 0.0
            return node.value, 1
        total, count = 0.0, 0
        kept = []
        for child in node.children:
            t, c = visit(child)
            if c:
                kept.append(child)
                total, count = total + t, count + c
        node.children = kept
        node.value = total / count if count else None
        return total, count

    visit(root)


def important_states(root: TreeNode[S], threshold: float) -> list[TreeNode[S]]:
    """The states (breadth first) where a child's value exceeds the state's value, the mean of
    its children's values, by at least ``threshold``."""
    found = []
    for node in root.walk():
        values = [c.value for c in node.children if c.value is not None]
        if len(values) >= 2 and max(values) - sum(values) / len(values) >= threshold:
            found.append(node)
    return found
