"""``gradlab.utils.data.dataloader``: PyTorch's module path of the loader
(``from torch.utils.data.dataloader import default_collate``)."""

from gradlab.data.collate import default_collate, default_convert
from gradlab.data.loader import DataLoader


def get_worker_info() -> None:
    """None: gradlab loads in the calling process (there are no workers)."""
    return None


__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
