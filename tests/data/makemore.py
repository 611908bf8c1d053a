"""Character-level language models in the style of Karpathy's makemore lectures 1-4, written
again for the tests, and micrograd's comparison against PyTorch.

Each program takes the library as its ``torch`` argument, so the same code runs with
``import torch`` and with ``import symgrad as torch``; starting values and minibatches come
from numpy, so both libraries compute the same numbers. Each returns what the lecture prints.
The programs use what those notebooks use: integer tensors counted in place, ``keepdims=``,
``F.one_hot``, embedding by indexing (``C[X]``), ``view``, ``.data`` updates, ``retain_grad``,
``torch.no_grad`` as a decorator, ``std``, ``max(...).values/.indices``, ``allclose``.

Run with a Python that has torch installed, from the repository root, to record torch's
numbers into ``makemore.json``:

    python tests/data/makemore.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).with_name("makemore.json")

WORDS = (
    "emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily "
    "elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace chloe "
    "penelope layla riley zoey nora lily eleanor hannah lillian addison aubrey ellie stella "
    "natalie zoe leah hazel violet aurora savannah audrey brooklyn bella claire skylar lucy "
    "liam noah oliver elijah william james benjamin lucas henry alexander mason michael ethan "
    "daniel jacob logan jackson levi sebastian mateo jack owen theodore aiden samuel joseph"
).split()
BLOCK = 3


def _vocabulary():
    chars = sorted(set("".join(WORDS)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    return stoi


def _bigrams():
    stoi = _vocabulary()
    xs, ys = [], []
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:], strict=False):
            xs.append(stoi[ch1])
            ys.append(stoi[ch2])
    return xs, ys, len(stoi)


def bigram_counts(torch):
    """Lecture 1: a count table filled in place, smoothed, normalized with ``keepdims=True``;
    the average negative log likelihood of the training words."""
    xs, ys, vocab = _bigrams()
    N = torch.zeros((vocab, vocab), dtype=torch.int32)
    for ix1, ix2 in zip(xs, ys, strict=True):
        N[ix1, ix2] += 1
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    log_likelihood = 0.0
    for ix1, ix2 in zip(xs, ys, strict=True):
        log_likelihood += torch.log(P[ix1, ix2])
    return [N.sum().item(), N[0].max().item(), (-log_likelihood / len(xs)).item()]


def bigram_network(torch, steps=30):
    """Lecture 1: the same model as one linear layer on one-hot inputs, trained by gradient
    descent on ``W.data``."""
    import_f = torch.nn.functional
    xs, ys, vocab = _bigrams()
    xs, ys = torch.tensor(xs), torch.tensor(ys)
    num = xs.nelement()
    W = torch.tensor(np.random.default_rng(1).normal(size=(vocab, vocab)).astype(np.float32))
    W.requires_grad = True
    losses = []
    for _ in range(steps):
        xenc = import_f.one_hot(xs, num_classes=vocab).float()
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
        losses.append(loss.item())
        W.grad = None
        loss.backward()
        W.data += -50 * W.grad
    return losses


def _dataset(torch):
    stoi = _vocabulary()
    X, Y = [], []
    for w in WORDS:
        context = [0] * BLOCK
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y), len(stoi)


def _normal(rng, *shape):
    return rng.normal(size=shape).astype(np.float32)


def mlp(torch, steps=200, batch=32):
    """Lecture 2: embedding by indexing ``C[X]``, ``view``, tanh, ``F.cross_entropy``, minibatch
    SGD with a learning-rate step; the final loss on the whole set."""
    F = torch.nn.functional
    X, Y, vocab = _dataset(torch)
    rng = np.random.default_rng(2)
    C = torch.tensor(_normal(rng, vocab, 10))
    W1 = torch.tensor(_normal(rng, 30, 200) * 0.2)
    b1 = torch.tensor(_normal(rng, 200) * 0.01)
    W2 = torch.tensor(_normal(rng, 200, vocab) * 0.01)
    b2 = torch.zeros(vocab)
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    losses = []
    for i in range(steps):
        ix = torch.tensor(rng.integers(0, X.shape[0], size=batch))
        emb = C[X[ix]]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < steps // 2 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        if i % 20 == 0:
            losses.append(loss.item())
    emb = C[X]
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
    losses.append(F.cross_entropy(h @ W2 + b2, Y).item())
    return losses


def mlp_batchnorm(torch, steps=100, batch=32):
    """Lecture 3: kaiming-scaled initialization, batch normalization written out with ``mean``
    and ``std`` and running statistics updated under ``no_grad``, evaluation through a
    ``@torch.no_grad()`` function."""
    F = torch.nn.functional
    X, Y, vocab = _dataset(torch)
    rng = np.random.default_rng(3)
    n_embd, n_hidden = 10, 100
    C = torch.tensor(_normal(rng, vocab, n_embd))
    W1 = torch.tensor(_normal(rng, n_embd * BLOCK, n_hidden)) * (5 / 3) / (n_embd * BLOCK) ** 0.5
    W2 = torch.tensor(_normal(rng, n_hidden, vocab)) * 0.01
    b2 = torch.zeros(vocab)
    bngain = torch.ones((1, n_hidden))
    bnbias = torch.zeros((1, n_hidden))
    bnmean_running = torch.zeros((1, n_hidden))
    bnstd_running = torch.ones((1, n_hidden))
    parameters = [C, W1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    losses = []
    for _ in range(steps):
        ix = torch.tensor(rng.integers(0, X.shape[0], size=batch))
        embcat = C[X[ix]].view(batch, -1)
        hpreact = embcat @ W1
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with torch.no_grad():
            bnmean_running = 0.9 * bnmean_running + 0.1 * bnmeani
            bnstd_running = 0.9 * bnstd_running + 0.1 * bnstdi
        logits = torch.tanh(hpreact) @ W2 + b2
        loss = F.cross_entropy(logits, Y[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -0.1 * p.grad
        losses.append(loss.item())

    @torch.no_grad()
    def split_loss():
        hpreact = C[X].view(X.shape[0], -1) @ W1
        hpreact = bngain * (hpreact - bnmean_running) / bnstd_running + bnbias
        return F.cross_entropy(torch.tanh(hpreact) @ W2 + b2, Y).item()

    return losses[::10] + [split_loss()]


def backprop_ninja(torch, batch=32):
    """Lecture 4: the forward pass broken into small steps with ``retain_grad``, then every
    gradient derived by hand and compared with autograd's through ``allclose``; returns the
    loss and, per tensor, whether the manual gradient matches and the largest difference."""
    F = torch.nn.functional
    X, Y, vocab = _dataset(torch)
    rng = np.random.default_rng(4)
    n_embd, n_hidden, n = 10, 64, batch
    C = torch.tensor(_normal(rng, vocab, n_embd))
    W1 = torch.tensor(_normal(rng, n_embd * BLOCK, n_hidden) * 0.3)
    b1 = torch.tensor(_normal(rng, n_hidden) * 0.1)
    W2 = torch.tensor(_normal(rng, n_hidden, vocab) * 0.1)
    b2 = torch.tensor(_normal(rng, vocab) * 0.1)
    bngain = torch.tensor(_normal(rng, 1, n_hidden) * 0.1 + 1.0)
    bnbias = torch.tensor(_normal(rng, 1, n_hidden) * 0.1)
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    ix = torch.tensor(rng.integers(0, X.shape[0], size=n))
    Xb, Yb = X[ix], Y[ix]

    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    intermediates = [
        logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes, logits,
        h, hpreact, bnraw, bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani, embcat, emb,
    ]  # fmt: skip
    for p in parameters:
        p.grad = None
    for t in intermediates:
        t.retain_grad()
    loss.backward()

    manual = {}
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = (-(counts_sum**-2)) * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
    dbndiff += (2 * bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0)
    dhprebn += 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    for name, value in (
        ("logprobs", dlogprobs), ("probs", dprobs), ("counts_sum_inv", dcounts_sum_inv),
        ("counts_sum", dcounts_sum), ("counts", dcounts), ("norm_logits", dnorm_logits),
        ("logit_maxes", dlogit_maxes), ("logits", dlogits), ("h", dh), ("W2", dW2),
        ("b2", db2), ("hpreact", dhpreact), ("bngain", dbngain), ("bnbias", dbnbias),
        ("bnraw", dbnraw), ("bnvar_inv", dbnvar_inv), ("bnvar", dbnvar), ("bndiff2", dbndiff2),
        ("bndiff", dbndiff), ("bnmeani", dbnmeani), ("hprebn", dhprebn), ("embcat", dembcat),
        ("W1", dW1), ("b1", db1), ("emb", demb), ("C", dC),
    ):  # fmt: skip
        manual[name] = value
    autograd = dict(
        zip(
            ["logprobs", "probs", "counts", "counts_sum", "counts_sum_inv", "norm_logits",
             "logit_maxes", "logits", "h", "hpreact", "bnraw", "bnvar_inv", "bnvar", "bndiff2",
             "bndiff", "hprebn", "bnmeani", "embcat", "emb"],
            intermediates,
            strict=True,
        )
    )  # fmt: skip
    autograd.update(C=C, W1=W1, b1=b1, W2=W2, b2=b2, bngain=bngain, bnbias=bnbias)
    result = [loss.item()]
    for name, value in manual.items():
        t = autograd[name]
        result.append(torch.allclose(value, t.grad))
        result.append((value - t.grad).abs().max().item())
    return result


def micrograd_sanity(torch):
    """micrograd's first test, run through the library that stands in for torch there."""
    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return [y.data.item(), x.grad.item()]


def micrograd_more_ops(torch):
    """micrograd's second test: every Value operation, with reflected operands and powers."""
    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return [g.data.item(), a.grad.item(), b.grad.item()]


PROGRAMS = {
    program.__name__: program
    for program in (
        bigram_counts,
        bigram_network,
        mlp,
        mlp_batchnorm,
        backprop_ninja,
        micrograd_sanity,
        micrograd_more_ops,
    )
}


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    OUTPUT.write_text(
        json.dumps({name: program(torch) for name, program in PROGRAMS.items()}, indent=1) + "\n"
    )
    print(f"wrote {OUTPUT}")
