"""An MLP on the 8x8 digits, the way a PyTorch user writes it: a validation
split for early stopping (never the test set), then one look at the test set.

Run: python examples/mlp_digits.py   (a few seconds)
"""

import gradlab
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset, datasets, random_split
from gradlab.train import Trainer, callbacks

gradlab.manual_seed(0)
(x_train, y_train), (x_test, y_test) = datasets.digits()
mean, std = x_train.mean(), x_train.std()  # statistics of the training data only
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

# 10% of the training data is held out to choose when to stop
train_set, val_set = random_split(TensorDataset(x_train, y_train), [0.9, 0.1],
                                  generator=gradlab.Generator().manual_seed(0))
train_loader = DataLoader(train_set, batch_size=64, shuffle=True,
                          generator=gradlab.Generator().manual_seed(1))
val_loader = DataLoader(val_set, batch_size=256)
test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=256)

model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
trainer = Trainer(
    model,
    gradlab.optim.AdamW(model.parameters(), lr=3e-3),
    nn.CrossEntropyLoss(),
    metrics=["accuracy"],
    callbacks=[callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)],
)
history = trainer.fit(train_loader, val_loader, epochs=15)
test = trainer.evaluate(test_loader)
print(f"{len(history)} epochs, best val_loss {min(history['val_loss']):.3f}, "
      f"test accuracy {100 * test['accuracy']:.1f}%")
assert test["accuracy"] > 0.93, test
