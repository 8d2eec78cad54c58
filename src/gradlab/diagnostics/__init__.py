"""gradlab.diagnostics: see why a training run works or does not.

from gradlab import diagnostics
diagnostics.activation_stats(model, x)       # per-layer mean, std, histogram, dead, saturated
diagnostics.gradient_stats(model, optimizer) # grad norms and update-to-weight ratios
diagnostics.check_initialization(model, loader, loss_fn)
diagnostics.lr_find(model, optimizer, loader, loss_fn, plot="lr.png")
monitor = diagnostics.HealthMonitor()        # a Trainer callback; print(monitor.report())
monitor.plot("diagnostics.png")              # histograms over training, update ratios, findings
"""

from gradlab.diagnostics.activations import LayerStats, activation_stats
from gradlab.diagnostics.diagnose import diagnose
from gradlab.diagnostics.gradients import ParamStats, gradient_stats, update_ratio
from gradlab.diagnostics.health import HealthMonitor
from gradlab.diagnostics.initialization import InitReport, check_initialization
from gradlab.diagnostics.lr_finder import LRFinderResult, lr_find
from gradlab.diagnostics.plots import DiagnosticsData, diagnostics_data, plot_diagnostics
from gradlab.diagnostics.rules import REMEDIES, Finding, Thresholds

__all__ = [
    "REMEDIES",
    "DiagnosticsData",
    "Finding",
    "HealthMonitor",
    "InitReport",
    "LRFinderResult",
    "LayerStats",
    "ParamStats",
    "Thresholds",
    "activation_stats",
    "check_initialization",
    "diagnose",
    "diagnostics_data",
    "gradient_stats",
    "lr_find",
    "plot_diagnostics",
    "update_ratio",
]
