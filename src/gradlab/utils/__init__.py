"""gradlab.utils: PyTorch's ``torch.utils`` paths (``utils.data``)."""

from gradlab.utils import data

__all__ = ["data"]
