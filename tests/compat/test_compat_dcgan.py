"""A small DCGAN on the 8x8 digits (Radford et al. 2016): a generator of
transposed convolutions with BatchNorm, a convolutional discriminator, BCE
losses, two Adam optimizers and ``.detach()`` for the discriminator step."""

from __future__ import annotations

import numpy as np
import pytest
from compat_run import FRAMEWORKS, assert_comparable, run
from sklearn.datasets import load_digits


def program(torch):
    nn = torch.nn
    images, _ = load_digits(return_X_y=True)
    real_images = torch.tensor((images / 8.0 - 1.0).astype(np.float32)).view(-1, 1, 8, 8)  # in [-1, 1]
    dataset = torch.utils.data.TensorDataset(real_images)
    loader = torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True, drop_last=True)
    nz = 16

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, 64, 2, 1, 0, bias=False),   # 1 -> 2
                nn.BatchNorm2d(64),
                nn.ReLU(True),
                nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False),   # 2 -> 4
                nn.BatchNorm2d(32),
                nn.ReLU(True),
                nn.ConvTranspose2d(32, 1, 4, 2, 1, bias=False),    # 4 -> 8
                nn.Tanh(),
            )

        def forward(self, z):
            return self.main(z)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(1, 32, 4, 2, 1, bias=False),             # 8 -> 4
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(32, 64, 4, 2, 1, bias=False),            # 4 -> 2
                nn.BatchNorm2d(64),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(64, 1, 2, 1, 0, bias=False),             # 2 -> 1
                nn.Sigmoid(),
            )

        def forward(self, x):
            return self.main(x).view(-1)

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    torch.manual_seed(0)
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    fixed_noise = torch.randn(500, nz, 1, 1)
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real_label, fake_label = 1.0, 0.0

    def mean_image_gap():
        """Distance of the generated images' mean and spread from the data's."""
        netG.eval()
        with torch.no_grad():
            fake = netG(fixed_noise)
        netG.train()
        gap_mean = ((fake.mean(0) - real_images.mean(0)) ** 2).mean().item()
        gap_std = ((fake.std(0) - real_images.std(0)) ** 2).mean().item()
        return gap_mean + gap_std

    start_gap = mean_image_gap()
    d_losses, g_losses = [], []
    for _ in range(3):
        for (data,) in loader:
            # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            b_size = data.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float)
            errD_real = criterion(netD(data), label)
            errD_real.backward()
            noise = torch.randn(b_size, nz, 1, 1)
            fake = netG(noise)
            label.fill_(fake_label)
            errD_fake = criterion(netD(fake.detach()), label)
            errD_fake.backward()
            optimizerD.step()
            # (2) update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            errG = criterion(netD(fake), label)
            errG.backward()
            optimizerG.step()
            d_losses.append((errD_real + errD_fake).item())
            g_losses.append(errG.item())
    return {"start_gap": start_gap, "end_gap": mean_image_gap(),
            "d_loss": float(np.mean(d_losses[-10:])), "g_loss": float(np.mean(g_losses[-10:]))}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_dcgan_learns_as_under_torch(framework):
    result = run(program, framework)
    # the generated images move towards the data (mean and spread per pixel)
    assert result["end_gap"] < result["start_gap"] / 2
    # neither player wins outright
    assert 0.05 < result["d_loss"] < 3.0 and 0.1 < result["g_loss"] < 6.0
    if framework != "torch":
        reference = run(program, "torch")
        assert result["end_gap"] < max(2 * reference["end_gap"], reference["start_gap"] / 2)
        assert_comparable(result, reference, "d_loss", rel=1.0)
