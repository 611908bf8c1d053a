"""A character-level bigram language model of names, trained with nn.Embedding and
F.cross_entropy (after Karpathy's makemore, part 1), written the way a PyTorch user writes
it, with ``import symgrad as torch``.

The model is one table: row ``i`` holds the logits of the character that follows character
``i``. Counting bigrams gives the best such table directly; gradient descent on the
cross-entropy must reach the same loss, which the script prints for comparison. Then it
samples new names.

Run: python examples/makemore_bigram.py
"""

from pathlib import Path

import symgrad as torch
import symgrad.nn as nn
import symgrad.nn.functional as F

words = (Path(__file__).parent / "data" / "names.txt").read_text().split()
chars = sorted(set("".join(words)))
stoi = {ch: i + 1 for i, ch in enumerate(chars)}
stoi["."] = 0  # marks both the start and the end of a name
itos = {i: ch for ch, i in stoi.items()}
vocab_size = len(stoi)

xs, ys = [], []
for word in words:
    sequence = ["."] + list(word) + ["."]
    for ch1, ch2 in zip(sequence, sequence[1:], strict=False):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs, ys = torch.tensor(xs), torch.tensor(ys)
print(f"{len(words)} names, {xs.numel()} bigrams, {vocab_size} characters")

# The counting model: bigram frequencies, the maximum-likelihood table.
counts = torch.zeros(vocab_size * vocab_size)
counts.index_add_(0, xs * vocab_size + ys, torch.ones(xs.numel()))
counts = counts.view(vocab_size, vocab_size)
probs = counts / counts.sum(1, keepdim=True).clamp(min=1)
count_loss = -probs[xs, ys].log().mean()
print(f"counting model loss: {count_loss.item():.4f}")

# The same table learned by gradient descent.
torch.manual_seed(2147483647)
model = nn.Embedding(vocab_size, vocab_size)
optimizer = torch.optim.SGD(model.parameters(), lr=50.0)
for step in range(1, 201):
    logits = model(xs)
    loss = F.cross_entropy(logits, ys)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 25 == 0:
        print(f"step {step:4d}  loss {loss.item():.4f}")

with torch.no_grad():
    table = F.softmax(model.weight, dim=1)
samples = []
for _ in range(10):
    ix, name = 0, []
    while True:
        # inverse-CDF sampling of the next character
        u = torch.rand(1).item()
        ix = min(int((table[ix].cumsum(0) < u).sum().item()), vocab_size - 1)
        if ix == 0:
            break
        name.append(itos[ix])
    samples.append("".join(name))
print("samples:", " ".join(samples))
