"""torch.backends.cudnn: its flags can be set (scripts set them for reproducibility) and
change nothing here; cuDNN itself is not available."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None
