"""The tutorial CNN: the 8x8 digits through a Dataset, a DataLoader, two
conv blocks and SGD with momentum; evaluated under torch.no_grad()."""

from __future__ import annotations

import numpy as np
import pytest
from compat_run import FRAMEWORKS, assert_comparable, run
from sklearn.datasets import load_digits


def program(torch):
    nn = torch.nn
    F = torch.nn.functional
    from_numpy = torch.from_numpy
    Dataset, DataLoader = torch.utils.data.Dataset, torch.utils.data.DataLoader

    class Digits(Dataset):
        def __init__(self, train):
            images, labels = load_digits(return_X_y=True)
            images = (images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
            split = np.random.default_rng(0).permutation(len(labels))
            keep = split[:1400] if train else split[1400:]
            self.images, self.labels = images[keep], labels[keep]

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, idx):
            return from_numpy(self.images[idx]), int(self.labels[idx])

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
            self.pool = nn.MaxPool2d(2, 2)
            self.fc1 = nn.Linear(32 * 2 * 2, 64)
            self.fc2 = nn.Linear(64, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            return self.fc2(x)

    torch.manual_seed(0)
    train_loader = DataLoader(Digits(train=True), batch_size=32, shuffle=True)
    test_loader = DataLoader(Digits(train=False), batch_size=100)
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

    epoch_losses = []
    for _ in range(3):
        running_loss = 0.0
        for inputs, labels in train_loader:
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        epoch_losses.append(running_loss / len(train_loader))

    correct = total = 0
    net.eval()
    with torch.no_grad():
        for images, labels in test_loader:
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return {"first_loss": epoch_losses[0], "last_loss": epoch_losses[-1], "accuracy": correct / total}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_tutorial_cnn_learns_as_under_torch(framework):
    result = run(program, framework)
    assert result["last_loss"] < result["first_loss"] / 4
    assert result["accuracy"] > 0.85
    if framework != "torch":
        reference = run(program, "torch")
        assert_comparable(result, reference, "accuracy", abs_=0.05)
        assert_comparable(result, reference, "last_loss", rel=1.0, abs_=0.05)
