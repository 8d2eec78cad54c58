"""gradlab.train: the training loop and what the lectures teach about
managing training — callbacks (early stopping, checkpoints, EMA, snapshot
ensembles, ...), regularizers, ensembles, adversarial training, and run
checkpoints that resume exactly.

    from gradlab.train import Trainer, callbacks
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), metrics=["accuracy"],
                      callbacks=[callbacks.EarlyStopping(patience=5, restore_best_weights=True)])
    history = trainer.fit(train_loader, val_loader, epochs=50)
"""

from gradlab.train import adversarial, callbacks, ensemble, regularizers
from gradlab.train.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from gradlab.train.history import History
from gradlab.train.metrics import accuracy
from gradlab.train.trainer import Interrupted, Trainer

__all__ = [
    "History",
    "Interrupted",
    "Trainer",
    "accuracy",
    "adversarial",
    "callbacks",
    "ensemble",
    "load_checkpoint",
    "read_checkpoint",
    "regularizers",
    "save_checkpoint",
]
