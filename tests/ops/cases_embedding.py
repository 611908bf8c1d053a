"""Op-table cases for symgrad/ops/embedding.py (F.embedding)."""

from op_table import Arg, OpCase

from symgrad.ops.embedding import embedding


def _ints(shape, high):
    return Arg(shape, 0, high, kind="int")


CASES = [
    OpCase(
        "embedding",
        lambda w, i: embedding(i, w),
        lambda w, i: w[i],
        [
            [Arg((5, 3)), _ints((2, 4), 5)],
            [Arg((4, 2)), _ints((7,), 4)],
            [Arg((3, 1)), _ints((), 3)],
        ],
        torch_fn=lambda torch, w, i: torch.nn.functional.embedding(i, w),
    ),
    OpCase(
        "embedding_padding_idx",
        lambda w, i: embedding(i, w, padding_idx=1),
        lambda w, i: w[i],
        [[Arg((4, 3)), _ints((3, 5), 4)]],
        torch_fn=lambda torch, w, i: torch.nn.functional.embedding(i, w, padding_idx=1),
        # The padding row is read by the forward but gets no gradient (torch's rule, not the
        # derivative), so finite differences disagree by design; the oracle checks the rule.
        grad=False,
    ),
]
