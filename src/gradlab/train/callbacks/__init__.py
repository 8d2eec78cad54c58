"""Callbacks for :class:`gradlab.train.Trainer`, with Keras's hook names."""

from gradlab.train.callbacks.base import Callback, CallbackList, MetricMonitor
from gradlab.train.callbacks.csv_logger import CSVLogger, JSONLogger
from gradlab.train.callbacks.early_stopping import EarlyStopping
from gradlab.train.callbacks.ema import EMA
from gradlab.train.callbacks.lr_monitor import LearningRateMonitor
from gradlab.train.callbacks.model_checkpoint import ModelCheckpoint
from gradlab.train.callbacks.progress import ProgressBar
from gradlab.train.callbacks.snapshot import SnapshotEnsemble, snapshot_lr
from gradlab.train.callbacks.tensorboard import TensorBoard
from gradlab.train.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "EMA",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "JSONLogger",
    "LearningRateMonitor",
    "MetricMonitor",
    "ModelCheckpoint",
    "ProgressBar",
    "SnapshotEnsemble",
    "TensorBoard",
    "TerminateOnNaN",
    "snapshot_lr",
]
