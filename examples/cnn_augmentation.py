"""A small CNN on the 8x8 digits with data augmentation: random shifts and
rotations (RandomAffine) and Cutout, drawn from an explicit generator and
applied to each training batch by the loader.

Run: python examples/cnn_augmentation.py   (a few seconds)
"""

import gradlab
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset, datasets, random_split, transforms
from gradlab.train import Trainer

gradlab.manual_seed(0)
(x_train, y_train), (x_test, y_test) = datasets.digits()  # x: (N, 1, 8, 8) in [0, 1]
normalize = transforms.PerChannelNormalize().fit(x_train)
x_train, x_test = normalize(x_train), normalize(x_test)

augment = transforms.Compose([
    # translate is a fraction of the image: 1/8 of 8 pixels is one pixel
    transforms.RandomAffine(degrees=10, translate=(1 / 8, 1 / 8),
                            generator=gradlab.Generator().manual_seed(2)),
    transforms.Cutout(3, generator=gradlab.Generator().manual_seed(3)),  # pixels; at most half the image
])
train_set, val_set = random_split(TensorDataset(x_train, y_train), [0.9, 0.1],
                                  generator=gradlab.Generator().manual_seed(0))
train_loader = DataLoader(train_set, batch_size=64, shuffle=True, transform=augment,
                          generator=gradlab.Generator().manual_seed(1))

model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),  # 8 x 4 x 4
    nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 2 x 2
    nn.Flatten(), nn.Linear(64, 10),
)
trainer = Trainer(model, gradlab.optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss(),
                  metrics=["accuracy"])
history = trainer.fit(train_loader, DataLoader(val_set, batch_size=256), epochs=4)
test = trainer.evaluate(DataLoader(TensorDataset(x_test, y_test), batch_size=256))
print(f"val accuracy {100 * history['val_accuracy'][-1]:.1f}%, test accuracy {100 * test['accuracy']:.1f}%")
assert test["accuracy"] > 0.9, test
