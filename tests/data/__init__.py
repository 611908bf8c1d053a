"""Programs and cases run with both torch and symgrad, and the scripts that record PyTorch's
numbers from them into this folder's JSON files; the tests import them from here."""
